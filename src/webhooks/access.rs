//! Who manages which webhook endpoints: the owner's people and systems. An organisation's
//! endpoints are managed by its owners and its clients, a department's by its clerks and its
//! back-office systems, the administrators' by administrators (who also manage every other).
//! Everyone needs the `webhooks:manage` scope. An endpoint the caller does not manage does not
//! exist for them (404), decided in the query.
use crate::auth::policy::{CallerKind, Scope};
use crate::auth::Caller;
use crate::db::types::SqlUuid;
use crate::db::webhooks::Managed;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// Whose endpoints the caller manages; 403 without the scope or a role that manages any.
pub fn manager(caller: &Caller) -> Result<Managed, ApiError> {
    let forbidden = |detail| ApiError::new(ProblemKind::Forbidden, detail);
    if !caller.has(Scope::WebhooksManage) {
        return Err(forbidden(msg!(
            "This token does not allow managing webhooks (needs the webhooks:manage scope)."
        )));
    }
    if caller.is_admin() {
        return Ok(Managed::All);
    }
    let m = match caller.kind {
        CallerKind::Resident => caller.resident_account().map(|a| Managed::OwnedBy(SqlUuid(a))),
        CallerKind::Staff => caller.department.map(|d| Managed::Department(SqlUuid(d))),
        CallerKind::Client => match (caller.department, caller.organisation) {
            (Some(d), _) => Some(Managed::Department(SqlUuid(d))),
            (None, Some(o)) => Some(Managed::Organisation(SqlUuid(o))),
            (None, None) => None,
        },
    };
    m.ok_or_else(|| {
        forbidden(msg!(
            "Webhooks belong to an organisation, a department or the administrators; this caller acts for none."
        ))
    })
}

/// The endpoint's 404.
pub fn unknown() -> ApiError {
    ApiError::not_found(msg!("No such webhook endpoint."))
}
