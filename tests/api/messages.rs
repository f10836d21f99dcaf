//! The thread of an application: the applicant's side and the department processing it write
//! to each other, read each other's messages, and every message is recorded (history, event).
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::assert_problem;
use crate::common::world::{etag, World};
use crate::documents::upload_pdf;

fn thread(id: &str) -> String {
    format!("/v1/applications/{id}/messages")
}

async fn post(w: &World, id: &str, token: &str, body: Value) -> reqwest::Response {
    w.call(Method::POST, &thread(id), Some(token), Some(body)).await
}

async fn messages(w: &World, id: &str, token: &str) -> Vec<Value> {
    let page = w.get_json(&thread(id), token).await;
    assert!(page["next_cursor"].is_null());
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_applicant_and_the_clerk_write_to_each_other_and_see_what_was_read() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap();
    let before = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.a), None)
        .await;
    let tag = etag(&before);

    // the applicant asks (no If-Match: a message does not change the application)
    let res = post(&w, id, &w.a, json!({"body": "  Wann ist die Bestätigung bereit?\n"})).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let asked: Value = res.json().await.unwrap();
    assert_eq!(asked["body"], "Wann ist die Bestätigung bereit?");
    assert_eq!(asked["side"], "applicant");
    assert_eq!(asked["author"]["kind"], "resident");
    assert!(asked["author"].get("id").is_none(), "{asked}");
    assert_eq!(asked["read"], false);
    assert!(location.ends_with(&format!("{}/{}", thread(id), asked["id"].as_str().unwrap())));
    let after = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.a), None)
        .await;
    assert_eq!(etag(&after), tag, "the application itself did not change");

    // the clerk of the department reads it, with who wrote it, and has not read it yet
    let seen = messages(&w, id, &w.clerk).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["id"], asked["id"]);
    assert!(seen[0]["author"]["id"].is_string(), "staff see the author");
    let markers = w.get_json(&format!("{}/read", thread(id)), &w.clerk).await;
    assert_eq!(markers["department"]["unread"], 1);
    assert!(markers["department"]["up_to"].is_null());
    assert_eq!(
        markers["applicant"]["up_to"], asked["id"],
        "writing reads up to one's own message"
    );
    assert_eq!(markers["applicant"]["unread"], 0);

    // the clerk answers: the applicant's question now counts as read by the department
    let res = post(&w, id, &w.clerk, json!({"body": "Morgen, per Post."})).await;
    assert_eq!(res.status(), 201);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["side"], "department");
    assert_eq!(answer["author"]["kind"], "staff");
    let seen = messages(&w, id, &w.a).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0]["id"].clone(), seen[0]["read"].clone()),
        (asked["id"].clone(), json!(true))
    );
    assert_eq!(
        (seen[1]["id"].clone(), seen[1]["read"].clone()),
        (answer["id"].clone(), json!(false))
    );
    assert!(
        seen[1]["author"].get("id").is_none(),
        "the applicant is not told which clerk wrote"
    );
    let markers = w.get_json(&format!("{}/read", thread(id)), &w.a).await;
    assert_eq!(markers["applicant"]["unread"], 1);

    // the applicant marks it read; marking an earlier one does not move the marker back
    let read_path = format!("{}/read", thread(id));
    let read = |up_to: &Value| w.call(Method::POST, &read_path, Some(&w.a), Some(json!({"up_to": up_to})));
    let res = read(&answer["id"]).await;
    assert_eq!(res.status(), 200);
    let markers: Value = res.json().await.unwrap();
    assert_eq!(markers["applicant"]["up_to"], answer["id"]);
    assert_eq!(markers["applicant"]["unread"], 0);
    assert!(markers["applicant"]["read_at"].is_string());
    let markers: Value = read(&asked["id"]).await.json().await.unwrap();
    assert_eq!(markers["applicant"]["up_to"], answer["id"]);
    let one = w
        .get_json(&format!("{}/{}", thread(id), answer["id"].as_str().unwrap()), &w.clerk)
        .await;
    assert_eq!(one["read"], true);
    assert_eq!(one["body"], "Morgen, per Post.");

    // every message is in the history and in the feed
    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.a).await;
    let posted: Vec<&Value> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "message_posted")
        .collect();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0]["details"]["message"], asked["id"]);
    assert_eq!(posted[1]["details"]["side"], "department");
    let types: Vec<String> = w.events_in_feed(id).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        types.iter().filter(|t| *t == "application.message_posted").count(),
        2,
        "{types:?}"
    );
    let audit = w
        .get_json(
            &format!("/v1/audit-events?action=application.message_posted&target_id={id}"),
            &w.admin,
        )
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 2);

    // pages in the thread's order
    for n in 0..3 {
        let res = post(&w, id, &w.admin, json!({"body": format!("Nachtrag {n}")})).await;
        assert_eq!(res.status(), 201, "an administrator writes for the department");
    }
    let mut path = format!("{}?limit=2", thread(id));
    let mut bodies = Vec::new();
    loop {
        let res = w.call(Method::GET, &path, Some(&w.a), None).await;
        assert_eq!(res.status(), 200);
        let link = res.headers().get("link").map(|l| l.to_str().unwrap().to_string());
        let page: Value = res.json().await.unwrap();
        bodies.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["body"].as_str().unwrap().to_string()),
        );
        let Some(next) = page["next_cursor"].as_str() else {
            assert!(link.is_none());
            break;
        };
        assert!(link.unwrap().contains("rel=\"next\""));
        path = format!("{}?limit=2&cursor={next}", thread(id));
    }
    assert_eq!(
        bodies,
        [
            "Wann ist die Bestätigung bereit?",
            "Morgen, per Post.",
            "Nachtrag 0",
            "Nachtrag 1",
            "Nachtrag 2"
        ]
    );
}

