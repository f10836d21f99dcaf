//! Domain events, written in the transaction of the change that causes them, and their
//! feed position.
//!
//! A position taken from a sequence at insert time would not be in commit order: a
//! transaction that took position 7 may commit after the one that took 8, and a reader that
//! has seen 8 would skip 7. So on PostgreSQL events are inserted without a position and
//! [`assign_positions`] numbers committed events, one sequencer at a time (an advisory lock),
//! each batch committed before the next starts. SQLite has one writer at a time, so there the
//! inserting transaction numbers its own events.
use diesel::prelude::*;

use super::types::{DbJson, DbTime, DbUuid, SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

/// Key of the advisory lock that lets one instance at a time number events.
const SEQUENCER_LOCK_KEY: i64 = 0x6775_6963_6865_7402;

/// A new event about an application.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub type_: &'static str,
    pub subject_id: SqlUuid,
    pub department_id: SqlUuid,
    pub applicant_account: Option<SqlUuid>,
    pub applicant_organisation: Option<SqlUuid>,
    pub data: serde_json::Value,
}

pub fn insert(conn: &mut DbConnection, ev: &NewEvent) -> QueryResult<SqlUuid> {
    let id = SqlUuid(uuid::Uuid::now_v7());
    let sql = match conn {
        DbConnection::Pg(_) => {
            "INSERT INTO events (id, position, type, occurred_at, subject_type, subject_id, department_id, \
             applicant_account, applicant_organisation, data) VALUES ($1, NULL, $2, $3, 'application', $4, $5, $6, $7, $8)"
        }
        DbConnection::Sqlite(_) => {
            "INSERT INTO events (id, position, type, occurred_at, subject_type, subject_id, department_id, \
             applicant_account, applicant_organisation, data) VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events), \
             ?, ?, 'application', ?, ?, ?, ?, ?)"
        }
    };
    diesel::sql_query(sql)
        .bind::<DbUuid, _>(id)
        .bind::<diesel::sql_types::Text, _>(ev.type_)
        .bind::<DbTime, _>(SqlTime::now())
        .bind::<diesel::sql_types::Text, _>(ev.subject_id.0.to_string())
        .bind::<DbUuid, _>(ev.department_id)
        .bind::<diesel::sql_types::Nullable<DbUuid>, _>(ev.applicant_account)
        .bind::<diesel::sql_types::Nullable<DbUuid>, _>(ev.applicant_organisation)
        .bind::<DbJson, _>(SqlJson(ev.data.clone()))
        .execute(conn)?;
    Ok(id)
}

/// Numbers up to `batch` committed events that have no position yet, in the order they
/// occurred; returns how many. A no-op on SQLite and while another instance holds the turn.
pub fn assign_positions(conn: &mut DbConnection, batch: i64) -> QueryResult<usize> {
    if let DbConnection::Sqlite(_) = conn {
        return Ok(0);
    }
    conn.transaction(|c| {
        #[derive(QueryableByName)]
        struct Turn {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            ok: bool,
        }
        let turn: Turn =
            diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEQUENCER_LOCK_KEY}) AS ok")).get_result(c)?;
        if !turn.ok {
            return Ok(0);
        }
        diesel::sql_query(
            "UPDATE events SET position = n.pos FROM ( \
               SELECT id, nextval('events_position_seq') AS pos FROM ( \
                 SELECT id FROM events WHERE position IS NULL ORDER BY occurred_at, id LIMIT $1 \
               ) AS waiting \
             ) AS n WHERE events.id = n.id",
        )
        .bind::<diesel::sql_types::BigInt, _>(batch)
        .execute(c)
    })
}
