//! The dispatcher every instance runs: it fans events out to the endpoints that should get
//! them, sends the deliveries that are due, and records the attempts.
//!
//! - **Fan-out**: each enabled endpoint has a cursor (the last event position queued for it).
//!   An instance takes up to 10 endpoints that are behind (locked, `SKIP LOCKED`, so that
//!   instances share them), reads the events the owner may see after the cursor with the
//!   feed's own query, queues one delivery per event and moves the cursor, in one transaction.
//! - **Sending**: due deliveries are claimed with a lease (30 s) and sent with at most
//!   [`IN_FLIGHT`] requests at a time, at most [`PER_ENDPOINT`] to one endpoint (a slow
//!   receiver does not hold up the others). An outcome is written only under the lease it was
//!   sent under, so a late record never undoes what another process did since. Only the oldest pending delivery of an application
//!   is claimed for an endpoint, so one application's events arrive in order.
//! - **Recording**: outcomes are written in batches; a failed delivery is due again after the
//!   retry schedule's wait (counted from its first attempt); one that fails past the give-up
//!   time disables its endpoint, with a `webhook_endpoint.disabled` event and a mail to the
//!   owner, and stays queued to go first when the endpoint is enabled again.
//!
//! A process killed while sending loses nothing: its leases run out and another process (or
//! this one, restarted) sends the deliveries again (at least once; the `webhook-id` lets
//! receivers drop a repeat).
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use diesel::Connection;
use tokio::sync::{mpsc, Semaphore};
use uuid::Uuid;

use super::net::{Answer, Sender};
use crate::catalogue::CatalogueCache;
use crate::db::applications::{self as apps, ApplicationRow, Reader};
use crate::db::events::EventRow;
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::webhooks::{self as q, AttemptRow, Claimed, DeliveryRow, EndpointRow, Outcome};
use crate::db::{Db, DbConnection};
use crate::domain::application::Mover;
use crate::domain::event;
use crate::domain::lang::Lang;
use crate::domain::webhook::{DeliveryState, Owner, RetrySchedule};
use crate::error::ApiError;
use crate::events::feed::Seen;

/// Requests in flight from one instance.
pub const IN_FLIGHT: usize = 128;
/// Requests in flight to one endpoint from one instance.
pub const PER_ENDPOINT: usize = 32;
/// How long a claimed delivery is this process's; longer than an attempt can take.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Events read per endpoint per fan-out step.
const FAN_OUT_BATCH: i64 = 1000;
/// How long fan-out rests while no event is numbered after the position it caught up to: an
/// endpoint enabled again with events behind it waits at most this long for its first.
const FAN_OUT_IDLE: Duration = Duration::from_secs(1);

/// What the dispatcher needs.
#[derive(Clone)]
pub struct Dispatcher {
    pub db: Db,
    /// The API's database handle: while all its connections are taken, requests come first
    /// and deliveries are held to `busy_rate`.
    pub requests: Db,
    /// Deliveries per second this instance still sends while its API is saturated
    /// (`GUICHET_WEBHOOK_BUSY_RATE`); `None`: never held back.
    pub busy_rate: Option<u32>,
    pub cache: CatalogueCache,
    pub sender: Sender,
    pub schedule: RetrySchedule,
}

impl Dispatcher {
    /// Whether the API has none of its database connections free: then deliveries use no
    /// more than `busy_rate`, so that a burst of submissions is not slowed by the deliveries
    /// it causes (they catch up when the burst is over).
    fn yielding(&self) -> bool {
        self.busy_rate.is_some() && self.requests.saturated()
    }

    /// While yielding: deliveries per turn and the length of a turn.
    fn busy_pace(&self) -> (usize, Duration) {
        crate::domain::webhook::busy_pace(self.busy_rate.unwrap_or(u32::MAX))
    }
}

/// The reader whose view of applications an owner gets.
fn reader(owner: Owner) -> Reader {
    match owner {
        Owner::Organisation(o) => Reader::Organisation(SqlUuid(o)),
        Owner::Department(d) => Reader::Department(SqlUuid(d)),
        Owner::Administrators => Reader::Staff,
    }
}

/// What an owner may do with an application (what its view shows).
fn mover(owner: Owner) -> Option<Mover> {
    Some(if owner.is_staff() {
        Mover::Processor
    } else {
        Mover::Applicant
    })
}

