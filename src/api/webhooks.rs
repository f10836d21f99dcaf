//! `/v1/webhook-endpoints`: where guichet posts the events an organisation, a department or
//! the administrators may see, signed per Standard Webhooks. The rules live in
//! `src/webhooks/`; these handlers parse and render.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{delete, get, patch, post, HttpRequest, HttpResponse};

use super::no_store_page;
use crate::auth::{AuthService, Caller};
use crate::catalogue::CatalogueCache;
use crate::domain::ids::{DeliveryId, WebhookEndpointId};
use crate::error::{ApiError, Problem};
use crate::http::conditional::{json_with_revision, required_revision};
use crate::http::extract::{json_body, StrictQuery};
use crate::http::pagination;
use crate::http::public_url::PublicUrl;
use crate::webhooks::net::Sender;
use crate::webhooks::process::{self, EndpointPatch, NewEndpoint};
use crate::webhooks::views::{self, DeliveryAttempt, DeliveryQueued, WebhookEndpoint, WebhookEndpointWithSecret};
use crate::webhooks::{Ctx, EndpointRow};

/// What the webhook handlers share: the database, the catalogue (for links and slugs) and
/// the sender (for pings, and the networks the operator allows).
pub struct Hooks {
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
    sender: Data<Sender>,
}

impl actix_web::FromRequest for Hooks {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Hooks, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let hooks = (|| {
            Some(Hooks {
                auth: req.app_data::<Data<AuthService>>()?.clone(),
                cache: req.app_data::<Data<CatalogueCache>>()?.clone(),
                sender: req.app_data::<Data<Sender>>()?.clone(),
            })
        })();
        std::future::ready(hooks.ok_or_else(|| ApiError::internal("webhook services missing from app data")))
    }
}

impl Hooks {
    fn ctx(&self, req: &HttpRequest, caller: &Caller) -> Ctx {
        Ctx {
            caller: caller.clone(),
            actor: crate::http::middleware::actor(req, caller),
            snap: self.cache.get(),
        }
    }

    fn answer(&self, res: actix_web::HttpResponseBuilder, row: &EndpointRow) -> HttpResponse {
        json_with_revision(res, &views::endpoint(&self.cache.get(), row), row.revision)
    }

    fn with_secret(&self, mut res: actix_web::HttpResponseBuilder, row: &EndpointRow, secret: String) -> HttpResponse {
        let v = WebhookEndpointWithSecret {
            endpoint: views::endpoint(&self.cache.get(), row),
            secret,
        };
        res.insert_header((header::LOCATION, views::endpoint_url(&self.cache.get(), row.id.0)));
        json_with_revision(res, &v, row.revision)
    }
}

/// Register a webhook endpoint
///
/// Events the owner may see are posted to `url` from now on, signed per Standard Webhooks
/// with the secret answered here, and only here. The owner is the caller's organisation or
/// department (a resident names one of the organisations they own; administrators may name
/// an organisation or a department, or neither for their own). The host must resolve to public
/// addresses only (or to networks the operator allows); `https` only.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(crate::api::applications::IdempotencyKey),
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Registered; the secret is shown only now", body = WebhookEndpointWithSecret, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope, or not the owner's", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
        (status = 409, description = "The owner has 20 endpoints already, or its organisation is not verified", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid URL (or one that points where webhooks may not go), event types or owner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    crate::webhooks::access::manager(&caller)?; // before the body is read
    let input = json_body::<NewEndpoint>(&req, &body)?;
    let ctx = hooks.ctx(&req, &caller);
    let (row, secret) = process::create(&hooks.auth.db, hooks.sender.policy(), ctx, input).await?;
    Ok(hooks.with_secret(HttpResponse::Created(), &row, secret))
}

/// List webhook endpoints
///
/// The endpoints the caller manages, oldest first (administrators: every one).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(pagination::PageParams),
    responses(
        (status = 200, description = "A page of endpoints", body = crate::http::page::Page<WebhookEndpoint>, headers(("Link" = String, description = "rel=\"next\" when there is a next page"))),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<pagination::PageParams>,
    hooks: Hooks,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = p.page::<uuid::Uuid>("webhook-endpoints")?;
    let (rows, more) = process::list(&hooks.auth.db, &caller, after, limit).await?;
    let next = more
        .then(|| rows.last().map(|r| pagination::encode("webhook-endpoints", &r.id.0)))
        .flatten();
    let snap = hooks.cache.get();
    let items: Vec<WebhookEndpoint> = rows.iter().map(|r| views::endpoint(&snap, r)).collect();
    Ok(no_store_page(&req, base.as_str(), &items, next))
}

/// Read a webhook endpoint
///
/// Its settings and state (never its secret), with the ETag that changes need.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints/{id}")]
pub async fn get_webhook_endpoint(
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<WebhookEndpointId>,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    let row = process::get(&hooks.auth.db, &caller, path.0).await?;
    Ok(hooks.answer(HttpResponse::Ok(), &row))
}

