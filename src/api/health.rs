//! Operations: liveness, readiness and Prometheus metrics.
use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;
use crate::operations::{Health, Probes};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Liveness
///
/// 200 while the process serves HTTP; it checks nothing else.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "The process is up", body = Health),
    (status = 400, response = crate::api::responses::UnknownParameter),
))]
#[get("/health/live")]
pub async fn get_liveness(_q: StrictQuery<NoParams>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health::live())
}

/// Readiness
///
/// 200 when the database answers, every migration is applied and the catalogue is loaded;
/// 503 otherwise, so a load balancer sends no traffic here.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String))),
    )
)]
#[get("/health/ready")]
pub async fn get_readiness(_q: StrictQuery<NoParams>, probes: Probes) -> Result<HttpResponse, ApiError> {
    let health = probes.readiness().await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(health))
}

/// Who may read `/metrics` on the public listener: bearers of `GUICHET_METRICS_TOKEN`, or
/// nobody when it is not set (then it is served only on `GUICHET_METRICS_LISTEN`, if at all).
#[derive(Clone, Default)]
pub struct MetricsAccess {
    pub token: Option<String>,
}

/// Metrics
///
/// Prometheus text format: request counts and latencies per route and status, database pool
/// use, catalogue revision. Not public: on this listener only for bearers of the metrics token
/// (`GUICHET_METRICS_TOKEN`; without one configured, never), and openly on the operators' own
/// address (`GUICHET_METRICS_LISTEN`).
#[utoipa::path(
    tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain; version=0.0.4", body = String),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, description = "No or wrong metrics token (always, when GUICHET_METRICS_TOKEN is not set)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn get_metrics(
    req: actix_web::HttpRequest,
    _q: StrictQuery<NoParams>,
    access: Data<MetricsAccess>,
    handle: Data<PrometheusHandle>,
    probes: Probes,
) -> Result<HttpResponse, ApiError> {
    let token = access.token.as_deref().unwrap_or_default();
    let sent = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let ok = !token.is_empty()
        && sent.is_some_and(|t| {
            use subtle::ConstantTimeEq;
            t.len() == token.len() && bool::from(t.as_bytes().ct_eq(token.as_bytes()))
        });
    if !ok {
        return Err(ApiError::new(
            crate::error::ProblemKind::Unauthorized,
            crate::msg!("Send the metrics token as a bearer token."),
        )
        .with_header(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer realm=\"metrics\""),
        ));
    }
    Ok(render_metrics(&handle, &probes))
}

/// `/metrics` on the operators' own listener (`GUICHET_METRICS_LISTEN`): no token.
pub async fn get_metrics_private(handle: Data<PrometheusHandle>, probes: Probes) -> HttpResponse {
    render_metrics(&handle, &probes)
}

fn render_metrics(handle: &PrometheusHandle, probes: &Probes) -> HttpResponse {
    probes.sample_gauges();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(handle.render())
}
