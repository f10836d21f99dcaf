//! The security state every instance keeps current: revoked token ids and sessions, disabled
//! clients and accounts, and the revision that moves whenever one of them changes.
use diesel::prelude::*;

use crate::db::schema::{accounts, clients, revoked_tokens, security_revision};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;

pub fn revision(conn: &mut DbConnection) -> QueryResult<i64> {
    security_revision::table.select(security_revision::revision).first(conn)
}

pub fn bump(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(security_revision::table)
        .set(security_revision::revision.eq(security_revision::revision + 1))
        .execute(conn)?;
    Ok(())
}

/// The security state as stored.
pub struct Current {
    pub revision: i64,
    /// Revoked token ids still unexpired (`sid:` + id for a whole session).
    pub jtis: Vec<String>,
    pub disabled_clients: Vec<String>,
    pub disabled_accounts: Vec<SqlUuid>,
}

pub fn current(conn: &mut DbConnection) -> QueryResult<Current> {
    let now = SqlTime::now();
    let revision = revision(conn)?;
    let jtis: Vec<String> = revoked_tokens::table
        .filter(revoked_tokens::expires_at.gt(now))
        .select(revoked_tokens::jti)
        .load(conn)?;
    let disabled_clients: Vec<String> = clients::table
        .filter(clients::disabled_at.is_not_null())
        .select(clients::client_id)
        .load(conn)?;
    let disabled_accounts: Vec<SqlUuid> = accounts::table
        .filter(accounts::disabled_at.is_not_null())
        .select(accounts::id)
        .load(conn)?;
    Ok(Current {
        revision,
        jtis,
        disabled_clients,
        disabled_accounts,
    })
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
