//! Building the application: the one function `main` and the integration tests share.
use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;

use crate::api;
use crate::catalogue::{import, CatalogueCache};
use crate::config::{Config, Seed};
use crate::db::{self, Db};
use crate::error::{ApiError, ProblemKind};
use crate::http::middleware::{self, HttpSettings, RouteTable};
use crate::msg;

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    pub db: Db,
    pub cache: CatalogueCache,
}

/// Migrates (and seeds) the database under the migration lock. Blocking.
pub fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let mut conn = db::establish(&config.database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database ({}): {e}", redact(&config.database_url)))?;
    let seed = config.seed;
    let (applied, seeded) = db::migrate_then(&mut conn, |c| {
        crate::auth::keys::ensure_signing_key(c)?;
        match seed {
            Seed::Thun => import::seed_if_empty(c),
            Seed::None => Ok(None),
        }
    })?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    if let Some(r) = seeded {
        tracing::info!(
            services = r.services_created,
            departments = r.departments_created,
            "seeded the City of Thun catalogue"
        );
    }
    Ok(())
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A path whose id is not one guichet gives out (typed ids, `domain::ids`) names nothing: the
/// documented 404, as for an id that is well formed and unknown.
fn path_error(_err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::not_found(msg!("Nothing has this id.")).into()
}

fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::new(
            ProblemKind::PayloadTooLarge,
            msg!("The body is larger than this server takes: {error}.", error = err),
        ),
        J::ContentType => ApiError::new(
            ProblemKind::UnsupportedMediaType,
            msg!("Send the body as application/json."),
        ),
        J::Deserialize(d) if d.is_data() => ApiError::new(
            ProblemKind::ValidationFailed,
            msg!("The body does not have the documented shape: {error}", error = d),
        ),
        _ => ApiError::new(
            ProblemKind::MalformedJson,
            msg!("The body is not valid JSON: {error}", error = err),
        ),
    };
    e.into()
}

