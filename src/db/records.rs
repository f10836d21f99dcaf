//! The records of changes (history entries, audit entries, events), a bill they record, and
//! the mails that tell the applicant, in one round trip.
//!
//! On PostgreSQL the three inserts go as one statement, with PostgreSQL's data-modifying
//! `WITH` (`WITH s0 AS (INSERT ...), s1 AS (INSERT ...) INSERT ...`): each round trip of the
//! write path costs guichet a TLS write and read, a `poll` and a task switch (bench/README,
//! "Where the time goes"). The parts run on one snapshot in no defined order, which is right
//! for rows of five tables that do not refer to each other. SQLite, in process, inserts them
//! one by one.
//!
//! A new application can go first in the same statement (`With::application`): its foreign
//! keys are checked at the statement's end, when the application is there. Such a statement is
//! a whole create-and-submit, so that it needs no transaction of its own (see
//! [`super::Db::write_one`]).
//!
//! A changed application (`With::update`, a move) is written by the same statement too, as its
//! main part, after the `WITH` parts: the row count PostgreSQL reports for the statement is
//! then the update's, which tells whether the revision was still the one expected. A move is
//! then four round trips (`BEGIN`, the read that locks the row, this statement, `COMMIT`)
//! instead of five.
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::{Connection, PgConnection, QueryResult, RunQueryDsl};

use super::applications::{self as apps, add_history, ApplicationRow, HistoryRow};
use super::audit::{self, AuditEntry};
use super::events::{self, NewEvent};
use super::invoices::{self, InvoiceRow};
use super::mail::{self, QueuedMail};
use super::prepared::Prepared;
use super::schema::{self, application_history, applications, audit_events};
use super::types::SqlTime;
use super::DbConnection;

/// What one write of records holds besides the records themselves.
#[derive(Default)]
pub struct With<'a> {
    /// A new application the records are about, inserted first, unless its reference is
    /// taken: then nothing is written.
    pub application: Option<&'a ApplicationRow>,
    /// The bill whose issue the records record.
    pub bill: Option<&'a InvoiceRow>,
    /// The mails that tell of the changes (to the outbox).
    pub mails: &'a [QueuedMail],
    /// An application changed, written if its revision is still the one given (an update as
    /// [`apps::update`] makes it), as the statement's main part. Only inside the caller's
    /// transaction, and not with `application` (either is an error).
    pub update: Option<(&'a ApplicationRow, i64)>,
}

/// What [`insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Written {
    /// Everything.
    All,
    /// Nothing: the new application's reference (or its bill's, which derives from it) is
    /// taken, for the caller to try another.
    ReferenceTaken,
    /// The changed application's revision is no longer the one expected (another change came
    /// first). The statement's other parts have run (PostgreSQL): the caller must fail its
    /// transaction, as `applications::records::write_with` does with a 412.
    Stale,
}

/// Inserts the records (events in the order given), and the new application, the bill,
/// mails and the changed application of `with`, if any, with them: in the caller's
/// transaction, or, on PostgreSQL from [`super::Db::write_one`], as one statement that is its
/// own transaction. A changed application is written only inside the caller's transaction
/// (an error otherwise), which must fail on [`Written::Stale`].
pub(crate) fn insert(
    conn: &mut DbConnection,
    with: With<'_>,
    history: &[HistoryRow],
    audits: &[AuditEntry],
    evs: &[NewEvent],
) -> QueryResult<Written> {
    let DbConnection::Pg(pg) = conn else {
        if let Some(a) = with.application {
            if !apps::insert_unless_taken(conn, a)? {
                return Ok(Written::ReferenceTaken);
            }
        }
        if let Some((row, expected)) = with.update {
            if !apps::update(conn, row, expected)? {
                return Ok(Written::Stale);
            }
        }
        if let Some(b) = with.bill {
            invoices::insert(conn, b)?;
        }
        add_history(conn, history)?;
        audit::record_all(conn, audits)?;
        events::insert_all(conn, evs)?;
        mail::enqueue_all(conn, with.mails)?;
        return Ok(Written::All);
    };
    let event_rows = events::pg_rows(evs, SqlTime::now());
    let mut parts: Vec<Box<dyn QueryFragment<Pg> + '_>> = Vec::with_capacity(6);
    if let Some(a) = with.application {
        parts.push(Box::new(diesel::insert_into(applications::table).values(a)));
    }
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
    // last, as the main part: the statement's row count is the update's
    if let Some((row, expected)) = with.update {
        parts.push(Box::new(apps::update_query!(row, expected)));
    }
    if parts.is_empty() {
        return Ok(Written::All);
    }
    // its text depends on which parts it has and how many rows each (the rows' structs bind
    // None as NULL): prepared, its text kept for that shape (see `db::prepared`), when the rows
    // are few, as a request's are, and not for a bank file's thousand credits
    let counts = [with.mails.len(), history.len(), audits.len(), event_rows.len()];
    let shape = match counts.map(|n| u8::try_from(n).ok().filter(|n| usize::from(*n) <= PREPARED_ROWS)) {
        [Some(mails), Some(history), Some(audits), Some(events)] => Some((
            "records",
            [
                u8::from(with.application.is_some()),
                u8::from(with.bill.is_some()),
                mails,
                history,
                audits,
                events,
                u8::from(with.update.is_some()),
                0,
            ],
        )),
        _ => None,
    };
    let all = Together(parts);
    let run = |pg: &mut PgConnection| match shape {
        Some(shape) => Prepared::execute_shaped(pg, shape, &all),
        None => (&all).execute(pg),
    };
    if with.application.is_none() && with.update.is_none() {
        run(pg)?;
        return Ok(Written::All);
    }
    let in_transaction = AnsiTransactionManager::transaction_manager_status_mut(pg)
        .transaction_depth()?
        .is_some();
    if with.update.is_some() {
        // A stale revision updates no row, but the statement's other parts have run: only the
        // caller's transaction (a move's), failed on `Stale`, can take them back.
        if !in_transaction || with.application.is_some() {
            return Err(Error::QueryBuilderError(
                "a changed application is written inside a transaction, without a new one".into(),
            ));
        }
        let n = run(pg)?;
        return Ok(if n == 0 { Written::Stale } else { Written::All });
    }
    // A taken reference fails the statement, which then wrote nothing. Outside a transaction
    // that is all; inside one (a request with an Idempotency-Key), a savepoint keeps the
    // failure from aborting it.
    let outcome = if in_transaction { pg.transaction(run) } else { run(pg) };
    match outcome {
        Ok(_) => Ok(Written::All),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if matches!(
                info.constraint_name(),
                Some("applications_reference_key" | "invoices_reference_key")
            ) =>
        {
            Ok(Written::ReferenceTaken)
        }
        Err(e) => Err(e),
    }
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
impl RunQueryDsl<PgConnection> for &Together<'_> {}
