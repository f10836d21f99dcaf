//! Webhook endpoints, their deliveries and the attempts to make them.
//!
//! Deliveries are fanned out from the positioned `events` table by a cursor per endpoint
//! (`webhook_endpoints.position`), not written in the transaction of the change, so that a
//! submission costs the same however many endpoints there are. Several instances share the
//! work through leases: a row is claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL) and held
//! until `lease_until`; a process that dies holding it loses nothing, since the lease runs out
//! and another process takes the row.
use diesel::prelude::*;
use diesel::Connection;

use super::schema::{webhook_attempts as a, webhook_deliveries as d, webhook_endpoints as e};
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;
use crate::domain::webhook::DeliveryState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = e, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: SqlUuid,
    pub organisation_id: Option<SqlUuid>,
    pub department_id: Option<SqlUuid>,
    pub url: String,
    pub event_types: SqlJson,
    pub enabled: bool,
    pub description: String,
    pub language: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<SqlTime>,
    pub position: i64,
    pub disabled_reason: Option<String>,
    pub revision: i64,
    pub created_by: String,
    pub created_at: SqlTime,
    pub updated_at: SqlTime,
}

impl EndpointRow {
    pub fn owner(&self) -> crate::domain::webhook::Owner {
        crate::domain::webhook::Owner::of(self.organisation_id.map(|o| o.0), self.department_id.map(|d| d.0))
    }

    /// The event types it subscribes to; empty: all.
    pub fn types(&self) -> Vec<String> {
        serde_json::from_value(self.event_types.0.clone()).unwrap_or_default()
    }
}

/// Whose endpoints a caller manages.
#[derive(Debug, Clone, Copy)]
pub enum Managed {
    /// Every endpoint (administrators).
    All,
    /// Those of the organisations this account owns.
    OwnedBy(SqlUuid),
    Organisation(SqlUuid),
    Department(SqlUuid),
}

type Boxed<'a> = e::BoxedQuery<'a, super::MultiBackend>;

fn managed_query<'a>(m: Managed) -> Boxed<'a> {
    use super::schema::memberships as ms;
    let q = e::table.into_boxed();
    match m {
        Managed::All => q,
        Managed::OwnedBy(acc) => q.filter(
            e::organisation_id.nullable().eq_any(
                ms::table
                    .filter(ms::account_id.eq(acc))
                    .filter(ms::role.eq(crate::domain::organisation::MemberRole::Owner.as_str()))
                    .select(ms::organisation_id.nullable()),
            ),
        ),
        Managed::Organisation(o) => q.filter(e::organisation_id.eq(o)),
        Managed::Department(dep) => q.filter(e::department_id.eq(dep)),
    }
}

pub fn insert(conn: &mut DbConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(e::table).values(row).execute(conn).map(|_| ())
}

/// The endpoint if `m` manages it.
pub fn managed(conn: &mut DbConnection, m: Managed, id: SqlUuid) -> QueryResult<Option<EndpointRow>> {
    managed_query(m)
        .filter(e::id.eq(id))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
}

/// The endpoint, read for a change: locked until the transaction ends on PostgreSQL (SQLite
/// has one writer at a time).
pub fn managed_for_update(conn: &mut DbConnection, m: Managed, id: SqlUuid) -> QueryResult<Option<EndpointRow>> {
    if let DbConnection::Pg(pg) = conn {
        e::table
            .find(id)
            .select(e::id)
            .for_update()
            .first::<SqlUuid>(pg)
            .optional()?;
    }
    managed(conn, m, id)
}

/// Up to `limit` endpoints `m` manages, after `after`, oldest first.
pub fn list(conn: &mut DbConnection, m: Managed, after: Option<SqlUuid>, limit: i64) -> QueryResult<Vec<EndpointRow>> {
    let mut q = managed_query(m)
        .select(EndpointRow::as_select())
        .order(e::id.asc())
        .limit(limit);
    if let Some(after) = after {
        q = q.filter(e::id.gt(after));
    }
    q.load(conn)
}