/// Queues the events an endpoint's owner may see after its cursor, up to `last`; whether it
/// read a whole batch (there may be more).
fn fan_out_one(c: &mut DbConnection, ep: &EndpointRow, last: i64, batch: i64) -> Result<bool, ApiError> {
    let owner = ep.owner();
    let r = reader(owner);
    let types = ep.types();
    let (rows, apps) = crate::db::events::feed(c, r, ep.position, types, batch)?;
    let visible: std::collections::HashSet<String> = apps.into_iter().map(|a| a.id.0.to_string()).collect();
    let now = SqlTime::now();
    let full = rows.len() as i64 == batch;
    let cursor = match rows.last().and_then(|e| e.position) {
        Some(p) if full => p,
        Some(p) => p.max(last),
        None => last,
    };
    let queued: Vec<DeliveryRow> = rows
        .into_iter()
        .filter(|e| owner.is_staff() || !event::staff_only(&e.type_))
        .filter(|e| e.subject_type != "application" || visible.contains(&e.subject_id))
        .map(|e| DeliveryRow {
            id: SqlUuid(Uuid::now_v7()),
            endpoint_id: ep.id,
            event_id: e.id,
            event_type: e.type_,
            occurred_at: e.occurred_at,
            position: e.position,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            state: DeliveryState::Pending.as_str().into(),
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            created_at: now,
            finished_at: None,
        })
        .collect();
    q::queue(c, ep.id, &queued, cursor)?;
    Ok(full)
}

/// One fan-out step: up to 10 endpoints behind `last`, up to `batch` events each; whether
/// there may be more.
async fn fan_out(db: &Db, last: i64, batch: i64) -> Result<bool, ApiError> {
    db.write(move |c| {
        c.transaction(|c| {
            let eps = q::behind(c, last, 10)?;
            let mut more = eps.len() == 10;
            for ep in &eps {
                more |= fan_out_one(c, ep, last, batch)?;
            }
            Ok::<_, ApiError>(more)
        })
    })
    .await
}

/// A claimed delivery with its body, ready to sign and send.
struct Ready {
    claimed: Claimed,
    /// `Ok(None)` when the owner no longer sees the event; `Err` when it could not be
    /// rendered now (tried again later).
    body: Result<Option<Bytes>, String>,
}

/// The body of a delivery: `{"type", "timestamp", "data"}`, `data` being the feed's item as
/// the owner sees it now; `None` when the owner no longer sees it (a ping is sent by
/// `POST .../test` only: not again).
fn body<M: Fn(&ApplicationRow) -> Option<Mover>>(
    seen: &mut Seen<'_, M>,
    d: &DeliveryRow,
    data: &HashMap<SqlUuid, SqlJson>,
) -> Result<Option<Bytes>, String> {
    if d.position.is_none() {
        return Ok(None);
    }
    let row = EventRow {
        id: d.event_id,
        position: d.position,
        type_: d.event_type.clone(),
        occurred_at: d.occurred_at,
        subject_type: d.subject_type.clone(),
        subject_id: d.subject_id.clone(),
        data: data.get(&d.event_id).cloned(),
    };
    let item =
        crate::events::feed::item(seen, &row, true).map_err(|e| format!("the event could not be rendered now: {e}"))?;
    let Some(item) = item else { return Ok(None) };
    // written straight from the item (through `json!` its rendered view was parsed again)
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(rename = "type")]
        type_: &'a str,
        timestamp: String,
        data: &'a crate::events::feed::Event,
    }
    serde_json::to_vec(&Body {
        type_: &d.event_type,
        timestamp: d.occurred_at.0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        data: &item,
    })
    .map(|v| Some(Bytes::from(v)))
    .map_err(|e| e.to_string())
}

