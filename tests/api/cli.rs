//! The command line, run as the real binary: configuration errors, migrate, import/export,
//! openapi, and graceful shutdown.

use std::process::{Command, Stdio};

use crate::common::TestDb;
use serde_json::Value;

fn guichet(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guichet"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("GUICHET_LOG", "warn");
    c
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_the_variable() {
    let db = TestDb::new();
    for (var, value) in [
        ("GUICHET_LISTEN", "not-an-address"),
        ("GUICHET_DB_POOL_SIZE", "-3"),
        ("DATABASE_URL", "mysql://x"),
    ] {
        let out = guichet(&db).env(var, value).arg("serve").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(var), "{err}");
    }
}

#[test]
fn import_is_an_idempotent_upsert_and_export_round_trips() {
    let db = TestDb::new();
    let out = guichet(&db)
        .arg("migrate")
        .env("GUICHET_SEED", "none")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/seed/thun-catalogue.json");
    let out = guichet(&db).args(["catalogue", "import", seed]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services_created"], 30);
    assert_eq!(report["departments_created"], 12);

    let out = guichet(&db).args(["catalogue", "import", seed]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services_unchanged"], 30);
    assert_eq!(report["services_created"], 0);
    assert_eq!(report["services_new_version"], 0);

    let out = guichet(&db).args(["catalogue", "export"]).output().unwrap();
    assert!(out.status.success());
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["format"], "guichet-catalogue/1");
    assert_eq!(exported["services"].as_array().unwrap().len(), 30);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let out = guichet(&db).args(["catalogue", "import"]).arg(&path).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["services_unchanged"], 30, "an export re-imports as no change");
}