/// Change a webhook endpoint
///
/// Sets the fields given (`url`, `event_types`, `enabled`, `description`, `language`);
/// `If-Match` must hold the current ETag. Enabling an endpoint guichet disabled resumes
/// delivery where it stopped (the events of the meantime are delivered, within their
/// retention).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), ("If-Match" = String, Header, max_length = 1024, description = "Current ETag")),
    request_body = EndpointPatch,
    responses(
        (status = 200, description = "Changed", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid URL or event types", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[patch("/webhook-endpoints/{id}")]
pub async fn update_webhook_endpoint(
    req: HttpRequest,
    caller: Caller,
    path: Path<WebhookEndpointId>,
    body: Bytes,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    crate::webhooks::access::manager(&caller)?;
    let patch = json_body::<EndpointPatch>(&req, &body)?;
    let expected = required_revision(&req)?;
    let ctx = hooks.ctx(&req, &caller);
    let row = process::update(&hooks.auth.db, hooks.sender.policy(), ctx, path.0, expected, patch).await?;
    Ok(hooks.answer(HttpResponse::Ok(), &row))
}

/// Delete a webhook endpoint
///
/// With its delivery log; nothing more is delivered. `If-Match`, when sent, must hold the
/// current ETag.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), ("If-Match" = Option<String>, Header, max_length = 1024, description = "Current ETag (optional)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
    )
)]
#[delete("/webhook-endpoints/{id}")]
pub async fn delete_webhook_endpoint(
    req: HttpRequest,
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<WebhookEndpointId>,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    let expected = crate::api::applications::if_match(&req, false)?;
    let ctx = hooks.ctx(&req, &caller);
    process::delete(&hooks.auth.db, ctx, path.0, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's secret
///
/// Makes a new signing secret (shown only now). For 24 hours every delivery carries two
/// signatures, one with each secret, so that the receiver can switch without losing any.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), crate::api::applications::IdempotencyKey),
    responses(
        (status = 200, description = "The new secret", body = WebhookEndpointWithSecret, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{id}/secret/rotate")]
pub async fn rotate_webhook_endpoint_secret(
    req: HttpRequest,
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<WebhookEndpointId>,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    let ctx = hooks.ctx(&req, &caller);
    let (row, secret) = process::rotate(&hooks.auth.db, ctx, path.0).await?;
    Ok(hooks.with_secret(HttpResponse::Ok(), &row, secret))
}

/// Send a test event
///
/// Posts a signed `ping` (`{"type": "ping", "timestamp", "data": {"endpoint": {...}}}`) to the
/// endpoint now, also when it is disabled, and answers the attempt as the delivery log records
/// it (a failed ping is not retried and does not count towards disabling).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), crate::api::applications::IdempotencyKey),
    responses(
        (status = 200, description = "The attempt (delivered or failed)", body = DeliveryAttempt),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{id}/test")]
pub async fn test_webhook_endpoint(
    req: HttpRequest,
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<WebhookEndpointId>,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    let ctx = hooks.ctx(&req, &caller);
    let (attempt, delivery) = process::ping(&hooks.auth.db, &hooks.sender, ctx, path.0).await?;
    Ok(super::organisations::no_store(
        HttpResponse::Ok(),
        &views::attempt(&attempt, &delivery),
    ))
}

/// List delivery attempts
///
/// Every attempt to deliver to the endpoint, newest first: when, the receiver's status, how
/// long it took, what went wrong, the first 1 KB of the answer, and where the delivery stands.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), pagination::PageParams),
    responses(
        (status = 200, description = "A page of attempts", body = crate::http::page::Page<DeliveryAttempt>, headers(("Link" = String, description = "rel=\"next\" when there is a next page"))),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or not one the caller manages", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<pagination::PageParams>,
    path: Path<WebhookEndpointId>,
    hooks: Hooks,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = p.page::<uuid::Uuid>("webhook-deliveries")?;
    let (rows, more) = process::attempts(&hooks.auth.db, &caller, path.0, before, limit).await?;
    let next = more
        .then(|| {
            rows.last()
                .map(|(a, _)| pagination::encode("webhook-deliveries", &a.id.0))
        })
        .flatten();
    let items: Vec<DeliveryAttempt> = rows.iter().map(|(a, d)| views::attempt(a, d)).collect();
    Ok(no_store_page(&req, base.as_str(), &items, next))
}

/// Deliver again
///
/// Queues the delivery again, due now (a delivered one is sent once more, with the same
/// `webhook-id`; a failed one gets a new round of retries).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), ("delivery" = uuid::Uuid, Path, description = "Delivery id"), crate::api::applications::IdempotencyKey),
    responses(
        (status = 202, description = "Queued", body = DeliveryQueued),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "No webhooks:manage scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is being sent right now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{id}/deliveries/{delivery}/retry")]
pub async fn retry_webhook_delivery(
    req: HttpRequest,
    caller: Caller,
    _q: StrictQuery<crate::api::health::NoParams>,
    path: Path<(WebhookEndpointId, DeliveryId)>,
    hooks: Hooks,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, delivery) = path.into_inner();
    let ctx = hooks.ctx(&req, &caller);
    let d = process::retry(&hooks.auth.db, ctx, endpoint.0, delivery.0).await?;
    Ok(super::organisations::no_store(
        HttpResponse::Accepted(),
        &DeliveryQueued {
            delivery: d.id.0,
            event_id: d.event_id.0,
            state: d.state,
        },
    ))
}
