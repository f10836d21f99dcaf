//! `/v1/payments`: the bank's notifications of incoming payments (camt.054), imported and
//! matched to bills; the payments that did not match.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path, Payload};
use actix_web::{get, post, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::auth::AuthService;
use crate::auth::Caller;
use crate::domain::camt;
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::extract::StrictQuery;
use crate::http::pagination::{self, PageParams};
use crate::http::public_url::PublicUrl;
use crate::msg;
use crate::payments::{process, views};

const SCOPE: &str = "payments";

/// A camt.054 document (XML, UTF-8, at most 50 MB).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, max_length = 52428800)]
#[allow(dead_code)]
pub struct CamtDocument(String);

/// The request's XML, up to camt's limit: 415 for another media type, 413 when larger.
async fn xml_body(req: &HttpRequest, mut body: Payload) -> Result<String, ApiError> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/xml" && media != "text/xml" {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            msg!("Send the camt.054 document as application/xml."),
        ));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::new(ProblemKind::BadRequest, msg!("The body could not be read: {e}", e = e)))?;
        if bytes.len() + chunk.len() > camt::MAX_BYTES {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                msg!(
                    "A notification is at most {max} MB.",
                    max = camt::MAX_BYTES / 1024 / 1024
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        ApiError::validation(vec![crate::domain::FieldError::new(
            "",
            "encoding",
            msg!("a camt.054 document is UTF-8"),
        )])
    })
}

/// Import a bank notification (camt.054)
///
/// The bank's notification of incoming payments, ISO 20022 camt.054 version .001.04 or
/// .001.08 as Swiss banks deliver it. Every booked credit is recorded once, by the bank's
/// reference of the transaction (the same file or entry again records nothing twice, also
/// when two imports run at once), and matched by its payment reference to a bill: the bill's
/// paid amount rises (partly, fully or over), and the application shows it, with an
/// `application.payment_received` event. Credits that match no open bill are listed for
/// finance. A document that is not a camt.054 of these versions, or lacks what a credit
/// needs, is a 422 naming the element and its line, and nothing of it is recorded.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:write"])),
    request_body(content = CamtDocument, content_type = "application/xml", description = "A camt.054 document (at most 50 MB)"),
    responses(
        (status = 200, description = "What was recorded and matched", body = views::ImportReport),
        (status = 400, description = "The body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:write", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 50 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/xml", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a camt.054 of these versions, or a credit lacks an element: the element and its line", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments/bank-notifications")]
pub async fn import_bank_notification(
    req: HttpRequest,
    caller: Caller,
    body: Payload,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    process::may_import(&caller)?;
    let xml = xml_body(&req, body).await?;
    let actor = crate::http::middleware::actor(&req, &caller);
    let report = auth.db.write(move |c| process::import(c, &actor, &xml)).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// List unmatched payments
///
/// Payments the bank reported that match no open bill (no or an unknown reference, another
/// currency, a bill already settled), oldest first, cursor-paginated: for finance to assign
/// or return.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:read"])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of unmatched payments", body = crate::http::page::Page<views::ReceivedPayment>),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:read", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/payments/unmatched")]
pub async fn list_unmatched_payments(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<PageParams>,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    process::may_read(&caller)?;
    let (after, limit) = p.page::<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>(SCOPE)?;
    let who = caller.clone();
    let (items, more) = auth.db.run(move |c| process::unmatched(c, &who, after, limit)).await?;
    let next = more
        .then(|| items.last().map(|m| pagination::encode(SCOPE, &(m.recorded_at, m.id))))
        .flatten();
    Ok(crate::api::no_store_page(&req, base.as_str(), &items, next))
}

/// Assign an unmatched payment to a bill
///
/// Finance decides which bill a payment that matched none pays (a wrong or missing
/// reference): the payment becomes matched, the bill's paid amount rises and the application
/// shows it, with an `application.payment_received` event, as an imported match does. Needs
/// `payments:write`. 409 when the payment is matched already or the bill settled; 422 for an
/// unknown bill or one in another currency.
#[utoipa::path(
    tag = "payments",
    security(("bearer" = []), ("oauth2" = ["payments:write"])),
    params(("id" = uuid::Uuid, Path, description = "Payment id"), crate::api::applications::IdempotencyKey),
    request_body = process::PaymentAssignment,
    responses(
        (status = 200, description = "The payment, matched", body = views::ReceivedPayment),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Without the scope payments:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The payment is matched already, or the bill settled", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "No such bill, or another currency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payments/{id}/assignment")]
pub async fn assign_payment(
    req: HttpRequest,
    caller: Caller,
    path: Path<uuid::Uuid>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    process::may_import(&caller)?;
    let input: process::PaymentAssignment = crate::http::extract::json_body(&req, &body)?;
    let (id, actor) = (path.into_inner(), crate::http::middleware::actor(&req, &caller));
    let payment = auth
        .db
        .write(move |c| process::assign(c, &caller, &actor, id, input))
        .await?;
    Ok(HttpResponse::Ok().json(payment))
}
