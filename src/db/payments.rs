//! Payments the bank reported and the notifications they came in (camt.054). A payment is
//! recorded once: its bank reference is unique, and a second insert of it does nothing, also
//! when two imports of one file run at once (the second waits for the first's commit, then
//! finds the row).
use diesel::prelude::*;

use super::schema::{bank_notifications as n, invoices as i, payments as p};
use super::types::{SqlTime, SqlUuid};
use super::DbConnection;
use crate::db::invoices::InvoiceRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = n)]
pub struct NotificationRow {
    pub id: SqlUuid,
    pub message_id: String,
    pub version: String,
    pub sha256: String,
    pub received_at: SqlTime,
    pub received_by: String,
    pub credits: i32,
    pub recorded: i32,
    pub matched: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = p)]
pub struct PaymentRow {
    pub id: SqlUuid,
    pub bank_reference: String,
    pub notification_id: SqlUuid,
    pub invoice_id: Option<SqlUuid>,
    /// `matched` or `unmatched`.
    pub status: String,
    /// Why it is unmatched: `unknown_reference`, `no_reference`, `currency`, `settled`.
    pub reason: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub booking_date: SqlTime,
    pub reference: Option<String>,
    pub debtor: Option<String>,
    pub account: Option<String>,
    pub recorded_at: SqlTime,
    /// Who assigned it to its bill by hand (`kind:id`); `None` when matched on import.
    pub matched_by: Option<String>,
    pub matched_at: Option<SqlTime>,
}

pub fn insert_notification(conn: &mut DbConnection, row: &NotificationRow) -> QueryResult<()> {
    diesel::insert_into(n::table).values(row).execute(conn).map(|_| ())
}

/// Sets a notification's counts once its credits are recorded.
pub fn count_notification(conn: &mut DbConnection, id: SqlUuid, recorded: i32, matched: i32) -> QueryResult<()> {
    diesel::update(n::table.filter(n::id.eq(id)))
        .set((n::recorded.eq(recorded), n::matched.eq(matched)))
        .execute(conn)
        .map(|_| ())
}

/// Records a payment unless one with its bank reference is recorded already; true when this
/// one was.
pub fn insert_once(conn: &mut DbConnection, row: &PaymentRow) -> QueryResult<bool> {
    let insert = diesel::insert_into(p::table)
        .values(row)
        .on_conflict(p::bank_reference)
        .do_nothing();
    let n = match conn {
        DbConnection::Pg(pg) => insert.execute(pg)?,
        DbConnection::Sqlite(sq) => insert.execute(sq)?,
    };
    Ok(n == 1)
}

/// A payment by id, locked for the rest of the transaction on PostgreSQL.
pub fn payment_for_update(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<Option<PaymentRow>> {
    let q = p::table.filter(p::id.eq(id));
    match conn {
        DbConnection::Pg(pg) => q.select(PaymentRow::as_select()).for_update().first(pg).optional(),
        DbConnection::Sqlite(sq) => q.select(PaymentRow::as_select()).first(sq).optional(),
    }
}

/// Matches an unmatched payment to a bill by hand; false when it is no longer unmatched.
pub fn assign(conn: &mut DbConnection, row: &PaymentRow) -> QueryResult<bool> {
    let n = diesel::update(p::table.filter(p::id.eq(row.id)).filter(p::status.eq("unmatched")))
        .set((
            p::status.eq("matched"),
            p::reason.eq(None::<String>),
            p::invoice_id.eq(row.invoice_id),
            p::matched_by.eq(&row.matched_by),
            p::matched_at.eq(row.matched_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The bills with these references, locked for the rest of the transaction on PostgreSQL
/// (in the order of their ids, so that two imports wait for each other rather than
/// deadlock), a thousand per statement.
pub fn invoices_for_update(conn: &mut DbConnection, references: &[String]) -> QueryResult<Vec<InvoiceRow>> {
    let mut out = Vec::with_capacity(references.len());
    for chunk in references.chunks(1000) {
        let q = i::table.filter(i::reference.eq_any(chunk)).order(i::id.asc());
        let rows = match conn {
            DbConnection::Pg(pg) => q.select(InvoiceRow::as_select()).for_update().load(pg)?,
            DbConnection::Sqlite(sq) => q.select(InvoiceRow::as_select()).load(sq)?,
        };
        out.extend(rows);
    }
    Ok(out)
}

/// Which of these bank references are recorded already, a thousand per statement.
pub fn recorded(conn: &mut DbConnection, bank_references: &[String]) -> QueryResult<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for chunk in bank_references.chunks(1000) {
        let found: Vec<String> = p::table
            .filter(p::bank_reference.eq_any(chunk))
            .select(p::bank_reference)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Records payments, each unless one with its bank reference is recorded already (on
/// PostgreSQL 500 per statement); answers how many were recorded.
pub fn insert_new(conn: &mut DbConnection, rows: &[PaymentRow]) -> QueryResult<usize> {
    match conn {
        DbConnection::Pg(pg) => {
            let mut n = 0;
            for chunk in rows.chunks(500) {
                n += diesel::insert_into(p::table)
                    .values(chunk)
                    .on_conflict(p::bank_reference)
                    .do_nothing()
                    .execute(pg)?;
            }
            Ok(n)
        }
        DbConnection::Sqlite(_) => {
            let mut n = 0;
            for row in rows {
                n += usize::from(insert_once(conn, row)?);
            }
            Ok(n)
        }
    }
}

/// Unmatched payments, oldest first, after `(recorded_at, id)`.
pub fn unmatched(
    conn: &mut DbConnection,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<PaymentRow>> {
    let (t, id) = after.unwrap_or((SqlTime(chrono::DateTime::UNIX_EPOCH), SqlUuid(uuid::Uuid::nil())));
    p::table
        .filter(p::status.eq("unmatched"))
        .filter(p::recorded_at.gt(t).or(p::recorded_at.eq(t).and(p::id.gt(id))))
        .order((p::recorded_at.asc(), p::id.asc()))
        .limit(limit)
        .select(PaymentRow::as_select())
        .load(conn)
}

/// Imports of bank notifications one at a time (PostgreSQL: a transaction-scoped advisory
/// lock; SQLite's write transaction is one already): what one import finds recorded, the
/// other has committed. Files arrive a few times a day; waiting costs nothing.
pub fn serialise_imports(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Pg(pg) = conn {
        // "guichet payments import", as a 64-bit key
        diesel::sql_query("SELECT pg_advisory_xact_lock(7100236914580566355)").execute(pg)?;
    }
    Ok(())
}
