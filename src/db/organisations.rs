//! Organisations and their members.
use diesel::prelude::*;

use super::schema::{accounts, memberships as m, organisations as o};
use super::types::{SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = o)]
pub struct OrganisationRow {
    pub id: SqlUuid,
    pub uid: String,
    pub name: String,
    pub status: String,
    /// The resident who registered it; none when an operator created it.
    pub created_by: Option<SqlUuid>,
    pub decided_at: Option<SqlTime>,
    pub decided_by: Option<String>,
    pub revision: i64,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = m)]
pub struct MembershipRow {
    pub organisation_id: SqlUuid,
    pub account_id: SqlUuid,
    pub role: String,
    pub created_at: SqlTime,
}

impl OrganisationRow {
    /// Its state. A stored text that is no state (none is written) reads as rejected, which
    /// grants nothing.
    pub fn status(&self) -> crate::domain::organisation::OrganisationStatus {
        use crate::domain::organisation::OrganisationStatus;
        OrganisationStatus::parse(&self.status).unwrap_or(OrganisationStatus::Rejected)
    }
}

pub fn by_id(conn: &mut DbConnection, id: uuid::Uuid) -> QueryResult<Option<OrganisationRow>> {
    o::table
        .find(SqlUuid(id))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// The verified organisation with this UID, if any (at most one: a unique index).
pub fn verified_by_uid(conn: &mut DbConnection, uid: &str) -> QueryResult<Option<OrganisationRow>> {
    o::table
        .filter(o::uid.eq(uid))
        .filter(o::status.eq("verified"))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// The pending registrations of a UID.
pub fn pending_by_uid(conn: &mut DbConnection, uid: &str) -> QueryResult<Vec<OrganisationRow>> {
    o::table
        .filter(o::uid.eq(uid))
        .filter(o::status.eq("pending"))
        .select(OrganisationRow::as_select())
        .load(conn)
}

/// The pending registrations an account made.
pub fn pending_of(conn: &mut DbConnection, account: SqlUuid) -> QueryResult<Vec<OrganisationRow>> {
    o::table
        .filter(o::created_by.eq(account))
        .filter(o::status.eq("pending"))
        .select(OrganisationRow::as_select())
        .load(conn)
}

/// Inserts an organisation with its first owner, if it has one.
pub fn insert(conn: &mut DbConnection, row: &OrganisationRow, owner: Option<SqlUuid>) -> QueryResult<()> {
    diesel::insert_into(o::table).values(row).execute(conn)?;
    match owner {
        Some(owner) => add_member(conn, row.id, owner, "owner"),
        None => Ok(()),
    }
}

pub fn add_member(conn: &mut DbConnection, org: SqlUuid, account: SqlUuid, role: &str) -> QueryResult<()> {
    diesel::insert_into(m::table)
        .values(MembershipRow {
            organisation_id: org,
            account_id: account,
            role: role.into(),
            created_at: SqlTime::now(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn role_of(conn: &mut DbConnection, org: SqlUuid, account: SqlUuid) -> QueryResult<Option<String>> {
    m::table
        .filter(m::organisation_id.eq(org))
        .filter(m::account_id.eq(account))
        .select(m::role)
        .first(conn)
        .optional()
}

/// Organisations visible to a caller: all (administrators) or those the account belongs to,
/// newest first, after the keyset position `before`.
pub fn list(
    conn: &mut DbConnection,
    member: Option<SqlUuid>,
    status: Option<String>,
    before: Option<SqlUuid>,
    limit: i64,
) -> QueryResult<Vec<OrganisationRow>> {
    let mut q = o::table
        .select(OrganisationRow::as_select())
        .order(o::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(acc) = member {
        let mine = m::table.filter(m::account_id.eq(acc)).select(m::organisation_id);
        q = q.filter(o::id.eq_any(mine));
    }
    if let Some(s) = status {
        q = q.filter(o::status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(o::id.lt(b));
    }
    q.load(conn)
}

/// A member: account id, e-mail, display name, role, member since.
pub type MemberRow = (SqlUuid, Option<String>, Option<String>, String, SqlTime);

/// Members with their e-mail address and role, oldest membership first.
pub fn members(conn: &mut DbConnection, org: SqlUuid) -> QueryResult<Vec<MemberRow>> {
    m::table
        .inner_join(accounts::table)
        .filter(m::organisation_id.eq(org))
        .order(m::created_at)
        .select((
            m::account_id,
            accounts::email,
            accounts::display_name,
            m::role,
            m::created_at,
        ))
        .load(conn)
}

pub fn remove_member(conn: &mut DbConnection, org: SqlUuid, account: SqlUuid) -> QueryResult<usize> {
    diesel::delete(
        m::table
            .filter(m::organisation_id.eq(org))
            .filter(m::account_id.eq(account)),
    )
    .execute(conn)
}

pub fn owner_count(conn: &mut DbConnection, org: SqlUuid) -> QueryResult<i64> {
    m::table
        .filter(m::organisation_id.eq(org))
        .filter(m::role.eq("owner"))
        .count()
        .get_result(conn)
}

pub fn decide(conn: &mut DbConnection, org: &OrganisationRow, status: &str, by: &str) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::update(o::table.find(org.id))
        .set((
            o::status.eq(status),
            o::decided_at.eq(Some(now)),
            o::decided_by.eq(Some(by.to_string())),
            o::revision.eq(org.revision + 1),
            o::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
