//! What the API answers for the catalogue (kept apart from database rows).
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::catalogue::{Audience, Channel, ContactVerified, DayUnit, FeeBasis, Keywords};
use crate::domain::lang::Localized;

/// A translatable text: a string in the negotiated language, or with `?lang=all` an object
/// with every translation (for editors).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Text {
    One(#[schema(inline)] OneText),
    All(Localized),
}

/// A text in the negotiated language: at most 20,000 characters (the longest the catalogue
/// takes, a description).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(max_length = 20000)]
pub struct OneText(pub String);

/// Keywords in the negotiated language: at most 50, of 100 characters each.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(max_items = 50, max_length = 100)]
pub struct OneKeywords(pub Vec<String>);

/// Keywords in the negotiated language, or with `?lang=all` per language.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum KeywordsView {
    One(#[schema(inline)] OneKeywords),
    All(Keywords),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    /// Published and listed.
    Active,
    /// No longer offered; still readable, not listed by default.
    Retired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// The version in force.
    Published,
    /// Replaced by a later version; kept with its form for the applications made under it.
    Superseded,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "residence", max_length = 64)]
    pub slug: String,
    pub label: Text,
}

/// The department responsible for a service, with its contact details.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentRef {
    pub id: Uuid,
    #[schema(example = "einwohnerdienste", max_length = 64)]
    pub slug: String,
    pub name: Text,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[schema(max_length = 2000)]
    pub website: Option<String>,
    /// Link to the department resource.
    #[schema(max_length = 2048)]
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeeView {
    /// Minor units (Rappen); null when the fee depends on the case.
    #[schema(example = 2000, minimum = 0, maximum = 100000000)]
    pub amount: Option<i64>,
    #[schema(example = "CHF", max_length = 3)]
    pub currency: String,
    pub basis: FeeBasis,
    pub note: Option<Text>,
    /// True when the amount was confirmed from an official source.
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessingTimeView {
    /// Expected days until a decision; null when it depends on the case.
    #[schema(example = 5, minimum = 0, maximum = 3650)]
    pub days: Option<u32>,
    pub unit: DayUnit,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormView {
    /// The JSON Schema (draft 2020-12) of the application data, in the negotiated language.
    #[schema(example = "http://127.0.0.1:8080/v1/services/hund-anmelden/form", max_length = 2048)]
    pub schema_url: String,
    /// react-jsonschema-form UI schema (`ui:` keys), when the service has one.
    #[schema(value_type = Option<Object>)]
    pub ui_schema: Option<Value>,
}

/// A service in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub id: Uuid,
    #[schema(example = "hund-anmelden", max_length = 64)]
    pub slug: String,
    /// Number of the version shown.
    #[schema(example = 1, minimum = 1, maximum = 2147483647)]
    pub version: i32,
    pub status: ServiceStatus,
    pub name: Text,
    pub summary: Text,
    pub department: DepartmentRef,
    pub category: CategoryView,
    #[schema(max_items = 3)]
    pub audience: Vec<Audience>,
    pub fee: FeeView,
    pub processing_time: ProcessingTimeView,
    pub channel: Channel,
    /// The portal that handles an `external` service.
    #[schema(max_length = 2000)]
    pub external_url: Option<String>,
    /// True only for `guichet` services of an active service.
    pub accepts_applications: bool,
    pub requires_login: bool,
    #[schema(max_length = 2048)]
    pub href: String,
}

/// A service (or one version of it) with everything a frontend needs to show and apply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Service {
    #[serde(flatten)]
    pub summary: ServiceSummary,
    pub description: Option<Text>,
    pub keywords: KeywordsView,
    #[schema(max_items = 50)]
    pub documents_required: Vec<Text>,
    pub form: FormView,
    /// Where the facts come from.
    #[schema(max_length = 2000)]
    pub source: Option<String>,
    /// Whether an organisation may apply on behalf of someone else (`applicant.on_behalf_of`):
    /// `none`, `allowed`, or `power_of_attorney` (with a document giving it, by submission).
    pub representation: crate::domain::representation::Representation,
    /// How long a closed application's documents and personal data are kept, in days from
    /// its closure; then they are deleted (the reference, dates and phases stay).
    #[schema(minimum = 30, maximum = 36500)]
    pub retention_days: u32,
    pub version_state: VersionState,
    pub published_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceVersionSummary {
    #[schema(example = 2, minimum = 1, maximum = 2147483647)]
    pub version: i32,
    pub state: VersionState,
    pub published_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    #[schema(max_length = 2048)]
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Department {
    pub id: Uuid,
    #[schema(example = "einwohnerdienste", max_length = 64)]
    pub slug: String,
    pub name: Text,
    #[schema(example = "Direktion Sicherheit und Soziales", max_length = 200)]
    pub directorate: Option<String>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[schema(
        example = "Thunerhof, Hofstettenstrasse 14, Postfach 145, 3602 Thun",
        max_length = 500
    )]
    pub address: Option<String>,
    #[schema(max_length = 2000)]
    pub website: Option<String>,
    /// Which contact details were confirmed from a public source.
    pub contact_verified: ContactVerified,
    #[schema(max_length = 2000)]
    pub source: Option<String>,
    /// The account its bills are paid to (name, address, IBAN), when it bills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor: Option<crate::domain::billing::Creditor>,
    /// Number of active services this department is responsible for.
    #[schema(value_type = u32, minimum = 0, maximum = 1000000)]
    pub service_count: usize,
    #[schema(max_length = 2048)]
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentServiceRef {
    pub id: Uuid,
    #[schema(max_length = 64)]
    pub slug: String,
    pub name: Text,
    pub channel: Channel,
    #[schema(max_length = 2048)]
    pub href: String,
}

/// A department with the active services it is responsible for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentDetail {
    #[serde(flatten)]
    pub department: Department,
    pub services: Vec<DepartmentServiceRef>,
}
