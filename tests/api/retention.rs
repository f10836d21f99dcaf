//! Retention: a closed application keeps its documents and personal data for its service
//! version's `retention_days`; then the retention run (daily on one instance, or `guichet
//! retention run`) deletes the bytes and anonymises the row, keeping the reference, service,
//! dates and phases. The clock is set past the retention by moving the application's dates
//! back, as if that many days had passed.
//!
//! The tests with "documents" in their name also run against moto's S3 server
//! (`scripts/test`).
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::world::World;
use crate::common::{assert_problem, eventually, store_settings, TestApp};
use crate::documents::upload_pdf;

/// `guichet retention run ARGS` against the test's database and document store.
fn retention_run(app: &TestApp, args: &[&str]) -> (bool, Value, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guichet"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db.url)
        .env("GUICHET_LOG", "warn")
        .envs(store_settings(&app.db.url))
        .args(["retention", "run"])
        .args(args);
    let out = c.output().unwrap();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        // a run that died of a signal prints nothing: say how it ended
        stderr.push_str(&format!(" ({})", out.status));
    }
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), report, stderr)
}

/// Moves the application's closure `days` back, as if that many days had passed since.
fn closed_days_ago(app: &TestApp, id: &str, days: i64) {
    app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::applications as a;
        use guichet::db::types::{SqlTime, SqlUuid};
        let row: (Option<SqlTime>, Option<SqlTime>) = a::table
            .filter(a::id.eq(SqlUuid(id.parse().unwrap())))
            .select((a::closed_at, a::retain_until))
            .first(c)
            .unwrap();
        let back = chrono::Duration::days(days);
        diesel::update(a::table.filter(a::id.eq(SqlUuid(id.parse().unwrap()))))
            .set((
                a::closed_at.eq(row.0.map(|t| SqlTime(t.0 - back))),
                a::retain_until.eq(row.1.map(|t| SqlTime(t.0 - back))),
            ))
            .execute(c)
            .unwrap();
    });
}

