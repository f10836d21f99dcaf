//! The authorization matrix: every protected operation against every kind of caller. Scope
//! and role are decided before any object is looked up (403 for a known and an unknown
//! object alike); objects a caller may not see are 404.

use crate::common::world::{client_token, password_token};
use crate::common::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn every_protected_operation_against_every_kind_of_caller() {
    let app = TestApp::spawn().await;
    let pw = Some("a long enough password".to_string());
    app.with_conn(|c| {
        guichet::admin::create_user(c, "admin@thun.ch", "admin", None, pw.clone()).unwrap();
        guichet::admin::create_user(c, "clerk@thun.ch", "clerk", Some("einwohnerdienste"), pw.clone()).unwrap();
        guichet::admin::create_user(c, "bau@thun.ch", "clerk", Some("bauinspektorat"), pw.clone()).unwrap();
    });
    app.client
        .post(app.url("/v1/accounts"))
        .json(&json!({"email": "resident@example.ch", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    let callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("resident", Some(password_token(&app, "resident@example.ch").await)),
        ("clerk", Some(password_token(&app, "clerk@thun.ch").await)),
        ("other clerk", Some(password_token(&app, "bau@thun.ch").await)),
        ("admin", Some(password_token(&app, "admin@thun.ch").await)),
        (
            "client",
            Some(client_token(&app, "applications:read applications:write", None).await),
        ),
        (
            "admin client",
            Some(client_token(&app, "admin catalogue:write", None).await),
        ),
    ];
    let draft = json!({
        "content": {"name": {"de": "X"}, "summary": {"de": "Y"}, "audience": ["resident"],
            "fee": {"amount": null, "currency": "CHF", "basis": "varies", "verified": false},
            "processing_time": {"days": null, "verified": false}, "channel": "counter", "requires_login": false},
        "form": {"schema": {"type": "object"}}
    });
    let mut new_service = draft.clone();
    new_service["slug"] = json!("matrix-test");
    new_service["department"] = json!("einwohnerdienste");
    new_service["category"] = json!("residence");
    let department = json!({"slug": "matrix", "name": {"de": "Matrix"}, "contact_verified": {"email": false, "phone": false, "address": false}});

    // (method, path, body, if-match, expected per caller in the order above)
    // The If-Match sent is a stale one: an allowed caller gets 412, which proves it passed
    // authorization without changing anything.
    type Row<'a> = (Method, &'a str, Option<Value>, bool, [u16; 7]);
    let rows: Vec<Row> = vec![
        (Method::GET, "/v1/me", None, false, [401, 200, 200, 200, 200, 200, 200]),
        (
            Method::GET,
            "/v1/audit-events",
            None,
            false,
            [401, 403, 403, 403, 200, 403, 200],
        ),
        (
            Method::POST,
            "/v1/departments",
            Some(json!({"slug": "x"})),
            false,
            [401, 403, 403, 403, 422, 403, 422],
        ),
        (
            Method::PUT,
            "/v1/departments/einwohnerdienste",
            Some(department.clone()),
            true,
            [401, 403, 403, 403, 422, 403, 422],
        ),
        (
            Method::PUT,
            "/v1/departments/no-such-department",
            Some(department.clone()),
            true,
            [401, 403, 403, 403, 404, 403, 404],
        ),
        (
            Method::POST,
            "/v1/services",
            Some(json!({})),
            false,
            [401, 403, 422, 422, 422, 403, 422],
        ),
        (
            Method::POST,
            "/v1/services/hund-anmelden/versions/9/publish",
            None,
            true,
            [401, 403, 403, 403, 404, 403, 404],
        ),
        (
            Method::POST,
            "/v1/services/wohnsitzbestaetigung/retire",
            None,
            true,
            [401, 403, 412, 403, 412, 403, 412],
        ),
        (
            Method::POST,
            "/v1/services/baugesuch/retire",
            None,
            true,
            [401, 403, 403, 412, 412, 403, 412],
        ),
        (
            Method::POST,
            "/v1/services/no-such-service/retire",
            None,
            true,
            [401, 403, 404, 404, 404, 403, 404],
        ),
        (
            Method::PUT,
            "/v1/services/wohnsitzbestaetigung/versions/1",
            Some(draft.clone()),
            true,
            [401, 403, 409, 403, 409, 403, 409],
        ),
        (
            Method::POST,
            "/v1/services",
            Some(new_service.clone()),
            false,
            [401, 403, 201, 403, 409, 403, 409],
        ),
        (
            Method::GET,
            "/v1/services/matrix-test/versions/1",
            None,
            false,
            [404, 404, 200, 404, 200, 404, 200],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, if_match, expected) in rows {
        for ((who, token), want) in callers.iter().zip(expected) {
            let mut rb = app.client.request(method.clone(), app.url(path));
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            if if_match {
                rb = rb.header("If-Match", "\"r999-stale\"");
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let res = rb.send().await.unwrap();
            let got = res.status().as_u16();
            if got != want {
                let text = res.text().await.unwrap_or_default();
                failures.push(format!("{method} {path} as {who}: want {want}, got {got}: {text}"));
            } else if got >= 400 {
                assert_eq!(
                    res.headers()["content-type"],
                    "application/problem+json",
                    "{method} {path} as {who}"
                );
                if got == 401 {
                    assert!(res.headers().contains_key("www-authenticate"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
