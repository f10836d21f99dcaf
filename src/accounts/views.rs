//! The caller's profile as answered by `GET /v1/me`.
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::domain::account::{CallerKind, StaffRole};

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub kind: CallerKind,
    /// Account id, or client id for a partner system.
    #[schema(max_length = 255)]
    pub subject: String,
    #[schema(max_items = 20)]
    pub scopes: Vec<Scope>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    pub role: Option<StaffRole>,
    pub department: Option<Uuid>,
    pub organisation: Option<Uuid>,
    /// Name of the partner system.
    #[schema(max_length = 200)]
    pub client_name: Option<String>,
    /// A person's language: mails are written in it, and new applications made without
    /// `Accept-Language` take it.
    pub language: Option<crate::domain::lang::Lang>,
    /// A person's choice of mails.
    pub notifications: Option<Notifications>,
}

/// Which mails a person gets: the essential ones always (a submission's receipt, a request for
/// action, the decision); the others (step changes, messages) unless `optional` is false.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    pub optional: bool,
}

/// What the token says of the caller, before the stored profile is added.
pub fn of_token(c: &Caller) -> Me {
    Me {
        kind: c.kind,
        subject: c.subject.clone(),
        scopes: c.scopes.clone(),
        email: None,
        display_name: None,
        role: c.role,
        department: c.department,
        organisation: c.organisation,
        client_name: None,
        language: None,
        notifications: None,
    }
}
