//! The event feed (`GET /v1/events`): the events of the applications the caller may see, in
//! position order, each with the application as the caller sees it now; with `wait`, a long
//! poll that answers as soon as something new is visible and holds no database connection
//! while it waits.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::watch;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::applications::{access, views, Reads};
use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::applications::ApplicationRow;
use crate::db::events::{self as events, EventRow};
use crate::db::Db;
use crate::domain::application::Mover;
use crate::domain::event::{self, MAX_WAIT_SECS};
use crate::domain::lang::Lang;
use crate::error::ApiError;
use crate::http::page::PageBody;
use crate::http::pagination;
use crate::msg;

/// The highest event position this instance knows of; every instance polls it (see
/// [`super::spawn_housekeeping`]), and long polls wait for it to pass their cursor.
#[derive(Clone)]
pub struct EventSignal(watch::Sender<i64>);

impl EventSignal {
    pub fn new() -> EventSignal {
        EventSignal(watch::channel(0).0)
    }

    pub fn publish(&self, last: i64) {
        self.0.send_if_modified(|known| {
            let newer = last > *known;
            if newer {
                *known = last;
            }
            newer
        });
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.0.subscribe()
    }
}

impl Default for EventSignal {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Where to continue: the `next_cursor` of the previous answer; from the oldest event kept
    /// when absent.
    #[param(max_length = 1024)]
    after: Option<String>,
    /// Only these types, comma-separated (`application.submitted,application.status_changed`).
    #[param(max_length = 1000, example = "application.submitted,application.status_changed")]
    types: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Long poll: when nothing new is visible, wait up to this many seconds for it (0-30).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 30)]
    wait: Option<String>,
    #[param(value_type = Option<crate::domain::lang::LangParam>)]
    pub lang: Option<String>,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    /// `application` or `webhook_endpoint`.
    #[serde(rename = "type")]
    #[schema(example = "application", max_length = 32)]
    #[serde(serialize_with = "crate::json::str")]
    pub type_: &'static str,
    #[schema(max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub id: String,
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::str")]
    pub href: String,
}

/// The application an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationRef {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    /// Set once it is submitted.
    #[schema(example = "THU-2026-7Q4KM2XD-J", max_length = 20)]
    #[serde(serialize_with = "crate::json::opt_str")]
    pub reference: Option<String>,
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::str")]
    pub href: String,
}

/// The webhook endpoint an event is about (`webhook_endpoint.disabled`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointNotice {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[schema(max_length = 2048)]
    #[serde(serialize_with = "crate::json::str")]
    pub url: String,
    /// Why guichet disabled it.
    #[schema(max_length = 1000)]
    #[serde(serialize_with = "crate::json::str")]
    pub reason: String,
}

/// One event of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    #[serde(serialize_with = "crate::json::uuid")]
    pub id: Uuid,
    #[serde(rename = "type")]
    #[schema(example = "application.submitted", max_length = 64)]
    #[serde(serialize_with = "crate::json::str")]
    pub type_: String,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub occurred_at: DateTime<Utc>,
    /// Increases along the feed; the feed is in this order.
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub position: i64,
    pub subject: Subject,
    /// For application events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationRef>,
    /// The application as this caller sees it now (not as it was then).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<views::Application>)]
    pub data: Option<ViewJson>,
    /// For webhook endpoint events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointNotice>,
}

/// An application's view as JSON, rendered once and shared by every event about it.
#[derive(Debug, Clone)]
pub struct ViewJson(Arc<RawValue>);

impl Serialize for ViewJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A page of the feed. The feed has no last page: `next_cursor` is always where to continue,
/// and an empty `data` means nothing new yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    #[schema(max_items = 100)]
    pub data: Vec<Event>,
    #[schema(max_length = 1024)]
    #[serde(serialize_with = "crate::json::str")]
    pub next_cursor: String,
}

/// A page of the feed as it is answered: its JSON (an [`EventPage`]) and where to continue.
pub struct PageJson {
    pub json: Vec<u8>,
    pub next_cursor: String,
}

const SCOPE: &str = "events";
/// Pages of events read in one request while none of them is visible to the caller.
const MAX_SCANS: usize = 10;

struct Query {
    after: i64,
    types: Vec<String>,
    limit: usize,
    wait: Duration,
}

