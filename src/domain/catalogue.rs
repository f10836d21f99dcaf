//! The service catalogue's domain: departments, categories, services and their content,
//! in the catalogue import format (`guichet-catalogue/1`).
use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::documents::DocumentLimits;
use super::forms;
use super::lang::{Lang, Localized};
use super::status::StatusStep;
use super::FieldError;
use crate::domain::messages::Msg;
use crate::msg;

pub const FORMAT: &str = "guichet-catalogue/1";

super::stored_text! {
    /// Where a service is in its life (`services.status`): a `draft` was never published, an
    /// `active` one takes applications, a `retired` one stays readable and takes none.
    pub enum ServiceStatus {
        Draft = "draft",
        Active = "active",
        Retired = "retired",
    }
}

super::stored_text! {
    /// Where a version of a service is (`service_versions.state`): one `draft` at a time, one
    /// `published` (the current version), the earlier ones `superseded`.
    pub enum VersionState {
        Draft = "draft",
        Published = "published",
        Superseded = "superseded",
    }
}

/// Who a service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Resident,
    Business,
    Organisation,
}

/// Who applies: a person for themself, or an organisation (through a member or its client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicantKind {
    Person,
    Organisation,
}

impl ApplicantKind {
    /// Whether a service for `audience` takes applications from this kind of applicant: a
    /// person where it names residents, an organisation where it names businesses or
    /// organisations. The reason to tell the applicant otherwise.
    pub fn admitted_by(self, audience: &[Audience]) -> Result<(), Msg> {
        match self {
            ApplicantKind::Person if audience.contains(&Audience::Resident) => Ok(()),
            ApplicantKind::Person => {
                Err(msg!("this service is for businesses and organisations: apply for your organisation (applicant.organisation)"))
            }
            ApplicantKind::Organisation
                if audience.contains(&Audience::Business) || audience.contains(&Audience::Organisation) =>
            {
                Ok(())
            }
            ApplicantKind::Organisation => {
                Err(msg!("this service is for residents: a person applies for it, not an organisation"))
            }
        }
    }
}

/// How a service is applied for: `guichet` through this API, `external` through another
/// portal (`external_url`), `counter` in person only. Only `guichet` services accept
/// applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Guichet,
    External,
    Counter,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Guichet => "guichet",
            Channel::External => "external",
            Channel::Counter => "counter",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "guichet" => Some(Channel::Guichet),
            "external" => Some(Channel::External),
            "counter" => Some(Channel::Counter),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeeBasis {
    Once,
    PerYear,
    PerUnit,
    Percentage,
    Varies,
}

/// A fee in minor units (Rappen): `{"amount": 2000, "currency": "CHF"}` is CHF 20.00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeInput {
    /// Minor units; null when the fee depends on the case.
    #[schema(example = 2000, minimum = 0, maximum = 100000000)]
    pub amount: Option<i64>,
    #[schema(example = "CHF", min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: String,
    pub basis: FeeBasis,
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::lang::LocalizedNote>)]
    pub note: Option<Localized>,
    /// True when the amount was confirmed from an official source.
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    CalendarDays,
    WorkingDays,
}

impl DayUnit {
    /// `start` plus `days` of this unit (working days are Monday to Friday; public holidays
    /// are not known).
    pub fn add(self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        match self {
            DayUnit::CalendarDays => start + Duration::days(i64::from(days)),
            DayUnit::WorkingDays => {
                let mut t = start;
                let mut left = days;
                while left > 0 {
                    t += Duration::days(1);
                    if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                t
            }
        }
    }
}

/// Expected processing time; calendar days unless `unit` says working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessingTime {
    #[schema(example = 5, minimum = 0, maximum = 3650)]
    pub days: Option<u32>,
    #[serde(default = "calendar_days")]
    pub unit: DayUnit,
    pub verified: bool,
}

fn calendar_days() -> DayUnit {
    DayUnit::CalendarDays
}

