//! Rows as diesel reads and writes them; kept apart from the API's views.
use diesel::prelude::*;

use super::schema::*;
use super::types::{SqlJson, SqlTime, SqlUuid};
use crate::domain::catalogue::{ServiceStatus, VersionState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub slug: String,
    pub label: SqlJson,
    pub updated_at: SqlTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: SqlUuid,
    pub slug: String,
    pub name: SqlJson,
    pub directorate: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub contact_verified: SqlJson,
    pub source: Option<String>,
    pub revision: i64,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
    /// The account its bills are paid to (`domain::billing::Creditor`).
    pub creditor: Option<SqlJson>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: SqlUuid,
    pub slug: String,
    pub department_id: SqlUuid,
    pub category: String,
    pub status: String,
    pub current_version: Option<i32>,
    pub revision: i64,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
    pub retired_at: Option<SqlTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_versions)]
pub struct ServiceVersionRow {
    pub id: SqlUuid,
    pub service_id: SqlUuid,
    pub version: i32,
    pub state: String,
    pub channel: String,
    pub content: SqlJson,
    pub form_schema: SqlJson,
    pub ui_schema: Option<SqlJson>,
    pub search: SqlJson,
    pub created_at: SqlTime,
    pub published_at: Option<SqlTime>,
    pub superseded_at: Option<SqlTime>,
    pub revision: i64,
}

impl ServiceRow {
    /// The stored status (`None` for a text no version of guichet writes).
    pub fn status(&self) -> Option<ServiceStatus> {
        ServiceStatus::parse(&self.status)
    }
}

impl ServiceVersionRow {
    /// The stored state (`None` for a text no version of guichet writes).
    pub fn state(&self) -> Option<VersionState> {
        VersionState::parse(&self.state)
    }
}