#[test]
fn an_invalid_catalogue_file_is_refused_whole_with_pointers() {
    let db = TestDb::new();
    let mut file: Value = serde_json::from_str(guichet::catalogue::import::THUN_SEED).unwrap();
    file["services"][0]["slug"] = Value::from("Not A Slug");
    file["services"][1]["department"] = Value::from("nowhere");
    file["services"][2]["form"]["schema"]["properties"]["x"] =
        serde_json::json!({"type": "string", "format": "ahv-number"});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let out = guichet(&db)
        .env("GUICHET_SEED", "none")
        .args(["catalogue", "import"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/services/0/slug"), "{err}");
    assert!(err.contains("/services/1/department"), "{err}");
    assert!(err.contains("/services/2/form/schema/properties/x"), "{err}");
    // nothing was written
    let out = guichet(&db).args(["catalogue", "export"]).output().unwrap();
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["services"].as_array().unwrap().len(), 0);

    let out = guichet(&db)
        .args(["catalogue", "import", "/nonexistent.json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn openapi_prints_the_document() {
    let db = TestDb::new();
    let out = guichet(&db).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, serde_json::to_value(guichet::api::openapi()).unwrap());
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let db = TestDb::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = guichet(&db)
        .env("GUICHET_LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        // Ready means answering HTTP (and so having its signal handlers installed).
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let mut answer = String::new();
            let _ = stream.write_all(b"GET /health/ready HTTP/1.0\r\n\r\n");
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
                up = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "server did not start");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let s = exited.expect("exits within 10 s of SIGTERM");
    assert!(s.success(), "{s:?}");
}

/// A one-shot command ends with its answer and status 0 even while its connection pool is
/// still opening a connection in the background: the C library's exit handlers used to free
/// OpenSSL's tables under that thread (SIGSEGV or SIGABRT after the answer was printed, on a
/// busy machine). 128 runs, eight at a time beside a busy process per core: without the fix,
/// four runs of this test in six saw one die.
#[test]
fn one_shot_commands_end_cleanly_while_the_pool_still_connects() {
    let db = TestDb::new();
    let docs = tempfile::tempdir().unwrap();
    let out = guichet(&db).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // busy processes rather than threads of ours: they load the machine as CI's other jobs do
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut spinners: Vec<_> = (0..cores)
        .map(|_| Command::new("sh").args(["-c", "while :; do :; done"]).spawn().unwrap())
        .collect();
    scopeguard::defer! {
        for s in &mut spinners {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
    for _ in 0..16 {
        let runs: Vec<_> = (0..8)
            .map(|_| {
                guichet(&db)
                    .env("GUICHET_DOCUMENTS_DIR", docs.path())
                    .args(["retention", "run", "--dry-run"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{} {err}", out.status);
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["dry_run"], true);
        }
    }
}

#[tokio::test]
async fn several_instances_starting_at_once_on_an_empty_database_seed_it_once() {
    let db = TestDb::new();
    let url = db.url.clone();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { guichet::build(crate::common::config(&url, &[])).await.map(|a| a.port()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("every instance starts");
    }
    use diesel::prelude::*;
    let mut conn = guichet::db::establish(&url).unwrap();
    let n: i64 = guichet::db::schema::services::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(n, 30);
}

/// The partner path: an operator creates a verified organisation, its first owner and a client
/// for its systems in one call, and the client applies for the organisation at once; a client
/// that belongs to no organisation is told how to get one.
#[tokio::test]
async fn an_operator_creates_a_partner_that_can_apply_at_once() {
    use crate::common::{assert_problem, world, TestApp};
    let db = TestDb::prepared().await;
    let app = TestApp::spawn_on(db.share(), &[]).await;
    let (owner, _) = world::resident(&app, "owner@example.ch").await;
    let create = |uid: &str, extra: &[&str]| {
        let mut c = guichet(&db);
        c.args(["organisation", "create", "--uid", uid, "--name", "Muster Treuhand AG"])
            .args(extra);
        c.output().unwrap()
    };
    let out = create("CHE-116.281.710", &["--owner", "owner@example.ch"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let org = made["organisation"]["id"].as_str().unwrap().to_string();
    assert_eq!(made["organisation"]["status"], "verified");
    assert_eq!(made["client"]["scopes"], "applications:read applications:write");

    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .basic_auth(
            made["client"]["client_id"].as_str().unwrap(),
            made["client"]["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let partner = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let apply = |token: String, service: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/applications"))
                .bearer_auth(token)
                .json(&serde_json::json!({"service": service}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = apply(partner.clone(), "handwerkerparkkarte").await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<Value>().await.unwrap()["applicant"]["organisation"],
        org.as_str()
    );
    // the owner sees the organisation and can manage it
    let seen = app.get_json_as(&format!("/v1/organisations/{org}"), &owner).await;
    assert_eq!(seen["role"], "owner");

    // a client of no organisation is told what to do
    let orphan = world::client_token(&app, "applications:read applications:write", None).await;
    let p = assert_problem(apply(orphan, "handwerkerparkkarte").await, 403, "forbidden").await;
    assert!(
        p["detail"].as_str().unwrap().contains("guichet organisation create"),
        "{p}"
    );

    // the same UID again, an unknown owner, a bad UID: refused with the reason, nothing made
    for (uid, extra, reason) in [
        ("CHE-116.281.710", vec![], "exists already"),
        ("CHE-116.281.711", vec![], "uid: not a valid UID"),
        (
            "CHE-100.000.006",
            vec!["--owner", "nobody@example.ch"],
            "owner: no resident account",
        ),
    ] {
        let out = create(uid, &extra);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{err}");
    }
    let orgs: i64 = app.with_conn(|c| {
        use diesel::prelude::*;
        guichet::db::schema::organisations::table.count().get_result(c).unwrap()
    });
    assert_eq!(orgs, 1);
    app.stop().await;
}

/// The scheduling policy of each of the process's threads, by name (`/proc/PID/task/*/stat`'s
/// 41st field: 0 is SCHED_OTHER, 3 SCHED_BATCH).
#[cfg(target_os = "linux")]
fn thread_policies(pid: u32) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = task.unwrap().path();
        let (Ok(stat), Ok(name)) = (
            std::fs::read_to_string(dir.join("stat")),
            std::fs::read_to_string(dir.join("comm")),
        ) else {
            continue; // the thread ended meanwhile
        };
        // the fields after the name in parentheses start with the 3rd (state)
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let policy = after.split(' ').nth(41 - 3).unwrap().parse().unwrap();
        out.push((name.trim().to_string(), policy));
    }
    out
}

/// The HTTP workers run as SCHED_BATCH and the process's own other threads as normal ones;
/// `GUICHET_BATCH_SCHEDULING=off` leaves every thread normal, and a value other than on or off
/// stops start-up. (That the blocking pool's threads, which the workers start and which inherit
/// their policy, run our blocking work as normal threads is `sched`'s unit test.)
#[cfg(target_os = "linux")]
#[test]
fn the_http_workers_run_batched_and_the_other_threads_normal() {
    const BATCH: u32 = 3;
    let db = TestDb::new();
    let out = guichet(&db)
        .env("GUICHET_BATCH_SCHEDULING", "sometimes")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GUICHET_BATCH_SCHEDULING"));
    for (setting, policy) in [(None, BATCH), (Some("off"), 0)] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = guichet(&db);
        cmd.env("GUICHET_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUICHET_WORKERS", "2")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(v) = setting {
            cmd.env("GUICHET_BATCH_SCHEDULING", v);
        }
        let child = cmd.spawn().unwrap();
        let mut child = scopeguard::guard(child, |mut c| {
            let _ = c.kill();
            let _ = c.wait();
        });
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::new();
        let up = (0..200).any(|_| {
            let ok = http
                .get(format!("{base}/health/ready"))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            ok
        });
        assert!(up, "server did not start");
        // a sign-up (a password hashed and an account written on the blocking pool) served
        let r = http
            .post(format!("{base}/v1/accounts"))
            .json(&serde_json::json!({"email": "sched@example.ch", "password": "a password, long enough"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().unwrap_or_default());
        let threads = thread_policies(child.id());
        let workers: Vec<u32> = threads
            .iter()
            .filter(|(name, _)| name.starts_with("actix-rt"))
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(workers.len(), 2, "{threads:?}");
        assert!(workers.iter().all(|p| *p == policy), "{threads:?}");
        // the main thread, the pools' and the background runtime's (started before the
        // workers, not by them) are normal; the blocking pool's threads share the background
        // runtime's name, so they are told apart by `sched`'s unit test
        let others: Vec<&(String, u32)> = threads
            .iter()
            .filter(|(name, _)| !name.starts_with("actix-rt") && name != "tokio-rt-worker")
            .collect();
        assert!(!others.is_empty() && others.iter().all(|(_, p)| *p == 0), "{threads:?}");
        if setting == Some("off") {
            assert!(threads.iter().all(|(_, p)| *p == 0), "{threads:?}");
        }
        let _ = child.kill();
    }
}
