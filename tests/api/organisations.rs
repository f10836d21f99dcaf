//! Organisations: registration by UID, verification by an administrator, members, and the
//! organisation's own API clients.

use crate::common::world::{password_token, resident};
use crate::common::{assert_problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const UID: &str = "CHE-116.281.710";

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut rb = app.client.request(method, app.url(path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    if let Some(m) = if_match {
        rb = rb.header("If-Match", m);
    }
    rb.send().await.unwrap()
}

/// An administrator's token, and those of the residents Anna and Beat.
async fn admin_anna_and_beat(app: &TestApp) -> (String, String, String) {
    app.with_conn(|c| {
        guichet::admin::create_user(c, "admin@thun.ch", "admin", None, Some("a long enough password".into())).unwrap()
    });
    (
        password_token(app, "admin@thun.ch").await,
        resident(app, "anna@example.ch").await.0,
        resident(app, "beat@example.ch").await.0,
    )
}

#[tokio::test]
async fn an_organisation_is_registered_verified_and_managed_by_its_owners() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let (admin, anna, beat) = admin_anna_and_beat(&app).await;

    assert_problem(
        call(
            &app,
            Method::POST,
            "/v1/organisations",
            None,
            Some(json!({"uid": UID, "name": "Muster AG"})),
            None,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    let body = assert_problem(
        call(
            &app,
            Method::POST,
            "/v1/organisations",
            Some(&anna),
            Some(json!({"uid": "CHE-116.281.711", "name": "Muster AG"})),
            None,
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/uid");
    let res = call(
        &app,
        Method::POST,
        "/v1/organisations",
        Some(&anna),
        Some(json!({"uid": UID, "name": "Muster AG"})),
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    let org: Value = res.json().await.unwrap();
    assert_eq!(org["status"], "pending");
    assert_eq!(org["role"], "owner");
    let id = org["id"].as_str().unwrap().to_string();
    let path = format!("/v1/organisations/{id}");

    // others do not see it; its owner does
    assert_problem(
        call(&app, Method::GET, &path, Some(&beat), None, None).await,
        404,
        "not-found",
    )
    .await;
    let mine: Value = call(&app, Method::GET, "/v1/organisations", Some(&beat), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["data"].as_array().unwrap().len(), 0);
    let mine: Value = call(&app, Method::GET, "/v1/organisations", Some(&anna), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["data"][0]["id"], id.as_str());

    // nothing can be added while it is pending
    let members = format!("{path}/members");
    assert_problem(
        call(
            &app,
            Method::POST,
            &members,
            Some(&anna),
            Some(json!({"email": "beat@example.ch", "role": "member"})),
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;

    // an administrator verifies it, with If-Match
    let verification = format!("{path}/verification");
    assert_problem(
        call(
            &app,
            Method::POST,
            &verification,
            Some(&anna),
            Some(json!({"status": "verified"})),
            Some("\"r1-x\""),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        call(
            &app,
            Method::POST,
            &verification,
            Some(&admin),
            Some(json!({"status": "verified"})),
            None,
        )
        .await,
        428,
        "precondition-required",
    )
    .await;
    assert_problem(
        call(
            &app,
            Method::POST,
            &verification,
            Some(&admin),
            Some(json!({"status": "verified"})),
            Some("\"r7-x\""),
        )
        .await,
        412,
        "precondition-failed",
    )
    .await;
    let pending: Value = call(
        &app,
        Method::GET,
        "/v1/organisations?status=pending",
        Some(&admin),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let etag = call(&app, Method::GET, &path, Some(&admin), None, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let res = call(
        &app,
        Method::POST,
        &verification,
        Some(&admin),
        Some(json!({"status": "verified"})),
        Some(&etag),
    )
    .await;
    assert_eq!(res.status(), 200);

    // members
    let res = call(
        &app,
        Method::POST,
        &members,
        Some(&anna),
        Some(json!({"email": "Beat@Example.ch", "role": "member"})),
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_problem(
        call(
            &app,
            Method::POST,
            &members,
            Some(&anna),
            Some(json!({"email": "beat@example.ch", "role": "member"})),
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        call(
            &app,
            Method::POST,
            &members,
            Some(&anna),
            Some(json!({"email": "nobody@example.ch", "role": "member"})),
            None,
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    let seen: Value = call(&app, Method::GET, &path, Some(&beat), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["role"], "member");
    let list: Value = call(&app, Method::GET, &members, Some(&beat), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_problem(
        call(
            &app,
            Method::POST,
            &members,
            Some(&beat),
            Some(json!({"email": "anna@example.ch", "role": "owner"})),
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let anna_id = list.as_array().unwrap().iter().find(|m| m["role"] == "owner").unwrap()["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let beat_id = list.as_array().unwrap().iter().find(|m| m["role"] == "member").unwrap()["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_problem(
        call(
            &app,
            Method::DELETE,
            &format!("{members}/{anna_id}"),
            Some(&anna),
            None,
            None,
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert_problem(
        call(
            &app,
            Method::DELETE,
            &format!("{members}/{anna_id}"),
            Some(&beat),
            None,
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("{members}/{beat_id}"),
            Some(&beat),
            None,
            None
        )
        .await
        .status(),
        204
    );
    assert_problem(
        call(&app, Method::GET, &path, Some(&beat), None, None).await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn owners_manage_their_organisations_clients() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        guichet::admin::create_user(c, "admin@thun.ch", "admin", None, Some("a long enough password".into())).unwrap()
    });
    let admin = password_token(&app, "admin@thun.ch").await;
    let anna = resident(&app, "anna@example.ch").await.0;
    let org: Value = call(
        &app,
        Method::POST,
        "/v1/organisations",
        Some(&anna),
        Some(json!({"uid": UID, "name": "Muster AG"})),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/v1/organisations/{}", org["id"].as_str().unwrap());
    let etag = call(&app, Method::GET, &path, Some(&admin), None, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    call(
        &app,
        Method::POST,
        &format!("{path}/verification"),
        Some(&admin),
        Some(json!({"status": "verified"})),
        Some(&etag),
    )
    .await;

    let clients = format!("{path}/clients");
    assert_problem(
        call(
            &app,
            Method::POST,
            &clients,
            Some(&anna),
            Some(json!({"name": "x", "scopes": "admin"})),
            None,
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    let res = call(
        &app,
        Method::POST,
        &clients,
        Some(&anna),
        Some(json!({"name": "Booking", "scopes": "applications:read"})),
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    let creds: Value = res.json().await.unwrap();
    let (id, secret) = (
        creds["client_id"].as_str().unwrap().to_string(),
        creds["client_secret"].as_str().unwrap().to_string(),
    );
    let get_token = |secret: String| {
        let id = id.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/oauth/token"))
                .basic_auth(&id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
        }
    };
    let res = get_token(secret.clone()).await;
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap().to_string();
    let me: Value = call(&app, Method::GET, "/v1/me", Some(&access), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["organisation"], org["id"]);
    let list: Value = call(&app, Method::GET, &clients, Some(&anna), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // rotate: the old secret stops working at once
    let res = call(
        &app,
        Method::POST,
        &format!("{clients}/{id}/secret"),
        Some(&anna),
        None,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let new: Value = res.json().await.unwrap();
    assert_eq!(get_token(secret).await.status(), 401);
    assert_eq!(
        get_token(new["client_secret"].as_str().unwrap().to_string())
            .await
            .status(),
        200
    );

    // disable: its tokens stop working at once on this instance (others within 2 s)
    assert_eq!(
        call(
            &app,
            Method::POST,
            &format!("{clients}/{id}/disable"),
            Some(&anna),
            None,
            None
        )
        .await
        .status(),
        204
    );
    assert_problem(
        call(&app, Method::GET, "/v1/me", Some(&access), None, None).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        call(
            &app,
            Method::POST,
            &format!("{clients}/gc_unknown/disable"),
            Some(&anna),
            None,
            None,
        )
        .await,
        404,
        "not-found",
    )
    .await;
    // a partner client itself may not manage organisations
    assert_problem(
        call(&app, Method::GET, "/v1/organisations", Some(&access), None, None).await,
        401,
        "unauthorized",
    )
    .await;
}

async fn register(app: &TestApp, who: &str, uid: &str, name: &str) -> reqwest::Response {
    call(
        app,
        reqwest::Method::POST,
        "/v1/organisations",
        Some(who),
        Some(json!({"uid": uid, "name": name})),
        None,
    )
    .await
}

/// A pending registration reserves no UID: several may wait, verifying one rejects the others
/// (each registering resident is told by mail), a verified UID takes no new registration, and
/// a resident keeps at most 3 registrations waiting.
#[tokio::test]
async fn pending_registrations_reserve_no_uid_and_are_bounded() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let (admin, anna, beat) = admin_anna_and_beat(&app).await;
    let carl = resident(&app, "carl@example.ch").await.0;
    // a squatter first, then the real company: both wait
    let res = register(&app, &beat, UID, "Squatter").await;
    assert_eq!(res.status(), 201);
    let squat: Value = res.json().await.unwrap();
    let res = register(&app, &anna, UID, "Muster AG").await;
    assert_eq!(res.status(), 201);
    let real: Value = res.json().await.unwrap();
    assert_problem(register(&app, &beat, UID, "Squatter again").await, 409, "conflict").await;
    // at most 3 waiting per resident
    for uid in ["CHE-300.000.007", "CHE-300.000.013"] {
        assert_eq!(register(&app, &beat, uid, "Another").await.status(), 201);
    }
    let body = assert_problem(
        register(&app, &beat, "CHE-300.000.036", "A fourth").await,
        409,
        "conflict",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("3 Registrierungen"), "{body}");

    // the administrator verifies the real one: the squatter's is rejected, both are told
    let path = format!("/v1/organisations/{}", real["id"].as_str().unwrap());
    let etag = call(&app, Method::GET, &path, Some(&admin), None, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let res = call(
        &app,
        Method::POST,
        &format!("{path}/verification"),
        Some(&admin),
        Some(json!({"status": "verified"})),
        Some(&etag),
    )
    .await;
    assert_eq!(res.status(), 200);
    let squat_path = format!("/v1/organisations/{}", squat["id"].as_str().unwrap());
    let now: Value = call(&app, Method::GET, &squat_path, Some(&admin), None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "rejected");
    let mails: Vec<(String, String)> = app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::mail_outbox as m;
        m::table.select((m::recipient, m::subject)).load(c).unwrap()
    });
    assert!(
        mails.contains(&("anna@example.ch".into(), "Your organisation is verified".into())),
        "{mails:?}"
    );
    assert!(
        mails.contains(&(
            "beat@example.ch".into(),
            "Your organisation registration was not accepted".into()
        )),
        "{mails:?}"
    );
    // a verified UID takes no new registration
    let body = assert_problem(register(&app, &carl, UID, "Muster AG").await, 409, "conflict").await;
    assert!(
        body["detail"].as_str().unwrap().contains("bereits registriert"),
        "{body}"
    );
    // the rejection freed one of the squatter's 3 places
    assert_eq!(register(&app, &beat, "CHE-300.000.036", "A fourth").await.status(), 201);
}

/// Two instances on one database, the owner adds the same person eight times at once: one
/// membership, 409s for the rest.
#[tokio::test]
async fn concurrent_adds_of_one_member_on_two_instances_give_one_201_and_409s() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.db.share(), &[]).await;
    let (admin, anna, _beat) = admin_anna_and_beat(&app).await;
    let org: Value = call(
        &app,
        Method::POST,
        "/v1/organisations",
        Some(&anna),
        Some(json!({"uid": "CHE-116.281.710", "name": "Muster Treuhand AG"})),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/v1/organisations/{}", org["id"].as_str().unwrap());
    let etag = call(&app, Method::GET, &path, Some(&admin), None, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let verified = call(
        &app,
        Method::POST,
        &format!("{path}/verification"),
        Some(&admin),
        Some(json!({"status": "verified"})),
        Some(&etag),
    )
    .await;
    assert_eq!(verified.status(), 200);
    let body = json!({"email": "beat@example.ch", "role": "member"});
    let outcomes = crate::common::race(&[&app, &other], &format!("{path}/members"), &anna, body, 8).await;
    crate::common::assert_one_created(&outcomes, "member");
}
