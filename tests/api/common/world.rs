//! A populated world for the application tests: residents A and B, a member of organisation
//! X, the partner client of organisation Y, clerks of two departments and an administrator,
//! each with a token; and helpers to publish services.
use reqwest::Method;
use serde_json::{json, Value};

use super::TestApp;

pub const PW: &str = "a long enough password";

pub struct World {
    pub app: TestApp,
    pub a: String,
    pub b: String,
    pub member: String,
    pub partner: String,
    pub clerk: String,
    pub other_clerk: String,
    pub admin: String,
    pub clerk_id: String,
    pub org_x: String,
    pub org_y: String,
}

pub async fn password_token(app: &TestApp, email: &str) -> String {
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .form(&[("grant_type", "password"), ("username", email), ("password", PW)])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().expect("token").to_string()
}

pub async fn resident(app: &TestApp, email: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/v1/accounts"))
        .json(&json!({"email": email, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{email}");
    // the address counts as confirmed (the confirmation by mail is tested in mail.rs), so that
    // a world signs in and is written to also with a mail server
    app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::accounts as a;
        diesel::update(a::table.filter(a::email.eq(email)))
            .set(a::email_verified_at.eq(Some(guichet::db::types::SqlTime::now())))
            .execute(c)
            .unwrap();
    });
    let token = password_token(app, email).await;
    let me: Value = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (token, me["subject"].as_str().unwrap().to_string())
}

pub fn organisation(app: &TestApp, uid: &str, owner: &str) -> String {
    use guichet::db::organisations::{insert, OrganisationRow};
    use guichet::db::types::{SqlTime, SqlUuid};
    let id = uuid::Uuid::now_v7();
    let row = OrganisationRow {
        id: SqlUuid(id),
        uid: uid.into(),
        name: format!("Org {uid}"),
        status: "verified".into(),
        created_by: Some(SqlUuid(uuid::Uuid::parse_str(owner).unwrap())),
        decided_at: Some(SqlTime::now()),
        decided_by: Some("test".into()),
        revision: 1,
        created_at: SqlTime::now(),
        updated_at: SqlTime::now(),
    };
    app.with_conn(|c| insert(c, &row, row.created_by).unwrap());
    id.to_string()
}

pub async fn client_token(app: &TestApp, scopes: &str, org: Option<&str>) -> String {
    let org = org.map(|o| uuid::Uuid::parse_str(o).unwrap());
    let c = app.with_conn(|conn| guichet::admin::create_client(conn, "partner", scopes, org.into()).unwrap());
    let res = app
        .client
        .post(app.url("/v1/oauth/token"))
        .basic_auth(c["client_id"].as_str().unwrap(), c["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

impl World {
    pub async fn new() -> World {
        Self::on(TestApp::spawn().await).await
    }

    pub async fn on(app: TestApp) -> World {
        let clerk_user = app.with_conn(|c| {
            guichet::admin::create_user(c, "admin@thun.ch", "admin", None, Some(PW.into())).unwrap();
            guichet::admin::create_user(c, "bau@thun.ch", "clerk", Some("bauinspektorat"), Some(PW.into())).unwrap();
            guichet::admin::create_user(c, "clerk@thun.ch", "clerk", Some("einwohnerdienste"), Some(PW.into())).unwrap()
        });
        let (a, _) = resident(&app, "a@example.ch").await;
        let (b, _) = resident(&app, "b@example.ch").await;
        let (member, member_id) = resident(&app, "member@example.ch").await;
        let org_x = organisation(&app, "CHE-100.000.006", &member_id);
        let (_, y_owner) = resident(&app, "y-owner@example.ch").await;
        let org_y = organisation(&app, "CHE-200.000.001", &y_owner);
        let partner = client_token(&app, "applications:read applications:write", Some(&org_y)).await;
        World {
            a,
            b,
            member,
            partner,
            clerk: password_token(&app, "clerk@thun.ch").await,
            other_clerk: password_token(&app, "bau@thun.ch").await,
            admin: password_token(&app, "admin@thun.ch").await,
            clerk_id: clerk_user["id"].as_str().unwrap().to_string(),
            org_x,
            org_y,
            app,
        }
    }

    pub async fn call(&self, m: Method, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        self.send(m, path, token, body, None).await
    }

    /// A change of an application (`/v1/applications/{id}` or an action under it) as a client
    /// makes it: the application read first as the same caller, its ETag in `If-Match` (a
    /// stale one where the caller cannot read it, so the answer is about the caller).
    pub async fn act(&self, m: Method, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let application: String = path.split('/').take(4).collect::<Vec<_>>().join("/");
        let read = self.call(Method::GET, &application, token, None).await;
        let tag = match read.headers().get("etag") {
            Some(t) if read.status() == 200 => t.to_str().unwrap().to_string(),
            _ => "\"r0-0\"".to_string(),
        };
        self.send(m, path, token, body, Some(&tag)).await
    }

    /// A residence confirmation created and submitted by the caller of `token`: the answer.
    pub async fn submitted(&self, token: &str) -> Value {
        let body = json!({"service": "wohnsitzbestaetigung", "data": valid_data(), "submit": true});
        let res = self
            .call(Method::POST, "/v1/applications", Some(token), Some(body))
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    /// A move of an application (`POST .../transitions`, with its current ETag) that must
    /// succeed: the application after it.
    pub async fn moved(&self, id: &str, token: &str, body: Value) -> Value {
        let path = format!("/v1/applications/{id}/transitions");
        let res = self.act(Method::POST, &path, Some(token), Some(body.clone())).await;
        assert_eq!(res.status(), 200, "move {body}");
        res.json().await.unwrap()
    }

    /// GET as the caller, expecting 200 and a JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// The events of an application by feed position, once every one has its position
    /// (PostgreSQL numbers committed events in the background).
    pub async fn events_in_feed(&self, id: &str) -> Vec<(Option<i64>, String)> {
        let by_position = || {
            self.app.with_conn(|c| {
                use diesel::prelude::*;
                use guichet::db::schema::events as e;
                e::table
                    .filter(e::subject_id.eq(id))
                    .order(e::position)
                    .select((e::position, e::type_))
                    .load::<(Option<i64>, String)>(c)
                    .unwrap()
            })
        };
        assert!(
            super::eventually(|| async { by_position().iter().all(|(p, _)| p.is_some()) }).await,
            "every event gets its position"
        );
        by_position()
    }

    pub async fn send(
        &self,
        m: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        let mut r = self.app.client.request(m, self.app.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some(e) = if_match {
            r = r.header("if-match", e);
        }
        r.send().await.unwrap()
    }
}

pub fn valid_data() -> Value {
    json!({
        "last_name": "Muster",
        "first_name": "Anna",
        "birth_date": "1990-02-28",
        "address": {"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"},
        "purpose": "employer",
        "copies": 1,
        "delivery": "post",
        "email": "anna@example.ch",
        "phone": "033 225 84 98"
    })
}

pub fn etag(res: &reqwest::Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_string()
}

pub fn stepped_service() -> Value {
    let label = |de: &str, en: &str| json!({"de": de, "en": en});
    json!({
        "slug": "grabstelle-reservieren", "department": "einwohnerdienste", "category": "residence",
        "content": {
            "name": {"de": "Grabstelle reservieren"}, "summary": {"de": "Eine Grabstelle reservieren."},
            "audience": ["resident"],
            "fee": {"amount": null, "currency": "CHF", "basis": "varies", "verified": false},
            "processing_time": {"days": null, "verified": false},
            "channel": "guichet", "requires_login": true,
            "status_steps": [
                {"key": "intake-check", "phase": "submitted", "label": label("Eingangsprüfung", "Intake check"), "expected_days": 5},
                {"key": "publication", "phase": "in_review", "label": label("Publikation", "Publication"), "expected_days": 14},
                {"key": "objection-period", "phase": "in_review", "label": label("Einsprachefrist", "Objection period"), "expected_days": 30},
                {"key": "expert-reports", "phase": "in_review", "label": label("Fachberichte", "Expert reports"), "expected_days": 20, "public": false}
            ]
        },
        "form": {"schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1}}, "required": ["name"]}}
    })
}

/// The residence confirmation's form and department as a service that organisations may apply
/// for too (the seeded one is for residents only): `FIRM_SERVICE`, published by `with_firm_service`.
pub const FIRM_SERVICE: &str = "wohnsitzbestaetigung-firmen";

pub fn firm_service() -> Value {
    let seed: Value = serde_json::from_str(include_str!("../../../seed/thun-catalogue.json")).unwrap();
    let mut s = seed["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "wohnsitzbestaetigung")
        .unwrap()
        .clone();
    let o = s.as_object_mut().unwrap();
    let form = o.remove("form").unwrap();
    let department = o.remove("department").unwrap();
    let category = o.remove("category").unwrap();
    o.remove("slug");
    o.insert("audience".into(), json!(["resident", "business"]));
    json!({"slug": FIRM_SERVICE, "department": department, "category": category, "content": s, "form": form})
}

/// A world with [`FIRM_SERVICE`] published.
pub async fn with_firm_service() -> World {
    let w = World::new().await;
    publish(&w, firm_service()).await;
    w
}

/// The clerk creates the service and publishes it; returns once the catalogue serves it.
pub async fn publish(w: &World, service: Value) {
    let slug = service["slug"].as_str().unwrap().to_string();
    let res = w
        .call(Method::POST, "/v1/services", Some(&w.clerk), Some(service))
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let res = w
        .send(
            Method::POST,
            &format!("/v1/services/{slug}/versions/1/publish"),
            Some(&w.clerk),
            None,
            Some(&etag(&res)),
        )
        .await;
    assert_eq!(res.status(), 200);
    let path = format!("/v1/services/{slug}");
    assert!(super::eventually(|| async { w.app.get(&path).await.status() == 200 }).await);
}
