//! Bills of applications (Swiss QR-bills): their records. Every query names the application
//! or the reference, so a bill is reached through an application the caller was allowed to
//! load, or by the bank's reference when a payment is matched.
use diesel::prelude::*;

use super::schema::invoices as i;
use super::types::{SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = i)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
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

/// A bill as finance lists it: with its application's reference and service.
#[derive(Debug, Clone, Queryable)]
pub struct ListedInvoice {
    pub invoice: InvoiceRow,
    pub application_reference: Option<String>,
    pub service_id: SqlUuid,
}

fn listed(rows: Vec<(InvoiceRow, Option<String>, SqlUuid)>) -> Vec<ListedInvoice> {
    rows.into_iter()
        .map(|(invoice, application_reference, service_id)| ListedInvoice {
            invoice,
            application_reference,
            service_id,
        })
        .collect()
}

/// Which bills finance asks for.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    /// Any of these statuses.
    pub statuses: Vec<String>,
    pub department: Option<SqlUuid>,
    /// Due before this day (the overdue ones).
    pub due_before: Option<SqlTime>,
}

/// Bills by due day (then id), after `(due_on, id)`.
pub fn list(
    conn: &mut DbConnection,
    f: &InvoiceFilter,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<ListedInvoice>> {
    use super::schema::applications as a;
    let mut q = i::table
        .inner_join(a::table)
        .select((InvoiceRow::as_select(), a::reference, a::service_id))
        .filter(i::status.eq_any(&f.statuses))
        .into_boxed();
    if let Some(d) = f.department {
        q = q.filter(i::department_id.eq(d));
    }
    if let Some(day) = f.due_before {
        q = q.filter(i::due_on.lt(day));
    }
    if let Some((t, id)) = after {
        q = q.filter(i::due_on.gt(t).or(i::due_on.eq(t).and(i::id.gt(id))));
    }
    q.order((i::due_on.asc(), i::id.asc()))
        .limit(limit)
        .load::<(InvoiceRow, Option<String>, SqlUuid)>(conn)
        .map(listed)
}

/// Bills issued in `[from, to)`, optionally of one department, by issue time (then id): at
/// most `limit`.
pub fn issued(
    conn: &mut DbConnection,
    from: SqlTime,
    to: SqlTime,
    department: Option<SqlUuid>,
    limit: i64,
) -> QueryResult<Vec<ListedInvoice>> {
    use super::schema::applications as a;
    let mut q = i::table
        .inner_join(a::table)
        .select((InvoiceRow::as_select(), a::reference, a::service_id))
        .filter(i::issued_at.ge(from))
        .filter(i::issued_at.lt(to))
        .into_boxed();
    if let Some(d) = department {
        q = q.filter(i::department_id.eq(d));
    }
    q.order((i::issued_at.asc(), i::id.asc()))
        .limit(limit)
        .load::<(InvoiceRow, Option<String>, SqlUuid)>(conn)
        .map(listed)
}

/// Totals of the bills issued in `[from, to)` of these departments, per service, status and
/// currency: (service, status, currency, count, amount, paid amount), summed by the database.
pub type Totals = (SqlUuid, String, String, i64, i64, i64);

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    super::schema::applications::service_id,
    i::status,
    i::currency,
);

pub fn totals(
    conn: &mut DbConnection,
    from: SqlTime,
    to: SqlTime,
    departments: &[SqlUuid],
) -> QueryResult<Vec<Totals>> {
    use super::schema::applications as a;
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    i::table
        .inner_join(a::table)
        .filter(i::issued_at.ge(from))
        .filter(i::issued_at.lt(to))
        .filter(i::department_id.eq_any(departments))
        .group_by((a::service_id, i::status, i::currency))
        .select((
            a::service_id,
            i::status,
            i::currency,
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(invoices.amount) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(invoices.paid_amount) AS BIGINT)"),
        ))
        .load(conn)
}

/// A bill by id, locked for the rest of the transaction on PostgreSQL.
pub fn by_id_for_update(conn: &mut DbConnection, id: SqlUuid) -> QueryResult<Option<InvoiceRow>> {
    let q = i::table.filter(i::id.eq(id));
    match conn {
        DbConnection::Pg(pg) => q.select(InvoiceRow::as_select()).for_update().first(pg).optional(),
        DbConnection::Sqlite(sq) => q.select(InvoiceRow::as_select()).first(sq).optional(),
    }
}

/// Writes the paid amounts of bills a payment import changed (rows locked by this
/// transaction): on PostgreSQL 500 per statement, an upsert on their ids.
pub fn save_payments(conn: &mut DbConnection, rows: &[InvoiceRow]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    match conn {
        DbConnection::Pg(pg) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(i::table)
                    .values(chunk)
                    .on_conflict(i::id)
                    .do_update()
                    .set((
                        i::status.eq(excluded(i::status)),
                        i::paid_amount.eq(excluded(i::paid_amount)),
                        i::paid_at.eq(excluded(i::paid_at)),
                        i::revision.eq(excluded(i::revision)),
                        i::updated_at.eq(excluded(i::updated_at)),
                    ))
                    .execute(pg)?;
            }
            Ok(())
        }
        DbConnection::Sqlite(_) => {
            for row in rows {
                update(conn, row, row.revision - 1)?;
            }
            Ok(())
        }
    }
}
