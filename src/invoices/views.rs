//! The answers about bills for finance: a listed bill, the totals of a period, the CSV.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::applications::invoices::invoice_url;
use crate::applications::views::application_url;
use crate::catalogue::snapshot::Snapshot;
use crate::db::invoices::{ListedInvoice, Totals};
use crate::domain::billing::InvoiceStatus;
use crate::domain::qrbill::Address;
use crate::error::ApiError;

/// The application a bill is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct BilledApplication {
    pub id: uuid::Uuid,
    #[schema(max_length = 32)]
    pub reference: Option<String>,
    #[schema(max_length = 2048)]
    pub href: String,
}

/// A bill as finance lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceItem {
    pub id: uuid::Uuid,
    pub application: BilledApplication,
    /// The service's slug.
    #[schema(max_length = 64)]
    pub service: String,
    /// The department's slug.
    #[schema(max_length = 64)]
    pub department: String,
    /// `due`, `partially_paid`, `paid`, `waived` or `refunded`.
    #[schema(max_length = 16)]
    pub status: String,
    /// Rappen.
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub amount: i64,
    #[schema(minimum = 0, maximum = 99999999999_i64)]
    pub paid_amount: i64,
    #[schema(max_length = 3)]
    pub currency: String,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub issued_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// Past its due day and not settled.
    pub overdue: bool,
    /// The payment reference, without spaces.
    #[schema(max_length = 27)]
    pub reference: String,
    /// The payer, when the form names one.
    pub debtor: Option<Address>,
    /// Why a clerk waived it or changed its amount.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// The bill (JSON, PDF or SVG by `Accept`).
    #[schema(max_length = 2048)]
    pub href: String,
}

fn slugs(snap: &Snapshot, r: &ListedInvoice) -> (String, String) {
    let service = snap
        .service(&r.service_id.0.to_string())
        .map(|s| s.slug.clone())
        .unwrap_or_default();
    let department = snap
        .department(&r.invoice.department_id.0.to_string())
        .map(|(_, d)| d.slug.clone())
        .unwrap_or_default();
    (service, department)
}

fn overdue(status: &str, due_on: NaiveDate, today: NaiveDate) -> bool {
    due_on < today && InvoiceStatus::parse(status).is_some_and(|s| !s.settled())
}

pub fn item(snap: &Snapshot, r: &ListedInvoice, today: NaiveDate) -> InvoiceItem {
    let i = &r.invoice;
    let (service, department) = slugs(snap, r);
    let due_on = i.due_on.0.date_naive();
    InvoiceItem {
        id: i.id.0,
        application: BilledApplication {
            id: i.application_id.0,
            reference: r.application_reference.clone(),
            href: application_url(snap, i.application_id.0),
        },
        service,
        department,
        status: i.status.clone(),
        amount: i.amount,
        paid_amount: i.paid_amount,
        currency: i.currency.clone(),
        issued_at: i.issued_at.0,
        due_on,
        overdue: overdue(&i.status, due_on, today),
        reference: i.reference.clone(),
        debtor: i.debtor.as_ref().and_then(|d| serde_json::from_value(d.0.clone()).ok()),
        reason: i.reason.clone(),
        href: invoice_url(snap, i.application_id.0),
    }
}

/// The totals of one service in one currency (amounts in minor units).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ServiceTotals {
    /// The service's slug.
    #[schema(max_length = 64)]
    pub service: String,
    #[schema(max_length = 3)]
    pub currency: String,
    /// Bills issued.
    #[schema(minimum = 0, maximum = 1000000000)]
    pub count: i64,
    /// Their amounts.
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub billed: i64,
    /// Received on them (over-payments included).
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub paid: i64,
    /// Still to pay on bills neither paid nor waived.
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub open: i64,
    /// Waived by the departments (what was left to pay when they waived it).
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub waived: i64,
}

/// The bills of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The department asked for, as asked (all the caller sees when absent).
    #[schema(max_length = 64)]
    pub department: Option<String>,
    /// Per service and currency, by service slug.
    #[schema(max_items = 10000)]
    pub services: Vec<ServiceTotals>,
    /// Per currency, all services together.
    #[schema(max_items = 2)]
    pub totals: Vec<ServiceTotals>,
}

pub fn summary(
    snap: &Snapshot,
    from: NaiveDate,
    to: NaiveDate,
    department: Option<String>,
    rows: &[Totals],
) -> Summary {
    let mut services: BTreeMap<(String, String), ServiceTotals> = BTreeMap::new();
    let mut totals: BTreeMap<String, ServiceTotals> = BTreeMap::new();
    for (service_id, status, currency, count, amount, paid) in rows {
        // a status's bills are either all open or all settled: the open amount of the group
        let open = (amount - paid).max(0);
        let slug = snap
            .service(&service_id.0.to_string())
            .map(|s| s.slug.clone())
            .unwrap_or_else(|| service_id.0.to_string());
        let status = InvoiceStatus::parse(status);
        for t in [
            services
                .entry((slug.clone(), currency.clone()))
                .or_insert_with(|| ServiceTotals {
                    service: slug.clone(),
                    currency: currency.clone(),
                    ..ServiceTotals::default()
                }),
            totals.entry(currency.clone()).or_insert_with(|| ServiceTotals {
                currency: currency.clone(),
                ..ServiceTotals::default()
            }),
        ] {
            t.count += count;
            t.billed += amount;
            t.paid += paid;
            match status {
                Some(InvoiceStatus::Waived) => t.waived += open,
                Some(s) if !s.settled() => t.open += open,
                _ => {}
            }
        }
    }
    Summary {
        from,
        to,
        department,
        services: services.into_values().collect(),
        totals: totals.into_values().collect(),
    }
}

/// The CSV export's columns.
pub const CSV_HEADER: [&str; 15] = [
    "invoice",
    "application",
    "application_reference",
    "service",
    "department",
    "issued_on",
    "due_on",
    "status",
    "currency",
    "amount",
    "paid_amount",
    "open_amount",
    "paid_on",
    "reference",
    "reason",
];

/// Free text as a spreadsheet takes it as text, never as a formula (OWASP "CSV injection"):
/// a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` before it.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Bills as CSV: amounts in francs with two decimals (`20.00`), days as `2026-11-28`.
pub fn csv(snap: &Snapshot, rows: &[ListedInvoice]) -> Result<String, ApiError> {
    let money = |v: i64| format!("{}.{:02}", v / 100, v % 100);
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200 + 256));
    w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
    for r in rows {
        let i = &r.invoice;
        let (service, department) = slugs(snap, r);
        w.write_record([
            i.id.0.to_string(),
            i.application_id.0.to_string(),
            r.application_reference.clone().unwrap_or_default(),
            service,
            department,
            i.issued_at.0.date_naive().to_string(),
            i.due_on.0.date_naive().to_string(),
            i.status.clone(),
            i.currency.clone(),
            money(i.amount),
            money(i.paid_amount),
            money((i.amount - i.paid_amount).max(0)),
            i.paid_at.map(|t| t.0.date_naive().to_string()).unwrap_or_default(),
            i.reference.clone(),
            inert(i.reason.as_deref().unwrap_or_default()),
        ])
        .map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}
