//! Test harness: a real guichet on a free port over a fresh real database (SQLite file or
//! PostgreSQL database), reached over HTTP. The backend comes from `GUICHET_TEST_BACKEND`
//! (`sqlite`, the default, or `postgres` with `GUICHET_TEST_PG_URL`).
#![allow(dead_code)]
use std::collections::HashMap;

use diesel::prelude::*;
use guichet::config::Config;

pub mod receiver;
pub mod s3;
pub mod world;

pub const PUBLIC_URL: &str = "http://guichet.test";

/// The Python of the tools venv (`scripts/install-tools`): aiosmtpd, authlib,
/// requests-oauthlib; `GUICHET_TEST_PYTHON` overrides it.
pub fn tools_python() -> std::path::PathBuf {
    std::env::var("GUICHET_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from("/var/cache/guichet-tools/venv/bin/python"))
}

pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub fn backend() -> String {
    std::env::var("GUICHET_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into())
}

impl TestDb {
    /// A fresh, empty database of the backend under test.
    pub fn new() -> TestDb {
        if backend() == "postgres" {
            let base =
                std::env::var("GUICHET_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let name = format!("guichet_test_{}", uuid::Uuid::now_v7().simple());
            let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("PostgreSQL for tests");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create test database");
            TestDb {
                url: format!("{base}/{name}"),
                pg_admin: Some((base, name)),
                _dir: None,
            }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = dir.path().join("guichet.db").to_string_lossy().to_string();
            TestDb {
                url,
                pg_admin: None,
                _dir: Some(dir),
            }
        }
    }
}

/// The database every test starts from: migrated, seeded and given its first signing key by
/// one instance's first start, once per test process and backend; each test gets a copy
/// (PostgreSQL `CREATE DATABASE ... TEMPLATE`, SQLite a file copy), which is much cheaper than
/// migrating and seeding again. It is never dropped: `scripts/test` drops leftover
/// `guichet_test_%` databases at its start.
static TEMPLATE: tokio::sync::OnceCell<TestDb> = tokio::sync::OnceCell::const_new();

async fn template() -> &'static TestDb {
    TEMPLATE
        .get_or_init(|| async {
            let db = TestDb::new();
            drop(TestApp::spawn_on(db.share(), &[]).await);
            let mut conn = guichet::db::establish(&db.url).expect("template");
            match &db.pg_admin {
                Some((base, name)) => {
                    drop(conn);
                    let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("PostgreSQL");
                    diesel::sql_query(format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    ))
                    .execute(&mut admin)
                    .expect("template connections ended");
                }
                None => {
                    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(&mut conn)
                        .expect("template checkpoint");
                }
            }
            db
        })
        .await
}

impl TestDb {
    /// A copy of the template: a database as an instance's first start leaves it.
    pub async fn prepared() -> TestDb {
        let template = template().await;
        match &template.pg_admin {
            Some((base, template_name)) => {
                let name = format!("guichet_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("PostgreSQL for tests");
                diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template_name}"))
                    .execute(&mut admin)
                    .expect("copy the template database");
                TestDb {
                    url: format!("{base}/{name}"),
                    pg_admin: Some((base.clone(), name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("guichet.db");
                std::fs::copy(&template.url, &path).expect("copy the template file");
                TestDb {
                    url: path.to_string_lossy().to_string(),
                    pg_admin: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    /// The same database, for a second instance (dropped by the first owner only).
    pub fn share(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            pg_admin: None,
            _dir: None,
        }
    }
}

/// Where an instance on this database keeps documents: beside the SQLite file, or a
/// directory named after the PostgreSQL database; instances sharing a database share it.
pub fn documents_dir(db_url: &str) -> std::path::PathBuf {
    match db_url.strip_prefix("postgres://") {
        Some(rest) => std::env::temp_dir()
            .join("guichet-test-documents")
            .join(rest.rsplit('/').next().unwrap_or("db")),
        None => std::path::Path::new(db_url)
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("documents"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg_admin {
            let _ = std::fs::remove_dir_all(documents_dir(&self.url));
            if let Ok(mut admin) = PgConnection::establish(&format!("{base}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
            }
        }
    }
}

/// The settings of the document store of instances on this database (also for running the
/// binary against it): moto's S3 with `GUICHET_TEST_STORE=s3`, else the local directory.
pub fn store_settings(db_url: &str) -> Vec<(String, String)> {
    if s3::enabled() {
        s3::settings(db_url)
    } else {
        vec![(
            "GUICHET_DOCUMENTS_DIR".into(),
            documents_dir(db_url).to_string_lossy().into_owned(),
        )]
    }
}

pub fn config(db_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db_url.to_string()),
        ("GUICHET_LISTEN".into(), "127.0.0.1:0".into()),
        ("GUICHET_PUBLIC_URL".into(), PUBLIC_URL.into()),
        ("GUICHET_CATALOGUE_REFRESH_MS".into(), "100".into()),
        ("GUICHET_WORKERS".into(), "2".into()),
        ("GUICHET_DB_POOL_SIZE".into(), "4".into()),
        ("GUICHET_DB_READ_POOL_SIZE".into(), "2".into()),
        // the point reads pipelined on two connections per worker, as in production (4)
        ("GUICHET_DB_PIPELINE_SIZE".into(), "2".into()),
        ("GUICHET_LOG".into(), "warn".into()),
        // no test resolves a webhook host: nothing leaves loopback, not even a DNS query
        ("GUICHET_WEBHOOK_DNS".into(), "off".into()),
    ]);
    vars.extend(store_settings(db_url));
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config")
}

pub struct TestApp {
    pub address: String,
    /// The `GUICHET_METRICS_LISTEN` listener, when configured.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub app_db: guichet::db::Db,
    /// The app's document store, opened again from its settings (what is stored).
    pub documents: guichet::storage::DocumentStore,
    handle: actix_web::dev::ServerHandle,
    /// The app's own runtime (its background work: event numbering, catalogue refresh, mail)
    /// runs on this thread, so that dropping the TestApp can stop and wait for all of it.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let db = TestDb::prepared().await;
        Self::spawn_on(db, extra).await
    }

    pub async fn spawn_on(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
        let config = config(&db.url, extra);
        let documents = guichet::storage::DocumentStore::connect(&config.documents).expect("document store");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("test-app".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("app runtime");
                rt.block_on(async move {
                    match guichet::build(config).await {
                        Ok(app) => {
                            let _ = tx.send(Ok((app.port(), app.metrics_port(), app.handle(), app.db.clone())));
                            let _ = app.run_until_stopped().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                        }
                    }
                });
                // dropping the runtime cancels the background tasks and waits for the
                // blocking work in flight
            })
            .expect("app thread");
        let (port, metrics_port, handle, app_db) = rx.await.expect("app thread answers").expect("app builds");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            metrics_address: metrics_port.map(|p| format!("http://127.0.0.1:{p}")),
            client,
            db,
            app_db,
            documents,
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json body")
    }

    /// GET with a bearer token; the body as JSON, whatever the status.
    pub async fn get_json_as(&self, path: &str, token: &str) -> serde_json::Value {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        res.json().await.expect("json body")
    }

    /// Runs `f` on a direct connection to the test database (for setup and for checking
    /// database effects).
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut guichet::db::DbConnection) -> T) -> T {
        let mut conn = guichet::db::establish(&self.db.url).expect("connect");
        f(&mut conn)
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl Drop for TestApp {
    /// Stops the app and waits until its threads have let go of the database, so that no
    /// server thread is still closing connections when the test process exits (a SIGSEGV at
    /// exit was seen once on PostgreSQL) or when the test database is dropped.
    fn drop(&mut self) {
        drop(self.handle.stop(false)); // the stop command is sent at once
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // the server's worker threads drop their handles after the server has stopped
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.app_db.holders() > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Asserts a problem answer: status, `application/problem+json`, type, and the request id
/// in both header and body. Returns the body.
pub async fn assert_problem(res: reqwest::Response, status: u16, kind: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let ct = res
        .headers()
        .get("content-type")
        .expect("content-type")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let rid = res
        .headers()
        .get("x-request-id")
        .expect("x-request-id")
        .to_str()
        .unwrap()
        .to_string();
    let body: serde_json::Value = res.json().await.expect("problem body");
    assert_eq!(body["type"], format!("/problems/{kind}"), "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], rid.as_str());
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

/// Waits (at most `GUICHET_CATALOGUE_REFRESH_MS`-bounded, here 3 s) until `check` holds.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..60 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Sends the same POST `n` times at once, alternating between the instances given, and
/// returns the statuses and problem types (for creates that race each other).
pub async fn race(apps: &[&TestApp], path: &str, token: &str, body: serde_json::Value, n: usize) -> Vec<(u16, String)> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let app = apps[i % apps.len()];
        let request = app.client.post(app.url(path)).bearer_auth(token).json(&body);
        set.spawn(async move {
            let res = request.send().await.unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            (status, body["type"].as_str().unwrap_or_default().to_string())
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

/// One 201 and a 409 `conflict` for every other request of a race.
pub fn assert_one_created(outcomes: &[(u16, String)], what: &str) {
    let created = outcomes.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{what}: {outcomes:?}");
    for (status, kind) in outcomes.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{what}: {outcomes:?}");
        assert!(kind.ends_with("/conflict"), "{what}: {outcomes:?}");
    }
}

/// A staff account (`clerk` of `department`, or `admin`) created as the operator CLI does, and
/// its password-grant token.
pub async fn staff_token(app: &TestApp, email: &str, role: &str, department: Option<&str>) -> String {
    app.with_conn(|c| guichet::admin::create_user(c, email, role, department, Some(world::PW.into())).unwrap());
    world::password_token(app, email).await
}
