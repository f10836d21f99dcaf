//! Authorization in one place: scopes, caller kinds, and what each may do.
//!
//! Order of decisions, the same everywhere: no or bad token is a 401 (the extractor); a valid
//! token without the scope or role an action needs is a 403, decided here before any object is
//! looked up; an object the caller may not see is a 404 (decided in the query).
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use crate::domain::messages::Msg;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "catalogue:read")]
    CatalogueRead,
    #[serde(rename = "catalogue:write")]
    CatalogueWrite,
    #[serde(rename = "applications:read")]
    ApplicationsRead,
    #[serde(rename = "applications:write")]
    ApplicationsWrite,
    #[serde(rename = "applications:process")]
    ApplicationsProcess,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "payments:read")]
    PaymentsRead,
    #[serde(rename = "payments:write")]
    PaymentsWrite,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const LIST_MAX: usize = 1000;

    pub const ALL: [Scope; 9] = [
        Scope::CatalogueRead,
        Scope::CatalogueWrite,
        Scope::ApplicationsRead,
        Scope::ApplicationsWrite,
        Scope::ApplicationsProcess,
        Scope::WebhooksManage,
        Scope::PaymentsRead,
        Scope::PaymentsWrite,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogueRead => "catalogue:read",
            Scope::CatalogueWrite => "catalogue:write",
            Scope::ApplicationsRead => "applications:read",
            Scope::ApplicationsWrite => "applications:write",
            Scope::ApplicationsProcess => "applications:process",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::PaymentsRead => "payments:read",
            Scope::PaymentsWrite => "payments:write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Parses a space-separated scope string; unknown scopes are an error naming them.
    /// A space-separated list of scopes, of at most [`Scope::LIST_MAX`] characters (as the
    /// OpenAPI document states for every field that carries one).
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        if s.len() > Scope::LIST_MAX {
            return Err(format!("a scope list has at most {} characters", Scope::LIST_MAX));
        }
        let mut out = Vec::new();
        for w in s.split(' ').filter(|w| !w.is_empty()) {
            let scope = Scope::parse(w).ok_or_else(|| format!("unknown scope '{w}'"))?;
            if !out.contains(&scope) {
                out.push(scope);
            }
        }
        Ok(out)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }
}

pub use crate::domain::account::{CallerKind, StaffRole};

/// The scopes a department's back-office system may hold: what a clerk does with
/// applications, and reading the catalogue.
pub const DEPARTMENT_CLIENT_SCOPES: [Scope; 4] = [
    Scope::CatalogueRead,
    Scope::ApplicationsRead,
    Scope::ApplicationsProcess,
    Scope::WebhooksManage,
];

/// The scopes an account of this kind and role gets when it signs in.
pub fn account_scopes(kind: CallerKind, role: Option<StaffRole>) -> Vec<Scope> {
    use Scope::*;
    match (kind, role) {
        (CallerKind::Staff, Some(StaffRole::Admin)) => Scope::ALL.to_vec(),
        (CallerKind::Staff, Some(StaffRole::Finance)) => vec![CatalogueRead, PaymentsRead, PaymentsWrite],
        (CallerKind::Staff, _) => vec![
            CatalogueRead,
            CatalogueWrite,
            ApplicationsRead,
            ApplicationsProcess,
            WebhooksManage,
        ],
        _ => vec![CatalogueRead, ApplicationsRead, ApplicationsWrite, WebhooksManage],
    }
}

/// Something a caller may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read one's own profile (`GET /v1/me`).
    ReadOwnProfile,
    /// Read the audit log.
    ReadAuditLog,
    /// Create and edit departments.
    ManageDepartments,
    /// Create services and edit, publish and retire their versions (then per department:
    /// see [`may_edit_department`]).
    EditCatalogue,
}

/// Yes or no, with the reason as a 403 problem.
pub fn authorize(caller: &Caller, action: Action) -> Result<(), ApiError> {
    let allowed = match action {
        Action::ReadOwnProfile => true,
        Action::ReadAuditLog | Action::ManageDepartments => {
            caller.has(Scope::Admin) && (caller.kind == CallerKind::Staff || caller.kind == CallerKind::Client)
        }
        Action::EditCatalogue => {
            caller.has(Scope::CatalogueWrite) && (caller.kind == CallerKind::Staff || caller.has(Scope::Admin))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ProblemKind::Forbidden, describe(action)))
    }
}

fn describe(a: Action) -> Msg {
    match a {
        Action::ReadOwnProfile => msg!("This token does not allow reading the profile."),
        Action::ReadAuditLog => msg!("This token does not allow reading the audit log (needs the admin scope)."),
        Action::ManageDepartments => msg!("This token does not allow managing departments (needs the admin scope)."),
        Action::EditCatalogue => {
            msg!("This token does not allow editing the catalogue (needs the catalogue:write scope, as staff).")
        }
    }
}

/// Whether a caller who may edit the catalogue may edit this department's services:
/// administrators (and admin clients) any, clerks only their own department's.
pub fn may_edit_department(caller: &Caller, department: uuid::Uuid) -> bool {
    caller.has(Scope::Admin) || (caller.kind == CallerKind::Staff && caller.department == Some(department))
}