/// A residence confirmation (kept 730 days), submitted by resident A, with a message from
/// A, a document of the department, and completed with it as the decision: (id, reference,
/// tracking code).
async fn closed_with_documents(w: &World) -> (String, String, String) {
    let made = w.submitted(&w.a).await;
    let id = made["id"].as_str().unwrap().to_string();
    let path = format!("/v1/applications/{id}/messages");
    let res = w
        .call(
            Method::POST,
            &path,
            Some(&w.a),
            Some(json!({"body": "Ich brauche die Bestätigung für meine Arbeitgeberin, Anna Muster"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    w.moved(&id, &w.clerk, json!({"to": "in_review"})).await;
    let res = upload_pdf(w, &id, &w.clerk, 2_000).await;
    assert_eq!(res.status(), 201);
    let permit: Value = res.json().await.unwrap();
    w.moved(
        &id,
        &w.clerk,
        json!({"to": "completed", "public_comment": "Bestätigung für Frau Muster ausgestellt", "decision_documents": [permit["id"]]}),
    )
    .await;
    (
        id,
        made["reference"].as_str().unwrap().to_string(),
        made["tracking_code"].as_str().unwrap().to_string(),
    )
}

async fn stored_keys_of(app: &TestApp, id: &str) -> usize {
    let keys = app.documents.keys("").await.unwrap();
    keys.iter().filter(|k| k.contains(id)).count()
}

#[tokio::test]
async fn past_its_retention_an_application_loses_its_documents_and_personal_data() {
    let w = World::new().await;
    let (id, reference, code) = closed_with_documents(&w).await;
    let app_path = format!("/v1/applications/{id}");
    let closed = w.get_json(&app_path, &w.a).await;
    // the residence confirmation keeps closed applications 730 days, as its service says
    let service = w.get_json("/v1/services/wohnsitzbestaetigung", &w.a).await;
    assert_eq!(service["retention_days"], 730);
    let closed_at = chrono::DateTime::parse_from_rfc3339(closed["status_changed_at"].as_str().unwrap()).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(closed["retained_until"].as_str().unwrap()).unwrap();
    assert_eq!((until - closed_at).num_days(), 730, "{closed}");
    assert!(closed["anonymised_at"].is_null());
    assert_eq!(stored_keys_of(&w.app, &id).await, 1);

    // two others: one still open, one closed but not yet expired
    let open = w.submitted(&w.a).await;
    let open_id = open["id"].as_str().unwrap().to_string();
    let young = w.submitted(&w.b).await;
    let young_id = young["id"].as_str().unwrap().to_string();
    w.moved(
        &young_id,
        &w.clerk,
        json!({"to": "rejected", "public_comment": "Nicht zuständig"}),
    )
    .await;

    // 731 days later
    closed_days_ago(&w.app, &id, 731);
    closed_days_ago(&w.app, &young_id, 700);

    // a dry run lists it and changes nothing; as of a later day, the other one too
    let (ok, report, err) = retention_run(&w.app, &["--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(report["dry_run"], true);
    let listed: Vec<&str> = report["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["reference"].as_str())
        .collect();
    assert_eq!(listed, [reference.as_str()]);
    assert_eq!(report["applications"][0]["documents"], 1);
    assert_eq!(report["applications"][0]["service"], "wohnsitzbestaetigung");
    assert_eq!(w.get_json(&app_path, &w.a).await["data"]["last_name"], "Muster");
    let later = (chrono::Utc::now() + chrono::Duration::days(40)).to_rfc3339();
    let (ok, report, err) = retention_run(&w.app, &["--dry-run", "--as-of", &later]);
    assert!(ok, "{err}");
    assert_eq!(report["anonymised"], 2);
    let (ok, _, err) = retention_run(&w.app, &["--as-of", &later]);
    assert!(!ok && err.contains("--dry-run"), "--as-of is for dry runs only: {err}");

    // the mails sent so far (address confirmations) were sent 31 days ago
    let sent_any = || {
        w.app.with_conn(|c| {
            use diesel::prelude::*;
            use guichet::db::schema::mail_outbox as m;
            m::table
                .filter(m::sent_at.is_not_null())
                .count()
                .get_result::<i64>(c)
                .unwrap()
                > 0
        })
    };
    assert!(eventually(|| async { sent_any() }).await, "the outbox sends");
    let sent = w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::mail_outbox as m;
        use guichet::db::types::SqlTime;
        let long_ago = SqlTime(chrono::Utc::now() - chrono::Duration::days(31));
        diesel::update(m::table.filter(m::sent_at.is_not_null()))
            .set(m::sent_at.eq(long_ago))
            .execute(c)
            .unwrap()
    });
    assert!(sent > 0);

    // the run
    let (ok, report, err) = retention_run(&w.app, &[]);
    assert!(ok, "{err}");
    assert_eq!(report["mails"], sent, "sent mails are kept 30 days");
    assert_eq!(
        (
            &report["dry_run"],
            &report["anonymised"],
            &report["documents"],
            &report["messages"]
        ),
        (&json!(false), &json!(1), &json!(1), &json!(1)),
        "{report}"
    );
    // the bytes are gone from the store
    assert_eq!(stored_keys_of(&w.app, &id).await, 0);
    // the applicant no longer finds it; the department sees what is left
    let res = w.call(Method::GET, &app_path, Some(&w.a), None).await;
    assert_problem(res, 404, "not-found").await;
    let left = w.get_json(&app_path, &w.clerk).await;
    assert_eq!(left["data"], json!({}));
    assert_eq!(left["applicant"]["account"], Value::Null);
    assert_eq!(
        (left["reference"].as_str(), left["phase"].as_str()),
        (Some(reference.as_str()), Some("completed"))
    );
    assert!(left["anonymised_at"].is_string() && left["submitted_at"].is_string());
    let documents = w.get_json(&format!("{app_path}/documents"), &w.clerk).await;
    assert_eq!(documents["data"], json!([]));
    let thread = w.get_json(&format!("{app_path}/messages"), &w.clerk).await;
    assert_eq!(thread["data"], json!([]));
    let history = w.get_json(&format!("{app_path}/history"), &w.clerk).await;
    let moves: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["to_phase"].as_str())
        .collect();
    assert!(
        moves.contains(&"in_review") && moves.contains(&"completed"),
        "{history}"
    );
    for text in [left.to_string(), history.to_string()] {
        assert!(!text.contains("Muster") && !text.contains("Anna"), "{text}");
    }
    // the public tracking page shows the phase and nothing of the way there
    let tracking = w.app.get(&format!("/v1/status/{reference}?code={code}&lang=en")).await;
    assert_eq!(tracking.status(), 200);
    let tracking: Value = tracking.json().await.unwrap();
    assert_eq!(
        (tracking["phase"].as_str(), tracking["step"]["key"].as_str()),
        (Some("completed"), Some("completed"))
    );
    assert_eq!(tracking["timeline"], json!([]));
    // nothing can be added to it any more
    let res = upload_pdf(&w, &id, &w.clerk, 100).await;
    assert_problem(res, 409, "conflict").await;
    let res = w
        .call(
            Method::POST,
            &format!("{app_path}/messages"),
            Some(&w.clerk),
            Some(json!({"body": "Nachtrag"})),
        )
        .await;
    assert_problem(res, 409, "conflict").await;

    // the others are untouched
    assert_eq!(
        w.get_json(&format!("/v1/applications/{open_id}"), &w.a).await["data"]["last_name"],
        "Muster"
    );
    assert_eq!(
        w.get_json(&format!("/v1/applications/{young_id}"), &w.b).await["data"]["last_name"],
        "Muster"
    );
    // the run is in the audit log, naming what went
    let audit = w.get_json("/v1/audit-events?action=retention.run", &w.admin).await;
    let runs = audit["data"].as_array().unwrap();
    let by_hand = runs.iter().find(|r| r["actor_kind"] == "operator").expect("the run");
    assert_eq!(by_hand["details"]["anonymised"], 1);
    assert_eq!(by_hand["details"]["references"], json!([reference]));
    // and a second run finds nothing more
    let (ok, report, err) = retention_run(&w.app, &[]);
    assert!(ok, "{err}");
    assert_eq!(report["anonymised"], 0);
}

/// Every instance looks every ten minutes whether the daily run is due; one takes the job's
/// lease and runs it. A lease left by a process that died runs out and is taken over; while a
/// live one holds it, a run by hand is refused.
#[tokio::test]
async fn the_daily_run_deletes_documents_on_one_instance_and_survives_a_dead_holder() {
    let w = World::new().await;
    let (id, _, _) = closed_with_documents(&w).await;
    closed_days_ago(&w.app, &id, 731);
    let set_job = |next: i64, lease: Option<(i64, &str)>| {
        w.app.with_conn(|c| {
            use diesel::prelude::*;
            use guichet::db::schema::jobs as j;
            use guichet::db::types::SqlTime;
            let at = |mins: i64| SqlTime(chrono::Utc::now() + chrono::Duration::minutes(mins));
            diesel::update(j::table.filter(j::name.eq("retention")))
                .set((
                    j::next_run_at.eq(at(next)),
                    j::lease_until.eq(lease.map(|l| at(l.0))),
                    j::lease_owner.eq(lease.map(|l| l.1.to_string())),
                ))
                .execute(c)
                .unwrap();
        })
    };
    // a live holder (its lease runs another 20 minutes): no run by hand, and nothing happens
    set_job(-1, Some((20, "another-instance")));
    let (ok, _, err) = retention_run(&w.app, &[]);
    assert!(!ok && err.contains("in progress"), "{err}");
    let (ok, report, err) = retention_run(&w.app, &["--dry-run"]);
    assert!(ok && report["anonymised"] == 1, "a dry run needs no lease: {err}");

    // the holder died a while ago: its lease ran out; the next instance to look takes over
    set_job(-1, Some((-5, "dead-instance")));
    let _other = TestApp::spawn_on(w.app.db.share(), &[]).await;
    let app_path = format!("/v1/applications/{id}");
    let anonymised = eventually(|| async { w.get_json(&app_path, &w.clerk).await["anonymised_at"].is_string() }).await;
    assert!(anonymised, "the due run anonymised it");
    assert_eq!(stored_keys_of(&w.app, &id).await, 0);
    let job = || {
        w.app.with_conn(|c| {
            use diesel::prelude::*;
            use guichet::db::schema::jobs as j;
            use guichet::db::types::SqlTime;
            j::table
                .filter(j::name.eq("retention"))
                .select((j::next_run_at, j::lease_owner, j::last_run_at))
                .first::<(SqlTime, Option<String>, Option<SqlTime>)>(c)
                .unwrap()
        })
    };
    // the run goes on after the anonymisation (old mails, the audit entry) before it gives
    // the lease back
    let given_back = eventually(|| async {
        let (_, lease, last) = job();
        lease.is_none() && last.is_some()
    })
    .await;
    assert!(given_back, "the lease is given back");
    let (next, _, _) = job();
    let hours = (next.0 - chrono::Utc::now()).num_hours();
    assert!((23..=24).contains(&hours), "next due in a day: {hours} h");
    let audit = w.get_json("/v1/audit-events?action=retention.run", &w.admin).await;
    let system: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor_kind"] == "system" && r["details"]["anonymised"] == 1)
        .collect();
    assert_eq!(system.len(), 1, "{audit}");
}

/// The bytes go first, then the records: when the store fails to delete a document, the
/// application keeps its records (nothing points at nothing), the run says why and is
/// recorded as failed, and the next run finishes the work.
#[tokio::test]
async fn a_store_that_fails_leaves_the_application_whole_for_the_next_run() {
    if crate::common::s3::enabled() {
        return; // the failure is made on the local directory
    }
    let w = World::new().await;
    let (id, reference, _) = closed_with_documents(&w).await;
    closed_days_ago(&w.app, &id, 731);
    // the document's file becomes a directory with something in it: it cannot be deleted
    let dir = crate::common::documents_dir(&w.app.db.url);
    let key = w
        .app
        .documents
        .keys("")
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.contains(&id))
        .unwrap();
    let file = dir.join(&key);
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir_all(file.join("blocker")).unwrap();

    let (ok, _, err) = retention_run(&w.app, &[]);
    assert!(!ok && err.contains("deleting"), "{err}");
    let app_path = format!("/v1/applications/{id}");
    let whole = w.get_json(&app_path, &w.a).await;
    assert!(whole["anonymised_at"].is_null());
    assert_eq!(whole["data"]["last_name"], "Muster");
    let audit = w
        .get_json("/v1/audit-events?action=retention.run&outcome=failure", &w.admin)
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    std::fs::remove_dir_all(&file).unwrap();
    let (ok, report, err) = retention_run(&w.app, &[]);
    assert!(ok, "{err}");
    assert_eq!(report["applications"][0]["reference"], reference.as_str());
    assert!(w.get_json(&app_path, &w.clerk).await["anonymised_at"].is_string());
}

/// A catalogue's retention_days is checked (30 days to 100 years).
#[tokio::test]
async fn retention_days_out_of_range_are_refused() {
    let w = World::new().await;
    let mut service = crate::common::world::stepped_service();
    service["content"]["retention_days"] = json!(10);
    let res = w
        .call(Method::POST, "/v1/services", Some(&w.clerk), Some(service))
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"].as_str().unwrap_or("").ends_with("/retention_days")),
        "{p}"
    );
}
