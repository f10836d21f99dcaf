//! Cross-cutting behaviour: problem details, request ids, security headers, unknown routes and
//! methods, CORS, health, metrics, problem pages, the OpenAPI document and the docs.

use crate::common::world::{etag, World};
use crate::common::{assert_problem, TestApp};
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn every_answer_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/v1/services"))
        .header("X-Request-Id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc.123");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    // a malformed incoming id is replaced by a fresh one
    let res = app
        .client
        .get(app.url("/v1/services"))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // and the problem body repeats the id the client sent
    let res = app
        .client
        .get(app.url("/v1/services/nope"))
        .header("X-Request-Id", "my-id-1")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 404, "not-found").await;
    assert_eq!(body["request_id"], "my-id-1");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = TestApp::spawn().await;
    let body = assert_problem(app.get("/v2/nothing").await, 404, "not-found").await;
    assert_eq!(body["instance"], "/v2/nothing");
    let res = app
        .client
        .patch(app.url("/v1/services"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, POST");
    assert_problem(res, 405, "method-not-allowed").await;
    let res = app
        .client
        .delete(app.url("/v1/services/hund-anmelden"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method-not-allowed").await;
    // nothing changed
    assert_eq!(app.get_json("/v1/services/hund-anmelden").await["version"], 1);
}

#[tokio::test]
async fn health_metrics_and_problem_pages() {
    const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef0123456789";
    let app = TestApp::spawn_with(&[
        ("GUICHET_METRICS_TOKEN", METRICS_TOKEN),
        ("GUICHET_METRICS_LISTEN", "127.0.0.1:0"),
    ])
    .await;
    assert_eq!(app.get_json("/health/live").await["status"], "ok");
    let ready = app.get_json("/health/ready").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], crate::common::backend());
    let reads = if crate::common::backend() == "postgres" {
        "async"
    } else {
        "blocking"
    };
    assert_eq!(ready["reads"], reads);
    assert!(ready["catalogue_revision"].as_i64().unwrap() >= 1);
    assert_problem(app.get("/health/ready?verbose=1").await, 400, "unknown-parameter").await;

    app.get("/v1/services").await;
    // on the public listener only for bearers of the metrics token
    assert_problem(app.get("/metrics").await, 401, "unauthorized").await;
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-0123456789abcdef0123456788");
    assert_problem(wrong.send().await.unwrap(), 401, "unauthorized").await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // openly on the operators' own listener, which serves nothing else
    let private = app.metrics_address.clone().expect("metrics listener");
    let open = app.client.get(format!("{private}/metrics")).send().await.unwrap();
    assert_eq!(open.status(), 200);
    assert!(open.text().await.unwrap().contains("http_requests_total"));
    let other = app.client.get(format!("{private}/v1/services")).send().await.unwrap();
    assert_eq!(other.status(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/services\""));
    assert!(text.contains("catalogue_services"));
    // readiness pinged the blocking pool: its wait and hold were measured
    assert!(text.contains("db_connection_wait_seconds_count"), "{text}");
    assert!(text.contains("db_connection_hold_seconds_count"), "{text}");

    let all: Value = app.get_json("/problems").await;
    let kinds = all.as_array().unwrap();
    assert!(kinds.len() >= 15);
    for k in kinds {
        let t = k["type"].as_str().unwrap();
        let page = app.get_json(t).await;
        assert_eq!(&page["type"], &k["type"]);
        assert!(page["description"].as_str().unwrap().len() > 10);
    }
    assert_problem(app.get("/problems/no-such-kind").await, 404, "not-found").await;
}

/// A token that is sent is checked on every endpoint, public ones included: a bad one is a
/// 401 (with `WWW-Authenticate`), never silently read as anonymous, and changes nothing. Every
/// `GET` of the document and every public `POST` (except the OAuth endpoints, which
/// authenticate clients their own way).
#[tokio::test]
async fn a_token_that_is_sent_is_checked_everywhere() {
    let app = TestApp::spawn().await;
    let doc = app.get_json("/v1/openapi.json").await;
    let accounts = || -> i64 {
        app.with_conn(|c| {
            use diesel::prelude::*;
            guichet::db::schema::accounts::table.count().get_result(c).unwrap()
        })
    };
    let accounts_before = accounts();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") || path.starts_with("/v1/oauth/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let public = op
                .get("security")
                .is_none_or(|s| s.as_array().is_none_or(|a| a.is_empty()));
            if !(method == "get" || (method == "post" && public)) {
                continue;
            }
            let url = sample_url(path);
            let req = if method == "get" {
                app.client.get(app.url(&url))
            } else {
                app.client.post(app.url(&url)).json(&serde_json::json!({}))
            };
            let res = req.bearer_auth("not-a-token").send().await.unwrap();
            assert!(res.headers().contains_key("www-authenticate"), "{method} {url}");
            assert_problem(res, 401, "unauthorized").await;
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} operations checked");
    // nothing was created by the public POSTs (an account, for one)
    assert_eq!(accounts(), accounts_before);
}

