//! Who may see and move an application: derived from the caller, enforced in the queries.
use crate::auth::policy::{CallerKind, Scope};
use crate::auth::Caller;
use crate::db::applications::{ApplicationRow, Reader};
use crate::db::types::SqlUuid;
use crate::domain::application::Mover;
use crate::domain::messages::Msg;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// The caller's account id, when the caller is a person.
pub fn account_of(caller: &Caller) -> Option<SqlUuid> {
    caller.account_id().map(SqlUuid)
}

/// Whose applications the caller reads; 403 without the `applications:read` scope.
pub fn reader(caller: &Caller) -> Result<Reader, ApiError> {
    if !caller.has(Scope::ApplicationsRead) {
        return Err(forbidden(msg!(
            "This token does not allow reading applications (needs the applications:read scope)."
        )));
    }
    Ok(match caller.kind {
        _ if caller.is_admin() => Reader::Staff,
        CallerKind::Resident => account_of(caller).map_or(Reader::Nobody, Reader::Account),
        // a department's back-office system reads as the department's clerks do
        CallerKind::Client => match (caller.department, caller.organisation) {
            (Some(d), _) => Reader::Department(SqlUuid(d)),
            (None, Some(o)) => Reader::Organisation(SqlUuid(o)),
            (None, None) => Reader::Nobody,
        },
        CallerKind::Staff => caller
            .department
            .map_or(Reader::Nobody, |d| Reader::Department(SqlUuid(d))),
    })
}

/// 403 unless the caller may apply (`applications:write`); who it applies for is decided
/// when the application is created.
pub fn may_apply(caller: &Caller) -> Result<(), ApiError> {
    if caller.has(Scope::ApplicationsWrite) {
        Ok(())
    } else {
        Err(forbidden(msg!(
            "This token does not allow applying (needs the applications:write scope)."
        )))
    }
}

/// 403 unless the caller may change some applications: applicants (`applications:write`) and
/// processors (`applications:process`), who also need to read them.
pub fn may_change(caller: &Caller) -> Result<(), ApiError> {
    if caller.has(Scope::ApplicationsWrite) || caller.has(Scope::ApplicationsProcess) {
        reader(caller).map(|_| ())
    } else {
        Err(forbidden(msg!(
            "This token does not allow changing applications (needs applications:write or applications:process)."
        )))
    }
}

pub fn forbidden(detail: Msg) -> ApiError {
    ApiError::new(ProblemKind::Forbidden, detail)
}

/// The caller's standing towards an application it can see.
pub fn mover(caller: &Caller, app: &ApplicationRow) -> Option<Mover> {
    // the department's clerks, and its back-office systems (clients bound to it)
    let of_the_department =
        matches!(caller.kind, CallerKind::Staff | CallerKind::Client) && caller.department == Some(app.department_id.0);
    let processes = caller.has(Scope::ApplicationsProcess) && (caller.is_admin() || of_the_department);
    if processes {
        return Some(Mover::Processor);
    }
    if !caller.has(Scope::ApplicationsWrite) {
        return None;
    }
    let applicant = match caller.kind {
        // visible to a resident means: their own, or of an organisation they are a member of
        CallerKind::Resident => app.applicant_account.is_some() || app.applicant_organisation.is_some(),
        CallerKind::Client => {
            caller.organisation.is_some() && app.applicant_organisation.map(|o| o.0) == caller.organisation
        }
        CallerKind::Staff => false,
    };
    applicant.then_some(Mover::Applicant)
}

/// Whether the caller sees internal notes, assignees and actor ids (staff, admin clients, a
/// department's back-office systems).
pub fn is_staff_view(caller: &Caller) -> bool {
    caller.kind == CallerKind::Staff
        || caller.is_admin()
        || (caller.kind == CallerKind::Client && caller.department.is_some())
}
