//! Self-registration, body errors, and the abuse limits.

use crate::common::{assert_problem, TestApp};
use serde_json::{json, Value};

async fn register(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/accounts"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn count_accounts(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.with_conn(|c| guichet::db::schema::accounts::table.count().get_result(c).unwrap())
}

#[tokio::test]
async fn a_resident_registers_and_signs_in_and_a_taken_address_looks_the_same() {
    let app = TestApp::spawn().await;
    let res = register(
        &app,
        json!({"email": " Anna@Example.CH ", "password": "correct horse battery", "display_name": "Anna"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let first: Value = res.json().await.unwrap();
    assert_eq!(count_accounts(&app), 1);

    let form = [
        ("grant_type", "password"),
        ("username", "anna@example.ch"),
        ("password", "correct horse battery"),
    ];
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let me: Value = app
        .get_json_as("/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["kind"], "resident");
    assert_eq!(me["email"], "anna@example.ch");
    assert_eq!(me["display_name"], "Anna");
    assert_eq!(
        me["scopes"],
        json!([
            "catalogue:read",
            "applications:read",
            "applications:write",
            "webhooks:manage"
        ])
    );

    // the same address again: the same answer, and nothing changes (not even the password)
    let res = register(
        &app,
        json!({"email": "anna@example.ch", "password": "another long password"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let second: Value = res.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(count_accounts(&app), 1);
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn invalid_registrations_are_422_with_pointers_and_change_nothing() {
    let app = TestApp::spawn().await;
    let body = assert_problem(
        register(&app, json!({"email": "not-an-address", "password": "short"})).await,
        422,
        "validation-failed",
    )
    .await;
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, vec!["/email", "/password"]);
    let body = assert_problem(
        register(&app, json!({"email": "a@b.ch", "password": "a@b.ch"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "too_short");
    assert_problem(
        register(&app, json!({"email": "a@b.ch"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_problem(
        register(
            &app,
            json!({"email": "a@b.ch", "password": "long enough pw", "role": "admin"}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    let res = app
        .client
        .post(app.url("/v1/accounts"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed-json").await;
    let res = app
        .client
        .post(app.url("/v1/accounts"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    assert_eq!(count_accounts(&app), 0);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::spawn_with(&[("GUICHET_BODY_LIMIT", "2048")]).await;
    let big = "x".repeat(4000);
    let res = register(&app, json!({"email": "a@b.ch", "password": big})).await;
    assert_problem(res, 413, "payload-too-large").await;
    assert_eq!(count_accounts(&app), 0);
}

#[tokio::test]
async fn the_token_endpoint_and_registration_are_rate_limited() {
    let app = TestApp::spawn_with(&[
        ("GUICHET_RATE_LIMIT_TOKEN_IP", "5"),
        ("GUICHET_RATE_LIMIT_TOKEN_ACCOUNT", "3"),
        ("GUICHET_RATE_LIMIT_SIGNUP_IP", "2"),
    ])
    .await;
    let try_login = |user: &'static str| {
        app.client
            .post(app.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", user),
                ("password", "wrong password"),
            ])
            .send()
    };
    // per account: the 4th attempt on one account is refused
    for _ in 0..3 {
        let res = try_login("victim@example.ch").await.unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.headers()["ratelimit-policy"].to_str().unwrap().contains("q=5"));
    }
    let res = try_login("victim@example.ch").await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(res.headers()["ratelimit-policy"]
        .to_str()
        .unwrap()
        .starts_with("\"token-account\";q=3;w=60"));
    assert!(res.headers()["ratelimit"].to_str().unwrap().contains("r=0"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // per IP: the 6th request from this address is refused, whatever the account
    let res = try_login("other@example.ch").await.unwrap();
    assert_eq!(res.status(), 400, "5th request: still within the IP limit");
    let res = try_login("other@example.ch").await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers()["ratelimit-policy"]
        .to_str()
        .unwrap()
        .starts_with("\"token-ip\";q=5"));

    for i in 0..2 {
        let res = register(
            &app,
            json!({"email": format!("u{i}@example.ch"), "password": "long enough password"}),
        )
        .await;
        assert_eq!(res.status(), 202);
    }
    let res = register(
        &app,
        json!({"email": "u9@example.ch", "password": "long enough password"}),
    )
    .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "rate-limited").await;
    assert_eq!(count_accounts(&app), 2);
}

#[tokio::test]
async fn residents_change_their_profile_and_password_with_if_match() {
    let app = TestApp::spawn().await;
    register(
        &app,
        json!({"email": "anna@example.ch", "password": "correct horse battery"}),
    )
    .await;
    let login = |pw: &'static str| {
        app.client
            .post(app.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "anna@example.ch"),
                ("password", pw),
            ])
            .send()
    };
    let tokens: Value = login("correct horse battery").await.unwrap().json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let patch = |body: Value, if_match: Option<String>| {
        let mut rb = app
            .client
            .patch(app.url("/v1/me"))
            .bearer_auth(&access)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(m) = if_match {
            rb = rb.header("If-Match", m);
        }
        rb.send()
    };
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let etag = me.headers()["etag"].to_str().unwrap().to_string();
    assert_problem(
        patch(json!({"display_name": "Anna"}), None).await.unwrap(),
        428,
        "precondition-required",
    )
    .await;
    let res = patch(json!({"display_name": "Anna"}), Some(etag.clone()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new_etag = res.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["display_name"], "Anna");
    assert_problem(
        patch(json!({"display_name": "Stale"}), Some(etag)).await.unwrap(),
        412,
        "precondition-failed",
    )
    .await;
    let body = assert_problem(
        patch(
            json!({"password": {"current": "wrong password", "new": "a brand new password"}}),
            Some(new_etag.clone()),
        )
        .await
        .unwrap(),
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/password/current");
    assert_problem(
        patch(json!({"shoe_size": 42}), Some(new_etag.clone())).await.unwrap(),
        422,
        "validation-failed",
    )
    .await;

    // a password change ends every session: the old access token stops within 2 s
    let res = patch(
        json!({"password": {"current": "correct horse battery", "new": "a brand new password"}}),
        Some(new_etag),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        crate::common::eventually(|| async {
            app.client
                .get(app.url("/v1/me"))
                .bearer_auth(&access)
                .send()
                .await
                .unwrap()
                .status()
                == 401
        })
        .await
    );
    assert_eq!(login("correct horse battery").await.unwrap().status(), 400);
    assert_eq!(login("a brand new password").await.unwrap().status(), 200);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_counts() {
    let app = TestApp::spawn_with(&[
        ("GUICHET_RATE_LIMIT_SIGNUP_IP", "1"),
        ("GUICHET_TRUSTED_PROXIES", "127.0.0.0/8"),
    ])
    .await;
    let signup = |ip: &'static str, n: u32| {
        app.client
            .post(app.url("/v1/accounts"))
            .header("X-Forwarded-For", format!("198.51.100.77, {ip}"))
            .json(&json!({"email": format!("p{n}@example.ch"), "password": "long enough password"}))
            .send()
    };
    assert_eq!(signup("203.0.113.1", 1).await.unwrap().status(), 202);
    assert_eq!(
        signup("203.0.113.1", 2).await.unwrap().status(),
        429,
        "same client behind the proxy"
    );
    assert_eq!(
        signup("203.0.113.2", 3).await.unwrap().status(),
        202,
        "another client behind the proxy"
    );
    use diesel::prelude::*;
    use guichet::db::schema::audit_events::dsl as a;
    let ips: Vec<Option<String>> = app.with_conn(|c| {
        a::audit_events
            .filter(a::action.eq("account.register"))
            .select(a::ip)
            .load(c)
            .unwrap()
    });
    assert!(
        ips.contains(&Some("203.0.113.1".into())) && ips.contains(&Some("203.0.113.2".into())),
        "{ips:?}"
    );

    // without the setting, the header is ignored: everyone behind one address shares its limit
    let plain = TestApp::spawn_with(&[("GUICHET_RATE_LIMIT_SIGNUP_IP", "1")]).await;
    let res = plain
        .client
        .post(plain.url("/v1/accounts"))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({"email": "q1@example.ch", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let res = plain
        .client
        .post(plain.url("/v1/accounts"))
        .header("X-Forwarded-For", "203.0.113.10")
        .json(&json!({"email": "q2@example.ch", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

/// Guesses at an account from one address lock that address out of the account, not the owner
/// at theirs: the limit counts per account and client address together.
#[tokio::test]
async fn a_brute_force_attack_does_not_lock_the_owner_out() {
    let app = TestApp::spawn_with(&[
        ("GUICHET_RATE_LIMIT_TOKEN_ACCOUNT", "5"),
        ("GUICHET_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    let res = register(
        &app,
        json!({"email": "owner@example.ch", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let login = |from: &'static str, password: &'static str| {
        app.client
            .post(app.url("/v1/oauth/token"))
            .header("x-forwarded-for", from)
            .form(&[
                ("grant_type", "password"),
                ("username", "owner@example.ch"),
                ("password", password),
            ])
            .send()
    };
    // the attacker's address: refused after 5 guesses, even with the right password
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(login("203.0.113.9", "wrong password").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 429, 429]);
    assert_eq!(
        login("203.0.113.9", "correct horse battery").await.unwrap().status(),
        429
    );
    // the owner, elsewhere, signs in meanwhile
    let res = login("198.51.100.7", "correct horse battery").await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["access_token"].is_string());
}

/// Passwords are checked for strength (zxcvbn): common ones, repeats, keyboard runs and the
/// address itself are refused at registration, reset and change, each with a hint.
#[tokio::test]
async fn weak_passwords_are_refused() {
    let app = TestApp::spawn().await;
    for weak in ["aaaaaaaaaa", "password123", "qwertyuiop", "1234567890", "anna.muster"] {
        let res = register(&app, json!({"email": "anna.muster@example.ch", "password": weak})).await;
        assert_eq!(res.status(), 422, "{weak}");
        let body = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(body["errors"][0]["pointer"], "/password", "{weak}: {body}");
        assert_eq!(body["errors"][0]["code"], "weak", "{weak}: {body}");
    }
    assert_eq!(count_accounts(&app), 0);
    for strong in ["correct horse battery", "Thun liegt am See 1290"] {
        let res = register(
            &app,
            json!({"email": format!("{}@example.ch", strong.len()), "password": strong}),
        )
        .await;
        assert_eq!(res.status(), 202, "{strong}");
    }
}
