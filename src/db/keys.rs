//! Token signing keys as stored (`src/auth/keys.rs` makes and uses them).
use diesel::prelude::*;

use crate::db::schema::signing_keys as k;
use crate::db::types::SqlTime;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = k)]
pub struct KeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: SqlTime,
    pub sign_from: SqlTime,
    pub retired_at: Option<SqlTime>,
    pub publish_until: Option<SqlTime>,
}

/// How many keys can sign at `now`.
pub fn usable_keys(conn: &mut DbConnection, now: SqlTime) -> QueryResult<i64> {
    k::table
        .filter(k::sign_from.le(now))
        .filter(k::retired_at.is_null().or(k::retired_at.gt(now)))
        .count()
        .get_result(conn)
}

pub fn insert_key(conn: &mut DbConnection, row: &KeyRow) -> QueryResult<()> {
    diesel::insert_into(k::table).values(row).execute(conn)?;
    Ok(())
}

/// Retires every key in force at `sign_from`, published until `publish_until`.
pub fn retire_keys(conn: &mut DbConnection, sign_from: SqlTime, publish_until: SqlTime) -> QueryResult<()> {
    diesel::update(k::table.filter(k::retired_at.is_null()))
        .set((k::retired_at.eq(sign_from), k::publish_until.eq(publish_until)))
        .execute(conn)?;
    Ok(())
}

/// The keys still published at `now`, the newest first.
pub fn published_keys(conn: &mut DbConnection, now: SqlTime) -> QueryResult<Vec<KeyRow>> {
    k::table
        .filter(k::publish_until.is_null().or(k::publish_until.gt(now)))
        .order(k::sign_from.desc())
        .select(KeyRow::as_select())
        .load(conn)
}
