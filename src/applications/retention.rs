//! The retention run: closed applications whose period ran out (`domain::retention`) lose
//! their documents and personal data, keeping the reference, service, dates and phases for
//! statistics. Daily on whichever instance takes the job's lease first (one at a time), or by
//! hand with `guichet retention run` (`--dry-run` lists what would go and changes nothing).
//!
//! Per application, the bytes are deleted from the store first and then the records, in one
//! transaction: a run that stops in between (a killed process, a store that fails) leaves an
//! application whose records are intact and whose bytes are partly gone, which the next run
//! finishes; never records pointing at nothing that no run would clean up.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::{jobs, retention as q, Db};
use crate::error::ApiError;
use crate::msg;
use crate::storage::DocumentStore;

/// The job's name in the `jobs` table.
pub const JOB: &str = "retention";
/// Applications read per page.
const PAGE: i64 = 100;
/// How long a lease holds without renewal (it is renewed after every page).
const LEASE: chrono::Duration = chrono::Duration::minutes(30);
/// At most this many references are named in the run's audit entry (the counts are whole).
const AUDIT_REFERENCES_MAX: usize = 1000;
/// Sent mails (recipient, text) are kept this long, for support questions, then deleted.
pub const SENT_MAIL_DAYS: i64 = 30;

/// One application the run anonymised (or, on a dry run, would).
#[derive(Debug, Clone, Serialize)]
pub struct Gone {
    pub reference: Option<String>,
    pub service: String,
    pub phase: String,
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub retain_until: Option<DateTime<Utc>>,
    /// Its documents (deleted, or to be deleted).
    pub documents: usize,
}

/// What a run did (or, on a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// The moment retention was measured against.
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub as_of: DateTime<Utc>,
    pub anonymised: usize,
    pub documents: usize,
    pub messages: usize,
    pub events: usize,
    /// Mails sent more than 30 days before, deleted (not counted on a dry run).
    pub mails: usize,
    pub applications: Vec<Gone>,
}

