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

/// Metrics
///
/// Prometheus text format: request counts and latencies per route and status, database pool
/// use, catalogue revision.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn get_metrics(
    _q: StrictQuery<NoParams>,
    handle: Data<PrometheusHandle>,
    db: Data<Db>,
    cache: Data<CatalogueCache>,
) -> HttpResponse {
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
