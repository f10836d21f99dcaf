//! Who may read and change a profile: every caller reads its own; persons change theirs,
//! partner clients have none to change.
use uuid::Uuid;

use crate::auth::policy::{authorize, Action};
use crate::auth::Caller;
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// 403 unless the token may read its own profile.
pub fn may_read_profile(caller: &Caller) -> Result<(), ApiError> {
    authorize(caller, Action::ReadOwnProfile)
}

/// The account whose profile the caller changes; 403 for a partner client.
pub fn own_account(caller: &Caller) -> Result<Uuid, ApiError> {
    if caller.kind == crate::auth::policy::CallerKind::Client {
        return Err(ApiError::new(
            ProblemKind::Forbidden,
            msg!("Partner clients have no profile to change."),
        ));
    }
    caller
        .account_id()
        .ok_or_else(|| ApiError::not_found(msg!("No such account.")))
}
