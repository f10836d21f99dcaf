//! Values a database cannot keep exactly (NUL, integers beyond 2^53 − 1) are refused at the
//! edge with a problem, identically on both backends, on every endpoint family; nothing is
//! stored.

use crate::common::world::{valid_data, World};
use crate::common::{assert_problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.with_conn(|c| {
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<N>(c)
            .unwrap()
            .n
    })
}

/// `POST /v1/applications` with a body as written (serde_json would round big integers).
async fn post_raw(app: &TestApp, token: &str, raw: &'static str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/applications"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap()
}

/// A problem pointing at `pointer` with `code`.
async fn refused_at(res: reqwest::Response, status: u16, kind: &str, pointer: &str, code: &str) {
    let body = assert_problem(res, status, kind).await;
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors.iter().any(|e| e["pointer"] == pointer && e["code"] == code),
        "{pointer} {code}: {body}"
    );
}

#[tokio::test]
async fn nul_and_huge_integers_are_refused_everywhere_and_nothing_is_stored() {
    let w = World::new().await;
    let app = &w.app;
    let tables = [
        "accounts",
        "applications",
        "organisations",
        "departments",
        "audit_events",
    ];
    let before: Vec<i64> = tables.iter().map(|t| count(app, t)).collect();

    // accounts: anonymous registration
    let res = app
        .client
        .post(app.url("/v1/accounts"))
        .json(&json!({"email": "nul@example.ch", "password": "a long enough password", "display_name": "a\u{0}b"}))
        .send()
        .await
        .unwrap();
    refused_at(res, 422, "validation-failed", "/display_name", "nul_character").await;

    // the token endpoint: RFC 6749's error form
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password&username=a%00b%40x.ch&password=whatever-long")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");

    // applications: in a data value, in a data key, and an integer beyond 2^53 − 1
    for (field, value, pointer) in [
        ("last_name", json!("Mus\u{0}ter"), "/data/last_name"),
        ("x\u{0}", json!(1), "/data/x\u{0}"),
    ] {
        let mut data = valid_data();
        data[field] = value;
        let body = json!({"service": "wohnsitzbestaetigung", "data": data});
        let res = w.call(Method::POST, "/v1/applications", Some(&w.a), Some(body)).await;
        refused_at(res, 422, "validation-failed", pointer, "nul_character").await;
    }
    let raw = r#"{"service": "wohnsitzbestaetigung", "submit": true, "data": {"copies": 1180591620717411303424}}"#;
    let res = post_raw(app, &w.a, raw).await;
    refused_at(res, 422, "validation-failed", "/data/copies", "integer_range").await;
    let raw = r#"{"service": "wohnsitzbestaetigung", "data": {"copies": 9007199254740992}}"#;
    let res = post_raw(app, &w.a, raw).await;
    refused_at(res, 422, "validation-failed", "/data/copies", "integer_range").await;

    // me: a profile change (the If-Match is checked after the body)
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&w.a)
        .send()
        .await
        .unwrap();
    let etag = me.headers()["etag"].to_str().unwrap().to_string();
    let res = app
        .client
        .patch(app.url("/v1/me"))
        .bearer_auth(&w.a)
        .header("if-match", etag)
        .json(&json!({"display_name": "\u{0}"}))
        .send()
        .await
        .unwrap();
    refused_at(res, 422, "validation-failed", "/display_name", "nul_character").await;

    // organisations
    let res = w
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&w.a),
            Some(json!({"uid": "CHE-116.281.710", "name": "Muster\u{0} AG"})),
        )
        .await;
    refused_at(res, 422, "validation-failed", "/name", "nul_character").await;

    // catalogue administration
    let res = w
        .call(
            Method::POST,
            "/v1/departments",
            Some(&w.admin),
            Some(json!({"slug": "nul", "name": {"de": "N\u{0}"}})),
        )
        .await;
    refused_at(res, 422, "validation-failed", "/name/de", "nul_character").await;

    // query strings and paths, with and without a token
    assert_problem(app.get("/v1/services?q=hund%00").await, 400, "invalid-parameter").await;
    assert_problem(app.get("/v1/services/hund%00anmelden").await, 400, "bad-request").await;
    let res = w.call(Method::GET, "/v1/organisations/x%00y", Some(&w.a), None).await;
    assert_problem(res, 400, "bad-request").await;
    let res = w
        .call(
            Method::GET,
            "/v1/applications?status=submitted%00",
            Some(&w.clerk),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid-parameter").await;
    assert_problem(
        app.get("/v1/status/THU-2026-AAAAAAAA-A?code=a%00").await,
        400,
        "invalid-parameter",
    )
    .await;

    let after: Vec<i64> = tables.iter().map(|t| count(app, t)).collect();
    assert_eq!(before, after, "{tables:?}: nothing is stored");

    // what is storable still is: the largest safe integer, text with other control characters
    let raw = r#"{"service": "wohnsitzbestaetigung", "data": {"copies": 9007199254740991, "last_name": "a\u0001b"}}"#;
    let res = post_raw(app, &w.a, raw).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// Every draft write checks types, lengths, enum values and unknown keys (not completeness,
/// formats or patterns), the size of the data and the number of open drafts.
#[tokio::test]
async fn drafts_are_bounded_but_half_typed_data_saves() {
    let app = TestApp::spawn_with(&[("GUICHET_DRAFT_MAX_BYTES", "4096"), ("GUICHET_MAX_OPEN_DRAFTS", "3")]).await;
    let w = World::on(app).await;
    let draft = |data: Value| json!({"service": "wohnsitzbestaetigung", "data": data});
    let create = |body: Value| w.call(Method::POST, "/v1/applications", Some(&w.a), Some(body));

    // refused, each at its field
    for (data, pointer, code) in [
        (json!({"copies": "two"}), "/data/copies", "type"),
        (json!({"purpose": "holiday"}), "/data/purpose", "enum"),
        (json!({"nickname": "Anna"}), "/data", "additionalProperties"),
        (
            json!({"address": {"planet": "Earth"}}),
            "/data/address",
            "additionalProperties",
        ),
        (json!({"last_name": "x".repeat(501)}), "/data/last_name", "maxLength"),
        // no maxLength in the form: 10,000 characters at most
        (
            json!({"ahv_number": "7".repeat(10_001)}),
            "/data/ahv_number",
            "maxLength",
        ),
    ] {
        refused_at(
            create(draft(data.clone())).await,
            422,
            "validation-failed",
            pointer,
            code,
        )
        .await;
    }
    // the whole draft: at most GUICHET_DRAFT_MAX_BYTES
    let big = json!({"ahv_number": "7".repeat(5_000)});
    refused_at(create(draft(big)).await, 422, "validation-failed", "/data", "max_bytes").await;

    // half-typed data saves: a partial AHV number, an unfinished e-mail, no required field
    let res = create(draft(json!({"ahv_number": "756.12", "email": "anna@", "copies": 0}))).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let first: Value = res.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_string();

    // a change is checked the same way, after the merge
    let etag = first_etag(&w, &id).await;
    let res = w
        .send(
            Method::PATCH,
            &format!("/v1/applications/{id}"),
            Some(&w.a),
            Some(json!({"data": {"delivery": "drone"}})),
            Some(&etag),
        )
        .await;
    refused_at(res, 422, "validation-failed", "/data/delivery", "enum").await;
    let res = w
        .send(
            Method::PATCH,
            &format!("/v1/applications/{id}"),
            Some(&w.a),
            Some(json!({"data": {"last_name": "x".repeat(400), "first_name": "y".repeat(400), "address": {"street": "z".repeat(190)}, "ahv_number": "7".repeat(3_500)}})),
            Some(&etag),
        )
        .await;
    refused_at(res, 422, "validation-failed", "/data", "max_bytes").await;

    // open drafts: 3 at most per applicant; create-and-submit is not a draft
    for _ in 0..2 {
        assert_eq!(create(draft(json!({}))).await.status(), 201);
    }
    let res = create(draft(json!({}))).await;
    let body = assert_problem(res, 409, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains("3 offene Entwürfe"), "{body}");
    let submitted = json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true});
    assert_eq!(create(submitted).await.status(), 201);
    // another applicant is not affected
    let other = w
        .call(Method::POST, "/v1/applications", Some(&w.b), Some(draft(json!({}))))
        .await;
    assert_eq!(other.status(), 201);
    // deleting one makes room
    let res = w
        .send(
            Method::DELETE,
            &format!("/v1/applications/{id}"),
            Some(&w.a),
            None,
            Some(&etag),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(create(draft(json!({}))).await.status(), 201);
}

async fn first_etag(w: &World, id: &str) -> String {
    let res = w
        .call(Method::GET, &format!("/v1/applications/{id}"), Some(&w.a), None)
        .await;
    res.headers()["etag"].to_str().unwrap().to_string()
}
