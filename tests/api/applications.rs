//! Applications over HTTP: lifecycle, validation on submission, who sees and moves what,
//! public tracking, idempotent retries and concurrent changes.

use crate::common::world::{
    client_token, etag, publish, stepped_service, valid_data, with_firm_service, World, FIRM_SERVICE,
};
use crate::common::{assert_problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn an_application_from_draft_to_decision() {
    let w = World::new().await;
    // a draft with incomplete data
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung", "data": {"last_name": "Muster", "copies": 0}})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let tag = etag(&res);
    let app: Value = res.json().await.unwrap();
    let id = app["id"].as_str().unwrap().to_string();
    assert!(location.ends_with(&format!("/v1/applications/{id}")));
    assert_eq!(app["phase"], "draft");
    assert_eq!(app["reference"], Value::Null);
    assert_eq!(app["service"]["slug"], "wohnsitzbestaetigung");
    assert_eq!(app["department"]["slug"], "einwohnerdienste");
    assert_eq!(app["allowed_moves"], json!(["submitted"]));

    // submitting reports every error at once, each at its field
    let res = w
        .act(Method::POST, &format!("/v1/applications/{id}/submit"), Some(&w.a), None)
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for expected in [
        "/data/first_name",
        "/data/birth_date",
        "/data/address",
        "/data/copies",
        "/data/email",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }
    // nothing changed
    let still: Value = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.a), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["phase"], "draft");

    // PATCH needs If-Match, merges, and a stale ETag is refused
    let path = format!("/v1/applications/{id}");
    let res = w
        .call(Method::PATCH, &path, Some(&w.a), Some(json!({"data": valid_data()})))
        .await;
    assert_problem(res, 428, "precondition-required").await;
    let res = w
        .app
        .client
        .patch(w.app.url(&path))
        .bearer_auth(&w.a)
        .header("if-match", &tag)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"data": valid_data()}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["data"]["first_name"], "Anna");
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.a),
            Some(json!({"data": {"copies": 2}})),
            Some(&tag),
        )
        .await;
    assert_problem(res, 412, "precondition-failed").await;

    // submit: reference, tracking code, due date; phone stored as E.164
    let res = w.act(Method::POST, &format!("{path}/submit"), Some(&w.a), None).await;
    assert_eq!(res.status(), 200);
    let sub: Value = res.json().await.unwrap();
    assert_eq!(sub["phase"], "submitted");
    let reference = sub["reference"].as_str().unwrap().to_string();
    assert!(
        reference.starts_with("THU-") && reference.len() == "THU-2026-7Q4KM2XD-J".len(),
        "{reference}"
    );
    let code = sub["tracking_code"].as_str().unwrap().to_string();
    assert!(sub["due_at"].is_string());
    assert_eq!(sub["data"]["phone"], "+41332258498");
    assert_eq!(sub["allowed_moves"], json!(["withdrawn"]));

    // the clerk sees it without the tracking code, and moves it on
    let res = w.call(Method::GET, &path, Some(&w.clerk), None).await;
    let tag = etag(&res);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["tracking_code"], Value::Null);
    assert_eq!(seen["allowed_moves"], json!(["in_review", "rejected"]));
    let t = format!("{path}/transitions");
    // illegal move: 409 listing the allowed ones
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "approved"})),
            Some(&tag),
        )
        .await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("in_review, rejected"), "{p}");
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "in_review", "internal_note": "looks fine"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tag = etag(&res);
    // asking the applicant for something needs a message
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "action_required"})),
            Some(&tag),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/public_comment");
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "action_required", "public_comment": "Bitte Anzahl Kopien bestätigen"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    // the applicant reads what is asked in the application itself, not only in its history
    let res = w.call(Method::GET, &path, Some(&w.a), None).await;
    let tag = etag(&res);
    let asked: Value = res.json().await.unwrap();
    assert_eq!(asked["public_comment"]["text"], "Bitte Anzahl Kopien bestätigen");
    assert!(asked["public_comment"]["at"].is_string());
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.a),
            Some(json!({"data": {"copies": 2}})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w.act(Method::POST, &format!("{path}/submit"), Some(&w.a), None).await;
    assert_eq!(res.status(), 200);
    let back: Value = res.json().await.unwrap();
    assert_eq!(back["phase"], "in_review");
    assert_eq!(back["reference"], reference.as_str(), "the reference stays");
    assert_eq!(
        back["public_comment"]["text"], "Bitte Anzahl Kopien bestätigen",
        "until the next one"
    );
    // decision
    let res = w.call(Method::GET, &path, Some(&w.clerk), None).await;
    let tag = etag(&res);
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "approved"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tag = etag(&res);
    let res = w
        .send(
            Method::POST,
            &t,
            Some(&w.clerk),
            Some(json!({"to": "completed"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["phase"], "completed");
    assert_eq!(done["due_at"], Value::Null);
    assert_eq!(done["allowed_moves"], json!([]));

    // history: the applicant sees public comments only, staff the internal notes too
    let mine: Value = w
        .call(Method::GET, &format!("{path}/history"), Some(&w.a), None)
        .await
        .json()
        .await
        .unwrap();
    let staff: Value = w
        .call(Method::GET, &format!("{path}/history"), Some(&w.clerk), None)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "data_changed",
            "submitted",
            // the residence confirmation is billed on submission
            "invoice_issued",
            "status_changed",
            "status_changed",
            // asking for action opens the thread with the public comment
            "message_posted",
            "data_changed",
            "status_changed",
            "status_changed",
            "status_changed"
        ]
    );
    assert!(mine.to_string().contains("Bitte Anzahl Kopien"));
    assert!(!mine.to_string().contains("looks fine"));
    assert!(staff.to_string().contains("looks fine"));
    assert!(mine["data"][0].get("actor_id").is_none() && staff["data"][0]["actor_id"].is_string());

    // public tracking: reference + code, no personal data; same 404 otherwise
    let res = w
        .app
        .client
        .get(w.app.url(&format!("/v1/status/{reference}")))
        .header("x-tracking-code", &code)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let track: Value = res.json().await.unwrap();
    assert_eq!(track["phase"], "completed");
    assert_eq!(track["service"], "Wohnsitzbestätigung bestellen");
    let text = track.to_string();
    assert!(
        !text.contains("Muster") && !text.contains("anna@") && !text.contains(&id),
        "{text}"
    );
    let ok = w
        .app
        .get(&format!(
            "/v1/status/{}?code={}&lang=en",
            reference.to_lowercase(),
            code
        ))
        .await;
    assert_eq!(ok.status(), 200);
    let en: Value = ok.json().await.unwrap();
    assert_eq!(en["step"]["label"], "Completed");
    let wrong = w.app.get(&format!("/v1/status/{reference}?code=AAAA-BBBB-CCCC")).await;
    let p1 = assert_problem(wrong, 404, "not-found").await;
    let unknown = w.app.get(&format!("/v1/status/THU-2026-00000001-1?code={code}")).await;
    let p2 = assert_problem(unknown, 404, "not-found").await;
    assert_eq!(p1["detail"], p2["detail"]);
    // no code at all is not a wrong code: a 400 that says what to send
    let none = assert_problem(w.app.get(&format!("/v1/status/{reference}")).await, 400, "bad-request").await;
    assert!(none["detail"].as_str().unwrap().contains("X-Tracking-Code"), "{none}");
    let empty = w.app.get(&format!("/v1/status/{reference}?code=")).await;
    assert_problem(empty, 400, "bad-request").await;

    // records: one event per change, numbered in order, and audit entries
    let (events, audits) = w.app.with_conn(|c| {
        use diesel::prelude::*;
        let events: Vec<(Option<i64>, String)> = guichet::db::schema::events::table
            .filter(guichet::db::schema::events::subject_id.eq(&id))
            // the sequencer's order: events of one change share their time
            .order((
                guichet::db::schema::events::occurred_at,
                guichet::db::schema::events::id,
            ))
            .select((
                guichet::db::schema::events::position,
                guichet::db::schema::events::type_,
            ))
            .load(c)
            .unwrap();
        let audits: i64 = guichet::db::schema::audit_events::table
            .filter(guichet::db::schema::audit_events::target_id.eq(&id))
            .count()
            .get_result(c)
            .unwrap();
        (events, audits)
    });
    let types: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "application.status_changed").count(),
        5,
        "{types:?}"
    );
    assert!(types.contains(&"application.created") && types.contains(&"application.submitted"));
    assert!(types.contains(&"application.message_posted"));
    assert!(types.contains(&"application.invoice_issued"));
    assert_eq!(audits, 11);
    // every event gets its feed position, in the order the changes committed
    let numbered = w.events_in_feed(&id).await;
    let in_feed: Vec<&str> = numbered.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(in_feed, types, "feed order is the order of the changes");
    assert!(numbered.windows(2).all(|p| p[0].0 < p[1].0));
    // on PostgreSQL the events table is vacuumed after a few thousand changes, not a fifth of
    // the table: every numbered event leaves a dead entry in the sequencer's partial index
    if crate::common::backend() == "postgres" {
        let options: Vec<String> = w.app.with_conn(|c| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Opt {
                #[diesel(sql_type = diesel::sql_types::Text)]
                opt: String,
            }
            diesel::sql_query("SELECT unnest(reloptions) AS opt FROM pg_class WHERE relname = 'events'")
                .load::<Opt>(c)
                .unwrap()
                .into_iter()
                .map(|o| o.opt)
                .collect()
        });
        assert!(
            options.contains(&"autovacuum_vacuum_threshold=5000".to_string()),
            "{options:?}"
        );
        assert!(
            options.contains(&"autovacuum_vacuum_scale_factor=0.0".to_string()),
            "{options:?}"
        );
    }
}

