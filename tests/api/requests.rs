//! Asking for what is missing: a move to `action_required` names the fields to change and the
//! documents to add, the first message of the thread says what is needed, and the
//! resubmission is refused, naming each, until every request is answered.
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::assert_problem;
use crate::common::world::World;
use crate::documents::{upload_pdf, upload_pdf_for};

fn today_plus(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// A's application, submitted and taken into review by the clerk: its id.
async fn in_review(w: &World) -> String {
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap().to_string();
    w.moved(&id, &w.clerk, json!({"to": "in_review"})).await;
    id
}

async fn resubmit(w: &World, id: &str) -> reqwest::Response {
    let path = format!("/v1/applications/{id}/transitions");
    w.act(Method::POST, &path, Some(&w.a), Some(json!({"to": "in_review"})))
        .await
}

#[tokio::test]
async fn the_applicant_answers_every_request_and_then_resubmits() {
    let w = World::new().await;
    let id = in_review(&w).await;
    let due = today_plus(14);
    let asked = w
        .moved(
            &id,
            &w.clerk,
            json!({"to": "action_required",
                "public_comment": "Bitte die Strasse prüfen und den Mietvertrag senden.",
                "requests": {"fields": ["/address/street"], "documents": [{"label": "Mietvertrag"}]},
                "due_date": due}),
        )
        .await;
    assert_eq!(asked["phase"], "action_required");
    assert_eq!(asked["requests_due"], due.as_str());
    let requests = asked["requests"].as_array().unwrap().clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["kind"], "field");
    assert_eq!(requests[0]["pointer"], "/address/street");
    assert_eq!(requests[1]["kind"], "document");
    assert_eq!(requests[1]["label"], "Mietvertrag");
    let doc_request = requests[1]["id"].as_str().unwrap().to_string();
    assert!(requests[1]["upload_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v1/applications/{id}/documents?request={doc_request}")));
    // the applicant sees the same, and the comment opens the thread
    let mine = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
    assert_eq!(mine["requests"], asked["requests"]);
    let thread = w.get_json(&format!("/v1/applications/{id}/messages"), &w.a).await;
    assert_eq!(thread["data"][0]["side"], "department");
    assert_eq!(
        thread["data"][0]["body"],
        "Bitte die Strasse prüfen und den Mietvertrag senden."
    );

    // resubmitting now names both open requests, and changes nothing
    let p = assert_problem(resubmit(&w, &id).await, 422, "validation-failed").await;
    let at: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    let doc_pointer = format!("/requests/{doc_request}");
    assert_eq!(
        at,
        [
            ("/data/address/street", "requested"),
            (doc_pointer.as_str(), "requested")
        ]
    );
    assert!(p["errors"][1]["detail"].as_str().unwrap().contains("Mietvertrag"));
    let still = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
    assert_eq!(still["phase"], "action_required");
    assert_eq!(still["revision"], asked["revision"]);

    // the field: changed (the same value again would not count)
    let path = format!("/v1/applications/{id}");
    let same = json!({"data": {"address": {"street": "Hofstettenstrasse"}}});
    assert_eq!(w.act(Method::PATCH, &path, Some(&w.a), Some(same)).await.status(), 200);
    let p = assert_problem(resubmit(&w, &id).await, 422, "validation-failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    let changed = json!({"data": {"address": {"street": "Frutigenstrasse"}}});
    assert_eq!(
        w.act(Method::PATCH, &path, Some(&w.a), Some(changed)).await.status(),
        200
    );
    let p = assert_problem(resubmit(&w, &id).await, 422, "validation-failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(p["errors"][0]["pointer"], doc_pointer);

    // the document: one uploaded without naming the request does not answer it; a request
    // that is not open is refused
    assert_eq!(upload_pdf(&w, &id, &w.a, 300).await.status(), 201);
    assert_eq!(resubmit(&w, &id).await.status(), 422);
    let wrong = requests[0]["id"].as_str().unwrap();
    let p = assert_problem(upload_pdf_for(&w, &id, &w.a, wrong).await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "request");
    let res = upload_pdf_for(&w, &id, &w.a, "not-a-uuid").await;
    assert_eq!(res.status(), 400);
    let doc: Value = {
        let res = upload_pdf_for(&w, &id, &w.a, &doc_request).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    };

    // a reply that resubmits: If-Match required, then one change
    let thread_path = format!("/v1/applications/{id}/messages");
    let reply =
        json!({"body": "Strasse korrigiert, Mietvertrag angehängt.", "documents": [doc["id"]], "resubmit": true});
    let res = w
        .call(Method::POST, &thread_path, Some(&w.a), Some(reply.clone()))
        .await;
    assert_problem(res, 428, "precondition-required").await;
    let res = w.act(Method::POST, &thread_path, Some(&w.a), Some(reply)).await;
    assert_eq!(res.status(), 201);
    let back = w.get_json(&format!("/v1/applications/{id}"), &w.a).await;
    assert_eq!(back["phase"], "in_review");
    assert_eq!(back["requests"], json!([]));
    assert!(back["requests_due"].is_null());
    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.clerk).await;
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["to_phase"].as_str()),
        (Some("status_changed"), Some("in_review"))
    );
    assert_eq!(last["details"]["requests_answered"], 2);
    let thread = w.get_json(&thread_path, &w.clerk).await;
    assert_eq!(thread["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let w = World::new().await;
    let id = in_review(&w).await;
    let path = format!("/v1/applications/{id}/transitions");
    let ask = |extra: Value| {
        let mut body = json!({"to": "action_required", "public_comment": "Bitte ergänzen."});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (
            ask(json!({"requests": {"fields": ["/nope"]}})),
            "/requests/fields/0",
            "unknown",
        ),
        (
            ask(json!({"requests": {"fields": ["address/street"]}})),
            "/requests/fields/0",
            "unknown",
        ),
        (
            ask(json!({"requests": {"documents": [{"label": " "}]}})),
            "/requests/documents/0/label",
            "required",
        ),
        (ask(json!({"due_date": "2020-01-01"})), "/due_date", "invalid"),
        (ask(json!({"due_date": "31.12.2026"})), "/due_date", "invalid"),
        (ask(json!({"due_date": today_plus(400)})), "/due_date", "invalid"),
        (
            json!({"to": "rejected", "public_comment": "Nein.", "requests": {"fields": ["/address/street"]}}),
            "/requests",
            "not_allowed",
        ),
    ];
    for (body, pointer, code) in cases {
        let res = w.act(Method::POST, &path, Some(&w.clerk), Some(body.clone())).await;
        let p = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(
            (p["errors"][0]["pointer"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(pointer), Some(code)),
            "{body}"
        );
    }
    // in the caller's language
    let res = w
        .app
        .client
        .post(w.app.url(&path))
        .bearer_auth(&w.clerk)
        .header("Accept-Language", "fr")
        .header(
            "If-Match",
            crate::common::world::etag(
                &w.call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.clerk), None)
                    .await,
            ),
        )
        .json(&ask(json!({"due_date": "2020-01-01"})))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["detail"], "un jour à partir d'aujourd'hui");
    let app = w.get_json(&format!("/v1/applications/{id}"), &w.clerk).await;
    assert_eq!(app["phase"], "in_review");
    assert_eq!(app["requests"], json!([]));
    let thread = w.get_json(&format!("/v1/applications/{id}/messages"), &w.clerk).await;
    assert!(thread["data"].as_array().unwrap().is_empty(), "no message was written");
    // a department does not resubmit
    let done = w.moved(&id, &w.clerk, ask(json!({}))).await;
    assert_eq!(done["requests"], json!([]));
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{id}/messages"),
            Some(&w.clerk),
            Some(json!({"body": "x", "resubmit": true})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/resubmit");
}

