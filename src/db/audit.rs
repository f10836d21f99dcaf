//! The append-only audit log (the database refuses updates and deletes of its rows).
use diesel::prelude::*;
use serde_json::Value;

use super::schema::audit_events as a;
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct AuditRow {
    pub seq: i64,
    pub id: SqlUuid,
    pub occurred_at: SqlTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: SqlJson,
}

/// One audit entry: who did what to which object, from where, with what outcome.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = a)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
pub struct AuditEntry {
    pub id: SqlUuid,
    pub occurred_at: SqlTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: SqlJson,
}

impl AuditEntry {
    pub fn new(action: &str, actor_kind: &str, actor_id: Option<String>) -> AuditEntry {
        AuditEntry {
            id: SqlUuid(uuid::Uuid::now_v7()),
            occurred_at: SqlTime::now(),
            actor_kind: actor_kind.into(),
            actor_id,
            action: action.into(),
            target_type: None,
            target_id: None,
            outcome: "success".into(),
            ip: None,
            request_id: None,
            details: SqlJson(Value::Object(Default::default())),
        }
    }
    pub fn target(mut self, kind: &str, id: impl Into<String>) -> Self {
        self.target_type = Some(kind.into());
        self.target_id = Some(id.into());
        self
    }
    pub fn failed(mut self) -> Self {
        self.outcome = "failure".into();
        self
    }
    pub fn from(mut self, ip: Option<String>, request_id: Option<String>) -> Self {
        self.ip = ip;
        self.request_id = request_id;
        self
    }
    pub fn details(mut self, v: Value) -> Self {
        self.details = SqlJson(v);
        self
    }
}

pub fn record(conn: &mut DbConnection, e: &AuditEntry) -> QueryResult<()> {
    diesel::insert_into(a::table).values(e).execute(conn)?;
    Ok(())
}

/// Several entries one by one: SQLite's way, in the process (PostgreSQL gets them in one
/// statement with the other records, `db::records`).
pub(super) fn record_all(conn: &mut DbConnection, entries: &[AuditEntry]) -> QueryResult<()> {
    for e in entries {
        record(conn, e)?;
    }
    Ok(())
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Option<String>,
}

/// Newest first, keyset on the sequence number.
pub fn list(conn: &mut DbConnection, f: &AuditFilter, before: Option<i64>, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut q = a::table
        .select(AuditRow::as_select())
        .order(a::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(v) = &f.action {
        q = q.filter(a::action.eq(v.clone()));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(a::actor_id.eq(v.clone()));
    }
    if let Some(v) = &f.target_id {
        q = q.filter(a::target_id.eq(v.clone()));
    }
    if let Some(v) = &f.outcome {
        q = q.filter(a::outcome.eq(v.clone()));
    }
    if let Some(b) = before {
        q = q.filter(a::seq.lt(b));
    }
    q.load(conn)
}