/// The application form: a JSON Schema (draft 2020-12) and an optional react-jsonschema-form
/// UI schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    #[schema(value_type = Object)]
    pub schema: Value,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub ui_schema: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 64)]
    pub slug: String,
    #[schema(value_type = crate::domain::lang::LocalizedName)]
    pub label: Localized,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactVerified {
    pub email: bool,
    pub phone: bool,
    pub address: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 64)]
    pub slug: String,
    #[schema(value_type = crate::domain::lang::LocalizedName)]
    pub name: Localized,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub directorate: Option<String>,
    #[serde(default)]
    #[schema(max_length = 254, pattern = "@")]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^https?://\S+$")]
    pub website: Option<String>,
    pub contact_verified: ContactVerified,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^https?://\S+$")]
    pub source: Option<String>,
    /// The account the department's bills are paid to; without it the department's services
    /// cannot bill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<super::billing::Creditor>,
}

/// Search keywords per language (German where a language has none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50, max_length = 100)]
    pub de: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50, max_length = 100)]
    pub fr: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50, max_length = 100)]
    pub it: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50, max_length = 100)]
    pub en: Vec<String>,
}

impl Keywords {
    pub fn get(&self, lang: Lang) -> &[String] {
        let l = match lang {
            Lang::De => &self.de,
            Lang::Fr => &self.fr,
            Lang::It => &self.it,
            Lang::En => &self.en,
        };
        if l.is_empty() {
            &self.de
        } else {
            l
        }
    }

    fn lists_mut(&mut self) -> [(Lang, &mut Vec<String>); 4] {
        [
            (Lang::De, &mut self.de),
            (Lang::Fr, &mut self.fr),
            (Lang::It, &mut self.it),
            (Lang::En, &mut self.en),
        ]
    }
}

/// What a published service version says; stored as one immutable document per version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceContent {
    #[schema(value_type = crate::domain::lang::LocalizedName)]
    pub name: Localized,
    #[schema(value_type = crate::domain::lang::LocalizedSummary)]
    pub summary: Localized,
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::lang::LocalizedDescription>)]
    pub description: Option<Localized>,
    #[serde(default)]
    pub keywords: Keywords,
    #[schema(max_items = 3)]
    pub audience: Vec<Audience>,
    pub fee: FeeInput,
    pub processing_time: ProcessingTime,
    pub channel: Channel,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub external_url: Option<String>,
    pub requires_login: bool,
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<crate::domain::lang::LocalizedLine>)]
    pub documents_required: Vec<Localized>,
    /// The service's own processing steps (applications only); phases without one get a
    /// default step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub status_steps: Vec<StatusStep>,
    /// Whether an organisation may apply on behalf of someone else (`none` when absent).
    #[serde(default, skip_serializing_if = "super::representation::Representation::is_none")]
    pub representation: super::representation::Representation,
    /// Which documents an application takes; absent means PDF, PNG and JPEG, 20 MB, 20 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_limits: Option<DocumentLimits>,
    /// How the fee is billed: the amount (fixed, per unit, by option, by tiers of a form
    /// field), when (on submission or on approval), and which move waits for the payment.
    /// Without it nothing is billed (the `fee` above only describes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<super::billing::Billing>,
    /// How long a closed application's personal data and documents are kept, in days from its
    /// closure (rejected, completed, withdrawn); absent means ten years (3650). Then the
    /// retention run deletes the documents and anonymises the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 30, maximum = 36500)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub source: Option<String>,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 1, max_length = 64)]
    pub slug: String,
    pub department: String,
    pub category: String,
    #[serde(flatten)]
    pub content: ServiceContent,
    pub form: FormDefinition,
    /// A retired service stays readable but is no longer listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// A whole catalogue, as `guichet catalogue import` reads and `export` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    pub format: String,
    #[serde(default)]
    pub categories: Vec<CategoryInput>,
    #[serde(default)]
    pub departments: Vec<DepartmentInput>,
    #[serde(default)]
    pub services: Vec<ServiceInput>,
}

/// The highest fee a service may state, in minor units (1,000,000.00 francs); the OpenAPI
/// document says the same (`FeeInput.amount`).
pub const FEE_MAX: i64 = 100_000_000;

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 64 characters.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn check_slug(s: &str, pointer: String, errors: &mut Vec<FieldError>) {
    if !is_slug(s) {
        errors.push(FieldError::new(
            pointer,
            "pattern",
            msg!("a slug is 1-64 lower-case letters, digits and single hyphens"),
        ));
    }
}

