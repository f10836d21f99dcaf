//! Webhook endpoints and deliveries (Standard Webhooks): registration with the SSRF rules,
//! management by the owner's people and systems only, signed deliveries checked by the
//! `standardwebhooks` package from PyPI (also across a secret rotation), per-application
//! order, retries, disabling, the delivery log, redelivery and pings. Every receiver is on
//! loopback: the allowed network is 127.0.0.1/32, and 127.0.0.2 stands for an address
//! webhooks may not reach.
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::receiver::{verified_by_standardwebhooks, Receiver, Reply};
use crate::common::world::{client_token, etag, firm_service, publish, valid_data, World, FIRM_SERVICE};
use crate::common::{assert_problem, TestApp};

const FAST_RETRIES: [(&str, &str); 3] = [
    ("GUICHET_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
    ("GUICHET_WEBHOOK_RETRY_WAITS", "1s"),
    ("GUICHET_WEBHOOK_GIVE_UP_AFTER", "3s"),
];

async fn world() -> World {
    world_with(&FAST_RETRIES[..1]).await
}

/// A world whose app has these settings, with a service organisations may apply for.
async fn world_with(settings: &[(&str, &str)]) -> World {
    let w = World::on(TestApp::spawn_with(settings).await).await;
    publish(&w, firm_service()).await;
    w
}

/// An application of the caller (an organisation's client) for that service, submitted.
async fn applied(w: &World, token: &str) -> Value {
    let body = json!({"service": FIRM_SERVICE, "data": valid_data(), "submit": true});
    let res = w.call(Method::POST, "/v1/applications", Some(token), Some(body)).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A token of organisation Y's partner client that may manage webhooks.
async fn partner(w: &World) -> String {
    client_token(
        &w.app,
        "applications:read applications:write webhooks:manage",
        Some(&w.org_y),
    )
    .await
}

async fn register(w: &World, token: &str, body: Value) -> Value {
    let res = w
        .call(Method::POST, "/v1/webhook-endpoints", Some(token), Some(body))
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// The endpoint's delivery log once it has at least `n` attempts (recorded in batches, just
/// after the receiver answers), or as it is after 10 s.
async fn log_with(w: &World, endpoint: &Value, token: &str, n: usize) -> Value {
    let path = format!("/v1/webhook-endpoints/{}/deliveries", endpoint["id"].as_str().unwrap());
    let mut log = Value::Null;
    for _ in 0..100 {
        log = w.get_json(&path, token).await;
        if log["data"].as_array().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    log
}

/// The types of the application events received for `id`, in the order received.
fn types_for(received: &[crate::common::receiver::Received], id: &str) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json())
        .filter(|b| b["data"]["application"]["id"] == id)
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn deliveries_are_signed_per_standard_webhooks_also_during_a_rotation() {
    let w = world().await;
    let rx = Receiver::start().await;
    let partner = partner(&w).await;
    let ep = register(&w, &partner, json!({"url": rx.url("/hook"), "description": "ERP"})).await;
    let secret = ep["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{ep}");
    assert_eq!(ep["owner"], json!({"type": "organisation", "id": w.org_y}));
    assert_eq!(ep["enabled"], true);

    // the partner applies; both events arrive, in order, with the event's id as webhook-id
    let app = applied(&w, &partner).await;
    let id = app["id"].as_str().unwrap();
    let got = rx.wait_for(10, |r| r.len() >= 3).await;
    assert_eq!(
        types_for(&got, id),
        [
            "application.created",
            "application.submitted",
            "application.invoice_issued"
        ]
    );
    let first = got[0].json();
    assert_eq!(first["data"]["id"], got[0].id.as_str(), "webhook-id is the event's id");
    assert_eq!(first["data"]["data"]["id"], id, "the application as the owner sees it");
    assert!(first["data"]["data"].get("internal_notes").is_none());
    assert!(first["timestamp"].as_str().is_some());
    assert_eq!(verified_by_standardwebhooks(&got, &[&secret]), [3]);
    assert_eq!(
        verified_by_standardwebhooks(&got, &["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]),
        [0]
    );

    // a rotation: for 24 h every delivery is signed with both secrets
    let path = format!("/v1/webhook-endpoints/{}", ep["id"].as_str().unwrap());
    let res = w
        .call(Method::POST, &format!("{path}/secret/rotate"), Some(&partner), None)
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].as_str().is_some());
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{id}/transitions"),
            Some(&w.clerk),
            Some(json!({"to": "in_review"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let got = rx.wait_for(10, |r| r.len() >= 4).await;
    let third = &got[3..];
    assert_eq!(third[0].json()["type"], "application.status_changed");
    assert_eq!(third[0].signature.split(' ').count(), 2, "{}", third[0].signature);
    assert_eq!(verified_by_standardwebhooks(third, &[&secret, &new_secret]), [1, 1]);
    // the secret is never shown again
    let read = w.get_json(&path, &partner).await;
    assert!(read.get("secret").is_none());
}

#[tokio::test]
async fn an_endpoint_gets_exactly_what_its_owner_may_see() {
    let w = world().await;
    let (y_rx, dept_rx, other_rx, admin_rx) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let partner = partner(&w).await;
    register(&w, &partner, json!({"url": y_rx.url("/y")})).await;
    let dept = register(&w, &w.clerk, json!({"url": dept_rx.url("/einwohnerdienste")})).await;
    assert_eq!(dept["owner"], json!({"type": "department", "id": "einwohnerdienste"}));
    register(&w, &w.other_clerk, json!({"url": other_rx.url("/bau")})).await;
    let admins = register(
        &w,
        &w.admin,
        json!({"url": admin_rx.url("/all"), "event_types": ["application.submitted"]}),
    )
    .await;
    assert_eq!(admins["owner"], json!({"type": "administrators"}));

    // resident A's and organisation Y's applications, both to einwohnerdienste
    let a_app = w.submitted(&w.a).await;
    let y_app = applied(&w, &partner).await;
    let (a_id, y_id) = (a_app["id"].as_str().unwrap(), y_app["id"].as_str().unwrap());
    let dept_got = dept_rx.wait_for(10, |r| r.len() >= 6).await;
    let admin_got = admin_rx.wait_for(10, |r| r.len() >= 2).await;
    let y_got = y_rx.wait_for(10, |r| r.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // anything more would have come by now

    // the organisation: its own application only, drafts included
    // (both services are billed on submission)
    let billed = [
        "application.created",
        "application.submitted",
        "application.invoice_issued",
    ];
    assert_eq!(types_for(&y_rx.received(), y_id), billed);
    assert!(types_for(&y_got, a_id).is_empty(), "never another applicant's events");
    assert_eq!(y_rx.received().len(), 3);
    // the department: both applications (as in its feed: what it sees of them now), the
    // staff view
    assert_eq!(types_for(&dept_got, a_id), billed);
    assert_eq!(types_for(&dept_got, y_id), billed);
    assert_eq!(dept_rx.received().len(), 6);
    assert!(
        dept_got[0].json()["data"]["data"].get("tracking_code").is_none(),
        "the staff view"
    );
    // another department: nothing
    assert!(
        other_rx.received().is_empty(),
        "a department never gets another's events"
    );
    // the administrators: every application, only the types they chose
    assert_eq!(admin_rx.received().len(), 2);
    assert!(admin_got.iter().all(|r| r.json()["type"] == "application.submitted"));
}

#[tokio::test]
async fn endpoints_are_managed_by_their_owner_s_people_and_systems_only() {
    let w = world().await;
    let rx = Receiver::start().await;
    let partner = partner(&w).await;
    // without the scope: 403 before anything is read
    let res = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&w.partner),
            Some(json!({"url": rx.url("/")})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    // a resident names the organisation they own; another organisation's owner may not
    let res = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&w.member),
            Some(json!({"url": rx.url("/")})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/organisation");
    let x = register(&w, &w.member, json!({"url": rx.url("/x"), "organisation": w.org_x})).await;
    let res = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&w.a),
            Some(json!({"url": rx.url("/"), "organisation": w.org_x})),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    // a client may not register for another organisation, a clerk not for another department
    let res = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&partner),
            Some(json!({"url": rx.url("/"), "organisation": w.org_x})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&w.clerk),
            Some(json!({"url": rx.url("/"), "department": "bauinspektorat"})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    // organisation X's endpoint does not exist for Y's client, resident A or a clerk
    let path = format!("/v1/webhook-endpoints/{}", x["id"].as_str().unwrap());
    for token in [&partner, &w.a, &w.clerk] {
        let res = w.call(Method::GET, &path, Some(token), None).await;
        assert_problem(res, 404, "not-found").await;
        let res = w
            .call(Method::GET, &format!("{path}/deliveries"), Some(token), None)
            .await;
        assert_problem(res, 404, "not-found").await;
        let res = w.send(Method::DELETE, &path, Some(token), None, None).await;
        assert_problem(res, 404, "not-found").await;
    }
    // lists: each sees its own; administrators every one
    let mine = w.get_json("/v1/webhook-endpoints", &w.member).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert!(w.get_json("/v1/webhook-endpoints", &partner).await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        w.get_json("/v1/webhook-endpoints", &w.admin).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // changes need the current ETag
    let res = w.call(Method::GET, &path, Some(&w.member), None).await;
    let tag = etag(&res);
    let res = w
        .call(Method::PATCH, &path, Some(&w.member), Some(json!({"enabled": false})))
        .await;
    assert_problem(res, 428, "precondition-required").await;
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.member),
            Some(json!({"enabled": false, "description": "paused"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (changed["enabled"].clone(), changed["description"].clone()),
        (json!(false), json!("paused"))
    );
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.member),
            Some(json!({"enabled": true})),
            Some(&tag),
        )
        .await;
    assert_problem(res, 412, "precondition-failed").await;
    // deleted, then gone
    let res = w.send(Method::DELETE, &path, Some(&w.member), None, None).await;
    assert_eq!(res.status(), 204);
    let res = w.call(Method::GET, &path, Some(&w.member), None).await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn urls_that_point_where_webhooks_may_not_go_are_refused_and_nothing_is_sent() {
    let w = world().await;
    let partner = partner(&w).await;
    for (url, code) in [
        ("https://127.0.0.2/hook", "address"),  // loopback, outside the allowed network
        ("http://127.0.0.2:9/hook", "address"), // and plain http besides
        ("https://[::1]/hook", "address"),      // IPv6 loopback
        ("https://[::ffff:127.0.0.2]/hook", "address"), // the same, IPv4-mapped
        ("https://10.1.2.3/hook", "address"),   // private
        ("https://169.254.169.254/latest", "address"), // link-local (cloud metadata)
        ("https://partner.example/hook", "address"), // a name: these tests resolve none
        ("ftp://127.0.0.1/hook", "format"),
        ("https://user:pw@127.0.0.1/hook", "credentials"),
        ("https://127.0.0.1/hook#frag", "format"),
        ("/relative", "format"),
    ] {
        let res = w
            .call(
                Method::POST,
                "/v1/webhook-endpoints",
                Some(&partner),
                Some(json!({"url": url})),
            )
            .await;
        let p = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(p["errors"][0]["pointer"], "/url", "{url}");
        assert_eq!(p["errors"][0]["code"], code, "{url}: {p}");
    }
    // in German, too
    let res = w
        .app
        .client
        .post(w.app.url("/v1/webhook-endpoints"))
        .bearer_auth(&partner)
        .header("accept-language", "de")
        .json(&json!({"url": "https://127.0.0.2/"}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation-failed").await;
    assert!(p["errors"][0]["detail"].as_str().unwrap().contains("Webhooks"), "{p}");
    let bad_types = w
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&partner),
            Some(json!({"url": "http://127.0.0.1:9/", "event_types": ["application.submitted", "application.eaten"]})),
        )
        .await;
    let p = assert_problem(bad_types, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/event_types/1");
    // nothing was made
    assert!(w.get_json("/v1/webhook-endpoints", &partner).await["data"]
        .as_array()
        .unwrap()
        .is_empty());

    // checked again on every delivery: an endpoint whose address is no longer allowed (here
    // written past the API, as a name that now resolves elsewhere would be) gets nothing
    let rx = Receiver::start().await;
    let ep = register(&w, &partner, json!({"url": rx.url("/hook")})).await;
    w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::webhook_endpoints as e;
        let id = uuid::Uuid::parse_str(ep["id"].as_str().unwrap()).unwrap();
        diesel::update(e::table.find(guichet::db::types::SqlUuid(id)))
            .set(e::url.eq(format!("http://127.0.0.2:{}/hook", rx.port)))
            .execute(c)
            .unwrap();
    });
    applied(&w, &partner).await;
    let log = log_with(&w, &ep, &partner, 2).await;
    let attempts = log["data"].as_array().unwrap();
    assert!(attempts.len() >= 2, "{log}");
    assert!(
        attempts.iter().all(|a| a["outcome"] == "failed"
            && a["error"].as_str().unwrap().contains("loopback")
            && a.get("http_status").is_none()),
        "{log}"
    );
    assert!(rx.received().is_empty(), "no request reached the address");
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_then_the_endpoint_is_disabled() {
    let w = world_with(&FAST_RETRIES).await;
    let rx = Receiver::start().await;
    let partner = partner(&w).await;
    let ep = register(
        &w,
        &partner,
        json!({"url": rx.url("/hook"), "event_types": ["application.submitted"]}),
    )
    .await;
    let path = format!("/v1/webhook-endpoints/{}", ep["id"].as_str().unwrap());

    // 500, then 200: delivered on the second attempt, with the same webhook-id
    rx.script(&[Reply::Status(500), Reply::Status(200)]);
    applied(&w, &partner).await;
    let got = rx.wait_for(15, |r| r.len() >= 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "the same webhook-id on every attempt");
    let log = log_with(&w, &ep, &partner, 2).await;
    let attempts = log["data"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{log}");
    // newest first
    assert_eq!(
        (attempts[0]["outcome"].clone(), attempts[0]["http_status"].clone()),
        (json!("delivered"), json!(200))
    );
    assert_eq!(
        (attempts[1]["outcome"].clone(), attempts[1]["http_status"].clone()),
        (json!("failed"), json!(500))
    );
    assert_eq!(attempts[1]["response"], "answer 500");
    assert_eq!(attempts[0]["delivery_state"], "delivered");

    // redelivery on request: the same event again
    let delivery = attempts[0]["delivery"].as_str().unwrap();
    let res = w
        .call(
            Method::POST,
            &format!("{path}/deliveries/{delivery}/retry"),
            Some(&partner),
            None,
        )
        .await;
    assert_eq!(res.status(), 202);
    let got = rx.wait_for(10, |r| r.len() >= 3).await;
    assert_eq!(got[2].id, got[0].id);
    let res = w
        .call(
            Method::POST,
            &format!("{path}/deliveries/{}/retry", uuid::Uuid::now_v7()),
            Some(&partner),
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;

    // a receiver that keeps failing: retried until the give-up time (3 s here), then the
    // endpoint is disabled, with an event to its owner and a mail to the organisation's owners
    rx.otherwise(503);
    applied(&w, &partner).await;
    let mut disabled = Value::Null;
    for _ in 0..150 {
        disabled = w.get_json(&path, &partner).await;
        if disabled["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert!(
        disabled["disabled_reason"].as_str().unwrap().contains("503"),
        "{disabled}"
    );
    let failed = rx.received().len() - 3;
    assert!(failed >= 2, "retried before giving up: {failed} attempts");
    let feed = w
        .get_json("/v1/events?types=webhook_endpoint.disabled&wait=5", &partner)
        .await;
    let ev = &feed["data"][0];
    assert_eq!(ev["subject"]["type"], "webhook_endpoint", "{feed}");
    assert_eq!(ev["endpoint"]["id"], ep["id"]);
    let mails: Vec<(String, String)> = w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::mail_outbox as m;
        m::table.select((m::recipient, m::subject)).load(c).unwrap()
    });
    assert!(
        mails
            .iter()
            .any(|(to, s)| to == "y-owner@example.ch" && s.contains("webhook endpoint disabled")),
        "{mails:?}"
    );
    // enabled again: delivery resumes where it stopped
    rx.otherwise(204);
    let res = w.call(Method::GET, &path, Some(&partner), None).await;
    let tag = etag(&res);
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&partner),
            Some(json!({"enabled": true})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let before = rx.received().len();
    applied(&w, &partner).await;
    let got = rx.wait_for(10, |r| r.len() > before).await;
    assert!(got.len() > before, "delivering again");
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_10_s_is_a_failed_attempt() {
    let w = world().await;
    let rx = Receiver::start().await;
    let partner = partner(&w).await;
    let ep = register(&w, &partner, json!({"url": rx.url("/slow")})).await;
    rx.script(&[Reply::Stall(Duration::from_secs(12))]);
    let path = format!("/v1/webhook-endpoints/{}/test", ep["id"].as_str().unwrap());
    let started = std::time::Instant::now();
    let res = w.call(Method::POST, &path, Some(&partner), None).await;
    assert_eq!(res.status(), 200);
    let attempt: Value = res.json().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(12));
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert!(attempt["error"].as_str().unwrap().contains("10 s"), "{attempt}");
    assert!(attempt["latency_ms"].as_i64().unwrap() >= 9_900);
    // a ping that is answered
    let res = w.call(Method::POST, &path, Some(&partner), None).await;
    let attempt: Value = res.json().await.unwrap();
    assert_eq!(attempt["outcome"], "delivered", "{attempt}");
    assert_eq!(attempt["event_type"], "ping");
    let pinged = rx.received();
    assert_eq!(pinged.last().unwrap().json()["type"], "ping");
}

#[tokio::test]
async fn an_endpoint_deleted_while_it_is_sent_to_holds_up_nothing() {
    let w = world().await;
    let rx = Receiver::start().await;
    let partner = partner(&w).await;
    let ep = register(
        &w,
        &partner,
        json!({"url": rx.url("/gone"), "event_types": ["application.submitted"]}),
    )
    .await;
    rx.script(&[Reply::Stall(Duration::from_secs(2))]);
    applied(&w, &partner).await;
    rx.wait_for(10, |r| !r.is_empty()).await;
    let path = format!("/v1/webhook-endpoints/{}", ep["id"].as_str().unwrap());
    let res = w.send(Method::DELETE, &path, Some(&partner), None, None).await;
    assert_eq!(res.status(), 204);
    tokio::time::sleep(Duration::from_millis(2500)).await; // its attempt ends, with nowhere to go
                                                           // the next endpoint's deliveries are sent and recorded
    let next = register(&w, &partner, json!({"url": rx.url("/next")})).await;
    applied(&w, &partner).await;
    // (created, submitted, and the bill of the billed service)
    let log = log_with(&w, &next, &partner, 3).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 3, "{log}");
    assert!(log["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["outcome"] == "delivered"));
    // a ping is not redelivered
    let res = w
        .call(
            Method::POST,
            &format!("/v1/webhook-endpoints/{}/test", next["id"].as_str().unwrap()),
            Some(&partner),
            None,
        )
        .await;
    let ping: Value = res.json().await.unwrap();
    let res = w
        .call(
            Method::POST,
            &format!(
                "/v1/webhook-endpoints/{}/deliveries/{}/retry",
                next["id"].as_str().unwrap(),
                ping["delivery"].as_str().unwrap()
            ),
            Some(&partner),
            None,
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}
