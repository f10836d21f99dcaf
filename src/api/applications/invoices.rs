//! `/v1/applications/{id}/invoice`: the bill of an application's fee (a Swiss QR-bill).
use actix_web::http::header;
use actix_web::web::{Bytes, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};

use super::{if_match, Apps, IdempotencyKey};
use crate::applications::access;
use crate::applications::invoices::{self, Printed};
use crate::applications::views::Application;
use crate::auth::Caller;
use crate::domain::ids::ApplicationId;
use crate::error::{ApiError, Problem};
use crate::http::extract::json_body;
use crate::http::{cpu, negotiate};

const NO_STORE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

/// The A4 bill as PDF: the letter and, at the bottom, the payment part with its receipt.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, max_length = 1048576)]
#[allow(dead_code)]
pub struct BillPdf(Vec<u8>);

/// The payment part with its receipt as SVG, 210 × 105 mm.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, max_length = 1048576)]
#[allow(dead_code)]
pub struct BillSvg(String);

/// Read an application's bill
///
/// The bill of the application's fee, once its service billed it (on submission or on
/// approval): amount, what is paid, the due day, the account, the reference and the text of
/// its Swiss QR Code. Whoever may read the application may read its bill; 404 when there is
/// none. By `Accept`, the printed bill in the application's language, after the Swiss
/// Implementation Guidelines for the QR-bill: `application/pdf` (A4, the payment part with
/// its receipt at the bottom) or `image/svg+xml` (the payment part with its receipt alone,
/// 210 × 105 mm). Both show the amount still open.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The bill", content(
            (invoices::Invoice = "application/json"),
            (BillPdf = "application/pdf"),
            (BillSvg = "image/svg+xml"),
        )),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
        (status = 404, description = "No such application, or it has no bill", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "`Accept` names none of JSON, PDF and SVG", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/invoice")]
pub async fn get_invoice(
    caller: Caller,
    req: HttpRequest,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<ApplicationId>,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::reader(&caller)?;
    let format = negotiate::choose(req.headers(), &invoices::MEDIA_TYPES)?;
    let (id, who) = (path.into_inner(), caller.clone());
    let (row, invoice) = apps.auth.db.run(move |c| invoices::find(c, &who, id)).await?;
    let snap = apps.cache.get();
    let printed = cpu::run(move || invoices::print(&snap, &row, &invoice, format)).await?;
    Ok(match printed {
        Printed::Json(view) => HttpResponse::Ok().insert_header(NO_STORE).json(view),
        Printed::File {
            body,
            media_type,
            file_name,
        } => HttpResponse::Ok()
            .insert_header(NO_STORE)
            .insert_header((header::VARY, "Accept"))
            .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{file_name}\"")))
            .content_type(media_type)
            .body(body),
    })
}

/// Change or waive an application's bill
///
/// A clerk of the responsible department (or an administrator) gives the open bill a new
/// amount (`amount`, minor units; the status follows what is paid of it) or waives what is
/// left (`"waive": true`), always with a `reason` (1-500 characters), kept on the bill and in
/// the history. Writes an `application.invoice_adjusted` event; a move waiting for the
/// payment goes ahead once the bill is waived or paid. 409 for a bill already settled.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:process"])),
    params(("id" = uuid::Uuid, Path, description = "Application id"), ("If-Match" = String, Header, description = "Current ETag of the application"), IdempotencyKey),
    request_body = invoices::Adjustment,
    responses(
        (status = 200, description = "The application, its `payment` changed", body = Application, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Not a processor of this application", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application, or it has no bill", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The bill is settled", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Neither or both of amount and waive, no reason, an amount out of range", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/applications/{id}/invoice/adjustments")]
pub async fn adjust_invoice(
    req: HttpRequest,
    caller: Caller,
    path: Path<ApplicationId>,
    body: Bytes,
    apps: Apps,
) -> Result<HttpResponse, ApiError> {
    access::may_change(&caller)?;
    let id = path.into_inner();
    let input: invoices::Adjustment = json_body(&req, &body)?;
    let expected = if_match(&req, true)?;
    apps.change(&req, &caller, false, move |conn, c| {
        invoices::adjust(conn, c, id, expected, input)
    })
    .await
}