fn check_url(u: &Option<String>, pointer: String, errors: &mut Vec<FieldError>) {
    if let Some(u) = u {
        let ok = (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() <= 2000
            && !u.contains(char::is_whitespace);
        if !ok {
            errors.push(FieldError::new(pointer, "format", msg!("must be an http(s) URL")));
        }
    }
}

fn check_len(s: &Option<String>, max: usize, pointer: String, errors: &mut Vec<FieldError>) {
    if s.as_ref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError::new(
            pointer,
            "too_long",
            msg!("at most {max} characters", max = max),
        ));
    }
}

impl DepartmentInput {
    pub fn validate(&mut self, p: &str, errors: &mut Vec<FieldError>) {
        check_slug(&self.slug, format!("{p}/slug"), errors);
        self.name.validate(&format!("{p}/name"), 200, errors);
        for (f, v, max) in [
            ("directorate", &self.directorate, 200),
            ("email", &self.email, 254),
            ("phone", &self.phone, 40),
            ("address", &self.address, 500),
        ] {
            check_len(v, max, format!("{p}/{f}"), errors);
        }
        if let Some(e) = &self.email {
            if !e.contains('@') {
                errors.push(FieldError::new(
                    format!("{p}/email"),
                    "format",
                    msg!("not an e-mail address"),
                ));
            }
        }
        check_url(&self.website, format!("{p}/website"), errors);
        check_url(&self.source, format!("{p}/source"), errors);
        if let Some(c) = &self.creditor {
            c.validate(&format!("{p}/creditor"), errors);
        }
    }
}

impl ServiceContent {
    pub fn validate(&mut self, p: &str, errors: &mut Vec<FieldError>) {
        self.name.validate(&format!("{p}/name"), 200, errors);
        self.summary.validate(&format!("{p}/summary"), 2000, errors);
        if let Some(d) = &mut self.description {
            d.validate(&format!("{p}/description"), 20_000, errors);
        }
        for (lang, words) in self.keywords.lists_mut() {
            words.retain(|w| !w.trim().is_empty());
            if words.len() > 50 || words.iter().any(|w| w.chars().count() > 100) {
                errors.push(FieldError::new(
                    format!("{p}/keywords/{}", lang.code()),
                    "too_long",
                    msg!("at most 50 keywords of 100 characters"),
                ));
            }
        }
        if self.audience.len() > 3 {
            errors.push(FieldError::new(
                format!("{p}/audience"),
                "too_long",
                msg!("name each audience once"),
            ));
        }
        if self.audience.is_empty() {
            errors.push(FieldError::new(
                format!("{p}/audience"),
                "required",
                msg!("name at least one audience"),
            ));
        }
        self.audience.sort();
        self.audience.dedup();
        super::retention::check(self.retention_days, format!("{p}/retention_days"), errors);
        let fee = &self.fee;
        if fee.amount.is_some_and(|a| a < 0) {
            errors.push(FieldError::new(
                format!("{p}/fee/amount"),
                "minimum",
                msg!("a fee cannot be negative"),
            ));
        }
        if fee.amount.is_some_and(|a| a > FEE_MAX) {
            errors.push(FieldError::new(
                format!("{p}/fee/amount"),
                "maximum",
                msg!("at most {max}", max = FEE_MAX),
            ));
        }
        if fee.currency.len() != 3 || !fee.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new(
                format!("{p}/fee/currency"),
                "format",
                msg!("an ISO 4217 code such as CHF"),
            ));
        }
        if let Some(n) = &mut self.fee.note {
            n.validate(&format!("{p}/fee/note"), 1000, errors);
        }
        if self.processing_time.days.is_some_and(|d| d > 3650) {
            errors.push(FieldError::new(
                format!("{p}/processing_time/days"),
                "maximum",
                msg!("at most 3650 days"),
            ));
        }
        match (self.channel, &self.external_url) {
            (Channel::External, None) => errors.push(FieldError::new(
                format!("{p}/external_url"),
                "required",
                msg!("an external service names the portal that handles it"),
            )),
            (Channel::Guichet | Channel::Counter, Some(_)) => errors.push(FieldError::new(
                format!("{p}/external_url"),
                "not_allowed",
                msg!("only external services have an external_url"),
            )),
            _ => {}
        }
        check_url(&self.external_url, format!("{p}/external_url"), errors);
        check_url(&self.source, format!("{p}/source"), errors);
        if self.documents_required.len() > 50 {
            errors.push(FieldError::new(
                format!("{p}/documents_required"),
                "too_long",
                msg!("at most {max} entries", max = 50),
            ));
        }
        for (i, d) in self.documents_required.iter_mut().enumerate() {
            d.validate(&format!("{p}/documents_required/{i}"), 500, errors);
        }
        check_len(&self.notes, 5000, format!("{p}/notes"), errors);
        super::status::validate_steps(&mut self.status_steps, &format!("{p}/status_steps"), errors);
        if let Some(l) = &self.document_limits {
            l.validate(&format!("{p}/document_limits"), errors);
        }
    }
}