/// How many endpoints an owner has.
pub fn count_owned(
    conn: &mut DbConnection,
    organisation: Option<SqlUuid>,
    department: Option<SqlUuid>,
) -> QueryResult<i64> {
    let q = e::table.into_boxed::<super::MultiBackend>();
    let q = match (organisation, department) {
        (Some(o), _) => q.filter(e::organisation_id.eq(o)),
        (None, Some(dep)) => q.filter(e::department_id.eq(dep)),
        (None, None) => q
            .filter(e::organisation_id.is_null())
            .filter(e::department_id.is_null()),
    };
    q.count().get_result(conn)
}

pub fn update(conn: &mut DbConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::update(e::table.find(row.id)).set(row).execute(conn).map(|_| ())
}

/// Stops deliveries to an endpoint about to be deleted (its revision stays: a delete that
/// named it still holds).
pub fn pause(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<()> {
    diesel::update(e::table.find(id))
        .set(e::enabled.eq(false))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<()> {
    // attempts and deliveries go with it (ON DELETE CASCADE; SQLite without foreign keys
    // enforced is told explicitly)
    diesel::delete(a::table.filter(a::endpoint_id.eq(id))).execute(conn)?;
    diesel::delete(d::table.filter(d::endpoint_id.eq(id))).execute(conn)?;
    diesel::delete(e::table.find(id)).execute(conn).map(|_| ())
}

/// A delivery as it is queued and sent.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct DeliveryRow {
    pub id: SqlUuid,
    pub endpoint_id: SqlUuid,
    pub event_id: SqlUuid,
    pub event_type: String,
    pub occurred_at: SqlTime,
    pub position: Option<i64>,
    pub subject_type: String,
    pub subject_id: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: SqlTime,
    pub lease_until: Option<SqlTime>,
    /// When it was queued; from its first attempt on, when that was made (and again on a
    /// redelivery or when the endpoint is enabled again): its retries are given up this long
    /// after (`RetrySchedule::give_up_after`).
    pub created_at: SqlTime,
    pub finished_at: Option<SqlTime>,
}

impl DeliveryRow {
    pub fn state(&self) -> DeliveryState {
        DeliveryState::parse(&self.state).unwrap_or(DeliveryState::Pending)
    }
}

/// The endpoints to fan out to: enabled, behind the last event position, not being fanned
/// out by another instance (locked until the transaction ends; SKIP LOCKED on PostgreSQL).
pub fn behind(conn: &mut DbConnection, last: i64, limit: i64) -> QueryResult<Vec<EndpointRow>> {
    macro_rules! q {
        () => {
            e::table
                .filter(e::enabled.eq(true))
                .filter(e::position.lt(last))
                .order(e::position.asc())
                .limit(limit)
                .select(EndpointRow::as_select())
        };
    }
    match conn {
        DbConnection::Pg(pg) => q!().for_update().skip_locked().load(pg),
        DbConnection::Sqlite(sq) => q!().load(sq),
    }
}

/// Queues deliveries (an event already queued for the endpoint is skipped) and moves the
/// endpoint's cursor to `position`. A delivery behind another of the same application still
/// to be sent waits for it (`waiting`), so that one application's events go in order and a
/// claim needs no look at the others.
pub fn queue(conn: &mut DbConnection, endpoint: SqlUuid, rows: &[DeliveryRow], position: i64) -> QueryResult<()> {
    let subjects: Vec<String> = rows.iter().map(|r| r.subject_id.clone()).collect();
    let mut open: std::collections::HashSet<String> = d::table
        .filter(d::endpoint_id.eq(endpoint))
        .filter(d::subject_id.eq_any(subjects))
        .filter(d::state.eq_any([DeliveryState::Pending.as_str(), DeliveryState::Waiting.as_str()]))
        .select(d::subject_id)
        .distinct()
        .load(conn)?
        .into_iter()
        .collect();
    let rows: Vec<DeliveryRow> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if !open.insert(r.subject_id.clone()) {
                r.state = DeliveryState::Waiting.as_str().into();
            }
            r
        })
        .collect();
    for chunk in rows.chunks(500) {
        match conn {
            DbConnection::Pg(pg) => {
                diesel::insert_into(d::table)
                    .values(chunk)
                    .on_conflict((d::endpoint_id, d::event_id))
                    .do_nothing()
                    .execute(pg)?;
            }
            DbConnection::Sqlite(sq) => {
                diesel::insert_or_ignore_into(d::table).values(chunk).execute(sq)?;
            }
        }
    }
    diesel::update(e::table.find(endpoint))
        .set(e::position.eq(position))
        .execute(conn)
        .map(|_| ())
}

