//! The event feed (`GET /v1/events`): who sees which events, their shape, paging, filters and
//! the long poll.
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::world::{valid_data, with_firm_service, World, FIRM_SERVICE};
use crate::common::{assert_problem, TestApp};

/// Every event the caller of `token` may see now, read page by page with `limit`, in order.
async fn feed(w: &World, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let url = format!("/v1/events?limit={limit}{query}{after}");
        let res = w.call(Method::GET, &url, Some(token), None).await;
        assert_eq!(res.status(), 200, "{url}");
        assert!(res.headers()["link"].to_str().unwrap().contains("after="), "{url}");
        let page: Value = res.json().await.unwrap();
        let data = page["data"].as_array().unwrap().clone();
        assert!(data.len() <= limit);
        let empty = data.is_empty();
        all.extend(data);
        after = format!("&after={}", page["next_cursor"].as_str().unwrap());
        if empty {
            return all;
        }
    }
}

fn types_of(events: &[Value], application: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["application"]["id"] == application)
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Each kind of caller reads exactly the events of the applications it may see, with the
/// application as it sees it; staff-only events stay with staff; pages walk the feed in order.
#[tokio::test]
async fn each_caller_reads_the_events_it_may_see() {
    let w = with_firm_service().await;
    // resident A applies; the partner client of organisation Y applies for Y
    let mine = w.submitted(&w.a).await;
    let mine_id = mine["id"].as_str().unwrap().to_string();
    let body = json!({"service": FIRM_SERVICE, "data": valid_data(), "submit": true});
    let res = w
        .call(Method::POST, "/v1/applications", Some(&w.partner), Some(body))
        .await;
    assert_eq!(res.status(), 201);
    let theirs: Value = res.json().await.unwrap();
    let theirs_id = theirs["id"].as_str().unwrap().to_string();
    // the clerk moves A's application on and takes it
    let path = format!("/v1/applications/{mine_id}");
    let res = w
        .act(
            Method::POST,
            &format!("{path}/transitions"),
            Some(&w.clerk),
            Some(json!({"to": "in_review"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w
        .act(
            Method::POST,
            &format!("{path}/assignment"),
            Some(&w.clerk),
            Some(json!({"assignee": w.clerk_id})),
        )
        .await;
    assert_eq!(res.status(), 200);
    w.events_in_feed(&mine_id).await;
    w.events_in_feed(&theirs_id).await;

    let everything = feed(&w, &w.admin, "", 100).await;
    // (the residence confirmation is billed on submission)
    let created_submitted = [
        "application.created",
        "application.submitted",
        "application.invoice_issued",
    ];
    assert_eq!(
        types_of(&everything, &mine_id),
        [
            &created_submitted[..],
            &["application.status_changed", "application.assigned"]
        ]
        .concat()
    );
    assert_eq!(types_of(&everything, &theirs_id), created_submitted);
    // in position order, each once
    let positions: Vec<i64> = everything.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");

    // the applicant: its own application's events, without the assignment, seen as applicant
    let a = feed(&w, &w.a, "", 2).await;
    assert_eq!(
        types_of(&a, &mine_id),
        [&created_submitted[..], &["application.status_changed"]].concat()
    );
    assert!(types_of(&a, &theirs_id).is_empty());
    let last = a.last().unwrap();
    assert_eq!(
        last["subject"],
        json!({"type": "application", "id": mine_id, "href": last["application"]["href"]})
    );
    assert!(last["application"]["href"].as_str().unwrap().ends_with(&path));
    assert_eq!(last["application"]["reference"], mine["reference"]);
    assert_eq!(last["data"]["phase"], "in_review", "the application as it is now");
    assert!(
        last["data"].get("assignee").is_none(),
        "no staff field for the applicant"
    );
    assert!(last["data"]["tracking_code"].is_string(), "the applicant's own view");

    // the partner: its organisation's only; a resident of no organisation: only its own
    let partner = feed(&w, &w.partner, "", 100).await;
    assert_eq!(types_of(&partner, &theirs_id), created_submitted);
    assert!(types_of(&partner, &mine_id).is_empty());
    assert!(feed(&w, &w.b, "", 100).await.is_empty());
    assert!(feed(&w, &w.member, "", 100).await.is_empty(), "X applied for nothing");

    // the responsible department's clerk: both, with the assignment and the staff view;
    // another department's clerk: none
    let clerk = feed(&w, &w.clerk, "", 3).await;
    assert_eq!(types_of(&clerk, &mine_id).len(), 5);
    assert_eq!(types_of(&clerk, &theirs_id).len(), 3);
    let assigned = clerk.iter().find(|e| e["type"] == "application.assigned").unwrap();
    assert_eq!(assigned["data"]["assignee"], json!(w.clerk_id));
    assert!(feed(&w, &w.other_clerk, "", 100).await.is_empty());

    // one type, then two
    let submitted = feed(&w, &w.admin, "&types=application.submitted", 100).await;
    assert_eq!(submitted.len(), 2);
    let two = feed(
        &w,
        &w.admin,
        "&types=application.submitted,%20application.assigned",
        100,
    )
    .await;
    assert_eq!(two.len(), 3);
}

/// Bad parameters are 400 problems in the caller's language, and the scope is required.
#[tokio::test]
async fn the_feed_refuses_bad_parameters() {
    let w = World::new().await;
    for (query, kind, pointer) in [
        ("types=application.deleted", "invalid-parameter", "types"),
        ("wait=31", "invalid-parameter", "wait"),
        ("wait=-1", "invalid-parameter", "wait"),
        ("limit=0", "invalid-parameter", "limit"),
        ("after=bm90LWEtY3Vyc29y", "invalid-cursor", "cursor"),
        ("colour=blue", "unknown-parameter", "colour"),
    ] {
        let res = w
            .app
            .client
            .get(w.app.url(&format!("/v1/events?{query}")))
            .bearer_auth(&w.a)
            .header("Accept-Language", "fr")
            .send()
            .await
            .unwrap();
        let body = assert_problem(res, 400, kind).await;
        assert_eq!(body["errors"][0]["pointer"], pointer, "{query}: {body}");
    }
    // a cursor of another collection (the catalogue's) is not one of the feed's
    let page = w.app.get_json("/v1/services?limit=1").await;
    let other = page["next_cursor"].as_str().expect("the catalogue has a second page");
    let res = w
        .call(Method::GET, &format!("/v1/events?after={other}"), Some(&w.a), None)
        .await;
    assert_problem(res, 400, "invalid-cursor").await;
    assert_problem(w.app.get("/v1/events").await, 401, "unauthorized").await;
    let writer = crate::common::world::client_token(&w.app, "applications:write", Some(&w.org_y)).await;
    let res = w.call(Method::GET, "/v1/events", Some(&writer), None).await;
    assert_problem(res, 403, "forbidden").await;
}

/// A long poll answers as soon as an event becomes visible, answers an empty page at its
/// deadline otherwise, and holds no database connection while it waits: with a pool of two,
/// four waiting polls do not stop an application from being created.
#[tokio::test]
async fn a_long_poll_answers_when_something_happens() {
    let app = TestApp::spawn_with(&[("GUICHET_DB_POOL_SIZE", "2")]).await;
    let w = World::on(app).await;
    let start = w.get_json("/v1/events", &w.a).await;
    let cursor = start["next_cursor"].as_str().unwrap().to_string();

    // nothing happens: an empty page after about the wait, continuing where it was
    let t = Instant::now();
    let page = w.get_json(&format!("/v1/events?after={cursor}&wait=1"), &w.a).await;
    assert!(page["data"].as_array().unwrap().is_empty());
    assert!(t.elapsed() >= Duration::from_millis(900), "{:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

    let polls: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, token) = (
                w.app.client.clone(),
                w.app.url(&format!("/v1/events?after={cursor}&wait=20")),
                w.a.clone(),
            );
            tokio::spawn(async move {
                let t = Instant::now();
                let res = client.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(res.status(), 200);
                (res.json::<Value>().await.unwrap(), t.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    let made = w.submitted(&w.a).await;
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "creating waited for the polls: {:?}",
        t.elapsed()
    );
    for poll in polls {
        let (page, took) = poll.await.unwrap();
        assert!(took < Duration::from_secs(10), "the poll answered late: {took:?}");
        let first = &page["data"][0];
        assert_eq!(first["application"]["id"], made["id"], "{page}");
    }
    // and B, waiting at the same time, would have seen nothing of it
    let b = w.get_json(&format!("/v1/events?after={cursor}&wait=1"), &w.b).await;
    assert!(b["data"].as_array().unwrap().is_empty());
}

/// Events older than the retention are purged by any instance (each purges when it starts and
/// every ten minutes); younger ones stay.
#[tokio::test]
async fn events_past_their_retention_are_purged() {
    let w = World::new().await;
    let made = w.submitted(&w.a).await;
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(w.events_in_feed(&id).await.len(), 3);
    // the creation happened 91 days ago, the submission now
    w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::events as e;
        let long_ago = guichet::db::types::SqlTime(chrono::Utc::now() - chrono::Duration::days(91));
        diesel::update(
            e::table
                .filter(e::subject_id.eq(&id))
                .filter(e::type_.eq("application.created")),
        )
        .set(e::occurred_at.eq(long_ago))
        .execute(c)
        .unwrap();
    });
    // another instance on the same database, with the default retention of 90 days
    let _other = TestApp::spawn_on(w.app.db.share(), &[]).await;
    let gone = crate::common::eventually(|| async {
        w.events_in_feed(&id)
            .await
            .iter()
            .map(|(_, t)| t.clone())
            .collect::<Vec<_>>()
            == ["application.submitted", "application.invoice_issued"]
    })
    .await;
    assert!(gone, "{:?}", w.events_in_feed(&id).await);
    let feed = w.get_json("/v1/events", &w.a).await;
    assert_eq!(feed["data"].as_array().unwrap().len(), 2);
}