impl ServiceContent {
    /// Checks what depends on the version's form: the billing's fields.
    pub fn validate_with_form(&self, form: &FormDefinition, p: &str, errors: &mut Vec<FieldError>) {
        if let Some(b) = &self.billing {
            b.validate(&form.schema, &format!("{p}/billing"), errors);
            if self.fee.currency != "CHF" && self.fee.currency != "EUR" {
                errors.push(FieldError::new(
                    format!("{p}/fee/currency"),
                    "not_allowed",
                    msg!("a billed fee is in CHF or EUR"),
                ));
            }
        }
    }
}

impl CatalogueFile {
    /// Parses and checks a whole catalogue: every field, every reference, every form.
    pub fn parse(json: &str) -> Result<CatalogueFile, Vec<FieldError>> {
        let mut file: CatalogueFile = serde_json::from_str(json).map_err(|e| {
            vec![FieldError::new(
                "",
                "invalid_json",
                msg!("not a catalogue file: {e}", e = e),
            )]
        })?;
        let mut errors = Vec::new();
        if file.format != FORMAT {
            errors.push(FieldError::new(
                "/format",
                "const",
                msg!("expected \"{format}\"", format = FORMAT),
            ));
        }
        let mut cats = HashSet::new();
        for (i, c) in file.categories.iter_mut().enumerate() {
            check_slug(&c.slug, format!("/categories/{i}/slug"), &mut errors);
            c.label.validate(&format!("/categories/{i}/label"), 200, &mut errors);
            if !cats.insert(c.slug.clone()) {
                errors.push(FieldError::new(
                    format!("/categories/{i}/slug"),
                    "duplicate",
                    msg!("slug used twice"),
                ));
            }
        }
        let mut deps = HashSet::new();
        let billing_deps: HashSet<String> = file
            .departments
            .iter()
            .filter(|d| d.creditor.is_some())
            .map(|d| d.slug.clone())
            .collect();
        for (i, d) in file.departments.iter_mut().enumerate() {
            d.validate(&format!("/departments/{i}"), &mut errors);
            if !deps.insert(d.slug.clone()) {
                errors.push(FieldError::new(
                    format!("/departments/{i}/slug"),
                    "duplicate",
                    msg!("slug used twice"),
                ));
            }
        }
        let mut slugs = HashSet::new();
        for (i, s) in file.services.iter_mut().enumerate() {
            let p = format!("/services/{i}");
            check_slug(&s.slug, format!("{p}/slug"), &mut errors);
            if !slugs.insert(s.slug.clone()) {
                errors.push(FieldError::new(
                    format!("{p}/slug"),
                    "duplicate",
                    msg!("slug used twice"),
                ));
            }
            if !deps.contains(&s.department) {
                errors.push(FieldError::new(
                    format!("{p}/department"),
                    "unknown",
                    msg!("no department '{slug}' in this file", slug = &s.department),
                ));
            }
            if !cats.contains(&s.category) {
                errors.push(FieldError::new(
                    format!("{p}/category"),
                    "unknown",
                    msg!("no category '{category}' in this file", category = &s.category),
                ));
            }
            s.content.validate(&p, &mut errors);
            s.content.validate_with_form(&s.form, &p, &mut errors);
            if s.content.billing.is_some() && deps.contains(&s.department) && !billing_deps.contains(&s.department) {
                errors.push(FieldError::new(
                    format!("{p}/billing"),
                    "no_creditor",
                    msg!("the department has no account to bill to (its creditor)"),
                ));
            }
            forms::check_definition(&s.form, &format!("{p}/form"), &mut errors);
        }
        if errors.is_empty() {
            Ok(file)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_admit_their_applicants() {
        use ApplicantKind::{Organisation as Org, Person};
        let resident = [Audience::Resident];
        let business = [Audience::Business];
        let both = [Audience::Organisation, Audience::Resident];
        assert!(Person.admitted_by(&resident).is_ok() && Org.admitted_by(&resident).is_err());
        assert!(Person.admitted_by(&business).is_err() && Org.admitted_by(&business).is_ok());
        assert!(Person.admitted_by(&both).is_ok() && Org.admitted_by(&both).is_ok());
        assert!(Org.admitted_by(&[Audience::Organisation]).is_ok());
    }

    #[test]
    fn working_days_skip_weekends() {
        let friday = "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |unit: DayUnit, days| unit.add(friday, days).to_rfc3339();
        assert_eq!(at(DayUnit::CalendarDays, 3), "2026-12-07T10:00:00+00:00");
        assert_eq!(at(DayUnit::WorkingDays, 1), "2026-12-07T10:00:00+00:00"); // Monday
        assert_eq!(at(DayUnit::WorkingDays, 5), "2026-12-11T10:00:00+00:00");
        assert_eq!(at(DayUnit::WorkingDays, 0), "2026-12-04T10:00:00+00:00");
    }

    #[test]
    fn slugs() {
        assert!(is_slug("zuzug-anmelden"));
        assert!(is_slug("a1"));
        for bad in ["", "-a", "a-", "a--b", "A", "ä", "a_b", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn the_bundled_seed_is_a_valid_catalogue() {
        let file = CatalogueFile::parse(include_str!("../../seed/thun-catalogue.json")).unwrap();
        assert_eq!(file.services.len(), 30);
        assert!(
            file.services
                .iter()
                .filter(|s| s.content.channel == Channel::Guichet)
                .count()
                >= 10
        );
    }

    #[test]
    fn an_external_service_needs_its_portal() {
        let mut c: ServiceContent = serde_json::from_value(serde_json::json!({
            "name": {"de": "X"}, "summary": {"de": "Y"}, "audience": ["resident"],
            "fee": {"amount": null, "currency": "CHF", "basis": "varies", "verified": false},
            "processing_time": {"days": null, "verified": false},
            "channel": "external", "requires_login": false
        }))
        .unwrap();
        let mut errors = vec![];
        c.validate("", &mut errors);
        assert_eq!(errors[0].pointer, "/external_url");
    }

    /// The bounds the OpenAPI document states for a service's content hold: one more is
    /// refused, naming the field.
    #[test]
    fn content_is_held_to_its_documented_bounds() {
        let content = |audience: serde_json::Value, amount: i64, documents: usize, types: usize| {
            let mut c: ServiceContent = serde_json::from_value(serde_json::json!({
                "name": {"de": "X"}, "summary": {"de": "Y"}, "audience": audience,
                "fee": {"amount": amount, "currency": "CHF", "basis": "once", "verified": false},
                "processing_time": {"days": null, "verified": false},
                "channel": "guichet", "requires_login": false,
                "documents_required": vec![serde_json::json!({"de": "Ausweis"}); documents],
                "document_limits": {"types": vec!["application/pdf"; types]}
            }))
            .unwrap();
            let mut errors = vec![];
            c.validate("", &mut errors);
            errors.into_iter().map(|e| e.pointer).collect::<Vec<_>>()
        };
        let three = serde_json::json!(["resident", "business", "resident"]);
        assert!(content(three, FEE_MAX, 50, 3).is_empty());
        let four = serde_json::json!(["resident", "business", "resident", "business"]);
        assert_eq!(
            content(four, FEE_MAX + 1, 51, 4),
            [
                "/audience",
                "/fee/amount",
                "/documents_required",
                "/document_limits/types"
            ]
        );
    }
}
