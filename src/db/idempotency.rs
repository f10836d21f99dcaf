//! Idempotency keys: the first final answer to a (caller, endpoint, key), kept 24 hours.
use chrono::Duration;
use diesel::prelude::*;

use super::schema::idempotency_keys as k;
use super::types::{SqlJson, SqlTime};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = k)]
pub struct KeyRow {
    pub owner: String,
    pub endpoint: String,
    pub key: String,
    pub request_hash: String,
    pub status: Option<i32>,
    pub headers: Option<SqlJson>,
    pub body: Option<String>,
    pub created_at: SqlTime,
    pub locked_until: SqlTime,
    pub expires_at: SqlTime,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: run the request, then [`complete`] or [`release`].
    Mine,
    /// A request with this key is still being processed.
    InProgress,
    /// A request with this key was answered (the row holds the answer and the body hash).
    Done(Box<KeyRow>),
    /// The key was used with another request body.
    Mismatch,
}

fn find(conn: &mut DbConnection, owner: &str, endpoint: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    k::table
        .find((owner, endpoint, key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
}

/// Claims the key for a request whose body hashes to `hash`. Runs outside any transaction: the
/// insert either wins or meets the row of the request that did.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    endpoint: &str,
    key: &str,
    hash: &str,
    lock: Duration,
) -> QueryResult<Claim> {
    let now = SqlTime::now();
    let row = KeyRow {
        owner: owner.into(),
        endpoint: endpoint.into(),
        key: key.into(),
        request_hash: hash.into(),
        status: None,
        headers: None,
        body: None,
        created_at: now,
        locked_until: SqlTime(now.0 + lock),
        expires_at: SqlTime(now.0 + Duration::hours(24)),
    };
    for _ in 0..3 {
        match diesel::insert_into(k::table).values(&row).execute(conn) {
            Ok(_) => return Ok(Claim::Mine),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e),
        }
        let Some(found) = find(conn, owner, endpoint, key)? else {
            continue; // purged or released in between: try again
        };
        if found.expires_at < now {
            diesel::delete(k::table.find((owner, endpoint, key)))
                .filter(k::expires_at.lt(now))
                .execute(conn)?;
            continue;
        }
        if found.request_hash != hash {
            return Ok(Claim::Mismatch);
        }
        if found.status.is_some() {
            return Ok(Claim::Done(Box::new(found)));
        }
        if found.locked_until < now {
            // the instance that held it stopped without answering: take it over
            let taken = diesel::update(k::table.find((owner, endpoint, key)))
                .filter(k::status.is_null())
                .filter(k::locked_until.eq(found.locked_until))
                .set(k::locked_until.eq(row.locked_until))
                .execute(conn)?;
            if taken == 1 {
                return Ok(Claim::Mine);
            }
            continue;
        }
        return Ok(Claim::InProgress);
    }
    Ok(Claim::InProgress)
}

/// Stores the final answer.
pub fn complete(
    conn: &mut DbConnection,
    owner: &str,
    endpoint: &str,
    key: &str,
    status: u16,
    headers: serde_json::Value,
    body: String,
) -> QueryResult<()> {
    diesel::update(k::table.find((owner, endpoint, key)))
        .set((
            k::status.eq(Some(i32::from(status))),
            k::headers.eq(Some(SqlJson(headers))),
            k::body.eq(Some(body)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the claim (after a 5xx, which is not kept: a retry runs the request again).
pub fn release(conn: &mut DbConnection, owner: &str, endpoint: &str, key: &str) -> QueryResult<()> {
    diesel::delete(k::table.find((owner, endpoint, key)))
        .filter(k::status.is_null())
        .execute(conn)?;
    Ok(())
}

/// Deletes the expired keys; returns how many.
pub fn purge(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::delete(k::table.filter(k::expires_at.lt(SqlTime::now()))).execute(conn)
}
