//! Identity and access over HTTP: the token endpoint and its grants, token verification (every
//! way a token can be wrong is a 401), revocation on every instance, keys, and authorization.

use crate::common::{assert_problem, eventually, TestApp, PUBLIC_URL};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use guichet::auth::policy::CallerKind;
use guichet::auth::tokens::Claims;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

struct Client {
    id: String,
    secret: String,
}

fn create_client(app: &TestApp, scopes: &str) -> Client {
    let v = app.with_conn(|c| {
        guichet::admin::create_client(c, "Test partner", scopes, guichet::admin::ClientFor::Nobody).unwrap()
    });
    Client {
        id: v["client_id"].as_str().unwrap().into(),
        secret: v["client_secret"].as_str().unwrap().into(),
    }
}

fn create_staff(app: &TestApp, email: &str, role: &str) -> String {
    let dept = (role == "clerk").then_some("einwohnerdienste");
    app.with_conn(|c| {
        guichet::admin::create_user(c, email, role, dept, Some("a long enough password".into())).unwrap()
    });
    "a long enough password".to_string()
}

async fn token_request(app: &TestApp, form: &[(&str, &str)], basic: Option<&Client>) -> reqwest::Response {
    let mut rb = app.client.post(app.url("/v1/oauth/token")).form(form);
    if let Some(c) = basic {
        rb = rb.basic_auth(&c.id, Some(&c.secret));
    }
    rb.send().await.unwrap()
}

async fn client_token(app: &TestApp, c: &Client) -> String {
    let res = token_request(app, &[("grant_type", "client_credentials")], Some(c)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn oauth_error(res: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

fn audit_count(app: &TestApp, action: &str, outcome: &str) -> i64 {
    use diesel::prelude::*;
    use guichet::db::schema::audit_events::dsl as a;
    app.with_conn(|c| {
        a::audit_events
            .filter(a::action.eq(action))
            .filter(a::outcome.eq(outcome))
            .count()
            .get_result(c)
            .unwrap()
    })
}

#[tokio::test]
async fn client_credentials_issue_a_signed_token_with_the_clients_scopes() {
    let app = TestApp::spawn().await;
    let c = create_client(&app, "applications:read applications:write");
    let res = token_request(&app, &[("grant_type", "client_credentials")], Some(&c)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "applications:read applications:write");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();

    // the token verifies with the published key, and carries every claim
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwks: Value = app.get_json("/.well-known/jwks.json").await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header.kid.clone().unwrap())
        .expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    v.set_audience(&[PUBLIC_URL]);
    v.set_issuer(&[PUBLIC_URL]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &v).unwrap().claims;
    assert_eq!(claims.sub, c.id);
    assert_eq!(claims.kind, CallerKind::Client);
    assert_eq!(claims.exp - claims.iat, 900);

    let who: Value = me(&app, token).await.json().await.unwrap();
    assert_eq!(who["kind"], "client");
    assert_eq!(who["client_name"], "Test partner");

    // secret in the body works too, and a narrower scope can be asked for
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
            ("scope", "applications:read"),
        ],
        None,
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "applications:read");
    assert_eq!(audit_count(&app, "token.issue", "success"), 2);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await;
    let c = create_client(&app, "applications:read");
    let wrong = Client {
        id: c.id.clone(),
        secret: "gcs_wrong".into(),
    };
    let res = token_request(&app, &[("grant_type", "client_credentials")], Some(&wrong)).await;
    assert_eq!(res.headers()["www-authenticate"], "Basic realm=\"guichet\"");
    oauth_error(res, 401, "invalid_client").await;
    assert_eq!(audit_count(&app, "client.authenticate", "failure"), 1);
    let unknown = Client {
        id: "gc_nobody".into(),
        secret: "x".into(),
    };
    oauth_error(
        token_request(&app, &[("grant_type", "client_credentials")], Some(&unknown)).await,
        401,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_request(&app, &[("grant_type", "client_credentials")], None).await,
        401,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_request(&app, &[("grant_type", "authorization_code")], Some(&c)).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_request(&app, &[("scope", "admin")], Some(&c)).await,
        400,
        "invalid_request",
    )
    .await;
    oauth_error(
        token_request(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "admin")],
            Some(&c),
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    oauth_error(
        token_request(
            &app,
            &[("grant_type", "client_credentials"), ("scope", "root")],
            Some(&c),
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    oauth_error(res, 400, "invalid_request").await;
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=password")
        .basic_auth(&c.id, Some(&c.secret))
        .send()
        .await
        .unwrap();
    oauth_error(res, 400, "invalid_request").await;
    // nothing was issued
    assert_eq!(audit_count(&app, "token.issue", "success"), 0);
}

fn signing_key(app: &TestApp) -> (String, EncodingKey) {
    let set = app.with_conn(|c| guichet::auth::keys::load(c).unwrap());
    set.signing.unwrap()
}

fn claims(sub: &str, kind: CallerKind) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: PUBLIC_URL.into(),
        aud: PUBLIC_URL.into(),
        sub: sub.into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().to_string(),
        scope: "applications:read".into(),
        kind,
        role: None,
        dept: None,
        org: None,
        sid: None,
    }
}