#[tokio::test]
async fn create_and_submit_is_atomic_and_retry_safe() {
    let w = with_firm_service().await;
    let count = |w: &World| {
        w.app.with_conn(|c| {
            use diesel::prelude::*;
            guichet::db::schema::applications::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    // invalid data with submit: nothing is created
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.partner),
            Some(json!({"service": FIRM_SERVICE, "data": {}, "submit": true})),
        )
        .await;
    assert_problem(res, 422, "validation-failed").await;
    assert_eq!(count(&w), 0);

    let body = json!({"service": FIRM_SERVICE, "data": valid_data(), "submit": true});
    let post = |key: &'static str, body: Value| {
        w.app
            .client
            .post(w.app.url("/v1/applications"))
            .bearer_auth(&w.partner)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = post("k-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["phase"], "submitted");
    assert_eq!(first["applicant"]["organisation"], w.org_y.as_str());
    let again = post("k-1", body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(count(&w), 1);
    // same key, other body
    let mut other = body.clone();
    other["data"]["copies"] = json!(3);
    assert_problem(post("k-1", other).await.unwrap(), 422, "idempotency-key-reused").await;
    // 4xx answers are kept too
    let bad = json!({"service": "no-such-service"});
    assert_problem(post("k-2", bad.clone()).await.unwrap(), 422, "validation-failed").await;
    let replay = post("k-2", bad).await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.status(), 422);
    assert_eq!(count(&w), 1);
    // a key belongs to its caller: resident A using the same key creates its own
    let res = w
        .app
        .client
        .post(w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(count(&w), 2);
    let bad_key = w
        .app
        .client
        .post(w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .header("idempotency-key", "")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(bad_key, 400, "invalid-parameter").await;
}

#[tokio::test]
async fn the_work_queue_filters_sorts_and_pages() {
    let w = World::new().await;
    for i in 0..5 {
        let mut data = valid_data();
        data["copies"] = json!(i + 1);
        let res = w
            .call(
                Method::POST,
                "/v1/applications",
                Some(&w.a),
                Some(json!({"service": "wohnsitzbestaetigung", "data": data, "submit": i < 4})),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    // the clerk's queue: submitted ones only, oldest first, in pages
    let page: Value = w
        .call(
            Method::GET,
            "/v1/applications?sort=submitted_at&limit=3&phase=submitted",
            Some(&w.clerk),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    let first_id = page["data"][0]["id"].as_str().unwrap().to_string();
    let copies: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["data"]["copies"].as_i64().unwrap())
        .collect();
    assert_eq!(copies, [1, 2, 3]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = w
        .call(
            Method::GET,
            &format!("/v1/applications?sort=submitted_at&limit=3&phase=submitted&cursor={cursor}"),
            Some(&w.clerk),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["next_cursor"], Value::Null);
    // the other department's clerk sees none; the applicant sees all five, newest first
    let other: Value = w
        .call(Method::GET, "/v1/applications", Some(&w.other_clerk), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["data"], json!([]));
    let mine: Value = w
        .call(Method::GET, "/v1/applications", Some(&w.a), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["data"].as_array().unwrap().len(), 5);
    assert_eq!(mine["data"][0]["phase"], "draft");
    // assignment and the assignee filter
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{first_id}/assignment"),
            Some(&w.clerk),
            Some(json!({"assignee": w.clerk_id})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let assigned: Value = res.json().await.unwrap();
    assert_eq!(assigned["assignee"], w.clerk_id.as_str());
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{first_id}/assignment"),
            Some(&w.clerk),
            Some(json!({"assignee": uuid::Uuid::now_v7()})),
        )
        .await;
    assert_problem(res, 422, "validation-failed").await;
    let mine: Value = w
        .call(Method::GET, "/v1/applications?assignee=me", Some(&w.clerk), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let none: Value = w
        .call(
            Method::GET,
            "/v1/applications?assignee=none&phase=submitted",
            Some(&w.clerk),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["data"].as_array().unwrap().len(), 3);
    // overdue and due-date order (none is overdue yet), filters checked
    let overdue: Value = w
        .call(
            Method::GET,
            "/v1/applications?overdue=true&sort=due_at",
            Some(&w.clerk),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["data"], json!([]));
    for bad in [
        "phase=done",
        "sort=name",
        "overdue=maybe",
        "submitted_after=yesterday",
        "service=nope",
        "colour=red",
    ] {
        let res = w
            .call(Method::GET, &format!("/v1/applications?{bad}"), Some(&w.clerk), None)
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn who_sees_and_changes_what() {
    let w = with_firm_service().await;
    async fn create(w: &World, token: &str, body: Value) -> reqwest::Response {
        w.call(Method::POST, "/v1/applications", Some(token), Some(body)).await
    }
    let svc = FIRM_SERVICE;
    let a_draft: Value = create(&w, &w.a, json!({"service": svc})).await.json().await.unwrap();
    let a_sub: Value = create(&w, &w.a, json!({"service": svc, "data": valid_data(), "submit": true}))
        .await
        .json()
        .await
        .unwrap();
    let x_sub: Value = create(
        &w,
        &w.member,
        json!({"service": svc, "data": valid_data(), "submit": true, "applicant": {"organisation": w.org_x}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let y_sub: Value = create(
        &w,
        &w.partner,
        json!({"service": svc, "data": valid_data(), "submit": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    // applying for someone else's organisation
    let res = create(
        &w,
        &w.a,
        json!({"service": svc, "applicant": {"organisation": w.org_x}}),
    )
    .await;
    assert_problem(res, 403, "forbidden").await;
    let res = create(
        &w,
        &w.partner,
        json!({"service": svc, "applicant": {"organisation": w.org_x}}),
    )
    .await;
    assert_problem(res, 403, "forbidden").await;
    // staff and anonymous callers do not apply; external services are not applied for here
    assert_problem(create(&w, &w.clerk, json!({"service": svc})).await, 403, "forbidden").await;
    let res = w
        .call(Method::POST, "/v1/applications", None, Some(json!({"service": svc})))
        .await;
    assert_problem(res, 401, "unauthorized").await;

    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let apps = [
        ("a_draft", id(&a_draft)),
        ("a_sub", id(&a_sub)),
        ("x_sub", id(&x_sub)),
        ("y_sub", id(&y_sub)),
    ];
    // who reads which (200) — everyone else gets 404
    let readers: [(&str, &str, [bool; 4]); 7] = [
        ("a", &w.a, [true, true, false, false]),
        ("b", &w.b, [false, false, false, false]),
        ("member", &w.member, [false, false, true, false]),
        ("partner", &w.partner, [false, false, false, true]),
        ("clerk", &w.clerk, [false, true, true, true]),
        ("other clerk", &w.other_clerk, [false, false, false, false]),
        ("admin", &w.admin, [false, true, true, true]),
    ];
    for (name, token, sees) in readers {
        for ((label, app_id), expect) in apps.iter().zip(sees) {
            for suffix in ["", "/history"] {
                let res = w
                    .call(
                        Method::GET,
                        &format!("/v1/applications/{app_id}{suffix}"),
                        Some(token),
                        None,
                    )
                    .await;
                let want = if expect { 200 } else { 404 };
                assert_eq!(res.status().as_u16(), want, "{name} GET {label}{suffix}");
            }
        }
        let list: Value = w
            .call(Method::GET, "/v1/applications", Some(token), None)
            .await
            .json()
            .await
            .unwrap();
        let listed: Vec<String> = list["data"].as_array().unwrap().iter().map(id).collect();
        for ((label, app_id), expect) in apps.iter().zip(sees) {
            assert_eq!(listed.contains(app_id), expect, "{name} lists {label}");
        }
    }
    for suffix in ["", "/history"] {
        let res = w
            .call(
                Method::GET,
                &format!("/v1/applications/{}{suffix}", apps[1].1),
                None,
                None,
            )
            .await;
        assert_problem(res, 401, "unauthorized").await;
    }

    // changes: (caller, method, path suffix, body, application, expected status)
    let stale = "\"r999-0\"";
    let cases: Vec<(&str, &str, Method, &str, Value, usize, u16)> = vec![
        // a resident cannot touch another's application: not found
        ("b", &w.b, Method::PATCH, "", json!({"data": {}}), 0, 404),
        ("b", &w.b, Method::POST, "/submit", json!({}), 0, 404),
        ("b", &w.b, Method::POST, "/withdraw", json!({}), 1, 404),
        ("b", &w.b, Method::DELETE, "", json!({}), 0, 404),
        (
            "other clerk",
            &w.other_clerk,
            Method::POST,
            "/transitions",
            json!({"to": "in_review"}),
            1,
            404,
        ),
        (
            "other clerk",
            &w.other_clerk,
            Method::POST,
            "/assignment",
            json!({"assignee": null}),
            1,
            404,
        ),
        ("partner", &w.partner, Method::POST, "/withdraw", json!({}), 2, 404),
        ("member", &w.member, Method::POST, "/withdraw", json!({}), 3, 404),
        // clerks see drafts of nobody
        ("clerk", &w.clerk, Method::POST, "/submit", json!({}), 0, 404),
        // visible, but not theirs to do: 403
        ("clerk", &w.clerk, Method::POST, "/withdraw", json!({}), 1, 403),
        ("clerk", &w.clerk, Method::PATCH, "", json!({"data": {}}), 1, 403),
        (
            "a",
            &w.a,
            Method::POST,
            "/assignment",
            json!({"assignee": null}),
            1,
            403,
        ),
        (
            "a",
            &w.a,
            Method::POST,
            "/transitions",
            json!({"to": "in_review"}),
            1,
            412,
        ),
        ("admin", &w.admin, Method::POST, "/withdraw", json!({}), 2, 403),
        // allowed callers reach the revision check with a stale ETag: 412
        (
            "clerk",
            &w.clerk,
            Method::POST,
            "/transitions",
            json!({"to": "in_review"}),
            2,
            412,
        ),
        (
            "admin",
            &w.admin,
            Method::POST,
            "/transitions",
            json!({"to": "in_review"}),
            3,
            412,
        ),
        (
            "member",
            &w.member,
            Method::POST,
            "/transitions",
            json!({"to": "withdrawn"}),
            2,
            412,
        ),
        (
            "partner",
            &w.partner,
            Method::POST,
            "/transitions",
            json!({"to": "withdrawn"}),
            3,
            412,
        ),
        ("a", &w.a, Method::PATCH, "", json!({"data": {}}), 0, 412),
        ("a", &w.a, Method::DELETE, "", json!({}), 0, 412),
    ];
    for (name, token, m, suffix, body, which, want) in cases {
        let path = format!("/v1/applications/{}{suffix}", apps[which].1);
        let body = if m == Method::DELETE { None } else { Some(body) };
        let res = w.send(m.clone(), &path, Some(token), body, Some(stale)).await;
        assert_eq!(res.status().as_u16(), want, "{name} {m} {}{suffix}", apps[which].0);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    // a token without applications scopes: 403 before any lookup, known or unknown id
    let catalogue_only = client_token(&w.app, "catalogue:read", None).await;
    for app_id in [apps[1].1.clone(), uuid::Uuid::now_v7().to_string()] {
        let res = w
            .call(
                Method::GET,
                &format!("/v1/applications/{app_id}"),
                Some(&catalogue_only),
                None,
            )
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
    // none of the refused calls changed anything
    let revs: Vec<i64> = w.app.with_conn(|c| {
        use diesel::prelude::*;
        guichet::db::schema::applications::table
            .order(guichet::db::schema::applications::created_at)
            .select(guichet::db::schema::applications::revision)
            .load(c)
            .unwrap()
    });
    assert_eq!(revs, [1, 2, 2, 2]);
    // every change of an application needs the ETag the client read: without If-Match, 428,
    // and nothing changes
    for (token, m, suffix, app) in [
        (&w.a, Method::DELETE, "", 0),
        (&w.a, Method::POST, "/submit", 0),
        (&w.member, Method::POST, "/withdraw", 2),
        (&w.clerk, Method::POST, "/assignment", 1),
    ] {
        let path = format!("/v1/applications/{}{suffix}", apps[app].1);
        let body = (suffix == "/assignment").then(|| json!({"assignee": null}));
        let p = assert_problem(w.call(m, &path, Some(token), body).await, 428, "precondition-required").await;
        assert!(p["detail"].is_string(), "{path}: {p}");
    }
    // and the allowed ones work: the member withdraws X's, the applicant deletes the draft
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{}/withdraw", apps[2].1),
            Some(&w.member),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w
        .act(
            Method::DELETE,
            &format!("/v1/applications/{}", apps[0].1),
            Some(&w.a),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = w
        .act(
            Method::DELETE,
            &format!("/v1/applications/{}", apps[1].1),
            Some(&w.a),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}

#[tokio::test]
async fn concurrent_changes_across_two_instances() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.db.share(), &[]).await;
    let w = World::on(first).await;
    let created: Value = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true})),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let res = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.clerk), None)
        .await;
    let tag = etag(&res);
    // 50 transitions with the same If-Match, split across the instances: one wins
    let mut tasks = Vec::new();
    for i in 0..50 {
        let base = if i % 2 == 0 {
            w.app.address.clone()
        } else {
            second.address.clone()
        };
        let (client, token, tag, id) = (w.app.client.clone(), w.clerk.clone(), tag.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}/v1/applications/{id}/transitions"))
                .bearer_auth(token)
                .header("if-match", tag)
                .json(&json!({"to": "in_review"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 412).count(), 49, "{codes:?}");

    // 50 POSTs with one Idempotency-Key: one application
    let mut tasks = Vec::new();
    for i in 0..50 {
        let base = if i % 2 == 0 {
            w.app.address.clone()
        } else {
            second.address.clone()
        };
        let (client, token) = (w.app.client.clone(), w.b.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/v1/applications"))
                .bearer_auth(token)
                .header("idempotency-key", "one-key")
                .json(&json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body["id"].as_str().map(str::to_string))
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(results.iter().all(|(s, _)| *s == 201 || *s == 409), "{results:?}");
    let ids: std::collections::HashSet<&String> = results.iter().filter_map(|(_, id)| id.as_ref()).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    let applications: i64 = w.app.with_conn(|c| {
        use diesel::prelude::*;
        guichet::db::schema::applications::table.count().get_result(c).unwrap()
    });
    assert_eq!(applications, 2, "the first application and exactly one of the 50");
    second.stop().await;
}

fn days_between(a: &Value, b: &Value) -> i64 {
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (t(b) - t(a)).num_days()
}

#[tokio::test]
async fn a_service_s_own_steps_timeline_and_tracking_limits() {
    let app = TestApp::spawn_with(&[("GUICHET_RATE_LIMIT_TRACKING_IP", "4")]).await;
    let w = World::on(app).await;
    // the clerk publishes a service with its own steps, one of them private
    publish(&w, stepped_service()).await;

    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "grabstelle-reservieren", "data": {"name": "Muster"}, "submit": true})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    let path = format!("/v1/applications/{}", app["id"].as_str().unwrap());
    assert_eq!(app["step"]["key"], "intake-check");
    assert_eq!(app["step"]["label"], "Eingangsprüfung");
    // the current step says when it is expected to be done: its 5 days from when it began
    assert_eq!(days_between(&app["status_changed_at"], &app["step"]["expected_at"]), 5);
    // no processing time: the expected decision is the sum of the steps' durations
    assert_eq!(days_between(&app["submitted_at"], &app["due_at"]), 5 + 14 + 30 + 20);
    // the timeline: past steps with dates, public steps ahead with expected dates
    let steps: Vec<(&str, bool, Option<i64>)> = app["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let expected = t.get("expected_at").map(|e| days_between(&app["status_changed_at"], e));
            (t["step"].as_str().unwrap(), t.get("entered_at").is_some(), expected)
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("draft", true, None),
            ("intake-check", true, None),
            ("publication", false, Some(5)),
            ("objection-period", false, Some(19)),
            ("approved", false, Some(69)),
            ("completed", false, None),
        ]
    );

    // the clerk moves into the review phase (its first step), forward and back within it
    let mv = |to: &'static str, step: Option<&'static str>| {
        let path = path.clone();
        let w = &w;
        async move {
            let tag = etag(&w.call(Method::GET, &path, Some(&w.clerk), None).await);
            let mut body = json!({"to": to});
            if let Some(s) = step {
                body["step"] = json!(s);
            }
            w.send(
                Method::POST,
                &format!("{path}/transitions"),
                Some(&w.clerk),
                Some(body),
                Some(&tag),
            )
            .await
        }
    };
    let res = mv("in_review", None).await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["step"]["key"], "publication");
    assert_eq!(
        moved["allowed_moves"][0], "in_review",
        "other steps of the phase are open to the clerk"
    );
    assert_eq!(mv("in_review", Some("objection-period")).await.status(), 200);
    assert_eq!(
        mv("in_review", Some("publication")).await.status(),
        200,
        "back to an earlier step"
    );
    assert_problem(mv("in_review", Some("publication")).await, 409, "conflict").await;
    let p = assert_problem(mv("in_review", Some("intake-check")).await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/step");
    assert_problem(mv("in_review", Some("no-such-step")).await, 422, "validation-failed").await;
    assert_eq!(mv("in_review", Some("expert-reports")).await.status(), 200);

    // a private step: staff see it, the applicant and the tracking page see the phase
    let staff: Value = w
        .call(Method::GET, &path, Some(&w.clerk), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["step"]["key"], "expert-reports");
    let mine: Value = w
        .call(Method::GET, &format!("{path}?lang=en"), Some(&w.a), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["step"]["key"], "in_review");
    assert_eq!(mine["step"]["label"], "In review");
    assert!(!mine.to_string().contains("expert-reports"), "{mine}");
    let history: Value = w
        .call(Method::GET, &format!("{path}/history"), Some(&w.a), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!history.to_string().contains("expert-reports"), "{history}");
    let staff_history: Value = w
        .call(Method::GET, &format!("{path}/history"), Some(&w.clerk), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(staff_history.to_string().contains("expert-reports"));
    let unknown_param = w
        .call(Method::GET, &format!("{path}?colour=red"), Some(&w.a), None)
        .await;
    assert_problem(unknown_param, 400, "unknown-parameter").await;

    // tracking: the same view without login, and limited per address (4 a minute here)
    let reference = mine["reference"].as_str().unwrap();
    let code = mine["tracking_code"].as_str().unwrap();
    let track = |code: String| {
        let url = w.app.url(&format!("/v1/status/{reference}"));
        let client = w.app.client.clone();
        async move { client.get(url).header("x-tracking-code", code).send().await.unwrap() }
    };
    let res = track(code.to_string()).await;
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["step"]["key"], "in_review");
    for _ in 0..3 {
        assert_eq!(track("WRON-GCOD-E000".into()).await.status(), 404);
    }
    let limited = track(code.to_string()).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate-limited").await;
}

#[tokio::test]
async fn swiss_formats_are_checked_with_their_check_digits() {
    let w = World::new().await;
    let mut service = stepped_service();
    service["slug"] = json!("formate");
    service["form"]["schema"]["properties"] = json!({
        "ahv": {"type": "string", "format": "ahv-number", "pattern": "^756\\.[0-9]{4}\\.[0-9]{4}\\.[0-9]{2}$"},
        "uid": {"type": "string", "format": "che-uid", "pattern": "^CHE-[0-9]{3}\\.[0-9]{3}\\.[0-9]{3}$"},
        "zip": {"type": "string", "format": "ch-postal-code", "pattern": "^[0-9]{4}$"},
        "iban": {"type": "string", "format": "iban", "pattern": "^[A-Z]{2}[0-9A-Z ]+$"},
        "phone": {"type": "string", "format": "phone", "pattern": "^\\+?[0-9 ()/.-]{7,20}$"},
        "born": {"type": "string", "format": "date"},
        "mail": {"type": "string", "format": "email"}
    });
    service["form"]["schema"]["required"] = json!(["ahv", "uid", "zip", "iban", "phone", "born", "mail"]);
    publish(&w, service).await;
    let submit = |data: Value| {
        w.call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "formate", "data": data, "submit": true})),
        )
    };
    // broken check digits (and a Swiss-looking postal code that is not one), each reported
    let res = submit(json!({
        "ahv": "756.1234.5678.90", "uid": "CHE-116.281.711", "zip": "9700",
        "iban": "CH93 0076 2011 6238 5295 8", "phone": "033 225 84", "born": "2026-02-30", "mail": "anna"
    }))
    .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    let mut found: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    found.sort();
    // one error per field; a number of the right shape with a wrong check digit says so
    assert_eq!(
        found,
        [
            ("/data/ahv", "check_digit"),
            ("/data/born", "format"),
            ("/data/iban", "check_digit"),
            ("/data/mail", "format"),
            ("/data/phone", "format"),
            ("/data/uid", "check_digit"),
            ("/data/zip", "format")
        ],
        "{p}"
    );
    // real ones pass; Liechtenstein's postal codes count; the phone is stored as E.164
    let res = submit(json!({
        "ahv": "756.1234.5678.97", "uid": "CHE-116.281.710", "zip": "9490",
        "iban": "LI21 0881 0000 2324 013A A", "phone": "033 225 84 98", "born": "1990-02-28", "mail": "anna@example.ch"
    }))
    .await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["phase"], "submitted");
    assert_eq!(app["data"]["phone"], "+41332258498");
}

/// Create-and-submit writes the application once, already submitted, with the same records as
/// a create followed by a submit: two history entries, two audit entries, two events in order.
#[tokio::test]
async fn create_and_submit_records_both_changes() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap().to_string();
    assert_eq!(app["phase"], "submitted");
    assert_eq!(app["revision"], 2, "{app}");
    assert_eq!(app["data"]["phone"], "+41332258498", "normalised on submission");
    let reference = app["reference"].as_str().unwrap();
    assert!(reference.starts_with("THU-") && reference.len() == "THU-2026-7Q4KM2XD-J".len());
    assert!(app["tracking_code"].is_string() && app["due_at"].is_string());

    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.clerk).await;
    let moves: Vec<(Value, Value, Value)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].clone(), h["from_phase"].clone(), h["to_phase"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (json!("created"), Value::Null, Value::Null),
            (json!("submitted"), json!("draft"), json!("submitted")),
            (json!("invoice_issued"), Value::Null, Value::Null)
        ],
        "{history}"
    );

    let (audits, events) = w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::{audit_events as au, events as e};
        let audits: Vec<String> = au::table
            .filter(au::target_id.eq(&id))
            .order(au::seq)
            .select(au::action)
            .load(c)
            .unwrap();
        let events: Vec<String> = e::table
            .filter(e::subject_id.eq(&id))
            .order((e::occurred_at, e::id))
            .select(e::type_)
            .load(c)
            .unwrap();
        (audits, events)
    });
    let billed = [
        "application.created",
        "application.submitted",
        "application.invoice_issued",
    ];
    assert_eq!(audits, billed);
    assert_eq!(events, billed);
    // numbered in that order in the feed
    let numbered: Vec<String> = w.events_in_feed(&id).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(numbered, events);
    // the stored row is the one answered
    let stored = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
    assert_eq!(stored["reference"], app["reference"]);
    assert_eq!(stored["revision"], 2);
}

/// A create-and-submit is written in one statement (on PostgreSQL without a transaction of its
/// own): a failure in its last part, the receipt in the mail outbox, leaves nothing of it, on
/// either backend.
#[tokio::test]
async fn a_create_and_submit_that_fails_in_its_records_leaves_nothing() {
    use diesel::prelude::*;
    let w = World::new().await;
    let count = |w: &World| {
        w.app.with_conn(|c| {
            use guichet::db::schema::{application_history as h, applications as a, events as e, invoices as i};
            let n = |q: QueryResult<i64>| q.unwrap();
            (
                n(a::table.count().get_result(c)),
                n(h::table.count().get_result(c)),
                n(e::table.count().get_result(c)),
                n(i::table.count().get_result(c)),
            )
        })
    };
    let before = count(&w);
    let refuse = if crate::common::backend() == "postgres" {
        [
            "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the outbox refuses'; END $$",
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox FOR EACH ROW EXECUTE FUNCTION refuse_mail()",
        ]
        .as_slice()
    } else {
        ["CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox BEGIN SELECT RAISE(ABORT, 'the outbox refuses'); END"]
            .as_slice()
    };
    w.app.with_conn(|c| {
        for sql in refuse {
            diesel::sql_query(*sql).execute(c).unwrap();
        }
    });
    let body = json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true});
    let res = w.call(Method::POST, "/v1/applications", Some(&w.a), Some(body)).await;
    assert_problem(res, 500, "internal").await;
    assert_eq!(count(&w), before, "no application, history, event or bill is left");
    w.app.with_conn(|c| {
        diesel::sql_query("DROP TRIGGER refuse_mail ON mail_outbox")
            .execute(c)
            .or_else(|_| diesel::sql_query("DROP TRIGGER refuse_mail").execute(c))
            .unwrap();
    });
    // and the next goes through
    let app = w.submitted(&w.a).await;
    assert_eq!(app["phase"], "submitted");
    let after = count(&w);
    assert_eq!(
        (after.0, after.3),
        (before.0 + 1, before.3 + 1),
        "one application, one bill"
    );
}

/// A move writes the application and its records (history, audit, event, the mail to the
/// applicant) in one statement whose main part is the update, guarded by the revision read. When
/// that update writes no row, nothing of the move may be left: the answer is 412, and the
/// records inserted by the same statement are taken back with the move's transaction. A trigger
/// that skips the row's update (PostgreSQL: returns NULL; SQLite: `RAISE(IGNORE)`) makes the
/// update find nothing, as a change that came first would. On PostgreSQL the records' inserts
/// have run by then (the statement's other parts); SQLite updates first and stops there.
#[tokio::test]
async fn a_move_whose_update_writes_nothing_leaves_no_record() {
    use diesel::prelude::*;
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap().to_string();
    let count = |w: &World| {
        w.app.with_conn(|c| {
            use guichet::db::schema::{application_history as h, audit_events as au, events as e, mail_outbox as m};
            let n = |q: QueryResult<i64>| q.unwrap();
            (
                n(h::table.count().get_result(c)),
                n(e::table.count().get_result(c)),
                n(au::table.count().get_result(c)),
                n(m::table.count().get_result(c)),
            )
        })
    };
    let skip = if crate::common::backend() == "postgres" {
        [
            "CREATE FUNCTION skip_review() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
            "CREATE TRIGGER skip_review BEFORE UPDATE ON applications FOR EACH ROW \
             WHEN (NEW.phase = 'in_review') EXECUTE FUNCTION skip_review()",
        ]
        .as_slice()
    } else {
        ["CREATE TRIGGER skip_review BEFORE UPDATE ON applications FOR EACH ROW \
          WHEN NEW.phase = 'in_review' BEGIN SELECT RAISE(IGNORE); END"]
        .as_slice()
    };
    w.app.with_conn(|c| {
        for sql in skip {
            diesel::sql_query(*sql).execute(c).unwrap();
        }
    });
    let before = count(&w);
    let t = format!("/v1/applications/{id}/transitions");
    let body = json!({"to": "in_review", "public_comment": "Wir prüfen Ihr Gesuch."});
    let res = w
        .send(Method::POST, &t, Some(&w.clerk), Some(body.clone()), Some("*"))
        .await;
    assert_problem(res, 412, "precondition-failed").await;
    assert_eq!(
        count(&w),
        before,
        "no history entry, event, audit entry or mail is left"
    );
    let still: Value = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.clerk), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (still["phase"].as_str(), &still["revision"]),
        (Some("submitted"), &app["revision"])
    );
    w.app.with_conn(|c| {
        diesel::sql_query("DROP TRIGGER skip_review ON applications")
            .execute(c)
            .or_else(|_| diesel::sql_query("DROP TRIGGER skip_review").execute(c))
            .unwrap();
    });
    // without the trigger the same move goes through, with its records
    let res = w.send(Method::POST, &t, Some(&w.clerk), Some(body), Some("*")).await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["phase"], "in_review");
    let after = count(&w);
    assert_eq!(
        (after.0, after.1, after.3),
        (before.0 + 1, before.1 + 1, before.3 + 1),
        "one history entry, one event, the mail to the applicant"
    );
    assert!(after.2 > before.2, "an audit entry");
}

