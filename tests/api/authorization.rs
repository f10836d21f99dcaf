//! The authorization matrix: every protected operation against every kind of caller. Scope
//! and role are decided before any object is looked up (403 for a known and an unknown
//! object alike); objects a caller may not see are 404.

use crate::common::world::{client_token, password_token, World};
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

/// The matrix of applications, their documents and history, organisations, their members and
/// clients: every kind of caller against the same objects. Whoever may not see an object gets
/// the 404 an unknown one gets; whoever sees it but lacks the scope or role gets 403; a stale
/// `If-Match` (412) or an invalid body (422) proves a caller passed authorization without
/// changing anything.
#[tokio::test]
async fn applications_documents_and_organisations_against_every_kind_of_caller() {
    use crate::common::world::{publish, valid_data, World};
    use crate::documents::{draft, permit_service, upload_pdf};

    let w = World::new().await;
    publish(&w, permit_service()).await;
    // resident A's draft with a document, and A's submitted application (einwohnerdienste)
    let draft_id = draft(&w, &w.a, "kleinbaugesuch").await;
    let doc: Value = upload_pdf(&w, &draft_id, &w.a, 100).await.json().await.unwrap();
    let doc = doc["id"].as_str().unwrap().to_string();
    let submitted: Value = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung", "submit": true, "data": valid_data()})),
        )
        .await
        .json()
        .await
        .unwrap();
    let sub = submitted["id"].as_str().unwrap().to_string();
    // a message of A on it; and another application of A, approved with a decision document
    let message: Value = w
        .call(
            Method::POST,
            &format!("/v1/applications/{sub}/messages"),
            Some(&w.a),
            Some(json!({"body": "Eine Frage"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let message = message["id"].as_str().unwrap().to_string();
    let decided = w.submitted(&w.a).await;
    let decided = decided["id"].as_str().unwrap().to_string();
    w.moved(&decided, &w.clerk, json!({"to": "in_review"})).await;
    let permit: Value = upload_pdf(&w, &decided, &w.clerk, 100).await.json().await.unwrap();
    let permit = permit["id"].as_str().unwrap().to_string();
    w.moved(
        &decided,
        &w.clerk,
        json!({"to": "approved", "decision_documents": [permit]}),
    )
    .await;
    let callers = callers(&w);
    let (x, y) = (&w.org_x, &w.org_y);
    let p = |s: String| s;
    // (method, path, body, send a stale If-Match, expected per caller in the order above)
    type Row = (Method, String, Option<Value>, bool, [u16; 8]);
    let rows: Vec<Row> = vec![
        (
            Method::GET,
            p(format!("/v1/applications/{draft_id}")),
            None,
            false,
            [401, 200, 404, 404, 404, 404, 404, 404],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{sub}")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{sub}/history")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{draft_id}/documents")),
            None,
            false,
            [401, 200, 404, 404, 404, 404, 404, 404],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{draft_id}/documents/{doc}")),
            None,
            false,
            [401, 200, 404, 404, 404, 404, 404, 404],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{draft_id}/documents/{doc}/content")),
            None,
            false,
            [401, 200, 404, 404, 404, 404, 404, 404],
        ),
        (
            Method::PATCH,
            p(format!("/v1/applications/{draft_id}")),
            Some(json!({"data": {}})),
            true,
            // staff pass the scope check (they change applications by processing them) and
            // then do not see a draft
            [401, 412, 404, 404, 404, 404, 404, 404],
        ),
        (
            Method::POST,
            p(format!("/v1/applications/{sub}/transitions")),
            Some(json!({"to": "in_review"})),
            true,
            [401, 412, 404, 404, 404, 412, 404, 412],
        ),
        // the thread: read by whoever sees the application, written by its applicant and
        // its processors (an empty message is a 422: allowed, and nothing written)
        (
            Method::GET,
            p(format!("/v1/applications/{sub}/messages")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::POST,
            p(format!("/v1/applications/{sub}/messages")),
            Some(json!({"body": " "})),
            false,
            [401, 422, 404, 404, 404, 422, 404, 422],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{sub}/messages/{message}")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        // a decision: downloaded by whoever sees the application, removed by no one (409: the
        // applicant changes no documents once it is decided, the department keeps its decision)
        (
            Method::GET,
            p(format!("/v1/applications/{decided}/documents/{permit}")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{decided}/documents/{permit}/content")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::DELETE,
            p(format!("/v1/applications/{decided}/documents/{permit}")),
            None,
            false,
            [401, 409, 404, 404, 404, 409, 404, 409],
        ),
        (
            Method::GET,
            p(format!("/v1/applications/{sub}/messages/read")),
            None,
            false,
            [401, 200, 404, 404, 404, 200, 404, 200],
        ),
        (
            Method::POST,
            p(format!("/v1/applications/{sub}/messages/read")),
            Some(json!({"up_to": "0190a4b2-0000-7000-8000-000000000000"})),
            false,
            [401, 422, 404, 404, 404, 422, 404, 422],
        ),
        (
            Method::GET,
            p(format!("/v1/organisations/{x}")),
            None,
            false,
            [401, 404, 404, 200, 403, 403, 403, 200],
        ),
        (
            Method::GET,
            p(format!("/v1/organisations/{x}/members")),
            None,
            false,
            [401, 404, 404, 200, 403, 403, 403, 200],
        ),
        // an organisation's clients are its owners' business: an administrator sees the
        // organisation and its members, not its clients' list
        (
            Method::GET,
            p(format!("/v1/organisations/{x}/clients")),
            None,
            false,
            [401, 404, 404, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            p(format!("/v1/organisations/{y}/clients")),
            None,
            false,
            [401, 404, 404, 404, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            p(format!("/v1/organisations/{x}/clients")),
            Some(json!({"name": "Matrix", "scopes": "applications:read"})),
            false,
            [401, 404, 404, 201, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            p(format!("/v1/organisations/{x}/members")),
            Some(json!({"email": "b@example.ch", "role": "member"})),
            false,
            [401, 404, 404, 201, 403, 403, 403, 403],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, if_match, expected) in &rows {
        for ((who, token), want) in callers.iter().zip(expected) {
            let mut rb = w.app.client.request(method.clone(), w.app.url(path));
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            if *if_match {
                rb = rb.header("If-Match", "\"r999-stale\"");
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let res = rb.send().await.unwrap();
            let got = res.status().as_u16();
            if got != *want {
                let text = res.text().await.unwrap_or_default();
                failures.push(format!(
                    "{method} {path} as {who}: want {want}, got {got}: {:.200}",
                    text
                ));
            } else if got >= 400 {
                assert_eq!(
                    res.headers()["content-type"],
                    "application/problem+json",
                    "{method} {path} as {who}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The eight kinds of caller of a world, by name: anonymous, resident A (the applicant of the
/// world's applications), resident B, a member of organisation X, the client of Y, a clerk of
/// the responsible department, a clerk of another, an administrator.
fn callers(w: &World) -> [(&'static str, Option<&str>); 8] {
    [
        ("anonymous", None),
        ("applicant", Some(&w.a)),
        ("other resident", Some(&w.b)),
        ("member of X", Some(&w.member)),
        ("client of Y", Some(&w.partner)),
        ("clerk", Some(&w.clerk)),
        ("other clerk", Some(&w.other_clerk)),
        ("admin", Some(&w.admin)),
    ]
}

/// Who may apply for what: a service's audience (residents, businesses, organisations) against
/// every kind of caller, applying for themselves or for an organisation. A refused audience is
/// a 422 at `/applicant` with code `audience`.
#[tokio::test]
async fn audiences_against_every_kind_of_caller() {
    let w = World::new().await;
    let callers = callers(&w);
    let for_x = json!({"organisation": w.org_x});
    let address = json!({"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"});
    let maria = json!({"kind": "person", "name": "Maria Beispiel", "address": address});
    let firm = json!({"kind": "organisation", "name": "Beispiel AG", "uid": "CHE-116.281.710", "address": address});
    let for_maria = json!({"on_behalf_of": maria});
    let x_for_maria = json!({"organisation": w.org_x, "on_behalf_of": maria});
    // (service, applicant, expected per caller in the order above)
    let rows: Vec<(&str, Option<Value>, [u16; 8])> = vec![
        ("wohnsitzbestaetigung", None, [401, 201, 201, 201, 422, 403, 403, 403]),
        (
            "wohnsitzbestaetigung",
            Some(for_x.clone()),
            [401, 403, 403, 422, 403, 403, 403, 403],
        ),
        ("handwerkerparkkarte", None, [401, 422, 422, 422, 201, 403, 403, 403]),
        (
            "handwerkerparkkarte",
            Some(for_x.clone()),
            [401, 403, 403, 201, 403, 403, 403, 403],
        ),
        (
            "veranstaltungsbewilligung",
            None,
            [401, 201, 201, 201, 201, 403, 403, 403],
        ),
        // on behalf of someone: only an organisation, only where the service allows it, and the
        // audience is the represented party's
        (
            "wohnsitzbestaetigung",
            Some(for_maria),
            [401, 422, 422, 422, 201, 403, 403, 403],
        ),
        (
            "wohnsitzbestaetigung",
            Some(x_for_maria),
            [401, 403, 403, 201, 403, 403, 403, 403],
        ),
        (
            "wohnsitzbestaetigung",
            Some(json!({"on_behalf_of": firm.clone()})),
            [401, 422, 422, 422, 422, 403, 403, 403],
        ),
        (
            "handwerkerparkkarte",
            Some(json!({"on_behalf_of": firm})),
            [401, 422, 422, 422, 422, 403, 403, 403],
        ),
    ];
    let mut failures = Vec::new();
    for (service, applicant, want) in &rows {
        let mut body = json!({"service": service});
        if let Some(a) = applicant {
            body["applicant"] = a.clone();
        }
        for ((who, token), want) in callers.iter().zip(want) {
            let res = w
                .call(Method::POST, "/v1/applications", *token, Some(body.clone()))
                .await;
            let got = res.status().as_u16();
            let answer: Value = res.json().await.unwrap_or_default();
            if got != *want {
                failures.push(format!(
                    "{service} {applicant:?} as {who}: want {want}, got {got}: {answer}"
                ));
            } else if got == 422 {
                let (at, code) = (&answer["errors"][0]["pointer"], &answer["errors"][0]["code"]);
                let on_behalf = applicant.as_ref().is_some_and(|a| a.get("on_behalf_of").is_some());
                let want = if on_behalf {
                    (json!("/applicant/on_behalf_of"), json!("representation"))
                } else {
                    (json!("/applicant"), json!("audience"))
                };
                assert_eq!((at.clone(), code.clone()), want, "{answer}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