fn query(p: &FeedParams) -> Result<Query, ApiError> {
    let after = pagination::decode::<i64>(SCOPE, p.after.as_deref())?.unwrap_or(0);
    let mut types = Vec::new();
    if let Some(list) = &p.types {
        for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if !event::is_type(t) {
                return Err(ApiError::invalid_parameter(
                    "types",
                    msg!("event types are {types}", types = event::ALL_TYPES.join(", ")),
                ));
            }
            types.push(t.to_string());
        }
    }
    let wait = match p.wait.as_deref() {
        None => 0,
        Some(w) => w.parse::<u64>().ok().filter(|w| *w <= MAX_WAIT_SECS).ok_or_else(|| {
            ApiError::invalid_parameter(
                "wait",
                msg!("a whole number of seconds from 0 to {max}", max = MAX_WAIT_SECS),
            )
        })?,
    };
    Ok(Query {
        after,
        types,
        limit: pagination::limit(p.limit.as_deref())?,
        wait: Duration::from_secs(wait),
    })
}

/// One page of the feed for `caller`; with `wait`, waits for a visible event first.
pub async fn page(
    reads: &Reads,
    signal: &EventSignal,
    snap: &Snapshot,
    caller: &Caller,
    p: &FeedParams,
    lang: Lang,
) -> Result<PageJson, ApiError> {
    let reader = access::reader(caller)?;
    let q = query(p)?;
    let deadline = tokio::time::Instant::now() + q.wait;
    let staff = access::is_staff_view(caller);
    let mut after = q.after;
    let mut changes = signal.subscribe();
    let mut scans = 0;
    loop {
        // marked as seen before reading, so that an event numbered while we read wakes us
        changes.borrow_and_update();
        // on the worker's own asynchronous connection where there is one, as a list page
        let (rows, apps) = reads.feed(reader, after, q.types.clone(), q.limit as i64).await?;
        let scanned = rows.len();
        if let Some(last) = rows.last().and_then(|r| r.position) {
            after = after.max(last);
        }
        let next_cursor = pagination::encode(SCOPE, &after);
        // on the worker, where the rows were read: handed to the blocking pool and back (as
        // until 2026-12-09) the page cost a tenth more CPU (two thread hops, and every row and
        // string freed on a thread other than the one that made it) and its p99 at 70 % of the
        // peak was higher, for some 0.3 ms of work (bench/README, "Webhooks")
        let (items, json) = render(snap, caller, staff, lang, &rows, &apps, &next_cursor)?;
        scans += 1;
        let more = scanned == q.limit;
        if items > 0 || (more && scans >= MAX_SCANS) {
            return Ok(PageJson { json, next_cursor });
        }
        if more {
            continue;
        }
        // nothing visible yet: wait for the next numbered event, or give up at the deadline
        let woke = tokio::time::timeout_at(deadline, changes.changed()).await;
        if !matches!(woke, Ok(Ok(()))) {
            return Ok(PageJson { json, next_cursor });
        }
    }
}

/// Room for one event with its application's view in a page's JSON (some 2.4 KB with a small
/// form): the page is written into one buffer sized for it at once rather than grown by
/// doubling.
const ITEM_BYTES: usize = 3 * 1024;

/// The page of the events the caller may see, each with its application as the caller sees it
/// now, written as the answer's JSON ([`EventPage`]); with the number of events in it.
fn render(
    snap: &Snapshot,
    caller: &Caller,
    staff: bool,
    lang: Lang,
    rows: &[EventRow],
    apps: &[ApplicationRow],
    next_cursor: &str,
) -> Result<(usize, Vec<u8>), ApiError> {
    let mut page = PageBody::with_capacity(rows.len() * ITEM_BYTES + next_cursor.len() + 64);
    // an endpoint's events go to those who manage endpoints (its owner's systems, clerks,
    // administrators), not to every member of an organisation (owners are told by mail)
    let endpoint_events = caller.kind != crate::auth::policy::CallerKind::Resident;
    let mut seen = Seen::new(snap, apps, |app| access::mover(caller, app), staff, lang);
    for r in rows {
        if let Some(ev) = item(&mut seen, r, endpoint_events)? {
            page.push(&ev).map_err(|e| ApiError::internal(e.to_string()))?;
        }
    }
    Ok((page.items(), page.finish(Some(next_cursor))))
}