/// A taken reference fails the create-and-submit's statement, which is sent again with
/// another: without an `Idempotency-Key` (no transaction) and with one (a savepoint in the
/// request's held transaction). PostgreSQL: a trigger takes the first reference tried by
/// inserting an application with it in the same statement, which the failure takes back.
#[tokio::test]
async fn a_create_and_submit_whose_reference_is_taken_tries_another() {
    use diesel::prelude::*;
    if crate::common::backend() != "postgres" {
        return;
    }
    let w = World::new().await;
    w.app.with_conn(|c| {
        for sql in [
            "CREATE SEQUENCE squat_tries",
            "CREATE FUNCTION squat() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE copy applications; \
             BEGIN \
               IF NEW.reference IS NOT NULL AND nextval('squat_tries') = 1 THEN \
                 copy := NEW; copy.id := gen_random_uuid(); copy.tracking_code := NULL; \
                 INSERT INTO applications SELECT copy.*; \
               END IF; \
               RETURN NEW; \
             END $$",
            "CREATE TRIGGER squat BEFORE INSERT ON applications FOR EACH ROW EXECUTE FUNCTION squat()",
        ] {
            diesel::sql_query(sql).execute(c).unwrap();
        }
    });
    let tries = |w: &World| {
        w.app.with_conn(|c| {
            #[derive(QueryableByName)]
            struct Tries {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let t: Tries = diesel::sql_query("SELECT last_value AS n FROM squat_tries")
                .get_result(c)
                .unwrap();
            t.n
        })
    };
    let mine = |w: &World| {
        w.app.with_conn(|c| {
            use guichet::db::schema::{application_history as h, applications as a};
            let apps: Vec<(uuid::Uuid, Option<String>)> = a::table
                .select((a::id, a::reference))
                .load::<(guichet::db::types::SqlUuid, Option<String>)>(c)
                .unwrap()
                .into_iter()
                .map(|(id, r)| (id.0, r))
                .collect();
            let history: i64 = h::table.count().get_result(c).unwrap();
            (apps, history)
        })
    };
    let body = json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true});
    for key in [None, Some("squatted-1")] {
        w.app.with_conn(|c| {
            diesel::sql_query("ALTER SEQUENCE squat_tries RESTART")
                .execute(c)
                .unwrap();
        });
        let (before, history_before) = mine(&w);
        let mut req = w
            .app
            .client
            .post(w.app.url("/v1/applications"))
            .bearer_auth(&w.a)
            .json(&body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 201, "key {key:?}: {}", res.text().await.unwrap());
        let app: Value = res.json().await.unwrap();
        // the squatter's insert (1), its own trigger (2), the second try (3)
        assert_eq!(
            tries(&w),
            3,
            "key {key:?}: the first reference was taken and another tried"
        );
        let (after, history_after) = mine(&w);
        assert_eq!(
            after.len(),
            before.len() + 1,
            "key {key:?}: one application, no squatter left"
        );
        let id = app["id"].as_str().unwrap();
        let stored: Vec<_> = after.iter().filter(|(i, _)| i.to_string() == id).collect();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].1.as_deref(), app["reference"].as_str());
        assert_eq!(
            history_after,
            history_before + 3,
            "created, submitted, invoice_issued: once each"
        );
        let read = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
        assert_eq!(read["reference"], app["reference"]);
    }
}

