//! Who may see and manage an organisation. Members see it, owners manage it (once it is
//! verified), administrators see and decide on every one; to anyone else it does not exist.

use crate::auth::Caller;
use crate::db::organisations::{self as q, OrganisationRow};
use crate::db::types::SqlUuid;
use crate::db::DbConnection;
use crate::domain::ids::OrganisationId;
use crate::domain::messages::Msg;
use crate::domain::organisation::{MemberRole, OrganisationStatus};
use crate::error::{ApiError, ProblemKind};
use crate::msg;

fn forbidden(detail: Msg) -> ApiError {
    ApiError::new(ProblemKind::Forbidden, detail)
}

/// Residents and administrators use these endpoints; anyone else is refused before lookups.
pub fn require_person_or_admin(c: &Caller) -> Result<(), ApiError> {
    if c.resident_account().is_some() || c.is_admin() {
        Ok(())
    } else {
        Err(forbidden(msg!(
            "Organisations are managed by their members and administrators."
        )))
    }
}

/// The resident's account that registers an organisation; 403 for anyone else.
pub fn registrant(c: &Caller) -> Result<SqlUuid, ApiError> {
    c.resident_account()
        .map(SqlUuid)
        .ok_or_else(|| forbidden(msg!("Organisations are registered by residents with an account.")))
}

/// 403 unless the caller is an administrator.
pub fn may_decide(c: &Caller) -> Result<(), ApiError> {
    if c.is_admin() {
        Ok(())
    } else {
        Err(forbidden(msg!("Administrators verify organisations.")))
    }
}

fn unknown() -> ApiError {
    ApiError::not_found(msg!("No such organisation."))
}

/// The caller's role in an organisation, if the caller is a resident member.
pub fn role_in(conn: &mut DbConnection, c: &Caller, org: SqlUuid) -> Result<Option<MemberRole>, ApiError> {
    let Some(account) = c.resident_account() else {
        return Ok(None);
    };
    Ok(q::role_of(conn, org, SqlUuid(account))?
        .as_deref()
        .and_then(MemberRole::parse))
}

/// The organisation and the caller's role in it, or a 404 if the caller may not see it.
pub fn visible(
    conn: &mut DbConnection,
    c: &Caller,
    id: OrganisationId,
) -> Result<(OrganisationRow, Option<MemberRole>), ApiError> {
    let org = q::by_id(conn, id.0)?.ok_or_else(unknown)?;
    let role = role_in(conn, c, org.id)?;
    if role.is_none() && !c.is_admin() {
        return Err(unknown());
    }
    Ok((org, role))
}

/// Like [`visible`], for changes only owners make, on a verified organisation.
pub fn owned(conn: &mut DbConnection, c: &Caller, id: OrganisationId) -> Result<OrganisationRow, ApiError> {
    let (org, role) = visible(conn, c, id)?;
    if role != Some(MemberRole::Owner) {
        return Err(forbidden(msg!("Only the organisation's owners manage it.")));
    }
    let status = org.status();
    if status != OrganisationStatus::Verified {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            msg!(
                "The organisation is {status}; an administrator verifies it first.",
                status = status.as_str()
            ),
        ));
    }
    Ok(org)
}
