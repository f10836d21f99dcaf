//! What each instance must know to refuse a token that is still signed and unexpired:
//! revoked token ids and sessions, disabled clients and accounts. Reloaded whenever the
//! database's security revision moves (checked every second), so a revocation takes effect on
//! every instance within 2 s.
use std::collections::HashSet;

use diesel::prelude::*;

use crate::db::schema::{accounts, clients, revoked_tokens, security_revision};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;

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

pub fn revision(conn: &mut DbConnection) -> QueryResult<i64> {
    security_revision::table.select(security_revision::revision).first(conn)
}

pub fn bump(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(security_revision::table)
        .set(security_revision::revision.eq(security_revision::revision + 1))
        .execute(conn)?;
    Ok(())
}

pub fn load(conn: &mut DbConnection) -> QueryResult<SecurityState> {
    let now = SqlTime::now();
    let revision = revision(conn)?;
    let jtis: Vec<String> = revoked_tokens::table
        .filter(revoked_tokens::expires_at.gt(now))
        .select(revoked_tokens::jti)
        .load(conn)?;
    let disabled_clients: HashSet<String> = clients::table
        .filter(clients::disabled_at.is_not_null())
        .select(clients::client_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let disabled_accounts: HashSet<String> = accounts::table
        .filter(accounts::disabled_at.is_not_null())
        .select(accounts::id)
        .load::<SqlUuid>(conn)?
        .into_iter()
        .map(|u| u.0.to_string())
        .collect();
    let mut state = SecurityState {
        revision,
        disabled_clients,
        disabled_accounts,
        ..Default::default()
    };
    for j in jtis {
        match j.strip_prefix(SESSION_PREFIX) {
            Some(sid) => state.revoked_sessions.insert(sid.to_string()),
            None => state.revoked_jtis.insert(j),
        };
    }
    Ok(state)
}

/// Records a revoked access token (or session) until `expires_at`, after which the token
/// could not be used anyway.
pub fn revoke_jti(conn: &mut DbConnection, jti: &str, expires_at: SqlTime) -> QueryResult<()> {
    let exists: i64 = revoked_tokens::table
        .filter(revoked_tokens::jti.eq(jti))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(revoked_tokens::table)
            .values((
                revoked_tokens::jti.eq(jti),
                revoked_tokens::expires_at.eq(expires_at),
                revoked_tokens::revoked_at.eq(SqlTime::now()),
            ))
            .execute(conn)?;
    }
    bump(conn)
}
