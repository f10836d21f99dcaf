//! Catalogue administration over HTTP: who may do what, If-Match on every write, drafts that
//! stay private until published, and publishing/retiring seen by the public.

use crate::common::world::resident;
use crate::common::{assert_problem, eventually, staff_token, TestApp};
use serde_json::{json, Value};

fn department() -> Value {
    json!({
        "slug": "digitalisierung", "name": {"de": "Fachstelle Digitalisierung", "fr": "Service de la numérisation"},
        "email": "digital@thun.ch", "contact_verified": {"email": false, "phone": false, "address": false}
    })
}

fn draft() -> Value {
    json!({
        "content": {
            "name": {"de": "Parkplatz reservieren", "fr": "Réserver une place"}, "summary": {"de": "Einen Parkplatz reservieren."},
            "audience": ["resident"],
            "fee": {"amount": 1500, "currency": "CHF", "basis": "once", "verified": true},
            "processing_time": {"days": 3, "unit": "working_days", "verified": false},
            "channel": "guichet", "requires_login": true
        },
        "form": {"schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"plate": {"type": "string", "maxLength": 12}}, "required": ["plate"]}}
    })
}

fn service(slug: &str, department: &str) -> Value {
    let mut v = draft();
    v["slug"] = json!(slug);
    v["department"] = json!(department);
    v["category"] = json!("residence");
    v
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut rb = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(m) = if_match {
        rb = rb.header("If-Match", m);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.unwrap()
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn administrators_create_and_edit_departments_with_if_match() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = staff_token(&app, "admin@thun.ch", "admin", None).await;
    let clerk = staff_token(&app, "clerk@thun.ch", "clerk", Some("einwohnerdienste")).await;
    let res_token = resident(&app, "res@example.ch").await.0;

    assert_problem(
        app.client
            .post(app.url("/v1/departments"))
            .json(&department())
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        send(&app, Method::POST, "/v1/departments", &clerk, None, Some(department())).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/departments",
            &res_token,
            None,
            Some(department()),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let mut bad = department();
    bad["slug"] = json!("Not A Slug");
    bad["email"] = json!("nope");
    let body = assert_problem(
        send(&app, Method::POST, "/v1/departments", &admin, None, Some(bad)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    let res = send(&app, Method::POST, "/v1/departments", &admin, None, Some(department())).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/v1/departments/digitalisierung"));
    let created_etag = etag(&res);
    assert!(created_etag.starts_with("\"r1-"));
    assert_problem(
        send(&app, Method::POST, "/v1/departments", &admin, None, Some(department())).await,
        409,
        "conflict",
    )
    .await;
    let public = app.get_json("/v1/departments/digitalisierung?lang=fr").await;
    assert_eq!(public["name"], "Service de la numérisation");

    let mut changed = department();
    changed["phone"] = json!("+41 33 225 81 11");
    let path = "/v1/departments/digitalisierung";
    assert_problem(
        send(&app, Method::PUT, path, &admin, None, Some(changed.clone())).await,
        428,
        "precondition-required",
    )
    .await;
    assert_problem(
        send(&app, Method::PUT, path, &admin, Some("\"r9-x\""), Some(changed.clone())).await,
        412,
        "precondition-failed",
    )
    .await;
    assert_problem(
        send(&app, Method::PUT, path, &admin, Some("garbage"), Some(changed.clone())).await,
        412,
        "precondition-failed",
    )
    .await;
    let get = app.get(path).await;
    let current = etag(&get);
    let res = send(&app, Method::PUT, path, &admin, Some(&current), Some(changed.clone())).await;
    assert_eq!(res.status(), 200);
    assert!(etag(&res).starts_with("\"r2-"));
    // the same If-Match a second time is stale: no lost update
    assert_problem(
        send(&app, Method::PUT, path, &admin, Some(&current), Some(department())).await,
        412,
        "precondition-failed",
    )
    .await;
    assert_eq!(app.get_json(path).await["phone"], "+41 33 225 81 11");
    let mut renamed = changed.clone();
    renamed["slug"] = json!("other");
    let res = send(
        &app,
        Method::PUT,
        path,
        &admin,
        Some(&etag(&app.get(path).await)),
        Some(renamed),
    )
    .await;
    assert_problem(res, 422, "validation-failed").await;
}

#[tokio::test]
async fn a_clerk_drafts_edits_and_publishes_a_service_of_their_department() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let clerk = staff_token(&app, "clerk@thun.ch", "clerk", Some("einwohnerdienste")).await;
    let other = staff_token(&app, "bau@thun.ch", "clerk", Some("bauinspektorat")).await;
    let res_token = resident(&app, "res@example.ch").await.0;

    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services",
            &res_token,
            None,
            Some(service("parkplatz", "einwohnerdienste")),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services",
            &other,
            None,
            Some(service("parkplatz", "einwohnerdienste")),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let res = send(
        &app,
        Method::POST,
        "/v1/services",
        &clerk,
        None,
        Some(service("parkplatz", "einwohnerdienste")),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["state"], "draft");
    assert_eq!(created["version"], 1);
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services",
            &clerk,
            None,
            Some(service("parkplatz", "einwohnerdienste")),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    // the draft is private: the public and other departments do not see it
    assert_problem(app.get("/v1/services/parkplatz").await, 404, "not-found").await;
    assert_problem(app.get("/v1/services/parkplatz/versions/1").await, 404, "not-found").await;
    assert_problem(
        send(
            &app,
            Method::GET,
            "/v1/services/parkplatz/versions/1",
            &other,
            None,
            None,
        )
        .await,
        404,
        "not-found",
    )
    .await;
    let res = send(
        &app,
        Method::GET,
        "/v1/services/parkplatz/versions/1",
        &clerk,
        None,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let v1_etag = etag(&res);

    // edit with If-Match
    let mut edited = draft();
    edited["content"]["fee"]["amount"] = json!(2000);
    let path = "/v1/services/parkplatz/versions/1";
    assert_problem(
        send(&app, Method::PUT, path, &clerk, None, Some(edited.clone())).await,
        428,
        "precondition-required",
    )
    .await;
    let res = send(&app, Method::PUT, path, &clerk, Some(&v1_etag), Some(edited.clone())).await;
    assert_eq!(res.status(), 200);
    let v1_etag2 = etag(&res);
    assert_problem(
        send(&app, Method::PUT, path, &clerk, Some(&v1_etag), Some(edited.clone())).await,
        412,
        "precondition-failed",
    )
    .await;
    let mut invalid = edited.clone();
    invalid["form"]["schema"]["properties"]["ahv"] = json!({"type": "string", "format": "ahv-number"});
    let body = assert_problem(
        send(&app, Method::PUT, path, &clerk, Some(&v1_etag2), Some(invalid)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/form/schema/properties/ahv");
    // a $ref that leaves the form is named at its place, in words (not the validator's)
    let mut remote = edited.clone();
    remote["form"]["schema"]["properties"]["x"] = json!({"$ref": "https://example.org/address.json"});
    let body = assert_problem(
        send(&app, Method::PUT, path, &clerk, Some(&v1_etag2), Some(remote)).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/form/schema/properties/x/$ref", "{body}");
    assert_eq!(body["errors"][0]["code"], "ref", "{body}");
    assert!(!body.to_string().contains("resolve-http"), "{body}");

    // publish: public within the refresh bound, and the published version never changes
    let publish = "/v1/services/parkplatz/versions/1/publish";
    assert_problem(
        send(&app, Method::POST, publish, &clerk, None, None).await,
        428,
        "precondition-required",
    )
    .await;
    let res = send(&app, Method::POST, publish, &clerk, Some(&v1_etag2), None).await;
    assert_eq!(res.status(), 200);
    let public = app.get_json("/v1/services/parkplatz").await;
    assert_eq!(public["fee"]["amount"], 2000);
    assert_eq!(public["accepts_applications"], true);
    assert_problem(
        send(&app, Method::PUT, path, &clerk, Some(&etag(&res)), Some(edited.clone())).await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        send(&app, Method::POST, publish, &clerk, Some(&etag(&res)), None).await,
        409,
        "conflict",
    )
    .await;

    // a second version: copy, edit, publish; the first is superseded
    let res = send(
        &app,
        Method::POST,
        "/v1/services/parkplatz/versions",
        &clerk,
        None,
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    let v2: Value = res.json().await.unwrap();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["content"]["fee"]["amount"], 2000);
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services/parkplatz/versions",
            &clerk,
            None,
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let v2_etag = etag(
        &send(
            &app,
            Method::GET,
            "/v1/services/parkplatz/versions/2",
            &clerk,
            None,
            None,
        )
        .await,
    );
    let res = send(
        &app,
        Method::POST,
        "/v1/services/parkplatz/versions/2/publish",
        &clerk,
        Some(&v2_etag),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(eventually(|| async { app.get_json("/v1/services/parkplatz").await["version"] == 2 }).await);
    assert_eq!(
        app.get_json("/v1/services/parkplatz/versions/1").await["version_state"],
        "superseded"
    );

    // another department's clerk may not touch it
    let svc_etag = etag(&app.get("/v1/services/parkplatz").await);
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services/parkplatz/retire",
            &other,
            Some(&svc_etag),
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        send(
            &app,
            Method::POST,
            "/v1/services/parkplatz/versions",
            &other,
            None,
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // a draft of a published service: its department's clerk reads it, to another
    // department's clerk it does not exist (404, as for the public; it was a 403)
    let res = send(
        &app,
        Method::POST,
        "/v1/services/parkplatz/versions",
        &clerk,
        None,
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    let path = format!("/v1/services/parkplatz/versions/{}", draft["version"]);
    assert_eq!(send(&app, Method::GET, &path, &clerk, None, None).await.status(), 200);
    assert_problem(
        send(&app, Method::GET, &path, &other, None, None).await,
        404,
        "not-found",
    )
    .await;
    assert_problem(app.get(&path).await, 404, "not-found").await;
}

#[tokio::test]
async fn retiring_takes_the_current_etag_and_hides_the_service_from_listings() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = staff_token(&app, "admin@thun.ch", "admin", None).await;
    let path = "/v1/services/hund-anmelden/retire";
    assert_problem(
        send(&app, Method::POST, path, &admin, None, None).await,
        428,
        "precondition-required",
    )
    .await;
    assert_problem(
        send(&app, Method::POST, path, &admin, Some("\"r99-abc\""), None).await,
        412,
        "precondition-failed",
    )
    .await;
    let current = etag(&app.get("/v1/services/hund-anmelden").await);
    let res = send(&app, Method::POST, path, &admin, Some(&current), None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "retired");
    assert_eq!(body["accepts_applications"], false);
    let listed = app.get_json("/v1/services?limit=100").await;
    assert!(!listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["slug"] == "hund-anmelden"));
    let again = etag(&app.get("/v1/services/hund-anmelden").await);
    assert_problem(
        send(&app, Method::POST, path, &admin, Some(&again), None).await,
        409,
        "conflict",
    )
    .await;
    // audited
    let log = send(
        &app,
        Method::GET,
        "/v1/audit-events?action=service.retire",
        &admin,
        None,
        None,
    )
    .await;
    let log: Value = log.json().await.unwrap();
    assert_eq!(log["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_staff_member_s_profile_change_is_audited_as_staff() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = staff_token(&app, "admin@thun.ch", "admin", None).await;
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let tag = etag(&me);
    let id = me.json::<Value>().await.unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .client
        .request(Method::PATCH, app.url("/v1/me"))
        .bearer_auth(&admin)
        .header("If-Match", tag)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"display_name": "Verwaltung"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let log: Value = app.get_json_as("/v1/audit-events?action=account.update", &admin).await;
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    // the caller's own kind (it was recorded as "resident" whoever changed their profile)
    assert_eq!(entries[0]["actor_kind"], "staff", "{log}");
    assert_eq!(entries[0]["actor_id"], id.as_str());
    assert_eq!(entries[0]["target_id"], id.as_str());
}

/// Two instances on one database, eight administrators' creates of the same department and of
/// the same service at once: one is created, every other gets a 409 (the database's unique
/// constraint decides the requests that both passed the check; none is a 500).
#[tokio::test]
async fn concurrent_creates_of_one_slug_on_two_instances_give_one_201_and_409s() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.db.share(), &[]).await;
    let admin = staff_token(&app, "admin@thun.ch", "admin", None).await;
    let outcomes = crate::common::race(&[&app, &other], "/v1/departments", &admin, department(), 8).await;
    crate::common::assert_one_created(&outcomes, "department");
    let outcomes = crate::common::race(
        &[&app, &other],
        "/v1/services",
        &admin,
        service("rennen", "digitalisierung"),
        8,
    )
    .await;
    crate::common::assert_one_created(&outcomes, "service");
}