/// On PostgreSQL the reads go through each worker's asynchronous pool; a `DATABASE_URL` with
/// an option only libpq knows (here `passfile`) sends them down the blocking path instead,
/// with the same answers.
#[tokio::test]
async fn reads_answer_the_same_on_either_path() {
    // (that reads are asynchronous on PostgreSQL is asserted with readiness in tests/http.rs)
    if crate::common::backend() != "postgres" {
        return;
    }
    let db = crate::common::TestDb::new();
    let mut libpq_only = db.share();
    libpq_only.url = format!("{}?passfile=/nonexistent/pgpass", db.url);
    let w = World::on(TestApp::spawn_on(libpq_only, &[]).await).await;
    assert_eq!(w.app.get_json("/health/ready").await["reads"], "blocking");
    let body = json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true});
    let res = w.call(Method::POST, "/v1/applications", Some(&w.a), Some(body)).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let one = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
    assert_eq!(one["phase"], "submitted");
    let res = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.b), None)
        .await;
    assert_problem(res, 404, "not-found").await;
    let page = w.get_json("/v1/applications", &w.a).await;
    assert_eq!(page["data"][0]["id"], id.as_str());
    assert_eq!(w.get_json("/v1/applications", &w.b).await["data"], json!([]));
    let queue = w.get_json("/v1/applications?phase=submitted", &w.clerk).await;
    assert_eq!(queue["data"].as_array().unwrap().len(), 1);
    w.app.stop().await;
    drop(db);
}

