//! The catalogue's rows as editors change them (`src/catalogue/admin.rs` decides what changes).
use diesel::prelude::*;

use crate::db::models::{DepartmentRow, ServiceRow, ServiceVersionRow};
use crate::db::schema::{categories, departments, service_versions as v, services};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::catalogue::{ServiceStatus, VersionState};

/// A department by id or slug.
pub fn find_department(conn: &mut DbConnection, key: &str) -> QueryResult<Option<DepartmentRow>> {
    let mut q = departments::table.select(DepartmentRow::as_select()).into_boxed();
    q = match uuid::Uuid::parse_str(key) {
        Ok(id) => q.filter(departments::id.eq(SqlUuid(id))),
        Err(_) => q.filter(departments::slug.eq(key.to_string())),
    };
    q.first(conn).optional()
}

/// A service by id or slug.
pub fn find_service(conn: &mut DbConnection, key: &str) -> QueryResult<Option<ServiceRow>> {
    let mut q = services::table.select(ServiceRow::as_select()).into_boxed();
    q = match uuid::Uuid::parse_str(key) {
        Ok(id) => q.filter(services::id.eq(SqlUuid(id))),
        Err(_) => q.filter(services::slug.eq(key.to_string())),
    };
    q.first(conn).optional()
}

pub fn find_version(conn: &mut DbConnection, service: SqlUuid, n: i32) -> QueryResult<Option<ServiceVersionRow>> {
    v::table
        .filter(v::service_id.eq(service))
        .filter(v::version.eq(n))
        .select(ServiceVersionRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_department(conn: &mut DbConnection, row: &DepartmentRow) -> QueryResult<()> {
    diesel::insert_into(departments::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes every editable field of a department (all but its id, slug and creation time).
pub fn update_department(conn: &mut DbConnection, row: &DepartmentRow) -> QueryResult<()> {
    diesel::update(departments::table.find(row.id))
        .set((
            departments::name.eq(&row.name),
            departments::directorate.eq(&row.directorate),
            departments::email.eq(&row.email),
            departments::phone.eq(&row.phone),
            departments::address.eq(&row.address),
            departments::website.eq(&row.website),
            departments::contact_verified.eq(&row.contact_verified),
            departments::source.eq(&row.source),
            departments::creditor.eq(&row.creditor),
            departments::revision.eq(row.revision),
            departments::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn department_slug(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<String> {
    departments::table.find(id).select(departments::slug).first(conn)
}

pub fn category_exists(conn: &mut DbConnection, slug: &str) -> QueryResult<bool> {
    let n: i64 = categories::table
        .filter(categories::slug.eq(slug))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert_service(conn: &mut DbConnection, row: &ServiceRow) -> QueryResult<()> {
    diesel::insert_into(services::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_version(conn: &mut DbConnection, row: &ServiceVersionRow) -> QueryResult<()> {
    diesel::insert_into(v::table).values(row).execute(conn)?;
    Ok(())
}

pub fn has_draft(conn: &mut DbConnection, service: SqlUuid) -> QueryResult<bool> {
    let n: i64 = v::table
        .filter(v::service_id.eq(service))
        .filter(v::state.eq(VersionState::Draft.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The number the next version of a service gets.
pub fn next_version(conn: &mut DbConnection, service: SqlUuid) -> QueryResult<i32> {
    let last: Option<i32> = v::table
        .filter(v::service_id.eq(service))
        .select(diesel::dsl::max(v::version))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

/// Writes a draft's content, form and search document, at `revision`.
pub fn update_draft(conn: &mut DbConnection, id: SqlUuid, fresh: &ServiceVersionRow, revision: i64) -> QueryResult<()> {
    diesel::update(v::table.find(id))
        .set((
            v::channel.eq(&fresh.channel),
            v::content.eq(&fresh.content),
            v::form_schema.eq(&fresh.form_schema),
            v::ui_schema.eq(&fresh.ui_schema),
            v::search.eq(&fresh.search),
            v::revision.eq(revision),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes version `n` of the service its current one: the previous current version is
/// superseded, the draft published (at `revision`), the service active.
pub fn publish_version(
    conn: &mut DbConnection,
    s: &ServiceRow,
    version: &ServiceVersionRow,
    now: SqlTime,
) -> QueryResult<()> {
    if let Some(cur) = s.current_version {
        diesel::update(v::table.filter(v::service_id.eq(s.id)).filter(v::version.eq(cur)))
            .set((v::state.eq(VersionState::Superseded.as_str()), v::superseded_at.eq(now)))
            .execute(conn)?;
    }
    diesel::update(v::table.find(version.id))
        .set((
            v::state.eq(VersionState::Published.as_str()),
            v::published_at.eq(now),
            v::revision.eq(version.revision + 1),
        ))
        .execute(conn)?;
    diesel::update(services::table.find(s.id))
        .set((
            services::status.eq(ServiceStatus::Active.as_str()),
            services::current_version.eq(Some(version.version)),
            services::revision.eq(s.revision + 1),
            services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn retire_service(conn: &mut DbConnection, s: &ServiceRow, now: SqlTime) -> QueryResult<()> {
    diesel::update(services::table.find(s.id))
        .set((
            services::status.eq(ServiceStatus::Retired.as_str()),
            services::retired_at.eq(Some(now)),
            services::revision.eq(s.revision + 1),
            services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