/// A claimed delivery with what is needed to send it.
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub endpoint: EndpointRow,
}

/// Claims up to `limit` due deliveries for this process until `lease_until`: pending, due, not
/// leased by another process, of an enabled endpoint not in `busy` (endpoints this process
/// already has enough requests in flight to), and the oldest pending one of their application
/// for their endpoint (so one application's events arrive in order). On PostgreSQL the rows
/// are locked while they are claimed and rows another instance is claiming are skipped.
pub fn claim(
    conn: &mut DbConnection,
    limit: i64,
    per_endpoint: usize,
    busy: &[SqlUuid],
    lease_until: SqlTime,
) -> QueryResult<Vec<Claimed>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = super::types::DbUuid)]
        id: SqlUuid,
    }
    let now = SqlTime::now();
    // the ids are our own uuids, written out (no caller's text reaches this statement)
    let busy = if busy.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = busy.iter().map(|b| format!("'{}'", b.0)).collect();
        format!("AND d.endpoint_id NOT IN ({})", list.join(", "))
    };
    // due and not leased (a later event of an application waits in `waiting`)
    let due = |p1: &str| {
        format!(
            "d.state = 'pending' AND d.next_attempt_at <= {p1} \
             AND (d.lease_until IS NULL OR d.lease_until < {p1})"
        )
    };
    conn.transaction(|c| {
        let sql = match c {
            // per enabled endpoint at most `per_endpoint`, its oldest first, rows another
            // instance is claiming skipped
            DbConnection::Pg(_) => format!(
                "SELECT x.id FROM webhook_endpoints e CROSS JOIN LATERAL ( \
                   SELECT d.id, d.next_attempt_at FROM webhook_deliveries d \
                   WHERE d.endpoint_id = e.id AND {} \
                   ORDER BY d.next_attempt_at LIMIT {per_endpoint} FOR UPDATE OF d SKIP LOCKED \
                 ) x WHERE e.enabled {} ORDER BY x.next_attempt_at LIMIT $2",
                due("$1"),
                busy.replace("d.endpoint_id", "e.id"),
            ),
            // one process: no locks; the caller trims what is over an endpoint's share
            DbConnection::Sqlite(_) => format!(
                "SELECT d.id FROM webhook_deliveries d \
                 WHERE {} AND d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled) {busy} \
                 ORDER BY d.next_attempt_at LIMIT ?2",
                due("?1"),
            ),
        };
        let ids: Vec<Id> = diesel::sql_query(sql)
            .bind::<super::types::DbTime, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(c)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<SqlUuid> = ids.into_iter().map(|i| i.id).collect();
        diesel::update(d::table.filter(d::id.eq_any(ids.clone())))
            .set(d::lease_until.eq(Some(lease_until)))
            .execute(c)?;
        let rows: Vec<(DeliveryRow, EndpointRow)> = d::table
            .inner_join(e::table)
            .filter(d::id.eq_any(ids))
            .order(d::next_attempt_at.asc())
            .select((DeliveryRow::as_select(), EndpointRow::as_select()))
            .load(c)?;
        Ok(rows
            .into_iter()
            .map(|(delivery, endpoint)| Claimed { delivery, endpoint })
            .collect())
    })
}

/// An attempt's record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = a)]
pub struct AttemptRow {
    pub id: SqlUuid,
    pub delivery_id: SqlUuid,
    pub endpoint_id: SqlUuid,
    pub attempted_at: SqlTime,
    pub outcome: String,
    pub http_status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub response: Option<String>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempt: AttemptRow,
    pub state: DeliveryState,
    /// When to try again (pending), or when it ended.
    pub next_attempt_at: SqlTime,
    /// The lease the attempt was made under: the delivery's state is only written while it
    /// is still this process's (a late record must not undo what another process did since).
    pub lease: Option<SqlTime>,
    /// Where its retries are counted from (the first attempt's time).
    pub retry_from: SqlTime,
}