/// Claims due deliveries and loads what their bodies need, in one turn of the database; at
/// most [`PER_ENDPOINT`] in flight to one endpoint (`in_flight`: this process's now), the
/// rest is given back at once. An event's body is rendered once per owner and language,
/// however many of the owner's endpoints get it.
async fn claim(d: &Dispatcher, limit: usize, in_flight: HashMap<SqlUuid, usize>) -> Result<Vec<Ready>, ApiError> {
    let snap = d.cache.get();
    let busy: Vec<SqlUuid> = in_flight
        .iter()
        .filter(|(_, n)| **n >= PER_ENDPOINT)
        .map(|(k, _)| *k)
        .collect();
    let (claimed, apps_of, data) =
        d.db.write(move |c| {
            let lease = SqlTime(chrono::Utc::now() + LEASE);
            let mut claimed = q::claim(c, limit as i64, PER_ENDPOINT, &busy, lease)?;
            let mut taken = in_flight;
            let mut back = Vec::new();
            claimed.retain(|cl| {
                let n = taken.entry(cl.endpoint.id).or_insert(0);
                *n += 1;
                if *n > PER_ENDPOINT {
                    back.push(cl.delivery.id);
                }
                *n <= PER_ENDPOINT
            });
            q::release(c, back)?;
            // the applications, each as its endpoint's owner sees it
            let mut by_owner: HashMap<Owner, Vec<SqlUuid>> = HashMap::new();
            let mut endpoint_events = Vec::new();
            for cl in &claimed {
                if cl.delivery.subject_type == "application" {
                    let ids = by_owner.entry(cl.endpoint.owner()).or_default();
                    if let Ok(id) = Uuid::parse_str(&cl.delivery.subject_id) {
                        ids.push(SqlUuid(id));
                    }
                } else {
                    endpoint_events.push(cl.delivery.event_id);
                }
            }
            let mut apps_of: HashMap<Owner, Vec<ApplicationRow>> = HashMap::new();
            for (owner, ids) in by_owner {
                apps_of.insert(owner, apps::visible(c, reader(owner), &[], ids)?);
            }
            let data: HashMap<SqlUuid, SqlJson> = if endpoint_events.is_empty() {
                HashMap::new()
            } else {
                q::event_data(c, endpoint_events)?.into_iter().collect()
            };
            Ok((claimed, apps_of, data))
        })
        .await?;
    // rendered after the claim's transaction, off the server workers (see `http::cpu`)
    crate::http::cpu::run(move || {
        let mut seen = HashMap::new();
        let mut bodies: HashMap<(SqlUuid, Owner, Lang), Result<Option<Bytes>, String>> = HashMap::new();
        Ok(claimed
            .into_iter()
            .map(|cl| {
                let owner = cl.endpoint.owner();
                let lang = Lang::parse(&cl.endpoint.language).unwrap_or(Lang::De);
                let body = bodies
                    .entry((cl.delivery.event_id, owner, lang))
                    .or_insert_with(|| {
                        let apps = apps_of.get(&owner).map(Vec::as_slice).unwrap_or(&[]);
                        let seen = seen.entry((owner, lang)).or_insert_with(|| {
                            Seen::new(
                                &snap,
                                apps,
                                move |_: &ApplicationRow| mover(owner),
                                owner.is_staff(),
                                lang,
                            )
                        });
                        body(seen, &cl.delivery, &data)
                    })
                    .clone();
                Ready { claimed: cl, body }
            })
            .collect())
    })
    .await
}

/// The record of an attempt.
pub fn attempt_row(d: &DeliveryRow, a: &Answer, at: SqlTime) -> AttemptRow {
    AttemptRow {
        id: SqlUuid(Uuid::now_v7()),
        delivery_id: d.id,
        endpoint_id: d.endpoint_id,
        attempted_at: at,
        outcome: if a.delivered() {
            DeliveryState::Delivered.as_str().into()
        } else {
            DeliveryState::Failed.as_str().into()
        },
        http_status: a.status.map(i32::from),
        latency_ms: a.latency.as_millis().min(60_000) as i32,
        error: a.error.clone(),
        response: a.body.clone(),
    }
}

/// What a finished attempt leaves for the recorder.
#[derive(Clone)]
struct Done {
    outcome: Outcome,
    /// Set when the delivery was given up: the endpoint to disable, and why.
    give_up: Option<(EndpointRow, String)>,
}

fn jitter() -> f64 {
    let b = crate::auth::secrets::random_bytes::<2>().unwrap_or([128, 0]);
    (u16::from_le_bytes(b) as f64 / u16::MAX as f64) * 2.0 - 1.0
}