/// A run that could not start or finish.
#[derive(Debug)]
pub enum RunError {
    /// Another instance holds the job's lease.
    Busy,
    /// The database or the document store failed (why, in English); what was done so far
    /// stays done.
    Failed(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Busy => write!(f, "a retention run is in progress on another instance; try again later"),
            RunError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl From<ApiError> for RunError {
    fn from(e: ApiError) -> Self {
        RunError::Failed(e.explain())
    }
}

/// The lease a run holds, renewed as it goes.
struct Lease {
    owner: String,
}

impl Lease {
    fn until() -> SqlTime {
        SqlTime(Utc::now() + LEASE)
    }

    async fn take(db: &Db, due_only: bool) -> Result<Option<Lease>, ApiError> {
        let owner = uuid::Uuid::now_v7().to_string();
        let mine = owner.clone();
        let taken = db
            .write(move |c| Ok(jobs::claim(c, JOB, &mine, SqlTime::now(), Lease::until(), due_only)?))
            .await?;
        Ok(taken.then_some(Lease { owner }))
    }

    async fn renew(&self, db: &Db) -> Result<(), ApiError> {
        let owner = self.owner.clone();
        let held = db
            .write(move |c| Ok(jobs::renew(c, JOB, &owner, Lease::until())?))
            .await?;
        if held {
            Ok(())
        } else {
            Err(ApiError::unavailable(msg!(
                "The retention run lost its lease to another instance."
            )))
        }
    }

    /// Gives the lease back; after a finished run the job is next due in a day, after a failed
    /// one in an hour.
    async fn release(self, db: &Db, finished: bool) -> Result<(), ApiError> {
        let now = Utc::now();
        let next = now
            + if finished {
                chrono::Duration::days(1)
            } else {
                chrono::Duration::hours(1)
            };
        db.write(move |c| {
            Ok(jobs::release(
                c,
                JOB,
                &self.owner,
                finished.then_some(SqlTime(now)),
                Some(SqlTime(next)),
            )?)
        })
        .await
    }
}

/// Runs retention now, by hand: as of now, or (`dry_run` only) as of a later moment, to see
/// what will go by then. A real run takes the job's lease (`Busy` while another instance
/// runs) and is recorded in the audit log against `actor`.
pub async fn run_now(
    db: &Db,
    store: &DocumentStore,
    dry_run: bool,
    as_of: Option<DateTime<Utc>>,
    actor: &Actor,
) -> Result<Report, RunError> {
    if dry_run {
        return pass(db, store, as_of.unwrap_or_else(Utc::now), true, None)
            .await
            .map_err(|(_, e)| RunError::Failed(e));
    }
    let lease = Lease::take(db, false).await?.ok_or(RunError::Busy)?;
    let outcome = pass(db, store, Utc::now(), false, Some(&lease)).await;
    finish(db, lease, outcome, actor).await
}

/// The scheduled run: if the job is due and nobody holds it, this instance runs it.
pub async fn run_if_due(db: &Db, store: &DocumentStore) -> Result<Option<Report>, RunError> {
    let Some(lease) = Lease::take(db, true).await? else {
        return Ok(None);
    };
    let outcome = pass(db, store, Utc::now(), false, Some(&lease)).await;
    finish(db, lease, outcome, &Actor::system()).await.map(Some)
}

/// Records the run in the audit log (also a failed one, with what it did before failing) and
/// gives the lease back.
async fn finish(
    db: &Db,
    lease: Lease,
    outcome: Result<Report, (Report, String)>,
    actor: &Actor,
) -> Result<Report, RunError> {
    let (report, failure) = match outcome {
        Ok(r) => (r, None),
        Err((r, e)) => (r, Some(e)),
    };
    let mut references: Vec<&str> = report
        .applications
        .iter()
        .filter_map(|g| g.reference.as_deref())
        .collect();
    let more = references.len().saturating_sub(AUDIT_REFERENCES_MAX);
    references.truncate(AUDIT_REFERENCES_MAX);
    let mut entry = actor
        .entry("retention.run", "retention", JOB.to_string())
        .details(json!({
            "as_of": report.as_of.to_rfc3339(),
            "anonymised": report.anonymised,
            "documents": report.documents,
            "messages": report.messages,
            "events": report.events,
            "mails": report.mails,
            "references": references,
            "references_not_listed": more,
            "error": failure,
        }));
    let failed = failure.is_some();
    if failed {
        entry = entry.failed();
    }
    let audited = db.write(move |c| Ok(crate::db::audit::record(c, &entry)?)).await;
    let released = lease.release(db, !failed).await;
    metrics::counter!("retention_anonymised_total").increment(report.anonymised as u64);
    tracing::info!(
        anonymised = report.anonymised,
        documents = report.documents,
        failed,
        "retention run"
    );
    if let Some(e) = failure {
        return Err(RunError::Failed(e));
    }
    audited?;
    released?;
    Ok(report)
}

/// One pass over every application expired by `now`; on failure, what was done until then.
async fn pass(
    db: &Db,
    store: &DocumentStore,
    now: DateTime<Utc>,
    dry_run: bool,
    lease: Option<&Lease>,
) -> Result<Report, (Report, String)> {
    let mut report = Report {
        dry_run,
        as_of: now,
        anonymised: 0,
        documents: 0,
        messages: 0,
        events: 0,
        mails: 0,
        applications: Vec::new(),
    };
    let at = SqlTime(now);
    let mut after: Option<(SqlTime, SqlUuid)> = None;
    loop {
        let page = match db.run(move |c| Ok(q::expired(c, at, after, PAGE)?)).await {
            Ok(p) => p,
            Err(e) => return Err((report, e.explain())),
        };
        let Some(last) = page.last() else { break };
        after = last.retain_until.map(|t| (t, last.id));
        let ids: Vec<SqlUuid> = page.iter().map(|e| e.id).collect();
        let keys = match db.run(move |c| Ok(q::document_keys(c, &ids)?)).await {
            Ok(k) => k,
            Err(e) => return Err((report, e.explain())),
        };
        for app in page {
            let mine: Vec<String> = keys
                .iter()
                .filter(|(id, _)| *id == app.id)
                .map(|(_, k)| k.clone())
                .collect();
            let mut gone = Gone {
                reference: app.reference,
                service: app.service,
                phase: app.phase,
                closed_at: app.closed_at.map(|t| t.0),
                retain_until: app.retain_until.map(|t| t.0),
                documents: mine.len(),
            };
            if !dry_run {
                if let Err(e) = store.erase(&mine).await {
                    return Err((report, e));
                }
                let id = app.id;
                match db.write(move |c| Ok(q::anonymise(c, id, at)?)).await {
                    Ok(Some(removed)) => {
                        gone.documents = removed.documents;
                        report.messages += removed.messages;
                        report.events += removed.events;
                    }
                    Ok(None) => continue, // another run got there first
                    Err(e) => return Err((report, e.explain())),
                }
            }
            report.anonymised += 1;
            report.documents += gone.documents;
            report.applications.push(gone);
        }
        if let Some(l) = lease {
            if let Err(e) = l.renew(db).await {
                return Err((report, e.explain()));
            }
        }
    }
    if !dry_run {
        let before = SqlTime(now - chrono::Duration::days(SENT_MAIL_DAYS));
        loop {
            match db.write(move |c| Ok(q::purge_sent_mail(c, before, 1000)?)).await {
                Ok(0) => break,
                Ok(n) => report.mails += n,
                Err(e) => return Err((report, e.explain())),
            }
        }
    }
    Ok(report)
}

/// Looks every ten minutes (and at start) whether the daily run is due, on this instance;
/// runs for the life of the process.
pub fn spawn(db: Db, store: DocumentStore) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_if_due(&db, &store).await {
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the retention run failed; it is tried again in an hour"),
            }
        }
    });
}