#[tokio::test]
async fn a_message_refers_to_documents_of_its_application_and_bad_ones_change_nothing() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap();
    // the clerk asks for something; the applicant uploads it and says so
    w.moved(id, &w.clerk, json!({"to": "in_review"})).await;
    let asked = json!({"to": "action_required", "public_comment": "Bitte den Mietvertrag."});
    w.moved(id, &w.clerk, asked).await;
    let doc: Value = upload_pdf(&w, id, &w.a, 200).await.json().await.unwrap();
    let res = post(
        &w,
        id,
        &w.a,
        json!({"body": "Anbei.", "documents": [doc["id"], doc["id"]]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["documents"].as_array().unwrap().len(), 1, "named twice, kept once");
    assert_eq!(m["documents"][0]["id"], doc["id"]);
    let href = m["documents"][0]["href"].as_str().unwrap();
    assert!(href.ends_with(&format!(
        "/v1/applications/{id}/documents/{}",
        doc["id"].as_str().unwrap()
    )));

    // bad input: a clear 4xx in the caller's language, and nothing written
    let (w, url) = (&w, w.app.url(&thread(id)));
    let french = |body: Value| {
        let url = url.clone();
        async move {
            w.app
                .client
                .post(url)
                .bearer_auth(&w.a)
                .header("Accept-Language", "fr")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let p = assert_problem(french(json!({"body": " \n "})).await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/body");
    assert_eq!(p["errors"][0]["code"], "required");
    assert_eq!(p["errors"][0]["detail"], "écrivez quelque chose");
    let p = assert_problem(
        french(json!({"body": "x".repeat(10_001)})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_long");
    let p = assert_problem(
        french(json!({"body": "ok", "documents": ["0190a4b2-0000-7000-8000-000000000000"]})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/documents/0");
    assert_eq!(p["errors"][0]["detail"], "aucun document de ce type dans cette demande");
    let many: Vec<Value> = (0..21).map(|_| doc["id"].clone()).collect();
    let p = assert_problem(
        french(json!({"body": "ok", "documents": many})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_many");
    let res = french(json!({"body": "ok", "subject": "x"})).await;
    assert!(matches!(res.status().as_u16(), 400 | 422), "{}", res.status());
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = w
        .app
        .client
        .post(w.app.url(&thread(id)))
        .bearer_auth(&w.a)
        .header("content-type", "text/plain")
        .body("hallo")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    let res = w
        .call(Method::GET, &format!("{}?cursor=bm9wZQ", thread(id)), Some(&w.a), None)
        .await;
    assert_eq!(res.status(), 400);
    let res = w
        .call(
            Method::POST,
            &format!("{}/read", thread(id)),
            Some(&w.a),
            Some(json!({"up_to": "0190a4b2-0000-7000-8000-000000000000"})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/up_to");
    let res = w
        .call(
            Method::GET,
            &format!("{}/0190a4b2-0000-7000-8000-000000000000", thread(id)),
            Some(&w.a),
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    // the department's request for action and the applicant's answer, nothing more
    let written = messages(w, id, &w.a).await;
    let bodies: Vec<&str> = written.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Bitte den Mietvertrag.", "Anbei."]);
}

#[tokio::test]
async fn only_those_who_see_an_application_see_its_thread_and_a_draft_has_none() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap();
    assert_eq!(post(&w, id, &w.a, json!({"body": "Hallo"})).await.status(), 201);
    for token in [&w.b, &w.other_clerk, &w.partner, &w.member] {
        let res = w.call(Method::GET, &thread(id), Some(token), None).await;
        assert_problem(res, 404, "not-found").await;
        assert_problem(post(&w, id, token, json!({"body": "Hallo"})).await, 404, "not-found").await;
    }
    // a token that reads but does not write
    let reader = crate::common::world::client_token(&w.app, "applications:read", None).await;
    let res = w
        .call(Method::POST, &thread(id), Some(&reader), Some(json!({"body": "x"})))
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_eq!(messages(&w, id, &w.a).await.len(), 1);

    // a draft: the department does not see it, and its applicant has no one to write to yet
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung"})),
        )
        .await;
    let draft: Value = res.json().await.unwrap();
    let draft = draft["id"].as_str().unwrap();
    assert_problem(post(&w, draft, &w.a, json!({"body": "Hallo"})).await, 409, "conflict").await;
    assert!(messages(&w, draft, &w.a).await.is_empty());
}
