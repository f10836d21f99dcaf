//! A department's back-office systems: clients bound to a department, made by administrators
//! (over HTTP, or `guichet client create --department`), which read and process that
//! department's applications as its clerks do, and no other department's.
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::assert_problem;
use crate::common::world::World;

/// A client-credentials token for the credentials `creds`.
async fn token(w: &World, creds: &Value) -> String {
    let res = w
        .app
        .client
        .post(w.app.url("/v1/oauth/token"))
        .basic_auth(creds["client_id"].as_str().unwrap(), creds["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_department_system_processes_its_department_s_applications_only() {
    let w = World::new().await;
    // made by an administrator over HTTP, and by an operator from the command line
    let body = json!({"name": "Einwohnerdienste Fachanwendung", "scopes": "applications:read applications:process"});
    let res = w
        .call(
            Method::POST,
            "/v1/departments/einwohnerdienste/clients",
            Some(&w.admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let ours: Value = res.json().await.unwrap();
    assert!(ours["client_secret"].as_str().unwrap().starts_with("gcs_"));
    let theirs = w.app.with_conn(|c| {
        guichet::admin::create_client(
            c,
            "Bauinspektorat GIS",
            "applications:read applications:process",
            guichet::admin::ClientFor::Department("bauinspektorat".into()),
        )
        .unwrap()
    });
    let listed = w.get_json("/v1/departments/einwohnerdienste/clients", &w.admin).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_id"], ours["client_id"]);
    assert!(listed[0].get("client_secret").is_none());
    let (ours, theirs) = (token(&w, &ours).await, token(&w, &theirs).await);

    // resident A applies to einwohnerdienste
    let app = w.submitted(&w.a).await;
    let path = format!("/v1/applications/{}", app["id"].as_str().unwrap());

    // the department's system reads it as staff does, and moves it
    let seen = w.get_json(&path, &ours).await;
    assert!(seen.get("tracking_code").is_none(), "the staff view");
    assert_eq!(seen["allowed_moves"], json!(["in_review", "rejected"]));
    let list = w.get_json("/v1/applications", &ours).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let res = w
        .act(
            Method::POST,
            &format!("{path}/transitions"),
            Some(&ours),
            Some(json!({"to": "in_review"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let history = w.get_json(&format!("{path}/history"), &ours).await;
    let moved = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (moved["action"].as_str(), moved["actor_kind"].as_str()),
        (Some("status_changed"), Some("client"))
    );
    w.events_in_feed(app["id"].as_str().unwrap()).await;
    let feed = w.get_json("/v1/events", &ours).await;
    let types: Vec<_> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application.created",
            "application.submitted",
            "application.invoice_issued",
            "application.status_changed"
        ]
    );

    // another department's system sees and moves nothing of it
    assert_problem(w.call(Method::GET, &path, Some(&theirs), None).await, 404, "not-found").await;
    let list = w.get_json("/v1/applications", &theirs).await;
    assert!(list["data"].as_array().unwrap().is_empty());
    assert!(w.get_json("/v1/events", &theirs).await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    let res = w
        .act(
            Method::POST,
            &format!("{path}/transitions"),
            Some(&theirs),
            Some(json!({"to": "approved"})),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    // and neither system may apply
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&ours),
            Some(json!({"service": "wohnsitzbestaetigung"})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn only_administrators_make_department_systems_with_a_clerk_s_scopes() {
    let w = World::new().await;
    let url = "/v1/departments/einwohnerdienste/clients";
    let good = json!({"name": "Fachanwendung", "scopes": "applications:read"});
    for who in [&w.clerk, &w.a, &w.partner] {
        assert_problem(
            w.call(Method::POST, url, Some(who), Some(good.clone())).await,
            403,
            "forbidden",
        )
        .await;
    }
    let res = w
        .call(
            Method::POST,
            "/v1/departments/nirgendwo/clients",
            Some(&w.admin),
            Some(good),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    for scopes in ["applications:write", "admin", "applications:read catalogue:write", ""] {
        let res = w
            .call(
                Method::POST,
                url,
                Some(&w.admin),
                Some(json!({"name": "X", "scopes": scopes})),
            )
            .await;
        let body = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(body["errors"][0]["pointer"], "/scopes", "{scopes}");
    }
    let listed = w.get_json("/v1/departments/einwohnerdienste/clients", &w.admin).await;
    assert!(listed.as_array().unwrap().is_empty(), "nothing was made");
    // the command line holds them to the same scopes
    let refused = w.app.with_conn(|c| {
        guichet::admin::create_client(
            c,
            "X",
            "applications:write",
            guichet::admin::ClientFor::Department("einwohnerdienste".into()),
        )
    });
    assert!(refused.is_err());
}
