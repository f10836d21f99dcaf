//! Bills for finance: the open and overdue bills (`GET /v1/invoices`), the totals of a period
//! per service (`/v1/invoices/summary`) and the export for the city's accounting
//! (`/v1/invoices/export`, CSV). Who: `payments:read` or `payments:write` (finance staff,
//! administrators, clients given it), decided here; a caller bound to a department (finance
//! staff of one department) sees that department's bills only, decided in the query.
pub mod views;

use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::invoices::{self as store, InvoiceFilter};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::billing::InvoiceStatus;
use crate::error::ApiError;
use crate::http::pagination;
use crate::msg;

/// The cursor scope of the list.
pub const SCOPE: &str = "invoices";
/// The most rows one export answers (a longer period is a 422: split it).
pub const EXPORT_MAX: usize = 100_000;

/// Whose bills an answer covers.
enum Bills {
    /// Every department's (the caller is bound to none and named none).
    All,
    Of(SqlUuid),
    /// None: the caller named a department it is not bound to.
    NotYours,
}

/// The department asked for, within what the caller sees: 403 without the scope, 400 for an
/// unknown department. A caller bound to a department (finance staff of one) sees its bills
/// only.
fn bills(snap: &Snapshot, caller: &Caller, asked: Option<&str>) -> Result<Bills, ApiError> {
    crate::payments::process::may_read(caller)?;
    let own = caller.department.map(SqlUuid);
    let asked = match asked {
        None => return Ok(own.map_or(Bills::All, Bills::Of)),
        Some(key) => SqlUuid(
            snap.department(key)
                .ok_or_else(|| ApiError::invalid_parameter("department", msg!("no such department")))?
                .1
                .id,
        ),
    };
    Ok(match own {
        Some(d) if d != asked => Bills::NotYours,
        _ => Bills::Of(asked),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// One status or several, comma-separated: `due`, `partially_paid`, `paid`, `waived`,
    /// `refunded`. Default: the open ones, `due,partially_paid`.
    #[param(max_length = 100, example = "due,partially_paid")]
    status: Option<String>,
    /// Department slug or id.
    #[param(max_length = 64)]
    department: Option<String>,
    /// Only bills past their due day (and not settled).
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
}

/// A page of bills by due day, earliest first, and the next page's cursor.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    snap: &Snapshot,
    p: &ListParams,
) -> Result<(Vec<views::InvoiceItem>, Option<String>), ApiError> {
    let department = match bills(snap, caller, p.department.as_deref())? {
        Bills::All => None,
        Bills::Of(d) => Some(d),
        Bills::NotYours => return Ok((Vec::new(), None)),
    };
    let after = pagination::decode::<(chrono::DateTime<Utc>, uuid::Uuid)>(SCOPE, p.cursor.as_deref())?;
    let limit = pagination::limit(p.limit.as_deref())?;
    let mut f = InvoiceFilter {
        department,
        ..InvoiceFilter::default()
    };
    let statuses = p.status.as_deref().unwrap_or("due,partially_paid");
    for s in statuses.split(',').map(str::trim) {
        let status = InvoiceStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_parameter(
                "status",
                msg!("statuses are due, partially_paid, paid, waived, refunded"),
            )
        })?;
        f.statuses.push(status.as_str().to_string());
    }
    let overdue = match p.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_parameter("overdue", msg!("true or false"))),
    };
    let today = Utc::now().date_naive();
    if overdue {
        f.statuses
            .retain(|s| InvoiceStatus::parse(s).is_some_and(|s| !s.settled()));
        f.due_before = Some(midnight(today));
    }
    let after = after.map(|(t, id)| (SqlTime(t), SqlUuid(id)));
    let mut rows = store::list(conn, &f, after, limit as i64 + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last())
        .flatten()
        .map(|r| pagination::encode(SCOPE, &(r.invoice.due_on.0, r.invoice.id.0)));
    let items = rows.iter().map(|r| views::item(snap, r, today)).collect();
    Ok((items, next))
}

fn midnight(d: NaiveDate) -> SqlTime {
    SqlTime(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// The first day of the period (bills issued on or after it). Default: January 1 of this
    /// year.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The last day of the period (bills issued on or before it). Default: today.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// Department slug or id.
    #[param(max_length = 64)]
    department: Option<String>,
}

/// The period asked for: its first and last day, and the query's bounds `[from, to + 1)`.
fn period(p: &PeriodParams) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let day = |name: &str, v: &Option<String>, default: NaiveDate| -> Result<NaiveDate, ApiError> {
        match v {
            None => Ok(default),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid_parameter(name, msg!("a date such as 2026-11-28"))),
        }
    };
    let today = Utc::now().date_naive();
    let from = day("from", &p.from, today.with_ordinal(1).unwrap_or(today))?;
    let to = day("to", &p.to, today)?;
    if to < from {
        return Err(ApiError::invalid_parameter(
            "to",
            msg!("the period ends before it starts"),
        ));
    }
    Ok((from, to))
}

/// The totals of the bills issued in a period, per service and currency.
pub fn summary(
    conn: &mut DbConnection,
    caller: &Caller,
    snap: &Snapshot,
    p: &PeriodParams,
) -> Result<views::Summary, ApiError> {
    let (from, to) = period(p)?;
    let departments: Vec<SqlUuid> = match bills(snap, caller, p.department.as_deref())? {
        Bills::All => snap.departments.iter().map(|d| SqlUuid(d.id)).collect(),
        Bills::Of(d) => vec![d],
        Bills::NotYours => Vec::new(),
    };
    let rows = match departments.is_empty() {
        true => Vec::new(),
        false => store::totals(
            conn,
            midnight(from),
            midnight(to + chrono::Duration::days(1)),
            &departments,
        )?,
    };
    Ok(views::summary(snap, from, to, p.department.clone(), &rows))
}

/// The bills issued in a period as CSV (RFC 4180, UTF-8, a header row), for the accounting.
pub fn export(conn: &mut DbConnection, caller: &Caller, snap: &Snapshot, p: &PeriodParams) -> Result<String, ApiError> {
    let (from, to) = period(p)?;
    let department = match bills(snap, caller, p.department.as_deref())? {
        Bills::All => None,
        Bills::Of(d) => Some(d),
        Bills::NotYours => return views::csv(snap, &[]),
    };
    let (start, end) = (midnight(from), midnight(to + chrono::Duration::days(1)));
    let rows = store::issued(conn, start, end, department, EXPORT_MAX as i64 + 1)?;
    if rows.len() > EXPORT_MAX {
        return Err(ApiError::invalid_parameter(
            "to",
            msg!(
                "more than {max} bills in this period: export a shorter one",
                max = EXPORT_MAX
            ),
        ));
    }
    views::csv(snap, &rows)
}
