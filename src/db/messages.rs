//! The messages of an application's thread and each side's read marker. Every query names
//! the application, so a message is only ever reached through an application the caller was
//! allowed to load.
use diesel::prelude::*;

use super::schema::{application_message_reads as r, application_messages as m};
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = m)]
pub struct MessageRow {
    pub id: SqlUuid,
    pub application_id: SqlUuid,
    pub side: String,
    pub author_kind: String,
    pub author_id: String,
    pub body: String,
    /// Ids of documents of the application, a JSON array of strings.
    pub documents: SqlJson,
    pub created_at: SqlTime,
}

/// How far one side has read: up to a message (and when that message was written).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = r)]
pub struct ReadRow {
    pub application_id: SqlUuid,
    pub side: String,
    pub up_to: SqlUuid,
    pub up_to_at: SqlTime,
    pub read_at: SqlTime,
}

pub fn insert(conn: &mut DbConnection, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(m::table).values(row).execute(conn).map(|_| ())
}

/// The query of a page of a thread: up to `limit` messages after `after` (a message's time
/// and id; the first page starts after the epoch), oldest first. One statement shape for
/// every page (prepared once per connection), for the blocking and the asynchronous path.
macro_rules! thread_query {
    ($app:expr, $after:expr, $limit:expr) => {{
        use $crate::db::schema::application_messages as m;
        let (t, id): ($crate::db::types::SqlTime, $crate::db::types::SqlUuid) = $after;
        m::table
            .filter(m::application_id.eq($app))
            .filter(m::created_at.gt(t).or(m::created_at.eq(t).and(m::id.gt(id))))
            .order((m::created_at.asc(), m::id.asc()))
            .limit($limit)
            .select($crate::db::messages::MessageRow::as_select())
    }};
}
pub(crate) use thread_query;

/// Where a thread's first page starts: before every message.
pub fn thread_start(after: Option<(SqlTime, SqlUuid)>) -> (SqlTime, SqlUuid) {
    after.unwrap_or((SqlTime(chrono::DateTime::UNIX_EPOCH), SqlUuid(uuid::Uuid::nil())))
}

/// Up to `limit` messages of the thread after `after` (a message's time and id), oldest first.
pub fn page(
    conn: &mut DbConnection,
    app: SqlUuid,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<MessageRow>> {
    thread_query!(app, thread_start(after), limit).load(conn)
}

pub fn get(conn: &mut DbConnection, app: SqlUuid, id: SqlUuid) -> QueryResult<Option<MessageRow>> {
    m::table
        .filter(m::application_id.eq(app))
        .filter(m::id.eq(id))
        .select(MessageRow::as_select())
        .first(conn)
        .optional()
}

/// The read markers of the thread (one per side that has read something).
/// The query of a thread's read markers (both paths).
macro_rules! markers_query {
    ($app:expr) => {{
        use $crate::db::schema::application_message_reads as r;
        r::table
            .filter(r::application_id.eq($app))
            .select($crate::db::messages::ReadRow::as_select())
    }};
}
pub(crate) use markers_query;

pub fn markers(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<Vec<ReadRow>> {
    markers_query!(app).load(conn)
}

/// Sets a side's marker (the caller holds the application's lock and checked that it moves
/// forward).
pub fn set_marker(conn: &mut DbConnection, row: &ReadRow) -> QueryResult<()> {
    let mine = r::table
        .filter(r::application_id.eq(row.application_id))
        .filter(r::side.eq(&row.side));
    if diesel::update(mine).set(row).execute(conn)? == 0 {
        diesel::insert_into(r::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// How many messages of the other side than `side` come after `after` (all when `None`).
pub fn unread(
    conn: &mut DbConnection,
    app: SqlUuid,
    side: &str,
    after: Option<(SqlTime, SqlUuid)>,
) -> QueryResult<i64> {
    let q = m::table
        .filter(m::application_id.eq(app))
        .filter(m::side.ne(side))
        .count();
    match after {
        None => q.get_result(conn),
        Some((t, id)) => q
            .filter(m::created_at.gt(t).or(m::created_at.eq(t).and(m::id.gt(id))))
            .get_result(conn),
    }
}
