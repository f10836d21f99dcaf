//! The records of changes (history entries, audit entries, events), a bill they record, and
//! the mails that tell the applicant, in one round trip.
//!
//! On PostgreSQL the three inserts go as one statement, with PostgreSQL's data-modifying
//! `WITH` (`WITH s0 AS (INSERT ...), s1 AS (INSERT ...) INSERT ...`): each round trip of the
//! write path costs guichet a TLS write and read, a `poll` and a task switch (bench/README,
//! "Where the time goes"). The parts run on one snapshot in no defined order, which is right
//! for rows of five tables that do not refer to each other. SQLite, in process, inserts them
//! one by one.
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

use super::applications::{add_history, HistoryRow};
use super::audit::{self, AuditEntry};
use super::events::{self, NewEvent};
use super::invoices::{self, InvoiceRow};
use super::mail::{self, QueuedMail};
use super::prepared::Prepared;
use super::schema::{self, application_history, audit_events};
use super::types::SqlTime;
use super::DbConnection;

/// What one write of records holds besides the records themselves.
#[derive(Default)]
pub struct With<'a> {
    /// The bill whose issue the records record.
    pub bill: Option<&'a InvoiceRow>,
    /// The mails that tell of the changes (to the outbox).
    pub mails: &'a [QueuedMail],
}

/// Inserts the records in the caller's transaction (events in the order given), and the bill
/// and mails of `with`, if any, with them.
pub fn insert(
    conn: &mut DbConnection,
    with: With<'_>,
    history: &[HistoryRow],
    audits: &[AuditEntry],
    evs: &[NewEvent],
) -> QueryResult<()> {
    let DbConnection::Pg(pg) = conn else {
        if let Some(b) = with.bill {
            invoices::insert(conn, b)?;
        }
        add_history(conn, history)?;
        audit::record_all(conn, audits)?;
        events::insert_all(conn, evs)?;
        return mail::enqueue_all(conn, with.mails);
    };
    let event_rows = events::pg_rows(evs, SqlTime::now());
    let mut parts: Vec<Box<dyn QueryFragment<Pg> + '_>> = Vec::with_capacity(5);
    if let Some(b) = with.bill {
        parts.push(Box::new(diesel::insert_into(schema::invoices::table).values(b)));
    }
    if !with.mails.is_empty() {
        parts.push(Box::new(
            diesel::insert_into(schema::mail_outbox::table).values(with.mails),
        ));
    }
    if !history.is_empty() {
        parts.push(Box::new(
            diesel::insert_into(application_history::table).values(history),
        ));
    }
    if !audits.is_empty() {
        parts.push(Box::new(diesel::insert_into(audit_events::table).values(audits)));
    }
    if !event_rows.is_empty() {
        parts.push(Box::new(diesel::insert_into(schema::events::table).values(&event_rows)));
    }
    if parts.is_empty() {
        return Ok(());
    }
    // its text depends on how many rows each part has: prepared (see `db::prepared`) when those
    // are few, as a request's are, and not for a bank file's thousand credits
    let few = [history.len(), audits.len(), event_rows.len(), with.mails.len()]
        .iter()
        .all(|n| *n <= PREPARED_ROWS);
    if few {
        Prepared::execute(pg, &Together(parts))?;
    } else {
        Together(parts).execute(pg)?;
    }
    Ok(())
}

/// The most rows of one table in a records statement that is prepared: a request's changes
/// have one to three, and their mails one or a few.
const PREPARED_ROWS: usize = 4;

/// Statements sent as one: all but the last as named `WITH` parts, the last as the main one.
struct Together<'a>(Vec<Box<dyn QueryFragment<Pg> + 'a>>);

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some((last, first)) = self.0.split_last() else {
            return Ok(());
        };
        for (i, part) in first.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("s{i} AS ("));
            part.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !first.is_empty() {
            out.push_sql(" ");
        }
        last.walk_ast(out.reborrow())
    }
}

impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<PgConnection> for Together<'_> {}
