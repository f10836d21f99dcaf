//! Operations: liveness, readiness and Prometheus metrics.
use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalogue::CatalogueCache;
use crate::db::reads::Reads;
use crate::db::Db;
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// Database backend in use (`sqlite` or `postgres`); only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// How this worker reads applications: `async` (PostgreSQL through its own asynchronous
    /// pool) or `blocking` (SQLite, or a `DATABASE_URL` only libpq can use); only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<String>,
    /// Revision of the catalogue this instance serves; only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue_revision: Option<i64>,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Liveness
///
/// 200 while the process serves HTTP; it checks nothing else.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/health/live")]
pub async fn get_liveness(_q: StrictQuery<NoParams>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health {
            status: "ok".into(),
            database: None,
            reads: None,
            catalogue_revision: None,
        })
}

/// Readiness
///
/// 200 when the database answers, every migration is applied and the catalogue is loaded;
/// 503 otherwise, so a load balancer sends no traffic here.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String))),
    )
)]
#[get("/health/ready")]
pub async fn get_readiness(
    _q: StrictQuery<NoParams>,
    db: Data<Db>,
    reads: Data<Reads>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let current = db
        .run(|conn| {
            crate::db::migrations_current(conn)
                .map_err(|e| ApiError::unavailable(format!("database check failed: {e}")))
        })
        .await?;
    if !current {
        return Err(ApiError::unavailable("Database migrations are pending."));
    }
    reads.ping().await?;
    let revision = cache.get().revision;
    if revision < 0 {
        return Err(ApiError::unavailable("The catalogue is not loaded yet."));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health {
            status: "ready".into(),
            database: Some(db.backend().name().into()),
            reads: Some(reads.mode().into()),
            catalogue_revision: Some(revision),
        }))
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
        (status = 401, description = "No or wrong metrics token (always, when GUICHET_METRICS_TOKEN is not set)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn get_metrics(
    req: actix_web::HttpRequest,
    _q: StrictQuery<NoParams>,
    access: Data<MetricsAccess>,
    handle: Data<PrometheusHandle>,
    db: Data<Db>,
    cache: Data<CatalogueCache>,
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
            "Send the metrics token as a bearer token.",
        )
        .with_header(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer realm=\"metrics\""),
        ));
    }
    Ok(render_metrics(&handle, &db, &cache))
}

/// `/metrics` on the operators' own listener (`GUICHET_METRICS_LISTEN`): no token.
pub async fn get_metrics_private(
    handle: Data<PrometheusHandle>,
    db: Data<Db>,
    cache: Data<CatalogueCache>,
) -> HttpResponse {
    render_metrics(&handle, &db, &cache)
}

fn render_metrics(handle: &PrometheusHandle, db: &Db, cache: &CatalogueCache) -> HttpResponse {
    let state = db.pool_state();
    metrics::gauge!("db_pool_connections").set(state.0 as f64);
    metrics::gauge!("db_pool_idle_connections").set(state.1 as f64);
    let snap = cache.get();
    metrics::gauge!("catalogue_revision").set(snap.revision as f64);
    metrics::gauge!("catalogue_services").set(snap.services.len() as f64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(handle.render())
}