/// Records a batch of attempts and the state of their deliveries, in one transaction.
pub fn record(conn: &mut DbConnection, outcomes: &[Outcome]) -> QueryResult<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    conn.transaction(|c| {
        // the endpoints first, in one order (as a deletion and the fan-out lock them): no
        // deadlock with either, and a deletion that went first has taken its deliveries along
        if let DbConnection::Pg(pg) = c {
            let mut eps: Vec<SqlUuid> = outcomes.iter().map(|o| o.attempt.endpoint_id).collect();
            eps.sort_by_key(|e| e.0);
            eps.dedup();
            e::table
                .filter(e::id.eq_any(eps))
                .order(e::id)
                .select(e::id)
                .for_share()
                .load::<SqlUuid>(pg)?;
        }
        // a delivery whose endpoint was deleted while it was being sent has nothing to record
        let ids: Vec<SqlUuid> = outcomes.iter().map(|o| o.attempt.delivery_id).collect();
        let existing: std::collections::HashSet<SqlUuid> = d::table
            .filter(d::id.eq_any(ids))
            .select(d::id)
            .load::<SqlUuid>(c)?
            .into_iter()
            .collect();
        let outcomes: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| existing.contains(&o.attempt.delivery_id))
            .collect();
        let attempts: Vec<AttemptRow> = outcomes.iter().map(|o| o.attempt.clone()).collect();
        record_attempts(c, &attempts)?;
        if let DbConnection::Pg(pg) = c {
            return record_pg(pg, &outcomes);
        }
        for o in outcomes {
            let done = o.state != DeliveryState::Pending;
            let Some(lease) = o.lease else { continue };
            let written = diesel::update(
                d::table
                    .find(o.attempt.delivery_id)
                    .filter(d::state.eq(DeliveryState::Pending.as_str()))
                    .filter(d::lease_until.eq(lease)),
            )
            .set((
                d::state.eq(o.state.as_str()),
                d::attempts.eq(d::attempts + 1),
                d::next_attempt_at.eq(o.next_attempt_at),
                d::lease_until.eq(None::<SqlTime>),
                d::finished_at.eq(done.then_some(o.attempt.attempted_at)),
                d::created_at.eq(o.retry_from),
            ))
            .execute(c)?;
            if done && written == 1 {
                next_in_line(c, o.attempt.endpoint_id, o.attempt.delivery_id)?;
            }
        }
        Ok(())
    })
}

/// The states of a batch on PostgreSQL, in two statements whatever its size: the deliveries
/// still under the lease their attempt was made with are updated from arrays; then the next
/// waiting delivery of each application whose delivery is done is made due.
fn record_pg(pg: &mut diesel::PgConnection, outcomes: &[&Outcome]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as PgUuid};
    type Ts = chrono::DateTime<chrono::Utc>;
    let mine: Vec<&&Outcome> = outcomes.iter().filter(|o| o.lease.is_some()).collect();
    if mine.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = mine.iter().map(|o| o.attempt.delivery_id.0).collect();
    let states: Vec<String> = mine.iter().map(|o| o.state.as_str().to_string()).collect();
    let next: Vec<Ts> = mine.iter().map(|o| o.next_attempt_at.0).collect();
    let finished: Vec<Option<Ts>> = mine
        .iter()
        .map(|o| (o.state != DeliveryState::Pending).then_some(o.attempt.attempted_at.0))
        .collect();
    let from: Vec<Ts> = mine.iter().map(|o| o.retry_from.0).collect();
    let leases: Vec<Ts> = mine.iter().map(|o| o.lease.map(|l| l.0).unwrap_or_default()).collect();
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = PgUuid)]
        endpoint_id: uuid::Uuid,
        #[diesel(sql_type = Text)]
        subject_id: String,
        #[diesel(sql_type = Text)]
        state: String,
    }
    let written: Vec<Written> = diesel::sql_query(
        "UPDATE webhook_deliveries d SET state = v.state, attempts = d.attempts + 1, \
           next_attempt_at = v.next, lease_until = NULL, finished_at = v.finished, created_at = v.retry_from \
         FROM unnest($1, $2, $3, $4, $5, $6) AS v(id, state, next, finished, retry_from, lease) \
         WHERE d.id = v.id AND d.state = 'pending' AND d.lease_until = v.lease \
         RETURNING d.endpoint_id, d.subject_id, d.state",
    )
    .bind::<Array<PgUuid>, _>(ids)
    .bind::<Array<Text>, _>(states)
    .bind::<Array<Timestamptz>, _>(next)
    .bind::<Array<Nullable<Timestamptz>>, _>(finished)
    .bind::<Array<Timestamptz>, _>(from)
    .bind::<Array<Timestamptz>, _>(leases)
    .load(pg)?;
    let done: Vec<&Written> = written
        .iter()
        .filter(|w| w.state != DeliveryState::Pending.as_str())
        .collect();
    if done.is_empty() {
        return Ok(());
    }
    let eps: Vec<uuid::Uuid> = done.iter().map(|w| w.endpoint_id).collect();
    let subjects: Vec<String> = done.iter().map(|w| w.subject_id.clone()).collect();
    diesel::sql_query(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $3 WHERE id IN ( \
           SELECT DISTINCT ON (w.endpoint_id, w.subject_id) w.id FROM webhook_deliveries w \
           JOIN unnest($1, $2) AS f(endpoint_id, subject_id) \
             ON w.endpoint_id = f.endpoint_id AND w.subject_id = f.subject_id \
           WHERE w.state = 'waiting' ORDER BY w.endpoint_id, w.subject_id, w.position)",
    )
    .bind::<Array<PgUuid>, _>(eps)
    .bind::<Array<Text>, _>(subjects)
    .bind::<Timestamptz, _>(chrono::Utc::now())
    .execute(pg)?;
    Ok(())
}

