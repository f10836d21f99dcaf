//! What each instance must know to refuse a token that is still signed and unexpired:
//! revoked token ids and sessions, disabled clients and accounts. Reloaded whenever the
//! database's security revision moves (checked every second), so a revocation takes effect on
//! every instance within 2 s.
use std::collections::HashSet;

use diesel::QueryResult;

pub use crate::db::security::{bump, revision, revoke_jti};
use crate::db::{security, DbConnection};

/// Prefix of a `revoked_tokens.jti` that revokes a whole sign-in session (refresh family).
pub const SESSION_PREFIX: &str = "sid:";

#[derive(Debug, Default)]
pub struct SecurityState {
    pub revision: i64,
    pub revoked_jtis: HashSet<String>,
    pub revoked_sessions: HashSet<String>,
    pub disabled_clients: HashSet<String>,
    pub disabled_accounts: HashSet<String>,
}

pub fn load(conn: &mut DbConnection) -> QueryResult<SecurityState> {
    let current = security::current(conn)?;
    let mut state = SecurityState {
        revision: current.revision,
        disabled_clients: current.disabled_clients.into_iter().collect(),
        disabled_accounts: current.disabled_accounts.into_iter().map(|u| u.0.to_string()).collect(),
        ..Default::default()
    };
    for j in current.jtis {
        match j.strip_prefix(SESSION_PREFIX) {
            Some(sid) => state.revoked_sessions.insert(sid.to_string()),
            None => state.revoked_jtis.insert(j),
        };
    }
    Ok(state)
}
