//! `/v1/invoices`: the bills for finance: the open and overdue ones, the totals of a period,
//! the export for the accounting.
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{get, HttpRequest, HttpResponse};

use crate::auth::{AuthService, Caller};
use crate::catalogue::CatalogueCache;
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;
use crate::invoices::{self, views, ListParams, PeriodParams};

/// List bills (finance)
///
/// The bills of the departments the caller sees, earliest due first, cursor-paginated: by
/// default the open ones (`due`, `partially_paid`); `overdue=true` those past their due day.
/// Needs `payments:read` (finance staff, administrators, clients given it); finance staff of
/// one department see its bills only (another department answers an empty page).
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:read"])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of bills", body = crate::http::page::Page<views::InvoiceItem>),
        (status = 400, description = "Invalid or unknown parameter, or bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invoices")]
pub async fn list_invoices(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<ListParams>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let snap = cache.get();
    let (who, s) = (caller.clone(), snap.clone());
    let (items, next) = auth.db.run(move |c| invoices::list(c, &who, &s, &p)).await?;
    Ok(crate::api::no_store_page(&req, snap.public_url(), &items, next))
}

/// Bills of a period (finance)
///
/// The bills issued from `from` to `to` (both days included; by default this year so far),
/// per service and currency and in total: how many, billed, paid, still open, waived (in
/// minor units). Needs `payments:read`.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:read"])),
    params(PeriodParams),
    responses(
        (status = 200, description = "The totals", body = views::Summary),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invoices/summary")]
pub async fn summarise_invoices(
    caller: Caller,
    StrictQuery(p): StrictQuery<PeriodParams>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let snap = cache.get();
    let summary = auth.db.run(move |c| invoices::summary(c, &caller, &snap, &p)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(summary))
}

/// The CSV of the bills exported.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, max_length = 104857600)]
#[allow(dead_code)]
pub struct InvoicesCsv(String);

/// Export bills as CSV (finance)
///
/// The bills issued from `from` to `to` (both days included), oldest first, as CSV (RFC
/// 4180, UTF-8, a header row) for the city's accounting: invoice, application and its
/// reference, service, department, issued, due, status, currency, amount, paid and open
/// amounts (francs with two decimals), the day it was paid, the payment reference and the
/// reason of a waiver or change. At most 100,000 bills: a longer period is a 400. Needs
/// `payments:read`.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:read"])),
    params(PeriodParams),
    responses(
        (status = 200, description = "The bills as CSV", content((InvoicesCsv = "text/csv"))),
        (status = 400, description = "Invalid or unknown parameter, or too many bills in the period", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invoices/export")]
pub async fn export_invoices(
    caller: Caller,
    StrictQuery(p): StrictQuery<PeriodParams>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let snap = cache.get();
    let csv = auth.db.run(move |c| invoices::export(c, &caller, &snap, &p)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"invoices.csv\""))
        .content_type("text/csv; charset=utf-8")
        .body(csv))
}
