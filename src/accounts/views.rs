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
    }
}