/// A malformed id in a path names nothing: the same 404 problem as an unknown id, for every
/// kind of id and every method, before anything is read.
#[tokio::test]
async fn malformed_ids_in_paths_are_404_like_unknown_ones() {
    let w = World::new().await;
    let unknown = "0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60";
    for path in [
        "/v1/applications/not-an-id".to_string(),
        format!("/v1/applications/{unknown}"),
        "/v1/applications/0193a4b27c1e7d2a9f003b5c1d2e4f60".to_string(),
        "/v1/applications/not-an-id/history".to_string(),
        "/v1/applications/not-an-id/documents".to_string(),
        format!("/v1/applications/{unknown}/documents/not-an-id"),
        format!("/v1/applications/not-an-id/documents/{unknown}/content"),
        "/v1/organisations/not-an-id".to_string(),
        format!("/v1/organisations/{unknown}"),
        "/v1/organisations/0193a4b27c1e7d2a9f003b5c1d2e4f60/members".to_string(),
        "/v1/organisations/not-an-id/clients".to_string(),
    ] {
        assert_problem(w.call(Method::GET, &path, Some(&w.a), None).await, 404, "not-found").await;
    }
    assert_problem(
        w.send(Method::DELETE, "/v1/applications/x", Some(&w.a), None, Some("\"r1-x\""))
            .await,
        404,
        "not-found",
    )
    .await;
    let member = format!("/v1/organisations/{unknown}/members/not-an-id");
    assert_problem(
        w.call(Method::DELETE, &member, Some(&w.a), None).await,
        404,
        "not-found",
    )
    .await;
}