fn sign(kid: &str, key: &EncodingKey, c: &Claims) -> String {
    sign_typed(kid, key, c, Some("at+jwt"))
}

fn sign_typed(kid: &str, key: &EncodingKey, c: &Claims, typ: Option<&str>) -> String {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(kid.into());
    h.typ = typ.map(str::to_string);
    jsonwebtoken::encode(&h, c, key).unwrap()
}

async fn assert_rejected(app: &TestApp, token: &str, why: &str) {
    let res = me(app, token).await;
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = assert_problem(res, 401, "unauthorized").await;
    assert!(
        challenge.is_some_and(|c| c.starts_with("Bearer realm=\"guichet\"")),
        "{why}: WWW-Authenticate"
    );
    assert!(body["detail"].is_string(), "{why}");
}

#[tokio::test]
async fn every_kind_of_bad_token_is_a_401_problem() {
    let app = TestApp::spawn().await;
    let c = create_client(&app, "applications:read");
    let good = client_token(&app, &c).await;
    assert_eq!(me(&app, &good).await.status(), 200);
    let (kid, key) = signing_key(&app);
    let base = claims(&c.id, CallerKind::Client);

    // no token at all, and a header that is not Bearer
    let res = app.get("/v1/me").await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"guichet\"");
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("Authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;

    assert_rejected(&app, "not.a.token", "malformed").await;
    assert_rejected(&app, "abc", "malformed").await;

    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&base).unwrap());
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        payload
    );
    assert_rejected(&app, &none, "alg none").await;

    // HS256 "signed" with the public key, the classic algorithm confusion
    let jwks: Value = app.get_json("/.well-known/jwks.json").await;
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_string();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.clone());
    let hs = jsonwebtoken::encode(&h, &base, &EncodingKey::from_secret(x.as_bytes()).unwrap()).unwrap();
    assert_rejected(&app, &hs, "HS256 with the public key").await;
    let hs_raw = jsonwebtoken::encode(
        &h,
        &base,
        &EncodingKey::from_secret(&URL_SAFE_NO_PAD.decode(&x).unwrap()).unwrap(),
    )
    .unwrap();
    assert_rejected(&app, &hs_raw, "HS256 with the raw public key").await;

    let now = chrono::Utc::now().timestamp();
    let mut expired = base.clone();
    expired.exp = now - 120;
    expired.iat = now - 1000;
    expired.nbf = now - 1000;
    assert_rejected(&app, &sign(&kid, &key, &expired), "expired").await;
    let mut future = base.clone();
    future.nbf = now + 600;
    assert_rejected(&app, &sign(&kid, &key, &future), "nbf in the future").await;
    let mut iss = base.clone();
    iss.iss = "https://evil.example".into();
    assert_rejected(&app, &sign(&kid, &key, &iss), "wrong iss").await;
    let mut aud = base.clone();
    aud.aud = "https://other.example".into();
    assert_rejected(&app, &sign(&kid, &key, &aud), "wrong aud").await;
    assert_rejected(&app, &sign("k-unknown", &key, &base), "unknown kid").await;
    // explicit typing (RFC 8725 §3.11): our key's signature on another kind of JWT is no access
    // token; the right type is accepted
    assert_rejected(&app, &sign_typed(&kid, &key, &base, Some("JWT")), "typ JWT").await;
    assert_rejected(&app, &sign_typed(&kid, &key, &base, None), "no typ").await;
    assert_eq!(me(&app, &sign(&kid, &key, &base)).await.status(), 200, "typ at+jwt");
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&stranger).unwrap();
    assert_rejected(
        &app,
        &sign(&kid, &EncodingKey::from_ed_der(der.as_bytes()), &base),
        "someone else's key",
    )
    .await;

    // tampered payload: a valid token with more scopes pasted in
    let parts: Vec<&str> = good.split('.').collect();
    let mut forged: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    forged["scope"] = Value::from("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    assert_rejected(&app, &tampered, "tampered payload").await;

    // a token of a disabled client stops working within 2 s
    app.with_conn(|conn| guichet::admin::disable_client(conn, &c.id).unwrap());
    assert!(
        eventually(|| async { me(&app, &good).await.status() == 401 }).await,
        "disabled client"
    );
    assert_rejected(&app, &good, "disabled client").await;
    let again = token_request(&app, &[("grant_type", "client_credentials")], Some(&c)).await;
    oauth_error(again, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_everywhere_within_two_seconds() {
    let app = TestApp::spawn().await;
    // a second instance on the same database
    let other = TestApp::spawn_on(app.db.share(), &[]).await;
    let c = create_client(&app, "applications:read");
    let token = client_token(&app, &c).await;
    assert_eq!(me(&other, &token).await.status(), 200);
    let res = app
        .client
        .post(app.url("/v1/oauth/revoke"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let started = std::time::Instant::now();
    // the instance that revoked refuses at once, the other within its next refresh
    assert_rejected(&app, &token, "revoked").await;
    assert!(eventually(|| async { me(&other, &token).await.status() == 401 }).await);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(audit_count(&app, "token.revoke", "success"), 1);
    // unknown tokens are "revoked" too, as RFC 7009 says; a missing token is an error
    let res = app
        .client
        .post(app.url("/v1/oauth/revoke"))
        .form(&[("token", "nonsense")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url("/v1/oauth/revoke"))
        .form(&[("hint", "x")])
        .send()
        .await
        .unwrap();
    oauth_error(res, 400, "invalid_request").await;
    // a hint is one of the two kinds this server revokes (as the document says)
    for (hint, status) in [("refresh_token", 200), ("access_token", 200), ("id_token", 400)] {
        let res = app
            .client
            .post(app.url("/v1/oauth/revoke"))
            .form(&[("token", "nonsense"), ("token_type_hint", hint)])
            .send()
            .await
            .unwrap();
        if status == 200 {
            assert_eq!(res.status(), 200, "{hint}");
        } else {
            oauth_error(res, 400, "unsupported_token_type").await;
        }
    }
}

async fn password_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    token_request(
        app,
        &[("grant_type", "password"), ("username", email), ("password", password)],
        None,
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let pw = create_staff(&app, "Clerk@Thun.ch", "clerk");
    let res = password_login(&app, "clerk@thun.ch", &pw).await;
    assert_eq!(res.status(), 200);
    let first: Value = res.json().await.unwrap();
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let a1 = first["access_token"].as_str().unwrap().to_string();
    let who: Value = me(&app, &a1).await.json().await.unwrap();
    assert_eq!(who["kind"], "staff");
    assert_eq!(who["role"], "clerk");
    assert_eq!(who["email"], "clerk@thun.ch");
    assert!(who["department"].is_string());

    let res = token_request(&app, &[("grant_type", "refresh_token"), ("refresh_token", &r1)], None).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    let a2 = second["access_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert_eq!(me(&app, &a2).await.status(), 200);

    // r1 comes back: theft. The session ends: r2 and every access token of it stop working.
    oauth_error(
        token_request(&app, &[("grant_type", "refresh_token"), ("refresh_token", &r1)], None).await,
        400,
        "invalid_grant",
    )
    .await;
    oauth_error(
        token_request(&app, &[("grant_type", "refresh_token"), ("refresh_token", &r2)], None).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(eventually(|| async { me(&app, &a2).await.status() == 401 }).await);
    assert_eq!(me(&app, &a1).await.status(), 401);
    assert_eq!(audit_count(&app, "token.refresh_reuse", "failure"), 1);

    // signing in again starts a new session
    assert_eq!(password_login(&app, "clerk@thun.ch", &pw).await.status(), 200);
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_and_audited() {
    let app = TestApp::spawn().await;
    let pw = create_staff(&app, "admin@thun.ch", "admin");
    let a = oauth_error(
        password_login(&app, "admin@thun.ch", "wrong password").await,
        400,
        "invalid_grant",
    )
    .await;
    let b = oauth_error(
        password_login(&app, "nobody@thun.ch", "wrong password").await,
        400,
        "invalid_grant",
    )
    .await;
    assert_eq!(a, b, "the same answer whether or not the account exists");
    assert_eq!(audit_count(&app, "signin", "failure"), 2);
    oauth_error(
        token_request(&app, &[("grant_type", "password"), ("username", "admin@thun.ch")], None).await,
        400,
        "invalid_request",
    )
    .await;
    // a disabled account cannot sign in
    app.with_conn(|c| guichet::admin::disable_user(c, "admin@thun.ch").unwrap());
    oauth_error(password_login(&app, "admin@thun.ch", &pw).await, 400, "invalid_grant").await;

    // the grant can be switched off
    let off = TestApp::spawn_with(&[("GUICHET_PASSWORD_GRANT", "off")]).await;
    create_staff(&off, "admin@thun.ch", "admin");
    oauth_error(
        password_login(&off, "admin@thun.ch", &pw).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    let meta = off.get_json("/.well-known/oauth-authorization-server").await;
    assert!(!meta["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&Value::from("password")));
}

#[tokio::test]
async fn who_may_read_the_audit_log() {
    let app = TestApp::spawn().await;
    let admin_pw = create_staff(&app, "admin@thun.ch", "admin");
    let clerk_pw = create_staff(&app, "clerk@thun.ch", "clerk");
    let admin: Value = password_login(&app, "admin@thun.ch", &admin_pw)
        .await
        .json()
        .await
        .unwrap();
    let clerk: Value = password_login(&app, "clerk@thun.ch", &clerk_pw)
        .await
        .json()
        .await
        .unwrap();
    let plain = client_token(&app, &create_client(&app, "applications:read")).await;
    let admin_client = client_token(&app, &create_client(&app, "admin")).await;

    let get = |t: Option<String>| {
        let rb = app.client.get(app.url("/v1/audit-events?limit=5"));
        let rb = match t {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        rb.send()
    };
    assert_problem(get(None).await.unwrap(), 401, "unauthorized").await;
    assert_problem(
        get(Some(clerk["access_token"].as_str().unwrap().into())).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_problem(get(Some(plain.clone())).await.unwrap(), 403, "forbidden").await;
    let page: Value = get(Some(admin_client)).await.unwrap().json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 5);
    let res = get(Some(admin["access_token"].as_str().unwrap().into())).await.unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let seqs: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get_json_as(
            &format!("/v1/audit-events?limit=5&cursor={cursor}"),
            admin["access_token"].as_str().unwrap(),
        )
        .await;
    assert!(next["data"][0]["seq"].as_i64().unwrap() < *seqs.last().unwrap());
    let failures: Value = app
        .get_json_as(
            "/v1/audit-events?action=signin&outcome=success",
            admin["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(failures["data"].as_array().unwrap().len(), 2);

    // the log is append-only, even for guichet's own database user
    use diesel::prelude::*;
    use guichet::db::schema::audit_events::dsl as a;
    let upd = app.with_conn(|c| diesel::update(a::audit_events).set(a::outcome.eq("success")).execute(c));
    assert!(upd.is_err());
    let del = app.with_conn(|c| diesel::delete(a::audit_events).execute(c));
    assert!(del.is_err());
}

#[tokio::test]
async fn keys_rotate_without_breaking_tokens() {
    let app = TestApp::spawn().await;
    let c = create_client(&app, "applications:read");
    let old = client_token(&app, &c).await;
    let old_kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
    // a key that activates later is published at once, but not used yet
    let v = app.with_conn(|conn| guichet::admin::rotate_keys(conn, 600, std::time::Duration::from_secs(900)).unwrap());
    let new_kid = v["kid"].as_str().unwrap().to_string();
    assert!(
        eventually(|| async {
            let jwks = app.get_json("/.well-known/jwks.json").await;
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == new_kid.as_str())
        })
        .await
    );
    let still_old = client_token(&app, &c).await;
    assert_eq!(jsonwebtoken::decode_header(&still_old).unwrap().kid.unwrap(), old_kid);
    // an immediate rotation signs with the newest key; old tokens keep verifying
    let v = app.with_conn(|conn| guichet::admin::rotate_keys(conn, 0, std::time::Duration::from_secs(900)).unwrap());
    let newest = v["kid"].as_str().unwrap().to_string();
    assert!(
        eventually(|| async {
            let t = client_token(&app, &c).await;
            jsonwebtoken::decode_header(&t).unwrap().kid.unwrap() == newest
        })
        .await
    );
    assert_eq!(me(&app, &old).await.status(), 200);
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
    assert_eq!(audit_count(&app, "key.rotate", "success"), 2);
    let meta = app.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(meta["issuer"], PUBLIC_URL);
    assert_eq!(meta["jwks_uri"], format!("{PUBLIC_URL}/.well-known/jwks.json"));
}

// --- token exchange with an external identity provider -------------------------------------

const IDP_ISSUER: &str = "https://login.example-canton.ch";
const IDP_AUDIENCE: &str = "guichet-portal";

struct Idp {
    key: EncodingKey,
    jwks: Value,
}

fn idp() -> Idp {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&signing).unwrap();
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    Idp {
        key: EncodingKey::from_ed_der(der.as_bytes()),
        jwks: json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "idp-1", "alg": "EdDSA", "use": "sig"}]}),
    }
}

fn id_token(idp: &Idp, iss: &str, aud: &str, sub: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": iss, "aud": aud, "sub": sub, "iat": now, "nbf": now - 5, "exp": now + exp_in,
        "email": "Hans.Muster@Example.ch", "email_verified": true, "name": "Hans Muster"
    });
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some("idp-1".into());
    jsonwebtoken::encode(&h, &claims, &idp.key).unwrap()
}

/// Serves the provider's JWKS on a free loopback port, as the provider would.
async fn serve_jwks(jwks: Value) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = actix_web::HttpServer::new(move || {
        let body = jwks.clone();
        actix_web::App::new().route(
            "/jwks",
            actix_web::web::get().to(move || {
                let body = body.clone();
                async move { actix_web::HttpResponse::Ok().json(body) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}/jwks")
}

async fn exchange(app: &TestApp, token: &str) -> reqwest::Response {
    token_request(
        app,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", token),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn an_id_token_from_the_trusted_provider_is_exchanged_and_the_account_linked() {
    let provider = idp();
    let jwks_url = serve_jwks(provider.jwks.clone()).await;
    let app = TestApp::spawn_with(&[
        ("GUICHET_OIDC_ISSUER", IDP_ISSUER),
        ("GUICHET_OIDC_AUDIENCE", IDP_AUDIENCE),
        ("GUICHET_OIDC_JWKS", &jwks_url),
    ])
    .await;
    let res = exchange(
        &app,
        &id_token(&provider, IDP_ISSUER, IDP_AUDIENCE, "be-login|4711", 300),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert!(body["refresh_token"].is_string());
    let who: Value = me(&app, body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who["kind"], "resident");
    assert_eq!(who["email"], "hans.muster@example.ch");
    assert_eq!(who["display_name"], "Hans Muster");

    // the second sign-in lands on the same account
    let again: Value = exchange(
        &app,
        &id_token(&provider, IDP_ISSUER, IDP_AUDIENCE, "be-login|4711", 300),
    )
    .await
    .json()
    .await
    .unwrap();
    let who2: Value = me(&app, again["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who["subject"], who2["subject"]);
    assert_eq!(audit_count(&app, "account.register", "success"), 1);

    for (token, why) in [
        (
            id_token(&provider, "https://evil.example", IDP_AUDIENCE, "x", 300),
            "unknown issuer",
        ),
        (
            id_token(&provider, IDP_ISSUER, "someone-else", "x", 300),
            "wrong audience",
        ),
        (id_token(&provider, IDP_ISSUER, IDP_AUDIENCE, "x", -120), "expired"),
        (
            id_token(&idp_other(), IDP_ISSUER, IDP_AUDIENCE, "x", 300),
            "signed by another key",
        ),
        ("garbage".to_string(), "malformed"),
    ] {
        let body = oauth_error(exchange(&app, &token).await, 400, "invalid_grant").await;
        assert!(body["error_description"].is_string(), "{why}");
    }
    assert_eq!(audit_count(&app, "signin", "failure"), 5);
    let res = token_request(
        &app,
        &[("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")],
        None,
    )
    .await;
    oauth_error(res, 400, "invalid_request").await;
    // with a provider configured, the password grant is off unless switched on
    create_staff(&app, "admin@thun.ch", "admin");
    oauth_error(
        password_login(&app, "admin@thun.ch", "a long enough password").await,
        400,
        "unsupported_grant_type",
    )
    .await;
}

fn idp_other() -> Idp {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[43u8; 32]);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&signing).unwrap();
    Idp {
        key: EncodingKey::from_ed_der(der.as_bytes()),
        jwks: json!({}),
    }
}

#[tokio::test]
async fn the_providers_keys_can_come_from_a_file_and_exchange_needs_a_provider() {
    let provider = idp();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, provider.jwks.to_string()).unwrap();
    let app = TestApp::spawn_with(&[
        ("GUICHET_OIDC_ISSUER", IDP_ISSUER),
        ("GUICHET_OIDC_AUDIENCE", IDP_AUDIENCE),
        ("GUICHET_OIDC_JWKS", path.to_str().unwrap()),
    ])
    .await;
    let res = exchange(&app, &id_token(&provider, IDP_ISSUER, IDP_AUDIENCE, "agov|1", 300)).await;
    assert_eq!(res.status(), 200);

    let plain = TestApp::spawn().await;
    let res = exchange(&plain, &id_token(&provider, IDP_ISSUER, IDP_AUDIENCE, "agov|1", 300)).await;
    oauth_error(res, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn a_disabled_account_is_refused_on_every_instance_within_two_seconds() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.db.share(), &[]).await;
    let pw = create_staff(&app, "clerk@thun.ch", "clerk");
    let body: Value = password_login(&app, "clerk@thun.ch", &pw).await.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(&other, &token).await.status(), 200);
    app.with_conn(|c| guichet::admin::disable_user(c, "clerk@thun.ch").unwrap());
    let started = std::time::Instant::now();
    // each instance learns it from its own refresh of the security state
    for instance in [&other, &app] {
        assert!(eventually(|| async { me(instance, &token).await.status() == 401 }).await);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_rejected(&app, &token, "disabled account").await;
    assert_rejected(&other, &token, "disabled account").await;
    assert_eq!(audit_count(&app, "account.disable", "success"), 1);
}

/// A first-party frontend is a public client (RFC 6749 §2.1): no secret, its `client_id` on
/// the password, refresh and revocation requests. authlib and requests-oauthlib, each with its
/// defaults, run all three flows (tests/oauth_clients.py, in the tools venv); and the
/// refusals around them.
#[tokio::test]
async fn standard_oauth_libraries_work_with_a_public_client() {
    let app = TestApp::spawn().await;
    let public = app.with_conn(|c| guichet::admin::create_public_client(c, "Thun portal").unwrap());
    let client_id = public["client_id"].as_str().unwrap().to_string();
    let (email, password) = ("frontend.user@example.ch", "Aare Thunersee Niesen 2026");
    let res = app
        .client
        .post(app.url("/v1/accounts"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    let (base, id) = (app.url(""), client_id.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::common::tools_python())
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oauth_clients.py"))
            .args([base.trim_end_matches('/'), &id, email, password])
            // both libraries refuse plain HTTP unless told it is a test on loopback
            .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
            .env("AUTHLIB_INSECURE_TRANSPORT", "1")
            .output()
            .expect("the tools venv's python (run scripts/install-tools, or set GUICHET_TEST_PYTHON)")
    })
    .await
    .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert_eq!(said.matches("as a public client").count(), 2, "{said}");

    // a public client uses no other grant; a confidential client must give its secret; a
    // public client has none to give; an unknown client is refused; no client at all still
    // works on the password grant (existing callers)
    let confidential = create_client(&app, "applications:read");
    let signin = |client: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        let mut form = vec![("grant_type", "password".to_string()), ("username", email.to_string())];
        form.push(("password", password.to_string()));
        form.extend(client.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };
    let cases = [
        (
            vec![
                ("grant_type", "client_credentials".to_string()),
                ("client_id", client_id.clone()),
            ],
            400,
            "unauthorized_client",
        ),
        (signin(&[("client_id", &confidential.id)]), 401, "invalid_client"),
        (
            signin(&[("client_id", &client_id), ("client_secret", "guessed")]),
            401,
            "invalid_client",
        ),
        (signin(&[("client_id", "gc_unknown")]), 401, "invalid_client"),
        (signin(&[]), 200, ""),
    ];
    for (form, status, error) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = token_request(&app, &form, None).await;
        assert_eq!(res.status(), status, "{form:?}");
        let body: Value = res.json().await.unwrap();
        if status != 200 {
            assert_eq!(body["error"], error, "{form:?}");
        }
    }
}