/// Sends one delivery and decides what comes next.
async fn deliver(d: &Dispatcher, ready: Ready) -> Done {
    let Claimed { delivery, endpoint } = ready.claimed;
    let at = SqlTime::now();
    let hopeless = matches!(ready.body, Ok(None));
    let not_sent = |error: String| Answer {
        status: None,
        latency: Duration::ZERO,
        error: Some(error),
        body: None,
    };
    let answer = match ready.body {
        Ok(Some(body)) => {
            let id = delivery.event_id.0.to_string();
            let ts = at.0.timestamp();
            let sigs = super::process::signatures(&endpoint, &id, ts, &body);
            d.sender.send(&endpoint.url, &id, ts, &sigs, body).await
        }
        Ok(None) if delivery.position.is_none() => not_sent("a ping is not sent again; send a new one".into()),
        Ok(None) => not_sent("the endpoint's owner no longer sees this event".into()),
        Err(e) => not_sent(e),
    };
    let attempt = attempt_row(&delivery, &answer, at);
    let outcome_label = attempt.outcome.clone();
    metrics::counter!("webhook_deliveries_total", "outcome" => outcome_label).increment(1);
    metrics::histogram!("webhook_attempt_duration_seconds").record(answer.latency.as_secs_f64());
    let now = chrono::Utc::now();
    // the retries are counted from the first attempt
    let retry_from = if delivery.attempts == 0 {
        at
    } else {
        delivery.created_at
    };
    let (state, next, give_up) = if answer.delivered() {
        (DeliveryState::Delivered, at, None)
    } else if hopeless {
        (DeliveryState::Failed, at, None)
    } else {
        match d
            .schedule
            .next((delivery.attempts + 1) as u32, retry_from.0, now, jitter())
        {
            Some(t) => (DeliveryState::Pending, SqlTime(t), None),
            None => {
                let last: String = answer.error.clone().unwrap_or_default().chars().take(800).collect();
                let why = format!(
                    "Deliveries failed for {}; the last attempt: {last}.",
                    span(d.schedule.give_up_after)
                );
                // it stays pending: enabling the endpoint again sends it first
                (DeliveryState::Pending, at, Some((endpoint.clone(), why)))
            }
        }
    };
    Done {
        outcome: Outcome {
            attempt,
            state,
            next_attempt_at: next,
            lease: delivery.lease_until,
            retry_from,
        },
        give_up,
    }
}