#[tokio::test]
async fn answers_past_their_day_show_in_the_clerks_queue() {
    let w = World::new().await;
    let (late, on_time) = (in_review(&w).await, in_review(&w).await);
    for id in [&late, &on_time] {
        let ask = json!({"to": "action_required", "public_comment": "Bitte ergänzen.", "due_date": today_plus(0)});
        w.moved(id, &w.clerk, ask).await;
    }
    // the day of one of them passed (a clock cannot be set back through the API)
    w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::applications as a;
        let past = guichet::db::types::SqlTime(chrono::Utc::now() - chrono::Duration::days(3));
        let id = guichet::db::types::SqlUuid(late.parse().unwrap());
        diesel::update(a::table.filter(a::id.eq(id)))
            .set(a::requests_due_on.eq(Some(past)))
            .execute(c)
            .unwrap();
    });
    let queue = w.get_json("/v1/applications?answer_overdue=true", &w.clerk).await;
    let ids: Vec<&str> = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late.as_str()]);
    let all = w.get_json("/v1/applications?answer_overdue=false", &w.clerk).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let res = w
        .call(Method::GET, "/v1/applications?answer_overdue=yes", Some(&w.clerk), None)
        .await;
    let p = assert_problem(res, 400, "invalid-parameter").await;
    assert_eq!(p["errors"][0]["pointer"], "answer_overdue", "{p}");
}