/// Builds the server: migrates and seeds the database, loads the catalogue, binds the
/// listener (port 0 picks a free port) and returns without serving yet.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    if !config.public_url_set && !config.listen.ip().is_loopback() {
        tracing::warn!(
            public_url = %config.public_url,
            "GUICHET_PUBLIC_URL is not set: tokens are issued for (and only accepted from) this instance's own address; set one shared public URL on every instance behind a load balancer"
        );
    }
    let prep = config.clone();
    tokio::task::spawn_blocking(move || prepare_database(&prep)).await??;
    let mut db = Db::new(&config.database_url, config.pool_size).map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    db.check_async().await;

    let cache = CatalogueCache::new(db.clone(), &config.public_url);
    cache
        .refresh()
        .await
        .map_err(|e| anyhow::anyhow!("loading the catalogue: {e}"))?;
    cache.spawn_refresher(config.catalogue_refresh);
    let auth = crate::auth::AuthService::start(db.clone(), &config).await?;
    let auth_data = web::Data::from(auth);
    crate::mail::spawn_worker(db.clone(), config.mail.clone()).map_err(anyhow::Error::msg)?;
    let mail_config = web::Data::new(config.mail.clone());
    let limits = web::Data::new(crate::http::ratelimit::Limits::new(&config));
    {
        let limits = limits.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.prune();
            }
        });
    }

    let openapi = api::openapi();
    let openapi_json = web::Data::new(api::docs::OpenApiJson(serde_json::to_string(&openapi)?));
    let routes = web::Data::new(RouteTable::from_openapi(&openapi));
    let metrics = web::Data::new(crate::telemetry::metrics_handle());
    let metrics_access = web::Data::new(api::health::MetricsAccess {
        token: config.metrics_token.clone(),
    });
    let settings = web::Data::new(HttpSettings {
        hsts: config.public_url.starts_with("https://"),
        trusted_proxies: config.trusted_proxies.clone(),
    });
    let app_settings = web::Data::new(api::applications::ApplicationSettings {
        reference_prefix: config.reference_prefix.clone(),
        drafts: crate::applications::process::DraftLimits {
            max_bytes: config.draft_max_bytes,
            max_open: config.max_open_drafts,
        },
        body_limit: config.body_limit,
        frontend_url: config.mail.frontend_url.clone(),
    });
    let documents = crate::storage::DocumentStore::connect(&config.documents)?;
    let probe = documents.clone();
    tokio::spawn(async move {
        if let Err(e) = probe.check().await {
            tracing::warn!(error = %e, "the document store does not answer; uploads and downloads fail until it does");
        }
    });
    crate::applications::retention::spawn(db.clone(), documents.clone());
    let documents = web::Data::new(documents);
    let public_url = crate::http::public_url::PublicUrl::new(&config.public_url);
    crate::events::spawn_housekeeping(db.clone());
    let event_signal = crate::events::feed::EventSignal::new();
    crate::events::feed::spawn_watchers(db.clone(), event_signal.clone(), config.event_retention_days);
    let event_signal = web::Data::new(event_signal);
    let sender = crate::webhooks::net::Sender::new(crate::webhooks::net::Policy {
        allowed: config.webhook_allowed_networks.clone(),
        dns: config.webhook_dns,
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    // on PostgreSQL the dispatcher has connections of its own, so that delivering never
    // waits for (or delays) the API's; SQLite has one writer, which it shares
    let dispatch_db = match db.backend() {
        db::Backend::Postgres => Db::new(&config.database_url, 4).map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?,
        db::Backend::Sqlite => db.clone(),
    };
    crate::webhooks::dispatch::spawn(crate::webhooks::dispatch::Dispatcher {
        db: dispatch_db.clone(),
        requests: db.clone(),
        busy_rate: config.webhook_busy_rate,
        cache: cache.clone(),
        sender: sender.clone(),
        schedule: config.webhook_retry.clone(),
    });
    crate::webhooks::dispatch::spawn_gauges(dispatch_db);
    let sender = web::Data::new(sender);
    let db_data = web::Data::new(db.clone());
    let db_data_for_metrics = db_data.clone();
    let metrics_for_listener = metrics.clone();
    let cache_for_metrics = web::Data::new(cache.clone());
    let worker_db = db.clone();
    let cache_data = web::Data::new(cache.clone());
    let cors_origins = config.cors_origins.clone();
    let body_limit = config.body_limit;
    let read_pool_size = config.read_pool_size;
    let pipeline_size = config.pipeline_size;
    let batch_scheduling = config.batch_scheduling;

    let listener =
        TcpListener::bind(config.listen).map_err(|e| anyhow::anyhow!("GUICHET_LISTEN {}: {e}", config.listen))?;
    let port = listener.local_addr()?.port();

    let mut server = HttpServer::new(move || {
        // called on each worker's thread as it starts
        if batch_scheduling && !crate::sched::batch_this_thread() {
            tracing::warn!("the kernel refused SCHED_BATCH for an HTTP worker; it runs as a normal thread");
        }
        let mut cors = Cors::default()
            .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .allowed_headers([
                "authorization",
                "content-type",
                "accept-language",
                "if-match",
                "if-none-match",
                "idempotency-key",
                "x-request-id",
                "x-tracking-code",
            ])
            // every header the API documents on an answer, and the two it always may send
            // (a test compares this list with the OpenAPI document)
            .expose_headers([
                "etag",
                "link",
                "x-request-id",
                "content-language",
                "content-disposition",
                "cache-control",
                "vary",
                "retry-after",
                "location",
                "ratelimit",
                "ratelimit-policy",
                "idempotent-replayed",
                "www-authenticate",
            ])
            .max_age(3600);
        for o in &cors_origins {
            cors = cors.allowed_origin(o);
        }
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(db_data.clone())
            // each worker its own pool: its connections are driven by the worker's runtime
            .app_data(web::Data::new(db::reads::Reads::for_worker(
                &worker_db,
                read_pool_size,
                pipeline_size,
            )))
            .app_data(cache_data.clone())
            .app_data(auth_data.clone())
            .app_data(limits.clone())
            .app_data(mail_config.clone())
            .app_data(sender.clone())
            .app_data(openapi_json.clone())
            .app_data(routes.clone())
            .app_data(metrics.clone())
            .app_data(metrics_access.clone())
            .app_data(settings.clone())
            .app_data(app_settings.clone())
            .app_data(documents.clone())
            .app_data(public_url.clone())
            .app_data(event_signal.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(json_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::PayloadConfig::default().limit(body_limit))
            .configure(api::configure)
            .split_for_parts();
        app.service(api::docs::swagger_ui())
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(middleware::not_matched))
            .wrap(from_fn(crate::http::idempotency::handle))
            .wrap(from_fn(middleware::refuse_nul))
            .wrap(from_fn(crate::http::compress::handle))
            .wrap(cors)
            .wrap(from_fn(middleware::handle))
    })
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .listen(listener)?;
    if let Some(w) = config.workers {
        server = server.workers(w);
    }
    let server = server.run();
    let metrics_port = match config.metrics_listen {
        None => None,
        Some(addr) => Some(serve_metrics(
            addr,
            metrics_for_listener,
            db_data_for_metrics,
            cache_for_metrics,
        )?),
    };
    tracing::info!(listen = %config.listen, port, public_url = %config.public_url, database = db.backend().name(), async_reads = db.async_pg().is_some(), "guichet is listening");
    Ok(Application {
        port,
        metrics_port,
        server,
        db,
        cache,
    })
}

/// Serves `GET /metrics`, and nothing else, on the operators' own address
/// (`GUICHET_METRICS_LISTEN`), for Prometheus on the internal network. Returns its port.
fn serve_metrics(
    addr: std::net::SocketAddr,
    handle: web::Data<metrics_exporter_prometheus::PrometheusHandle>,
    db: web::Data<Db>,
    cache: web::Data<CatalogueCache>,
) -> anyhow::Result<u16> {
    let listener = TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("GUICHET_METRICS_LISTEN {addr}: {e}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(handle.clone())
            .app_data(db.clone())
            .app_data(cache.clone())
            .route("/metrics", web::get().to(api::health::get_metrics_private))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tokio::spawn(server);
    tracing::info!(listen = %addr, port, "metrics are served here");
    Ok(port)
}

impl Application {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GUICHET_METRICS_LISTEN`'s listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests get `GUICHET_SHUTDOWN_TIMEOUT` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