/// A duration in words: "3 days", "10 hours", "3 seconds".
fn span(d: chrono::Duration) -> String {
    let (n, unit) = if d.num_days() >= 1 {
        (d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        (d.num_hours(), "hour")
    } else if d.num_minutes() >= 1 {
        (d.num_minutes(), "minute")
    } else {
        (d.num_seconds(), "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Writes the outcomes of a batch; disables the endpoints whose deliveries were given up.
async fn record(db: &Db, done: Vec<Done>) -> Result<(), ApiError> {
    db.write(move |c| {
        c.transaction(|c| {
            let outcomes: Vec<Outcome> = done.iter().map(|d| d.outcome.clone()).collect();
            q::record(c, &outcomes)?;
            for (ep, why) in done.iter().filter_map(|d| d.give_up.as_ref()) {
                disable(c, ep, why)?;
            }
            Ok::<_, ApiError>(())
        })
    })
    .await
}

/// Disables an endpoint (once), with an event and a mail to its owner saying why.
fn disable(c: &mut DbConnection, ep: &EndpointRow, why: &str) -> Result<(), ApiError> {
    if !q::disable(c, ep.id, why)? {
        return Ok(());
    }
    crate::db::events::insert_about_endpoint(
        c,
        event::ENDPOINT_EVENTS[0],
        ep.id,
        ep.organisation_id,
        ep.department_id,
        serde_json::json!({"url": ep.url, "reason": why}),
    )?;
    crate::audit::Actor::system().audit(
        c,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        ep.id.0.to_string(),
        serde_json::json!({"reason": why}),
    )?;
    let subject = "guichet: Webhook-Endpunkt deaktiviert / webhook endpoint disabled";
    let body = format!(
        "Die Zustellung an den Webhook-Endpunkt {url} ist seit mehreren Tagen fehlgeschlagen; \
         guichet hat ihn deaktiviert. Die Ereignisse bleiben erhalten: Sobald der Endpunkt wieder \
         aktiviert ist (PATCH /v1/webhook-endpoints/{id} mit {{\"enabled\": true}}), werden sie zugestellt.\n\
         Grund: {why}\n\n\
         Deliveries to the webhook endpoint {url} have failed for several days; guichet disabled it. \
         The events are kept: once the endpoint is enabled again (PATCH /v1/webhook-endpoints/{id} \
         with {{\"enabled\": true}}), they are delivered.\nReason: {why}\n",
        url = ep.url,
        id = ep.id.0,
    );
    for to in q::owner_recipients(c, ep.owner())? {
        crate::mail::enqueue(c, &to, subject, &body)?;
    }
    tracing::warn!(endpoint = %ep.id.0, url = %ep.url, reason = %why, "webhook endpoint disabled");
    Ok(())
}

/// Starts the dispatcher on this instance; it runs for the life of the process.
pub fn spawn(d: Dispatcher) {
    // wakes the sender when there may be something to claim: a slot or an endpoint's share
    // came free, attempts were recorded (an application's next event is due), events were
    // queued
    let wake = Arc::new(tokio::sync::Notify::new());
    // set while the sender finds fewer due deliveries than it could send: while the API is
    // saturated, fan-out queues more only then (and no more than the busy rate)
    let starved = Arc::new(AtomicBool::new(true));
    // fan-out
    let fan = d.clone();
    let fan_wake = wake.clone();
    let fan_starved = starved.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // the last position up to which a pass left no endpoint behind, and when: while no
        // event is numbered after it, the next pass (a write transaction) waits a second, for
        // an endpoint enabled meanwhile with events behind it
        let mut caught_up: Option<(i64, tokio::time::Instant)> = None;
        loop {
            tick.tick().await;
            let (steps, batch) = if fan.yielding() {
                if !fan_starved.load(Ordering::Relaxed) {
                    continue;
                }
                (1, (fan.busy_pace().0 as i64).min(FAN_OUT_BATCH))
            } else {
                (100, FAN_OUT_BATCH)
            };
            let last = match fan.db.run(|c| Ok(crate::db::events::last_position(c)?)).await {
                Ok(l) => l,
                Err(_) => continue,
            };
            if caught_up.is_some_and(|(at, when)| at == last && when.elapsed() < FAN_OUT_IDLE) {
                continue;
            }
            caught_up = None;
            for _ in 0..steps {
                match fan_out(&fan.db, last, batch).await {
                    Ok(true) => {
                        fan_wake.notify_one();
                        continue;
                    }
                    Ok(false) => {
                        fan_wake.notify_one();
                        caught_up = Some((last, tokio::time::Instant::now()));
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "queueing webhook deliveries failed");
                        break;
                    }
                }
            }
        }
    });

    // recording, in batches
    // bounded: while records cannot be written, sending slows down instead of piling up
    let (tx, mut rx) = mpsc::channel::<Done>(4 * IN_FLIGHT);
    let rec = d.clone();
    let rec_wake = wake.clone();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + Duration::from_millis(20);
            while batch.len() < 500 {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(d)) => batch.push(d),
                    _ => break,
                }
            }
            // kept until written: a database that is away delays the record (the leases keep
            // the deliveries from being sent again meanwhile, for 30 s). A batch that cannot
            // be written in about two minutes is dropped: its leases run out and the
            // deliveries are sent again (at least once), rather than holding up every record
            // after it.
            let mut wait = Duration::from_millis(100);
            for tries in 1.. {
                match record(&rec.db, batch.clone()).await {
                    Ok(()) => {
                        rec_wake.notify_one();
                        break;
                    }
                    Err(e) if tries >= 30 => {
                        tracing::error!(error = %e, attempts = batch.len(), "webhook attempts not recorded; they will be sent again");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "recording webhook attempts failed; retrying");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    });

    // sending
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let per_endpoint: Arc<Mutex<HashMap<SqlUuid, usize>>> = Arc::default();
    tokio::spawn(async move {
        let mut idle = Duration::from_millis(50);
        loop {
            let free = slots.available_permits();
            if free == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            let in_flight: HashMap<SqlUuid, usize> = per_endpoint.lock().map(|m| m.clone()).unwrap_or_default();
            let yielding = d.yielding();
            let (busy_batch, busy_turn) = d.busy_pace();
            let limit = if yielding { free.min(busy_batch) } else { free.min(200) };
            let ready = match claim(&d, limit, in_flight).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            starved.store(ready.len() < limit, Ordering::Relaxed);
            if ready.is_empty() {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(idle) => idle = (idle * 2).min(Duration::from_millis(200)),
                }
                continue;
            }
            idle = Duration::from_millis(20);
            for r in ready {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let ep = r.claimed.endpoint.id;
                if let Ok(mut m) = per_endpoint.lock() {
                    *m.entry(ep).or_insert(0) += 1;
                }
                let (d, tx, per_endpoint, wake) = (d.clone(), tx.clone(), per_endpoint.clone(), wake.clone());
                tokio::spawn(async move {
                    let done = deliver(&d, r).await;
                    let _ = tx.send(done).await;
                    if let Ok(mut m) = per_endpoint.lock() {
                        if let Some(n) = m.get_mut(&ep) {
                            *n -= 1;
                            if *n == 0 {
                                m.remove(&ep);
                            }
                        }
                    }
                    drop(permit);
                    wake.notify_one();
                });
            }
            if yielding {
                tokio::time::sleep(busy_turn).await;
            }
        }
    });
}

/// Keeps the outbox's depth and age in `/metrics` (every 5 s).
pub fn spawn_gauges(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Ok((depth, age)) = db.run(|c| Ok(q::backlog(c)?)).await {
                metrics::gauge!("webhook_outbox_depth").set(depth as f64);
                metrics::gauge!("webhook_outbox_oldest_seconds").set(age);
            }
        }
    });
}