/// The document says who may call each operation and what limits answer: every operation
/// declares its security (`[]` for a public one), the OAuth scheme lists the flows the token
/// endpoint serves, and the rate-limited answers document the `RateLimit` headers they carry.
#[tokio::test]
async fn the_document_declares_security_flows_and_rate_limits() {
    let w = World::new().await;
    let doc = w.app.get_json("/v1/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["security"].is_array(), "{method} {path} declares no security");
        }
    }
    assert_eq!(doc["paths"]["/v1/services"]["get"]["security"], serde_json::json!([]));
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    assert_eq!(flows["clientCredentials"]["tokenUrl"], "/v1/oauth/token");
    assert_eq!(flows["password"]["refreshUrl"], "/v1/oauth/token");
    // a tracking lookup answers with the headers its documented answer names
    let app = w.submitted(&w.a).await;
    let res = w
        .app
        .client
        .get(w.app.url(&format!("/v1/status/{}", app["reference"].as_str().unwrap())))
        .header("x-tracking-code", app["tracking_code"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let documented = doc["paths"]["/v1/status/{reference}"]["get"]["responses"]["200"]["headers"]
        .as_object()
        .unwrap();
    for name in ["RateLimit", "RateLimit-Policy"] {
        assert!(documented.contains_key(name), "{name} is not documented");
        assert!(res.headers().contains_key(name), "{name} is not sent");
    }
}

/// Every `{...}` left in a path becomes a well-formed id that names nothing.
/// A document path with its parameters filled: seeded slugs, a reference, ids for the rest.
fn sample_url(path: &str) -> String {
    placeholder_ids(
        &path
            .replace("{service}", "wohnsitzbestaetigung")
            .replace("{department}", "einwohnerdienste")
            .replace("{version}", "1")
            .replace("{reference}", "THU-2026-TQ712W11-A")
            .replace("{kind}", "not-found"),
    )
}

fn placeholder_ids(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str("0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Without configuration `/metrics` is not served to the public at all.
#[tokio::test]
async fn metrics_are_not_public_by_default() {
    let app = TestApp::spawn().await;
    assert_problem(app.get("/metrics").await, 401, "unauthorized").await;
    let with_token = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_problem(with_token, 401, "unauthorized").await;
    assert!(app.metrics_address.is_none());
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(&[("GUICHET_CORS_ORIGINS", "https://portal.thun.ch")]).await;
    let ok = app
        .client
        .get(app.url("/v1/services"))
        .header("Origin", "https://portal.thun.ch")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://portal.thun.ch");
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/services"))
        .header("Origin", "https://portal.thun.ch")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://portal.thun.ch");
    // and it may send every request header the API documents (a preflight names them)
    let mut sent: Vec<String> = app.get_json("/v1/openapi.json").await["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .flat_map(|op| op["parameters"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["in"] == "header")
        .map(|p| p["name"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    sent.sort();
    sent.dedup();
    assert!(sent.contains(&"x-tracking-code".to_string()), "{sent:?}");
    for name in sent {
        let pre = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/v1/services"))
            .header("Origin", "https://portal.thun.ch")
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", &name)
            .send()
            .await
            .unwrap();
        assert!(pre.status().is_success(), "a browser may not send {name}");
    }
    let other = app
        .client
        .get(app.url("/v1/services"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // a browser script can read every header the API documents on an answer
    let doc = app.get_json("/v1/openapi.json").await;
    let mut documented =
        std::collections::BTreeSet::from(["idempotent-replayed".to_string(), "x-request-id".to_string()]);
    fn collect(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(h)) = m.get("headers") {
                    out.extend(h.keys().map(|k| k.to_ascii_lowercase()));
                }
                m.values().for_each(|c| collect(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
            _ => {}
        }
    }
    collect(&doc, &mut documented);
    let exposed: std::collections::BTreeSet<String> = ok.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let hidden: Vec<&String> = documented.difference(&exposed).collect();
    assert!(hidden.is_empty(), "documented but not exposed to browsers: {hidden:?}");
}

/// A compressed answer is a representation of its own: its own strong ETag, `Vary:
/// Accept-Encoding` on both, and the tag a client got with either works in its preconditions.
#[tokio::test]
async fn a_compressed_answer_has_its_own_validator() {
    let w = World::new().await;
    let get = |path: &'static str, gzip: bool, if_none_match: Option<String>| {
        let w = &w;
        async move {
            let mut r = w.app.client.get(w.app.url(path)).bearer_auth(&w.a);
            if gzip {
                r = r.header("accept-encoding", "gzip");
            }
            if let Some(t) = if_none_match {
                r = r.header("if-none-match", t);
            }
            r.send().await.unwrap()
        }
    };
    for path in [
        "/v1/services/wohnsitzbestaetigung",
        "/v1/services/wohnsitzbestaetigung/form",
    ] {
        let plain = get(path, false, None).await;
        let coded = get(path, true, None).await;
        assert_eq!(coded.headers()["content-encoding"], "gzip", "{path}");
        let (plain_tag, coded_tag) = (etag(&plain), etag(&coded));
        assert_eq!(
            coded_tag,
            format!("{}-gzip\"", plain_tag.trim_end_matches('"')),
            "{path}"
        );
        for res in [&plain, &coded] {
            let vary: Vec<&str> = res
                .headers()
                .get_all("vary")
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            assert!(
                vary.join(",").to_ascii_lowercase().contains("accept-encoding"),
                "{path}: {vary:?}"
            );
        }
        // revalidation with either tag: 304, naming the representation the client holds
        let again = get(path, true, Some(coded_tag.clone())).await;
        assert_eq!(
            (again.status().as_u16(), etag(&again)),
            (304, coded_tag.clone()),
            "{path}"
        );
        let again = get(path, false, Some(plain_tag.clone())).await;
        assert_eq!((again.status().as_u16(), etag(&again)), (304, plain_tag), "{path}");
    }
    // the tag of a compressed application works in If-Match
    let app = w.submitted(&w.a).await;
    let path = format!("/v1/applications/{}", app["id"].as_str().unwrap());
    let coded = w
        .app
        .client
        .get(w.app.url(&path))
        .bearer_auth(&w.a)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let tag = etag(&coded);
    assert!(tag.ends_with("-gzip\""), "{tag}");
    let res = w
        .send(Method::POST, &format!("{path}/withdraw"), Some(&w.a), None, Some(&tag))
        .await;
    assert_eq!(res.status(), 200);
}

/// Only answers worth it are compressed: gzip when the caller prefers it, for text-like answers
/// of 1,400 bytes or more (on the worker or, beyond 16 KB, on the CPU queue); the coded bytes
/// decode to the plain answer, and a caller that refuses every coding still gets an answer.
#[tokio::test]
async fn only_answers_worth_it_are_compressed() {
    let app = TestApp::spawn().await;
    let get = |path: &'static str, accept: Option<&'static str>| {
        let app = &app;
        async move {
            let mut r = app.client.get(app.url(path));
            if let Some(a) = accept {
                r = r.header("accept-encoding", a);
            }
            let res = r.send().await.unwrap();
            let coding = res
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            let length = res
                .headers()
                .get("content-length")
                .map(|v| v.to_str().unwrap().to_string());
            let vary: Vec<String> = res
                .headers()
                .get_all("vary")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            let status = res.status().as_u16();
            let bytes = res.bytes().await.unwrap().to_vec();
            (status, coding, length, vary.join(","), bytes)
        }
    };
    // a small answer goes out as it is, and still says it varies by the coding
    let (status, coding, _, vary, body) = get("/health/ready", Some("gzip")).await;
    assert_eq!((status, coding), (200, None));
    assert!(vary.to_ascii_lowercase().contains("accept-encoding"), "{vary}");
    assert!(body.len() < 1400 && serde_json::from_slice::<Value>(&body).is_ok());
    // larger ones are coded, in place (the form), on the CPU queue (a catalogue page, the
    // OpenAPI document), and decode to the plain bytes
    for path in [
        "/v1/services/wohnsitzbestaetigung/form",
        "/v1/services?limit=20",
        "/v1/openapi.json",
    ] {
        let plain = get(path, None).await;
        let coded = get(path, Some("br;q=1.0, gzip;q=0.8, *;q=0.1")).await;
        assert_eq!((plain.0, plain.1.as_deref()), (200, None), "{path}");
        assert_eq!((coded.0, coded.1.as_deref()), (200, Some("gzip")), "{path}");
        assert_eq!(coded.2, Some(coded.4.len().to_string()), "{path}: Content-Length");
        assert!(
            coded.4.len() < plain.4.len() / 2,
            "{path}: {} of {}",
            coded.4.len(),
            plain.4.len()
        );
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&coded.4[..]), &mut decoded).unwrap();
        assert_eq!(decoded, plain.4, "{path}");
    }
    // gzip refused, not offered, or every coding refused: the plain answer (not a 406)
    for accept in ["gzip;q=0", "br, zstd", "identity;q=0, *;q=0", "identity", "*"] {
        let (status, coding, _, _, body) = get("/v1/services?limit=20", Some(accept)).await;
        assert_eq!((status, coding), (200, None), "{accept}");
        assert!(serde_json::from_slice::<Value>(&body).is_ok(), "{accept}");
    }
}

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let served = app.get_json("/v1/openapi.json").await;
    let committed: Value = serde_json::from_str(include_str!("../../openapi/v1.json")).unwrap();
    let generated = serde_json::to_value(guichet::api::openapi()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(
        committed, generated,
        "openapi/v1.json is stale: run `cargo run -- openapi > openapi/v1.json` and commit it"
    );
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    // every operation has an operationId, unique, named after its handler
    let mut ids = Vec::new();
    for (_, item) in served["paths"].as_object().unwrap() {
        for (_, op) in item.as_object().unwrap() {
            ids.push(op["operationId"].as_str().unwrap().to_string());
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(ids.contains(&"list_services".to_string()) && ids.contains(&"get_service".to_string()));
}

#[tokio::test]
async fn the_docs_are_served_without_any_third_party_asset() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs").await;
    assert!(res.status().is_redirection());
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    for asset in [
        "/docs/swagger-initializer.js",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
    ] {
        let res = app.get(asset).await;
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.unwrap();
        if asset.ends_with("initializer.js") {
            assert!(text.contains("/v1/openapi.json"));
            assert!(!text.contains("https://"), "no external URL in the initializer: {text}");
        }
    }
    for src in html.split("src=\"").skip(1).chain(html.split("href=\"").skip(1)) {
        let url = src.split('"').next().unwrap();
        assert!(!url.starts_with("http"), "external asset {url}");
    }
}

/// HEAD answers wherever GET does, with GET's status and headers (its ETag and length) and no
/// body; a conditional HEAD gets its 304.
#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/services",
        "/v1/services/wohnsitzbestaetigung",
        "/v1/departments",
        "/health/live",
        "/v1/openapi.json",
    ] {
        let get = app.client.get(app.url(path)).send().await.unwrap();
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(head.headers().get("etag"), get.headers().get("etag"), "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        let length = get.headers().get("content-length").cloned();
        let body = get.bytes().await.unwrap();
        if let Some(length) = length {
            assert_eq!(head.headers()["content-length"], length, "{path}");
        }
        assert!(!body.is_empty(), "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    let get = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .send()
        .await
        .unwrap();
    let etag = get.headers()["etag"].to_str().unwrap().to_string();
    let head = app
        .client
        .head(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 304);
    // what GET does not serve, HEAD does not either; a protected read still wants a token
    assert_eq!(
        app.client
            .head(app.url("/v1/nothing-here"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client
            .head(app.url("/v1/applications"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

/// API.md: unknown query parameters are a 400 on every read, so a misspelt filter never
/// silently returns everything; the document declares that 400 on each of them.
#[tokio::test]
async fn every_read_refuses_an_unknown_query_parameter() {
    let w = World::new().await;
    let doc = w.app.get_json("/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        assert!(op["responses"].get("400").is_some(), "GET {path} declares no 400");
        let url = format!("{}?colour=blue", sample_url(path));
        let res = w.call(Method::GET, &url, Some(&w.admin), None).await;
        let body = assert_problem(res, 400, "unknown-parameter").await;
        assert!(body.to_string().contains("colour"), "GET {url}: {body}");
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} reads checked");
}

/// A documented request header longer than the document's bound is refused with a 400 problem
/// in the caller's language before anything happens; the bound is the one the document states.
#[tokio::test]
async fn an_oversized_header_is_refused_and_changes_nothing() {
    let w = World::new().await;
    let doc = w.app.get_json("/v1/openapi.json").await;
    let params = doc["paths"]["/v1/applications/{id}"]["delete"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let bound = params.iter().find(|p| p["name"] == "If-Match").unwrap()["schema"]["maxLength"]
        .as_u64()
        .unwrap() as usize;
    let created = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(serde_json::json!({"service": "wohnsitzbestaetigung"})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let tag = etag(&created);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/applications/{id}");
    // a list of entity tags at the bound still reaches the handler (none matches: 412)
    let at_bound = format!("\"r0-0\", \"{}\"", "x".repeat(bound - 10));
    assert_eq!(at_bound.len(), bound);
    let res = w.send(Method::DELETE, &path, Some(&w.a), None, Some(&at_bound)).await;
    assert_eq!(res.status(), 412, "{at_bound}");
    // one character more, with the right tag first: refused before the handler, in French
    let over = format!("{tag}, \"{}\"", "x".repeat(bound + 1 - tag.len() - 4));
    assert_eq!(over.len(), bound + 1);
    let res = w
        .app
        .client
        .delete(w.app.url(&path))
        .bearer_auth(&w.a)
        .header("If-Match", &over)
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "invalid-parameter").await;
    assert_eq!(body["errors"][0]["pointer"], "If-Match");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{bound} caractères")),
        "{body}"
    );
    // the application is still there
    assert_eq!(w.call(Method::GET, &path, Some(&w.a), None).await.status(), 200);
    // the public catalogue too refuses an oversized If-None-Match or Accept-Language
    for (name, max) in [("If-None-Match", 1024), ("Accept-Language", 256)] {
        let res = w
            .app
            .client
            .get(w.app.url("/v1/services"))
            .header(name, "a".repeat(max + 1))
            .send()
            .await
            .unwrap();
        assert_problem(res, 400, "invalid-parameter").await;
        let res = w
            .app
            .client
            .get(w.app.url("/v1/services"))
            .header(name, "a".repeat(max))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name} at its bound");
    }
}