/// Makes the next waiting delivery of the same application as `after` (for its endpoint) due.
fn next_in_line(conn: &mut DbConnection, endpoint: SqlUuid, after: SqlUuid) -> QueryResult<()> {
    let subject: Option<String> = d::table.find(after).select(d::subject_id).first(conn).optional()?;
    let Some(subject) = subject else { return Ok(()) };
    let next: Option<SqlUuid> = d::table
        .filter(d::endpoint_id.eq(endpoint))
        .filter(d::subject_id.eq(subject))
        .filter(d::state.eq(DeliveryState::Waiting.as_str()))
        .order(d::position.asc())
        .select(d::id)
        .first(conn)
        .optional()?;
    if let Some(next) = next {
        diesel::update(d::table.find(next))
            .set((
                d::state.eq(DeliveryState::Pending.as_str()),
                d::next_attempt_at.eq(SqlTime::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes attempts (500 per statement); one written already (a batch written again after its
/// commit's answer was lost) is kept as it is.
pub fn record_attempts(conn: &mut DbConnection, attempts: &[AttemptRow]) -> QueryResult<()> {
    for chunk in attempts.chunks(500) {
        match conn {
            DbConnection::Pg(pg) => diesel::insert_into(a::table)
                .values(chunk)
                .on_conflict(a::id)
                .do_nothing()
                .execute(pg)?,
            DbConnection::Sqlite(sq) => diesel::insert_or_ignore_into(a::table).values(chunk).execute(sq)?,
        };
    }
    Ok(())
}

/// Who is told by mail when an endpoint is disabled: an organisation's owners; a
/// department's contact address, else its clerks; the administrators.
pub fn owner_recipients(conn: &mut DbConnection, owner: crate::domain::webhook::Owner) -> QueryResult<Vec<String>> {
    use super::schema::{accounts as ac, departments as dp, memberships as ms};
    use crate::domain::account::StaffRole;
    use crate::domain::webhook::Owner;
    let mails: Vec<Option<String>> = match owner {
        Owner::Organisation(o) => ms::table
            .inner_join(ac::table)
            .filter(ms::organisation_id.eq(SqlUuid(o)))
            .filter(ms::role.eq(crate::domain::organisation::MemberRole::Owner.as_str()))
            .filter(ac::disabled_at.is_null())
            .select(ac::email)
            .load(conn)?,
        Owner::Department(dep) => {
            let contact: Option<Option<String>> =
                dp::table.find(SqlUuid(dep)).select(dp::email).first(conn).optional()?;
            match contact.flatten() {
                Some(m) => vec![Some(m)],
                None => ac::table
                    .filter(ac::department_id.eq(SqlUuid(dep)))
                    .filter(ac::disabled_at.is_null())
                    .select(ac::email)
                    .load(conn)?,
            }
        }
        Owner::Administrators => ac::table
            .filter(ac::role.eq(StaffRole::Admin.as_str()))
            .filter(ac::disabled_at.is_null())
            .select(ac::email)
            .load(conn)?,
    };
    Ok(mails.into_iter().flatten().collect())
}

/// The recorded data of events (for endpoint events: the URL and why).
pub fn event_data(conn: &mut DbConnection, ids: Vec<SqlUuid>) -> QueryResult<Vec<(SqlUuid, SqlJson)>> {
    use super::schema::events as ev;
    ev::table
        .filter(ev::id.eq_any(ids))
        .select((ev::id, ev::data))
        .load(conn)
}

/// Gives back claimed deliveries this process will not send now.
pub fn release(conn: &mut DbConnection, ids: Vec<SqlUuid>) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(d::table.filter(d::id.eq_any(ids)))
        .set(d::lease_until.eq(None::<SqlTime>))
        .execute(conn)
        .map(|_| ())
}

/// Disables an endpoint with the reason, unless it already is; whether it was enabled.
pub fn disable(conn: &mut DbConnection, id: SqlUuid, reason: &str) -> QueryResult<bool> {
    let n = diesel::update(e::table.find(id).filter(e::enabled.eq(true)))
        .set((
            e::enabled.eq(false),
            e::disabled_reason.eq(Some(reason)),
            e::revision.eq(e::revision + 1),
            e::updated_at.eq(SqlTime::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A delivery of an endpoint.
pub fn delivery(conn: &mut DbConnection, endpoint: SqlUuid, id: SqlUuid) -> QueryResult<Option<DeliveryRow>> {
    d::table
        .filter(d::endpoint_id.eq(endpoint))
        .filter(d::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// Queues a delivery again, due now, with a new round of retries.
pub fn requeue(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::update(d::table.find(id))
        .set((
            d::state.eq(DeliveryState::Pending.as_str()),
            d::next_attempt_at.eq(now),
            d::created_at.eq(now),
            d::attempts.eq(0),
            d::lease_until.eq(None::<SqlTime>),
            d::finished_at.eq(None::<SqlTime>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Makes an endpoint's pending deliveries due now, each with a new round of retries (when
/// the endpoint is enabled again).
pub fn resume(conn: &mut DbConnection, endpoint: SqlUuid) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::update(
        d::table
            .filter(d::endpoint_id.eq(endpoint))
            .filter(d::state.eq(DeliveryState::Pending.as_str())),
    )
    .set((d::next_attempt_at.eq(now), d::created_at.eq(now), d::attempts.eq(0)))
    .execute(conn)
    .map(|_| ())
}

pub fn insert_delivery(conn: &mut DbConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(d::table).values(row).execute(conn).map(|_| ())
}

/// An endpoint's attempts, newest first, before attempt `before`, with their deliveries.
pub fn attempts(
    conn: &mut DbConnection,
    endpoint: SqlUuid,
    before: Option<SqlUuid>,
    limit: i64,
) -> QueryResult<Vec<(AttemptRow, DeliveryRow)>> {
    let mut q = a::table
        .inner_join(d::table)
        .filter(a::endpoint_id.eq(endpoint))
        .order(a::id.desc())
        .limit(limit)
        .select((AttemptRow::as_select(), DeliveryRow::as_select()))
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(a::id.lt(before));
    }
    q.load(conn)
}

/// Deliveries waiting, and the age of the oldest due one in seconds: the outbox's depth and
/// age for `/metrics`.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, f64)> {
    let now = SqlTime::now();
    let depth: i64 = d::table
        .filter(d::state.eq_any([DeliveryState::Pending.as_str(), DeliveryState::Waiting.as_str()]))
        .count()
        .get_result(conn)?;
    let oldest: Option<SqlTime> = d::table
        .filter(d::state.eq(DeliveryState::Pending.as_str()))
        .filter(d::next_attempt_at.le(now))
        .order(d::created_at.asc())
        .select(d::created_at)
        .first(conn)
        .optional()?;
    let age = oldest.map_or(0.0, |t| (now.0 - t.0).num_milliseconds().max(0) as f64 / 1000.0);
    Ok((depth, age))
}