/// `GET /v1/phases` serves the transition table the server enforces: what it lists as the
/// applicant's and the department's moves is what an application offers them.
#[tokio::test]
async fn the_phases_endpoint_is_the_transition_table_in_force() {
    let w = World::new().await;
    let res = w.app.get("/v1/phases?lang=fr").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-language"], "fr");
    let phases: Value = res.json().await.unwrap();
    let order: Vec<&str> = phases
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "draft",
            "submitted",
            "in_review",
            "action_required",
            "approved",
            "rejected",
            "completed",
            "withdrawn"
        ]
    );
    let of = |phase: &str| {
        phases
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["phase"] == phase)
            .unwrap()
            .clone()
    };
    assert_eq!(of("submitted")["label"], "Déposée");
    assert_eq!(of("completed")["final"], true);
    assert_eq!(of("action_required")["editable_by_applicant"], true);

    let app = w.submitted(&w.a).await;
    let path = format!("/v1/applications/{}", app["id"].as_str().unwrap());
    assert_eq!(app["allowed_moves"], of("submitted")["applicant_moves"]);
    let as_clerk = w.get_json(&path, &w.clerk).await;
    assert_eq!(as_clerk["allowed_moves"], of("submitted")["processor_moves"]);
    assert_problem(w.app.get("/v1/phases?lang=xx").await, 400, "invalid-parameter").await;

    // docs/API.md's table says the same
    let doc = include_str!("../../docs/API.md");
    let ticks = |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let mut documented = 0;
    for line in doc.lines().map(str::trim).filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        for phase in ticks(cells[0]) {
            let p = of(&phase);
            let listed = |v: &Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            };
            assert_eq!(ticks(cells[1]), listed(&p["applicant_moves"]), "{line}");
            assert_eq!(ticks(cells[2]), listed(&p["processor_moves"]), "{line}");
            assert_eq!(cells[3].trim() == "yes", p["editable_by_applicant"] == true, "{line}");
            documented += 1;
        }
    }
    assert_eq!(documented, 8, "every phase is in API.md's table");
}

