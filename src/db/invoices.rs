//! Bills of applications (Swiss QR-bills): their records. Every query names the application
//! or the reference, so a bill is reached through an application the caller was allowed to
//! load, or by the bank's reference when a payment is matched.
use diesel::prelude::*;

use super::schema::invoices as i;
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = i)]
pub struct InvoiceRow {
    pub id: SqlUuid,
    pub application_id: SqlUuid,
    pub number: i32,
    pub department_id: SqlUuid,
    /// `due`, `partially_paid`, `paid`, `waived`, `refunded` (`domain::billing::InvoiceStatus`).
    pub status: String,
    /// Rappen.
    pub amount: i64,
    pub paid_amount: i64,
    pub currency: String,
    /// `QRR` or `SCOR`.
    pub reference_type: String,
    pub reference: String,
    pub iban: String,
    /// `domain::qrbill::Address`.
    pub creditor: SqlJson,
    pub debtor: Option<SqlJson>,
    pub message: Option<String>,
    pub issued_at: SqlTime,
    /// The due day (its midnight UTC).
    pub due_on: SqlTime,
    pub paid_at: Option<SqlTime>,
    pub reason: Option<String>,
    pub revision: i64,
    pub updated_at: SqlTime,
}

pub fn insert(conn: &mut DbConnection, row: &InvoiceRow) -> QueryResult<()> {
    diesel::insert_into(i::table).values(row).execute(conn).map(|_| ())
}

/// The latest bill of an application.
pub fn of_application(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<Option<InvoiceRow>> {
    i::table
        .filter(i::application_id.eq(app))
        .order(i::number.desc())
        .select(InvoiceRow::as_select())
        .first(conn)
        .optional()
}

/// How many bills an application has (the next one's number is one more).
pub fn count(conn: &mut DbConnection, app: SqlUuid) -> QueryResult<i64> {
    i::table.filter(i::application_id.eq(app)).count().get_result(conn)
}

/// Writes a changed bill if its revision is still `expected`; false when another change came
/// first.
pub fn update(conn: &mut DbConnection, row: &InvoiceRow, expected: i64) -> QueryResult<bool> {
    let n = diesel::update(i::table.filter(i::id.eq(row.id)).filter(i::revision.eq(expected)))
        .set((
            i::status.eq(&row.status),
            i::amount.eq(row.amount),
            i::paid_amount.eq(row.paid_amount),
            i::paid_at.eq(row.paid_at),
            i::reason.eq(&row.reason),
            i::revision.eq(row.revision),
            i::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