/// The applications a reader sees now, each rendered (view and JSON) once however many events
/// of a page or a batch are about it.
pub struct Seen<'a, M> {
    snap: &'a Snapshot,
    rows: HashMap<Uuid, &'a ApplicationRow>,
    rendered: HashMap<Uuid, ViewJson>,
    /// What the reader may do with an application (what its view shows).
    mover: M,
    staff: bool,
    lang: Lang,
}

impl<'a, M: Fn(&ApplicationRow) -> Option<Mover>> Seen<'a, M> {
    pub fn new(snap: &'a Snapshot, apps: &'a [ApplicationRow], mover: M, staff: bool, lang: Lang) -> Self {
        Seen {
            snap,
            rows: apps.iter().map(|a| (a.id.0, a)).collect(),
            rendered: HashMap::new(),
            mover,
            staff,
            lang,
        }
    }

    /// The application and its view, or `None` when the reader does not see it.
    fn view(&mut self, id: Uuid) -> Result<Option<(&'a ApplicationRow, ViewJson)>, ApiError> {
        let Some(&row) = self.rows.get(&id) else {
            return Ok(None);
        };
        if let Some(json) = self.rendered.get(&id) {
            return Ok(Some((row, json.clone())));
        }
        let view = views::application(self.snap, row, (self.mover)(row), self.staff, self.lang)?;
        let json = serde_json::value::to_raw_value(&view).map_err(|e| ApiError::internal(e.to_string()))?;
        let json = ViewJson(Arc::from(json));
        self.rendered.insert(id, json.clone());
        Ok(Some((row, json)))
    }
}

/// One event as a reader sees it, or `None` when the reader may not see it: a staff-only
/// event for a reader who is not staff, an application event whose application the reader
/// does not see now, an endpoint's event unless `endpoint_events`.
pub fn item<M: Fn(&ApplicationRow) -> Option<Mover>>(
    seen: &mut Seen<'_, M>,
    r: &EventRow,
    endpoint_events: bool,
) -> Result<Option<Event>, ApiError> {
    let Some(position) = r.position else { return Ok(None) };
    if event::staff_only(&r.type_) && !seen.staff {
        return Ok(None);
    }
    if r.subject_type == "webhook_endpoint" {
        if !endpoint_events {
            return Ok(None);
        }
        let id = Uuid::parse_str(&r.subject_id).unwrap_or_default();
        let field = |k: &str| {
            let v = r.data.as_ref().and_then(|d| d.0.get(k)).and_then(|v| v.as_str());
            v.unwrap_or_default().to_string()
        };
        return Ok(Some(Event {
            id: r.id.0,
            type_: r.type_.clone(),
            occurred_at: r.occurred_at.0,
            position,
            subject: Subject {
                type_: "webhook_endpoint",
                id: r.subject_id.clone(),
                href: format!("{}/v1/webhook-endpoints/{id}", seen.snap.public_url()),
            },
            application: None,
            data: None,
            endpoint: Some(EndpointNotice {
                id,
                url: field("url"),
                reason: field("reason"),
            }),
        }));
    }
    let Ok(id) = Uuid::parse_str(&r.subject_id) else {
        return Ok(None);
    };
    let Some((app, data)) = seen.view(id)? else {
        return Ok(None);
    };
    let href = views::application_url(seen.snap, app.id.0);
    Ok(Some(Event {
        id: r.id.0,
        type_: r.type_.clone(),
        occurred_at: r.occurred_at.0,
        position,
        subject: Subject {
            type_: "application",
            id: r.subject_id.clone(),
            href: href.clone(),
        },
        application: Some(ApplicationRef {
            id: app.id.0,
            reference: app.reference.clone(),
            href,
        }),
        data: Some(data),
        endpoint: None,
    }))
}

/// Keeps `signal` at the highest numbered event, and purges events older than the retention,
/// on this instance; runs for the life of the process.
pub fn spawn_watchers(db: Db, signal: EventSignal, retention_days: i64) {
    let watch_db = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match watch_db.run(|c| Ok(events::last_position(c)?)).await {
                Ok(last) => signal.publish(last),
                Err(e) => tracing::debug!(error = %e, "reading the last event position failed"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let before = crate::db::types::SqlTime(Utc::now() - chrono::Duration::days(retention_days));
            let purged = db.write(move |c| Ok(events::purge(c, before, 10_000)?)).await;
            match purged {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "events past their retention purged"),
                Err(e) => tracing::warn!(error = %e, "purging old events failed"),
            }
        }
    });
}