/// Many reads at once, by callers who see different things: on PostgreSQL the reads of one
/// worker share a few connections and their statements are pipelined, so answers queued on one
/// connection must each reach the request that asked (and keep its caller's visibility).
#[tokio::test]
async fn concurrent_reads_by_different_callers_each_get_their_own_answer() {
    let w = World::new().await;
    let mut mine = Vec::new();
    for _ in 0..4 {
        mine.push(("a", w.submitted(&w.a).await["id"].as_str().unwrap().to_string()));
        mine.push(("b", w.submitted(&w.b).await["id"].as_str().unwrap().to_string()));
    }
    // every caller reads every application, eight times over, all at once
    let mut asks = Vec::new();
    for round in 0..8 {
        for (owner, id) in &mine {
            for caller in ["a", "b", "clerk", "other clerk"] {
                asks.push((round, caller, *owner, id.clone()));
            }
        }
    }
    let answers = get_all(
        &w,
        asks.iter().map(|(_, caller, _, id)| {
            let token = match *caller {
                "a" => &w.a,
                "b" => &w.b,
                "clerk" => &w.clerk,
                _ => &w.other_clerk,
            };
            (token.as_str(), format!("/v1/applications/{id}"))
        }),
    )
    .await;
    for ((_, caller, owner, id), (status, body)) in asks.iter().zip(&answers) {
        // the residents see their own, the residence clerks every one, the building clerks none
        let sees = *caller == "clerk" || caller == owner;
        if sees {
            assert_eq!(*status, 200, "{caller} reads {owner}'s {id}: {body}");
            assert_eq!(body["id"].as_str(), Some(id.as_str()), "{caller} asked for {id}");
        } else {
            assert_eq!(*status, 404, "{caller} reads {owner}'s {id}: {body}");
            assert_eq!(body["status"], 404);
        }
    }
    assert_eq!(answers.len(), 256);
}

