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

/// An event row as PostgreSQL takes it: without a position (see the module's note).
#[derive(Insertable)]
#[diesel(table_name = super::schema::events)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
pub(super) struct PgEvent<'a> {
    id: SqlUuid,
    type_: &'a str,
    occurred_at: SqlTime,
    subject_type: &'a str,
    subject_id: String,
    department_id: SqlUuid,
    applicant_account: Option<SqlUuid>,
    applicant_organisation: Option<SqlUuid>,
    data: SqlJson,
}

/// The rows of `evs` as PostgreSQL stores them (numbered later, by the sequencer).
pub(super) fn pg_rows(evs: &[NewEvent], now: SqlTime) -> Vec<PgEvent<'_>> {
    evs.iter()
        .map(|ev| PgEvent {
            id: SqlUuid(uuid::Uuid::now_v7()),
            type_: ev.type_,
            occurred_at: now,
            subject_type: "application",
            subject_id: ev.subject_id.0.to_string(),
            department_id: ev.department_id,
            applicant_account: ev.applicant_account,
            applicant_organisation: ev.applicant_organisation,
            data: SqlJson(ev.data.clone()),
        })
        .collect()
}

/// Inserts events in the caller's transaction, in the order given: in one statement on
/// PostgreSQL (one round trip); on SQLite one by one, each numbered as it is inserted.
pub fn insert_all(conn: &mut DbConnection, evs: &[NewEvent]) -> QueryResult<()> {
    let now = SqlTime::now();
    match conn {
        DbConnection::Pg(pg) => {
            if evs.is_empty() {
                return Ok(());
            }
            diesel::insert_into(super::schema::events::table)
                .values(&pg_rows(evs, now))
                .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {
            for ev in evs {
                diesel::sql_query(
                    "INSERT INTO events (id, position, type, occurred_at, subject_type, subject_id, department_id, \
                     applicant_account, applicant_organisation, data) VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM events), \
                     ?, ?, 'application', ?, ?, ?, ?, ?)",
                )
                .bind::<DbUuid, _>(SqlUuid(uuid::Uuid::now_v7()))
                .bind::<diesel::sql_types::Text, _>(ev.type_)
                .bind::<DbTime, _>(now)
                .bind::<diesel::sql_types::Text, _>(ev.subject_id.0.to_string())
                .bind::<DbUuid, _>(ev.department_id)
                .bind::<diesel::sql_types::Nullable<DbUuid>, _>(ev.applicant_account)
                .bind::<diesel::sql_types::Nullable<DbUuid>, _>(ev.applicant_organisation)
                .bind::<DbJson, _>(SqlJson(ev.data.clone()))
                .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Numbers up to `batch` committed events that have no position yet, in the order they
/// occurred; returns how many. A no-op on SQLite and while another instance holds the turn.
/// Whether any waits is read first, through the partial index of the unnumbered: one
/// statement on an idle database instead of a transaction of four, ten times a second.
pub fn assign_positions(conn: &mut DbConnection, batch: i64) -> QueryResult<usize> {
    use super::schema::events as e;
    let DbConnection::Pg(pg) = conn else {
        return Ok(0);
    };
    let waiting: bool = diesel::select(diesel::dsl::exists(e::table.filter(e::position.is_null()))).get_result(pg)?;
    if !waiting {
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

/// An event as the feed reads it.
#[derive(Debug, Clone, Queryable)]
pub struct EventRow {
    pub id: SqlUuid,
    pub position: Option<i64>,
    pub type_: String,
    pub occurred_at: SqlTime,
    pub subject_type: String,
    pub subject_id: String,
    /// What the change recorded, for events that are not about an application (an endpoint
    /// event: why); an application event's item shows the application as it is now instead.
    pub data: Option<SqlJson>,
}

/// The query of up to `$limit` numbered events after position `$after`, in position order, of
/// the applications reader `$r` applies for or processes (`$orgs`: a resident's
/// organisations, read first in the same request, as for a list page), of the `$types` given
/// (all when empty). A macro, so that the blocking and the asynchronous connection share it.
///
/// An application event's `data` is not read: parsing it was a quarter of a feed page's work.
/// That choice is a `case_when`, not SQL text, since diesel prepares a statement with SQL text
/// in it anew every time.
macro_rules! feed_query {
    ($r:expr, $orgs:expr, $after:expr, $types:expr, $limit:expr) => {{
        use $crate::db::applications::Reader;
        use $crate::db::schema::events as e;
        let (r, orgs, types): (Reader, Vec<SqlUuid>, Vec<String>) = ($r, $orgs, $types);
        let data = diesel::dsl::case_when(e::subject_type.ne("application"), e::data);
        let mut q = e::table
            .select((
                e::id,
                e::position,
                e::type_,
                e::occurred_at,
                e::subject_type,
                e::subject_id,
                data,
            ))
            .filter(e::position.gt($after))
            .order(e::position.asc())
            .limit($limit)
            .into_boxed();
        q = match r {
            Reader::Account(acc) if orgs.is_empty() => q.filter(e::applicant_account.eq(acc)),
            Reader::Account(acc) => q.filter(e::applicant_account.eq(acc).or(e::applicant_organisation.eq_any(orgs))),
            Reader::Organisation(org) => q.filter(e::applicant_organisation.eq(org)),
            Reader::Department(dep) => q.filter(e::department_id.eq(dep)),
            Reader::Staff => q,
            Reader::Nobody => q.filter(e::id.ne(e::id)),
        };
        if !types.is_empty() {
            q = q.filter(e::type_.eq_any(types));
        }
        q
    }};
}
pub(crate) use feed_query;

/// One page of the feed's rows for reader `r` (see [`feed_query`]) and the applications of
/// its events that the reader sees now (whether the caller may see an event is decided
/// against the application itself, not the event's copy of who applied).
pub fn feed(
    conn: &mut DbConnection,
    r: super::applications::Reader,
    after: i64,
    types: Vec<String>,
    limit: i64,
) -> QueryResult<(Vec<EventRow>, Vec<super::applications::ApplicationRow>)> {
    use super::applications as store;
    if matches!(r, store::Reader::Nobody) {
        return Ok((Vec::new(), Vec::new()));
    }
    let orgs = store::reader_organisations(conn, r)?;
    let rows: Vec<EventRow> = feed_query!(r, orgs.clone(), after, types, limit).load(conn)?;
    let apps = store::visible(conn, r, &orgs, subjects(&rows))?;
    Ok((rows, apps))
}

/// The applications the events are about.
pub fn subjects(rows: &[EventRow]) -> Vec<SqlUuid> {
    let mut ids: Vec<SqlUuid> = rows
        .iter()
        .filter(|r| r.subject_type == "application")
        .filter_map(|r| uuid::Uuid::parse_str(&r.subject_id).ok().map(SqlUuid))
        .collect();
    ids.sort_unstable_by_key(|id| id.0);
    ids.dedup();
    ids
}

/// The highest position given so far (0 when none): what a long poll waits to grow.
pub fn last_position(conn: &mut DbConnection) -> QueryResult<i64> {
    use super::schema::events as e;
    let max: Option<i64> = e::table.select(diesel::dsl::max(e::position)).first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Deletes up to `batch` numbered events older than `before` (the feed's retention); returns
/// how many.
pub fn purge(conn: &mut DbConnection, before: SqlTime, batch: i64) -> QueryResult<usize> {
    use super::schema::events as e;
    let old = e::table
        .filter(e::occurred_at.lt(before))
        .filter(e::position.is_not_null())
        .select(e::id)
        .limit(batch);
    let ids: Vec<SqlUuid> = old.load(conn)?;
    diesel::delete(e::table.filter(e::id.eq_any(ids))).execute(conn)
}

/// Writes an event about a webhook endpoint (`webhook_endpoint.disabled`) in the caller's
/// transaction, seen by the endpoint's owner: an organisation's as its events are, a
/// department's likewise, the administrators' by administrators only.
pub fn insert_about_endpoint(
    conn: &mut DbConnection,
    type_: &str,
    endpoint: SqlUuid,
    organisation: Option<SqlUuid>,
    department: Option<SqlUuid>,
    data: serde_json::Value,
) -> QueryResult<()> {
    let (position, p) = match conn {
        DbConnection::Pg(_) => ("NULL", ["$1", "$2", "$3", "$4", "$5", "$6", "$7"]),
        DbConnection::Sqlite(_) => (
            "(SELECT COALESCE(MAX(position), 0) + 1 FROM events)",
            ["?", "?", "?", "?", "?", "?", "?"],
        ),
    };
    diesel::sql_query(format!(
        "INSERT INTO events (id, position, type, occurred_at, subject_type, subject_id, department_id, \
         applicant_account, applicant_organisation, data) VALUES ({}, {position}, {}, {}, 'webhook_endpoint', {}, {}, NULL, {}, {})",
        p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    ))
    .bind::<DbUuid, _>(SqlUuid(uuid::Uuid::now_v7()))
    .bind::<diesel::sql_types::Text, _>(type_)
    .bind::<DbTime, _>(SqlTime::now())
    .bind::<diesel::sql_types::Text, _>(endpoint.0.to_string())
    .bind::<diesel::sql_types::Nullable<DbUuid>, _>(department)
    .bind::<diesel::sql_types::Nullable<DbUuid>, _>(organisation)
    .bind::<DbJson, _>(SqlJson(data))
    .execute(conn)
    .map(|_| ())
}
