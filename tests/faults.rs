//! Fault tests: guichet's own binary against a private PostgreSQL cluster (a temporary
//! directory and a free port, never the machine's shared server), with the database stopped
//! under load and the server killed under load.
//!
//! They run in the PostgreSQL pass of `scripts/test` only (once per run), and need the
//! PostgreSQL server binaries (`initdb`, `pg_ctl`); as root the cluster runs as `postgres`.
#![allow(dead_code)]
// Their own test binary, beside tests/api/: they time answers, so they do not share the
// machine with the other tests running in parallel.
#[path = "api/common/mod.rs"]
mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PW: &str = "a long enough password";

/// The fault tests load the machine and time the answers: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether the fault tests run in this pass; while the guard lives no other one runs.
fn enabled() -> Option<std::sync::MutexGuard<'static, ()>> {
    if common::backend() == "postgres" {
        return Some(ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner()));
    }
    eprintln!("fault tests run in the PostgreSQL pass only");
    None
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL cluster of this test's own.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let c = Cluster {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        c.pg(
            "initdb",
            &[
                "-D",
                &c.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        c.start_server();
        c.pg(
            "psql",
            &[
                "-X",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &c.port.to_string(),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE guichet",
            ],
        );
        c
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn pg(&self, tool: &str, args: &[&str]) -> String {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        run(&mut cmd)
    }

    fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").to_string_lossy().into_owned();
        self.pg("pg_ctl", &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"]);
    }

    fn stop_server(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/guichet", self.port)
    }

    fn query_i64(&self, sql: &str) -> i64 {
        let out = self.pg(
            "psql",
            &[
                "-X",
                "-q",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "guichet",
                "-c",
                sql,
            ],
        );
        out.trim().parse().unwrap_or_else(|_| panic!("{sql}: {out}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// guichet's own binary, serving on a fixed port of loopback.
struct Server {
    child: Option<Child>,
    port: u16,
    db_url: String,
    dir: PathBuf,
    starts: u32,
    /// Names its logs (several servers may share a directory).
    name: String,
    /// More settings.
    env: Vec<(String, String)>,
}

impl Server {
    fn start(db_url: &str, dir: &Path) -> Server {
        Self::start_named(db_url, dir, "guichet", &[])
    }

    fn start_named(db_url: &str, dir: &Path, name: &str, env: &[(&str, &str)]) -> Server {
        let mut s = Server {
            child: None,
            port: free_port(),
            db_url: db_url.to_string(),
            dir: dir.to_path_buf(),
            starts: 0,
            name: name.to_string(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        s.spawn();
        s
    }

    fn command(&self) -> Command {
        // GUICHET_FAULT_BIN runs the tests against another build (an earlier version, say)
        let bin = std::env::var("GUICHET_FAULT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_guichet").to_string());
        let mut cmd = Command::new(bin);
        cmd.env("DATABASE_URL", &self.db_url)
            .env("GUICHET_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("GUICHET_PUBLIC_URL", "http://guichet.test")
            .env("GUICHET_DOCUMENTS_DIR", self.dir.join("documents"))
            .env("GUICHET_WORKERS", "2")
            .env("GUICHET_LOG", "warn")
            .env("GUICHET_RATE_LIMIT_TOKEN_IP", "0")
            .env("GUICHET_RATE_LIMIT_TOKEN_ACCOUNT", "0")
            .env("GUICHET_RATE_LIMIT_SIGNUP_IP", "0")
            .env_remove("GUICHET_SMTP_URL");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("{}-{}.log", self.name, self.starts))).unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("guichet binary");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::blocking::Client::new();
        while Instant::now() < deadline {
            if client
                .get(self.url("/health/ready"))
                .timeout(Duration::from_secs(1))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("guichet did not become ready: {}", self.log());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}-{}.log", self.name, self.starts))).unwrap_or_default()
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits for the process to end; its exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        run(Command::new("kill").args(["-TERM", &c.id().to_string()]));
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "guichet did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a command of the binary (`user disable ...`) on the same database.
    fn cli(&self, args: &[&str]) -> String {
        run(self.command().args(args))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// At most ten of them, for a failure message.
fn some<T: std::fmt::Debug>(items: &[T]) -> String {
    format!("{} in all, first: {:?}", items.len(), &items[..items.len().min(10)])
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn resident(c: &reqwest::Client, base: &str, email: &str) -> String {
    let res = c
        .post(format!("{base}/v1/accounts"))
        .json(&json!({"email": email, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "register {email}");
    token(c, base, email).await.expect("token")
}

async fn token(c: &reqwest::Client, base: &str, email: &str) -> Result<String, u16> {
    let res = c
        .post(format!("{base}/v1/oauth/token"))
        .form(&[("grant_type", "password"), ("username", email), ("password", PW)])
        .send()
        .await
        .map_err(|_| 0u16)?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.map_err(|_| status)?;
    body["access_token"].as_str().map(str::to_string).ok_or(status)
}

fn application() -> Value {
    json!({"service": "wohnsitzbestaetigung", "submit": true, "data": common::world::valid_data()})
}

/// One answer seen under load.
#[derive(Debug, Clone)]
struct Seen {
    kind: &'static str,
    sent: Duration,
    took: Duration,
    /// 0 when no answer came (connection refused or reset).
    status: u16,
    retry_after: bool,
}

async fn probe(kind: &'static str, start: Instant, req: reqwest::RequestBuilder) -> Seen {
    let sent = start.elapsed();
    let t = Instant::now();
    let res = req.send().await;
    let (status, retry_after) = match res {
        Ok(r) => {
            let s = r.status().as_u16();
            let ra = r.headers().contains_key("retry-after");
            let _ = r.bytes().await;
            (s, ra)
        }
        Err(_) => (0, false),
    };
    Seen {
        kind,
        sent,
        took: t.elapsed(),
        status,
        retry_after,
    }
}

/// PostgreSQL stopped for 10 s under a mixed load: every answer meanwhile is a 503 with
/// Retry-After within a second, nothing is a 500, everything works again within 5 s of the
/// database's return, and a disabled account is refused throughout.
#[test]
fn a_database_outage_is_answered_503_and_recovered_from_without_a_restart() {
    let Some(_one) = enabled() else {
        return;
    };
    let cluster = Cluster::start();
    let server = Server::start(&cluster.url(), cluster.dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = client();
        let base = server.url("");
        let tok = resident(&c, &base, "load@example.ch").await;
        let off = resident(&c, &base, "disabled@example.ch").await;
        let res = c
            .post(format!("{base}/v1/applications"))
            .bearer_auth(&tok)
            .json(&application())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let app: Value = res.json().await.unwrap();
        let id = app["id"].as_str().unwrap().to_string();
        server.cli(&["user", "disable", "disabled@example.ch"]);
        let refused = async {
            for _ in 0..60 {
                let r = c.get(format!("{base}/v1/me")).bearer_auth(&off).send().await.unwrap();
                if r.status() == 401 {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        };
        assert!(refused.await, "the disabled account's token is refused before the outage");

        let start = Instant::now();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let stop_at = Duration::from_secs(26);
        let mut tasks = Vec::new();
        for worker in 0..9 {
            let (c, base, tok, off, id, seen) = (
                c.clone(),
                base.clone(),
                tok.clone(),
                off.clone(),
                id.clone(),
                seen.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut n = 0u32;
                while start.elapsed() < stop_at {
                    n += 1;
                    let s = match worker {
                        0..=2 => {
                            let req = c
                                .post(format!("{base}/v1/applications"))
                                .bearer_auth(&tok)
                                .header("idempotency-key", format!("outage-{worker}-{n}"))
                                .json(&application());
                            probe("create", start, req).await
                        }
                        3 | 4 => {
                            let req = c.get(format!("{base}/v1/applications/{id}")).bearer_auth(&tok);
                            probe("read", start, req).await
                        }
                        5 => {
                            // the applicant's list: its first page is pipelined as the reads are
                            let req = c.get(format!("{base}/v1/applications?limit=20")).bearer_auth(&tok);
                            probe("list", start, req).await
                        }
                        6 | 7 => {
                            let req = c.post(format!("{base}/v1/oauth/token")).form(&[
                                ("grant_type", "password"),
                                ("username", "load@example.ch"),
                                ("password", PW),
                            ]);
                            probe("token", start, req).await
                        }
                        _ => {
                            let req = c.get(format!("{base}/v1/me")).bearer_auth(&off);
                            probe("disabled", start, req).await
                        }
                    };
                    seen.lock().unwrap().push(s);
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }));
        }
        let ready: Arc<Mutex<Vec<Seen>>> = Arc::default();
        {
            let (c, base, ready) = (c.clone(), base.clone(), ready.clone());
            tasks.push(tokio::spawn(async move {
                while start.elapsed() < stop_at {
                    let s = probe("ready", start, c.get(format!("{base}/health/ready"))).await;
                    ready.lock().unwrap().push(s);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        let down_from = start.elapsed();
        let cl = &cluster;
        tokio::task::block_in_place(|| cl.stop_server());
        let down = start.elapsed();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let up_from = start.elapsed();
        tokio::task::block_in_place(|| cl.start_server());
        let up = start.elapsed();
        for t in tasks {
            t.await.unwrap();
        }
        let seen = seen.lock().unwrap().clone();
        let ready = ready.lock().unwrap().clone();
        eprintln!(
            "outage: stopping {:?}..{:?}, down until {:?}..{:?}; {} answers",
            down_from,
            down,
            up_from,
            up,
            seen.len()
        );

        // no 500 ever, and every 5xx is a 503 with Retry-After
        let bad: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.status >= 500 && (s.status != 503 || !s.retry_after))
            .collect();
        assert!(bad.is_empty(), "5xx other than 503 + Retry-After: {}\n{}", some(&bad), server.log());
        // no answer missing: the server stays up
        let lost: Vec<&Seen> = seen.iter().filter(|s| s.status == 0).collect();
        assert!(lost.is_empty(), "requests without an answer: {}", some(&lost));
        // while the database is down, every answer comes within a second
        let during: Vec<&Seen> = seen.iter().filter(|s| s.sent >= down && s.sent < up_from).collect();
        assert!(during.len() > 100, "load during the outage: {}", during.len());
        let slow: Vec<&Seen> = during.iter().copied().filter(|s| s.took > Duration::from_secs(1)).collect();
        assert!(slow.is_empty(), "answers slower than 1 s during the outage: {}", some(&slow));
        for kind in ["create", "read", "list", "token"] {
            let unavailable = during.iter().filter(|s| s.kind == kind && s.status == 503).count();
            assert!(unavailable > 0, "{kind}: no 503 during the outage");
        }
        // the disabled account is refused throughout: before, during and after
        let admitted: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.kind == "disabled" && (200..300).contains(&s.status))
            .collect();
        assert!(admitted.is_empty(), "a disabled account's token was accepted: {}", some(&admitted));
        // recovery within 5 s of the database's return, without a restart
        let recovered_by = up + Duration::from_secs(5);
        for kind in ["create", "read", "list", "token", "disabled"] {
            let after: Vec<&Seen> = seen.iter().filter(|s| s.kind == kind && s.sent >= recovered_by).collect();
            assert!(!after.is_empty(), "{kind}: no requests after recovery");
            let expected = if kind == "disabled" { 401 } else { 0 };
            let failing: Vec<&&Seen> = after
                .iter()
                .filter(|s| {
                    if expected == 0 {
                        !(200..300).contains(&s.status)
                    } else {
                        s.status != expected
                    }
                })
                .collect();
            assert!(failing.is_empty(), "{kind}: not recovered 5 s after the database: {}", some(&failing));
        }
        let first_ok = |kind: &str| {
            seen.iter()
                .filter(|s| s.kind == kind && s.sent >= up && (200..300).contains(&s.status))
                .map(|s| s.sent + s.took)
                .min()
        };
        let ready_again = ready
            .iter()
            .filter(|s| s.sent >= up && s.status == 200)
            .map(|s| s.sent + s.took)
            .min()
            .expect("ready again");
        assert!(ready_again <= recovered_by, "ready again at {ready_again:?}");
        let max_503 = during.iter().map(|s| s.took).max().unwrap_or_default();
        eprintln!(
            "outage figures: {} answers during the outage, slowest {:?}; recovered after the database's return: create {:?}, read {:?}, list {:?}, token {:?}, ready {:?}",
            during.len(),
            max_503,
            first_ok("create").map(|t| t - up),
            first_ok("read").map(|t| t - up),
            first_ok("list").map(|t| t - up),
            first_ok("token").map(|t| t - up),
            ready_again - up,
        );
    });
}

/// Writers with their own Idempotency-Key per application; a failed request is retried with
/// its key until it is answered.
async fn keyed_writers(
    base: Arc<Mutex<String>>,
    tok: String,
    writers: usize,
    run_for: Duration,
) -> (HashMap<String, String>, Vec<String>) {
    let acknowledged: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (base, tok, ack, errors) = (base.clone(), tok.clone(), acknowledged.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut n = 0;
            while start.elapsed() < run_for {
                n += 1;
                let key = format!("writer-{w}-{n}");
                let deadline = Instant::now() + Duration::from_secs(90);
                loop {
                    assert!(Instant::now() < deadline, "{key} never acknowledged");
                    let url = format!("{}/v1/applications", base.lock().unwrap());
                    let res = c
                        .post(url)
                        .bearer_auth(&tok)
                        .header("idempotency-key", &key)
                        .json(&application())
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 201 => {
                            let body: Value = r.json().await.unwrap();
                            ack.lock()
                                .unwrap()
                                .insert(key.clone(), body["id"].as_str().unwrap().to_string());
                            break;
                        }
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let text = r.text().await.unwrap_or_default();
                            errors.lock().unwrap().push(format!("{key}: {s} {text}"));
                        }
                        Err(e) => errors.lock().unwrap().push(format!("{key}: {e}")),
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ack = acknowledged.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    (ack, errors)
}

/// Every acknowledged application is there once, whole: submitted, with its three history
/// entries and three events (created, submitted, billed) and its one bill; and there are no
/// others.
fn assert_whole(cluster: &Cluster, ack: &HashMap<String, String>, before: i64) {
    let ids: HashSet<&String> = ack.values().collect();
    assert_eq!(ids.len(), ack.len(), "two keys answered with one application");
    let total = cluster.query_i64("SELECT count(*) FROM applications");
    assert_eq!(
        total - before,
        ack.len() as i64,
        "applications in the database against acknowledged keys (a duplicate or a lost one)"
    );
    for id in &ids {
        let n = cluster.query_i64(&format!(
            "SELECT count(*) FROM applications WHERE id = '{id}' AND phase = 'submitted'"
        ));
        assert_eq!(n, 1, "application {id} missing or not submitted");
    }
    let half = cluster.query_i64(
        "SELECT count(*) FROM applications a WHERE (SELECT count(*) FROM application_history h WHERE h.application_id = a.id) <> 3 \
         OR (SELECT count(*) FROM events e WHERE e.subject_id = a.id::text) <> 3 \
         OR (SELECT count(*) FROM invoices i WHERE i.application_id = a.id) <> 1",
    );
    assert_eq!(half, 0, "applications without their history, events or bill");
    let open = cluster.query_i64("SELECT count(*) FROM idempotency_keys WHERE status IS NULL");
    assert_eq!(open, 0, "claims left without an answer");
}

/// SIGKILL under 16 writers, twice: every acknowledged application is there once, every
/// failed request retried with its key is answered, nothing is doubled or half-written.
#[test]
fn killed_under_load_every_acknowledged_write_is_there_once() {
    let Some(_one) = enabled() else {
        return;
    };
    let cluster = Cluster::start();
    let mut server = Server::start(&cluster.url(), cluster.dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = Arc::new(Mutex::new(server.url("")));
    let tok = rt.block_on(resident(&client(), &server.url(""), "writer@example.ch"));
    let before = cluster.query_i64("SELECT count(*) FROM applications");
    let load = rt.spawn(keyed_writers(base.clone(), tok, 16, Duration::from_secs(9)));
    for _ in 0..2 {
        std::thread::sleep(Duration::from_secs(3));
        server.kill();
        std::thread::sleep(Duration::from_millis(300));
        server.spawn();
    }
    let (ack, errors) = rt.block_on(load).unwrap();
    eprintln!(
        "kill: {} applications acknowledged, {} failed attempts retried (first: {:?})",
        ack.len(),
        errors.len(),
        errors.first()
    );
    assert!(ack.len() > 50, "too little load: {}", ack.len());
    assert!(!errors.is_empty(), "the kills interrupted nothing");
    let server_errors: Vec<&String> = errors.iter().filter(|e| e.contains(": 500 ")).collect();
    assert!(server_errors.is_empty(), "500s: {}", some(&server_errors));
    assert_whole(&cluster, &ack, before);
}

/// A request's key and its status, or why none came.
type Attempt = (String, Result<u16, String>);

/// SIGTERM under load: the requests in flight finish, the process exits cleanly, nothing
/// acknowledged is lost; new connections are refused once it stops listening.
#[test]
fn terminated_under_load_requests_in_flight_finish() {
    let Some(_one) = enabled() else {
        return;
    };
    let cluster = Cluster::start();
    let mut server = Server::start(&cluster.url(), cluster.dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tok = rt.block_on(resident(&client(), &server.url(""), "term@example.ch"));
    let before = cluster.query_i64("SELECT count(*) FROM applications");
    let seen: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let (base, tok, seen) = (server.url(""), tok.clone(), seen.clone());
        tasks.push(rt.spawn(async move {
            let c = client();
            let mut ids = Vec::new();
            for n in 0.. {
                if start.elapsed() > Duration::from_secs(6) {
                    break;
                }
                let key = format!("term-{w}-{n}");
                let res = c
                    .post(format!("{base}/v1/applications"))
                    .bearer_auth(&tok)
                    .header("idempotency-key", &key)
                    .json(&application())
                    .send()
                    .await;
                let at = key;
                match res {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        if s == 201 {
                            let body: Value = r.json().await.unwrap();
                            ids.push(body["id"].as_str().unwrap().to_string());
                        }
                        seen.lock().unwrap().push((at, Ok(s)));
                    }
                    Err(e) if e.is_connect() => {
                        // the listener is closed: nothing was sent
                        seen.lock().unwrap().push((at, Err("refused".into())));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => seen.lock().unwrap().push((at, Err(format!("{e:?}")))),
                }
            }
            ids
        }));
    }
    std::thread::sleep(Duration::from_secs(2));
    let term_at = start.elapsed();
    let status = server.terminate();
    let stopped_at = start.elapsed();
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(rt.block_on(t).unwrap());
    }
    let seen = seen.lock().unwrap().clone();
    let answered = seen.iter().filter(|(_, r)| r.is_ok()).count();
    // a request cut off without an answer must not have been processed: the server stopped
    // taking it (connections still in the listen queue are reset), it did not drop it
    // halfway; a key with a stored answer and no answer to the client would be that
    let cut: Vec<&String> = seen
        .iter()
        .filter(|(_, r)| matches!(r, Err(e) if e != "refused"))
        .map(|(k, _)| k)
        .collect();
    let broken: Vec<&&String> = cut
        .iter()
        .filter(|k| cluster.query_i64(&format!("SELECT count(*) FROM idempotency_keys WHERE key = '{k}'")) > 0)
        .collect();
    let failed: Vec<_> = seen.iter().filter(|(_, r)| matches!(r, Ok(s) if *s != 201)).collect();
    eprintln!(
        "sigterm at {term_at:?}, exited at {stopped_at:?} ({status}); {answered} answered, {} acknowledged, {} reset before the server took them",
        ids.len(),
        cut.len()
    );
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        broken.is_empty(),
        "requests processed but cut off by the shutdown: {}",
        some(&broken)
    );
    assert!(
        failed.is_empty(),
        "requests that failed during the shutdown: {}",
        some(&failed)
    );
    assert!(ids.len() > 20, "too little load: {}", ids.len());
    let ack: HashMap<String, String> = ids.iter().map(|i| (i.clone(), i.clone())).collect();
    assert_whole(&cluster, &ack, before);
}

/// An administrators' webhook endpoint registered through `base`: (id, secret).
async fn admin_endpoint(base: &str, admin: &str, url: &str) -> (String, String) {
    let res = client()
        .post(format!("{base}/v1/webhook-endpoints"))
        .bearer_auth(admin)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let ep: Value = res.json().await.unwrap();
    (
        ep["id"].as_str().unwrap().to_string(),
        ep["secret"].as_str().unwrap().to_string(),
    )
}

/// `n` applications created and submitted (two events each) by the residents, spread over
/// `bases`; their ids.
async fn applications(bases: Vec<String>, residents: Vec<String>, n: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for (w, tok) in residents.iter().enumerate() {
        let (bases, tok) = (bases.to_vec(), tok.clone());
        let per = n / residents.len(); // (n a multiple of their number)
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut ids = Vec::new();
            for i in 0..per {
                let base = &bases[(w + i) % bases.len()];
                let key = uuid::Uuid::now_v7().to_string();
                loop {
                    let res = c
                        .post(format!("{base}/v1/applications"))
                        .bearer_auth(&tok)
                        .header("idempotency-key", &key)
                        .json(&application())
                        .send()
                        .await;
                    if let Ok(r) = res {
                        if r.status() == 201 {
                            let body: Value = r.json().await.unwrap();
                            ids.push(body["id"].as_str().unwrap().to_string());
                            break;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Per application, the event positions in the order they first arrived: increasing.
fn assert_in_order(received: &[common::receiver::Received]) {
    let mut first: HashMap<String, Vec<i64>> = HashMap::new();
    let mut seen = HashSet::new();
    for r in received {
        if !seen.insert(r.id.clone()) {
            continue;
        }
        let body = r.json();
        let app = body["data"]["application"]["id"].as_str().unwrap().to_string();
        first
            .entry(app)
            .or_default()
            .push(body["data"]["position"].as_i64().unwrap());
    }
    for (app, positions) in first {
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{app}: events out of order: {positions:?}"
        );
    }
}

/// Two instances on one database deliver 1,500 events to a receiver on loopback: exactly once
/// each when nothing fails; and when one instance is SIGKILLed in the middle of the batch,
/// every event still arrives (at least once: the dead instance's leases run out and the other
/// sends those again), signed and in order per application.
#[test]
fn webhooks_survive_a_killed_instance_at_least_once_and_arrive_once_without() {
    let Some(_one) = enabled() else {
        return;
    };
    let cluster = Cluster::start();
    let env = [
        ("GUICHET_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
        ("GUICHET_WEBHOOK_DNS", "off"),
    ];
    let mut a = Server::start_named(&cluster.url(), cluster.dir.path(), "a", &env);
    let b = Server::start_named(&cluster.url(), cluster.dir.path(), "b", &env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rx = rt.block_on(common::receiver::Receiver::start());
    let creds: Value = serde_json::from_str(&a.cli(&[
        "client",
        "create",
        "--name",
        "ops",
        "--scopes",
        "admin webhooks:manage applications:read",
    ]))
    .unwrap();
    let admin: String = rt.block_on(async {
        let res = client()
            .post(a.url("/v1/oauth/token"))
            .basic_auth(creds["client_id"].as_str().unwrap(), creds["client_secret"].as_str())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    });
    let bases = vec![a.url(""), b.url("")];
    let residents: Vec<String> = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..10 {
            out.push(resident(&client(), &bases[i % 2], &format!("hook{i}@example.ch")).await);
        }
        out
    });
    let pending = |endpoint: &str| {
        cluster.query_i64(&format!(
            "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND state <> 'delivered'"
        ))
    };

    // without a fault: 1,500 events (500 residence confirmations: created, submitted and
    // billed), each delivered exactly once
    let events = 1500;
    let (one, secret) = rt.block_on(admin_endpoint(&bases[1], &admin, &rx.url("/one")));
    let ids = rt.block_on(applications(bases.clone(), residents.clone(), 500));
    let got = rt.block_on(rx.wait_for(60, |r| r.iter().filter(|x| x.path == "/one").count() >= events));
    let got: Vec<_> = got.into_iter().filter(|r| r.path == "/one").collect();
    let distinct: HashSet<&String> = got.iter().map(|r| &r.id).collect();
    if distinct.len() != events {
        for q in [
            "SELECT count(*) FROM events".to_string(),
            "SELECT count(*) FROM events WHERE position IS NULL".to_string(),
            format!("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{one}'"),
            format!("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{one}' AND state = 'pending'"),
            format!("SELECT count(*) FROM webhook_attempts WHERE endpoint_id = '{one}' AND outcome = 'failed'"),
            format!("SELECT position FROM webhook_endpoints WHERE id = '{one}'"),
            "SELECT max(position) FROM events".to_string(),
        ] {
            eprintln!("{q}: {}", cluster.query_i64(&q));
        }
    }
    assert_eq!(distinct.len(), events, "every event of {} applications", ids.len());
    std::thread::sleep(Duration::from_secs(2)); // a double would have come by now
    let again: Vec<_> = rx.received().into_iter().filter(|r| r.path == "/one").collect();
    assert_eq!(again.len(), events, "each exactly once");
    assert_eq!(pending(&one), 0);
    assert_in_order(&again);
    assert_eq!(
        common::receiver::verified_by_standardwebhooks(&again[..50], &[&secret]),
        [50]
    );
    let by_a = cluster.query_i64("SELECT count(*) FROM webhook_attempts");
    assert!(by_a >= events as i64);

    // SIGKILL in the middle: every event still arrives, in order per application
    // (the applications go through the instance that stays, both dispatch)
    let (two, _) = rt.block_on(admin_endpoint(&bases[1], &admin, &rx.url("/two")));
    let load = rt.spawn(applications(vec![bases[1].clone()], residents.clone(), 500));
    let started = Instant::now();
    while rx.received().iter().filter(|r| r.path == "/two").count() < 150 {
        assert!(started.elapsed() < Duration::from_secs(60), "deliveries did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    a.kill();
    let sent_when_killed = rx.received().iter().filter(|r| r.path == "/two").count();
    let ids2 = rt.block_on(load).unwrap();
    assert_eq!(ids2.len(), 500);
    // the killed instance's leases run out (30 s); the other sends what it held
    let got = rt.block_on(rx.wait_for(120, |r| {
        r.iter()
            .filter(|x| x.path == "/two")
            .map(|x| x.id.clone())
            .collect::<HashSet<_>>()
            .len()
            >= events
    }));
    let got: Vec<_> = got.into_iter().filter(|r| r.path == "/two").collect();
    let distinct: HashSet<&String> = got.iter().map(|r| &r.id).collect();
    eprintln!(
        "webhooks: {} deliveries when the instance was killed, {} in all for {} events ({} repeated)",
        sent_when_killed,
        got.len(),
        distinct.len(),
        got.len() - distinct.len()
    );
    assert_eq!(distinct.len(), events, "every event delivered at least once");
    assert_in_order(&got);
    let settled = Instant::now();
    while pending(&two) > 0 {
        assert!(settled.elapsed() < Duration::from_secs(60), "deliveries left pending");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(b);
}