/// Many list pages at once, by callers who see different things: on PostgreSQL the first pages
/// of the applicant's list and of the clerks' queues share the point reads' pipelined
/// connections, and the other lists take the pool, so each page must reach the request that
/// asked for it, with its caller's visibility, whichever way it went.
#[tokio::test]
async fn concurrent_list_pages_by_different_callers_each_get_their_own() {
    let w = World::new().await;
    let mut ids: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for (who, token) in [
        ("a", &w.a),
        ("b", &w.b),
        ("a", &w.a),
        ("member", &w.member),
        ("a", &w.a),
        ("b", &w.b),
    ] {
        let id = w.submitted(token).await["id"].as_str().unwrap().to_string();
        ids.entry(who).or_default().push(id);
    }
    let all: Vec<String> = ids.values().flatten().cloned().collect();
    // (caller, token, list, the ids it must show): the residents' own lists and the partner's
    // (quick, but the member's: a resident with an organisation is read from the pool), the
    // clerks' queue by phase (quick) and by two phases (the pool)
    let asks = [
        ("a", &w.a, "/v1/applications?limit=20", ids["a"].clone()),
        ("b", &w.b, "/v1/applications?limit=20", ids["b"].clone()),
        ("member", &w.member, "/v1/applications?limit=20", ids["member"].clone()),
        ("partner", &w.partner, "/v1/applications?limit=20", Vec::new()),
        (
            "clerk",
            &w.clerk,
            "/v1/applications?phase=submitted&sort=submitted_at&limit=20",
            all.clone(),
        ),
        (
            "clerk",
            &w.clerk,
            "/v1/applications?phase=submitted,in_review&limit=20",
            all.clone(),
        ),
        (
            "other clerk",
            &w.other_clerk,
            "/v1/applications?phase=submitted&sort=submitted_at&limit=20",
            Vec::new(),
        ),
    ];
    let rounds: Vec<_> = (0..8).flat_map(|_| asks.iter()).collect();
    let answers = get_all(
        &w,
        rounds
            .iter()
            .map(|(_, token, path, _)| (token.as_str(), path.to_string())),
    )
    .await;
    for ((caller, _, path, expected), (status, body)) in rounds.iter().zip(&answers) {
        assert_eq!(*status, 200, "{caller} {path}: {body}");
        let mut got: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{caller} {path}");
    }
    assert_eq!(answers.len(), 56);
}

/// GETs every (token, path) at once: each answer's status and JSON body, in the same order.
async fn get_all(w: &World, asks: impl Iterator<Item = (&str, String)>) -> Vec<(u16, Value)> {
    futures_util::future::join_all(asks.map(|(token, path)| {
        let req = w.app.client.get(w.app.url(&path)).bearer_auth(token);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }
    }))
    .await
}

/// The lists whose first page shares the pipelined connections (`quick_list`) are read along
/// one index in its order: with sequential scans and sorts priced out, PostgreSQL's generic plan
/// of each has neither, while a list the rule keeps on the pool (two phases) needs a sort. A
/// new index, filter or order that breaks the rule fails here rather than holding up the
/// point reads queued behind a slow page.
#[tokio::test]
async fn the_pipelined_lists_are_read_along_one_index_in_order() {
    use guichet::db::applications::{list_sql, quick_list, ListFilter, Order, Reader};
    use guichet::db::types::{SqlTime, SqlUuid};
    if crate::common::backend() != "postgres" {
        return;
    }
    let w = World::new().await;
    let id = |n: u128| SqlUuid(uuid::Uuid::from_u128(n));
    let phase = |p: &str| ListFilter {
        phases: vec![p.into()],
        ..ListFilter::default()
    };
    let quick = [
        (
            "the applicant's list",
            Reader::Account(id(1)),
            ListFilter::default(),
            Order::CreatedDesc,
        ),
        (
            "the partner's list",
            Reader::Organisation(id(2)),
            ListFilter::default(),
            Order::CreatedDesc,
        ),
        (
            "the queue",
            Reader::Department(id(3)),
            phase("submitted"),
            Order::SubmittedAsc,
        ),
        (
            "the queue, a department named",
            Reader::Department(id(3)),
            ListFilter {
                department: Some(id(3)),
                ..phase("submitted")
            },
            Order::SubmittedAsc,
        ),
        (
            "an administrator's queue of a department",
            Reader::Staff,
            ListFilter {
                department: Some(id(3)),
                ..phase("submitted")
            },
            Order::SubmittedDesc,
        ),
        (
            "the clerk's own",
            Reader::Department(id(3)),
            ListFilter {
                assignee: Some(id(4)),
                ..phase("in_review")
            },
            Order::SubmittedAsc,
        ),
        (
            "the overdue",
            Reader::Department(id(3)),
            ListFilter {
                overdue_at: Some(SqlTime::now()),
                ..ListFilter::default()
            },
            Order::DueAsc,
        ),
    ];
    let two_phases = ListFilter {
        phases: vec!["submitted".into(), "in_review".into()],
        ..ListFilter::default()
    };
    let plan = |sql: String| -> String {
        w.app.with_conn(|c| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Line {
                #[diesel(sql_type = diesel::sql_types::Text)]
                #[diesel(column_name = "QUERY PLAN")]
                line: String,
            }
            #[derive(QueryableByName)]
            struct Types {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                n: i32,
            }
            diesel::sql_query("DEALLOCATE ALL").execute(c).unwrap();
            diesel::sql_query(format!("PREPARE list AS {sql}")).execute(c).unwrap();
            let n = diesel::sql_query(
                "SELECT cardinality(parameter_types) AS n FROM pg_prepared_statements WHERE name = 'list'",
            )
            .get_result::<Types>(c)
            .unwrap()
            .n;
            for set in [
                "plan_cache_mode = force_generic_plan",
                "enable_seqscan = off",
                "enable_sort = off",
            ] {
                diesel::sql_query(format!("SET {set}")).execute(c).unwrap();
            }
            let args = vec!["NULL"; n as usize].join(", ");
            diesel::sql_query(format!("EXPLAIN EXECUTE list({args})"))
                .load::<Line>(c)
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect::<Vec<_>>()
                .join("\n")
        })
    };
    for (what, r, f, order) in &quick {
        assert!(quick_list(*r, &[], f, *order, false), "{what} is pipelined");
        let p = plan(list_sql(*r, Vec::new(), f, *order, 20));
        assert!(p.contains("Index"), "{what}:\n{p}");
        assert!(!p.contains("Sort") && !p.contains("Seq Scan"), "{what}:\n{p}");
    }
    let dep = Reader::Department(id(3));
    assert!(!quick_list(dep, &[], &two_phases, Order::SubmittedAsc, false));
    let p = plan(list_sql(dep, Vec::new(), &two_phases, Order::SubmittedAsc, 20));
    assert!(p.contains("Sort"), "two phases, kept on the pool, need a sort:\n{p}");
}
