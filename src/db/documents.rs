//! Documents on applications: their records (the bytes live in the object store). Every query
//! names the application, so a document is only ever reached through an application the
//! caller was allowed to load.
use diesel::prelude::*;

use super::schema::documents as d;
use super::types::{SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct DocumentRow {
    pub id: SqlUuid,
    pub application_id: SqlUuid,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: SqlTime,
    pub created_by: String,
    /// The department's request this document answers, if any.
    pub request_id: Option<SqlUuid>,
    /// `applicant` or `department`: who added it.
    pub side: String,
    /// A decision of the department (a permit, a ruling): never removed.
    pub decision: bool,
}

/// The documents of an application, oldest first.
pub fn list(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<Vec<DocumentRow>> {
    d::table
        .filter(d::application_id.eq(app))
        .order((d::created_at.asc(), d::id.asc()))
        .select(DocumentRow::as_select())
        .load(conn)
}

pub fn get(conn: &mut DbConnection, app: SqlUuid, id: SqlUuid) -> QueryResult<Option<DocumentRow>> {
    d::table
        .filter(d::application_id.eq(app))
        .filter(d::id.eq(id))
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()
}

pub fn count(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<i64> {
    d::table.filter(d::application_id.eq(app)).count().get_result(conn)
}

pub fn insert(conn: &mut DbConnection, row: &DocumentRow) -> QueryResult<()> {
    diesel::insert_into(d::table).values(row).execute(conn).map(|_| ())
}

pub fn delete(conn: &mut DbConnection, app: SqlUuid, id: SqlUuid) -> QueryResult<bool> {
    let n = diesel::delete(d::table.filter(d::application_id.eq(app)).filter(d::id.eq(id))).execute(conn)?;
    Ok(n == 1)
}

/// Where the bytes of an application's documents are stored.
pub fn storage_keys(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<Vec<String>> {
    d::table
        .filter(d::application_id.eq(app))
        .select(d::storage_key)
        .load(conn)
}

/// Which of `ids` are documents of the application.
pub fn existing(conn: &mut DbConnection, app: SqlUuid, ids: Vec<SqlUuid>) -> QueryResult<Vec<SqlUuid>> {
    d::table
        .filter(d::application_id.eq(app))
        .filter(d::id.eq_any(ids))
        .select(d::id)
        .load(conn)
}

/// The requests of the department that documents of the application answer.
pub fn answered(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<Vec<SqlUuid>> {
    d::table
        .filter(d::application_id.eq(app))
        .filter(d::request_id.is_not_null())
        .select(d::request_id.assume_not_null())
        .load(conn)
}

/// How many documents one side added to the application.
pub fn count_of_side(conn: &mut DbConnection, app: SqlUuid, side: &str) -> QueryResult<i64> {
    d::table
        .filter(d::application_id.eq(app))
        .filter(d::side.eq(side))
        .count()
        .get_result(conn)
}

/// Marks documents of the application as the department's decision.
pub fn mark_decisions(conn: &mut DbConnection, app: SqlUuid, ids: Vec<SqlUuid>) -> QueryResult<usize> {
    diesel::update(d::table.filter(d::application_id.eq(app)).filter(d::id.eq_any(ids)))
        .set(d::decision.eq(true))
        .execute(conn)
}
