//! What the operations endpoints report (`/health/*`, `/metrics`): readiness (the database
//! answers, every migration is applied, the catalogue is loaded) and the gauges sampled when
//! the metrics are read. `src/api/health.rs` renders them.
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalogue::CatalogueCache;
use crate::db::reads::Reads;
use crate::db::Db;
use crate::error::ApiError;
use crate::msg;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok", max_length = 32)]
    pub status: String,
    /// Database backend in use (`sqlite` or `postgres`); only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub database: Option<String>,
    /// How this worker reads applications: `async` (PostgreSQL through its own asynchronous
    /// pool) or `blocking` (SQLite, or a `DATABASE_URL` only libpq can use); only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub reads: Option<String>,
    /// Revision of the catalogue this instance serves; only on readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub catalogue_revision: Option<i64>,
}

impl Health {
    /// The process is up (liveness checks nothing else).
    pub fn live() -> Health {
        Health {
            status: "ok".into(),
            database: None,
            reads: None,
            catalogue_revision: None,
        }
    }
}

/// What the probes look at: the database, this worker's reads and the catalogue.
pub struct Probes {
    db: Data<Db>,
    reads: Option<Data<Reads>>,
    cache: Data<CatalogueCache>,
}

impl FromRequest for Probes {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Probes, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let probes = (|| {
            Some(Probes {
                db: req.app_data::<Data<Db>>()?.clone(),
                // the operators' own listener has no reads pool
                reads: req.app_data::<Data<Reads>>().cloned(),
                cache: req.app_data::<Data<CatalogueCache>>()?.clone(),
            })
        })();
        std::future::ready(probes.ok_or_else(|| ApiError::internal("probes missing from app data")))
    }
}

impl Probes {
    /// Ready for traffic, or the 503 that says why not.
    pub async fn readiness(&self) -> Result<Health, ApiError> {
        let current = self
            .db
            .run(|conn| {
                crate::db::migrations_current(conn)
                    .map_err(|e| ApiError::unavailable(msg!("database check failed: {e}", e = e)))
            })
            .await?;
        if !current {
            return Err(ApiError::unavailable(msg!("Database migrations are pending.")));
        }
        let reads = self.reads.as_ref().ok_or_else(|| ApiError::internal("no reads pool"))?;
        reads.ping().await?;
        let revision = self.cache.get().revision;
        if revision < 0 {
            return Err(ApiError::unavailable(msg!("The catalogue is not loaded yet.")));
        }
        Ok(Health {
            status: "ready".into(),
            database: Some(self.db.backend().name().into()),
            reads: Some(reads.mode().into()),
            catalogue_revision: Some(revision),
        })
    }

    /// Sets the gauges read at scrape time (pool use, catalogue revision and size).
    pub fn sample_gauges(&self) {
        let state = self.db.pool_state();
        metrics::gauge!("db_pool_connections").set(state.0 as f64);
        metrics::gauge!("db_pool_idle_connections").set(state.1 as f64);
        let snap = self.cache.get();
        metrics::gauge!("catalogue_revision").set(snap.revision as f64);
        metrics::gauge!("catalogue_services").set(snap.services.len() as f64);
    }
}
