//! Sign-in sessions: a refresh-token family and, through its `sid`, its access tokens.
use crate::auth::state::{self, SESSION_PREFIX};
use crate::db::auth as q;
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::error::ApiError;

/// Ends every sign-in session of an account (after a password change or reset).
pub fn end_all_sessions(
    conn: &mut DbConnection,
    account: uuid::Uuid,
    access_ttl: std::time::Duration,
) -> Result<(), ApiError> {
    for family in q::open_sessions(conn, account)? {
        revoke_session(conn, family, access_ttl)?;
    }
    Ok(())
}

/// Revokes a whole sign-in session: its refresh tokens and, through `sid`, its access tokens.
pub fn revoke_session(
    conn: &mut DbConnection,
    family: SqlUuid,
    access_ttl: std::time::Duration,
) -> Result<(), ApiError> {
    q::revoke_family(conn, family)?;
    let until = SqlTime(SqlTime::now().0 + chrono::Duration::seconds(access_ttl.as_secs() as i64 + 60));
    state::revoke_jti(conn, &format!("{SESSION_PREFIX}{}", family.0), until)?;
    Ok(())
}
