//! Documents on applications over HTTP: upload (multipart), the limits a service sets, type
//! sniffing, download, removal, who may see them, and what is left in the store.

use crate::common::assert_problem;
use crate::common::world::{etag, publish, World};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub(crate) fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    b.resize(len, b'x');
    b
}

fn png(len: usize) -> Vec<u8> {
    let mut b = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];
    b.resize(len, 0);
    b
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    b.resize(len, 0);
    b
}

/// One part of a multipart body: name, file name, declared type, bytes.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);
/// The same, owned.
type OwnedPart = (String, Option<&'static str>, Option<&'static str>, Vec<u8>);

fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    multipart_with(parts, "guichet-test-boundary-7MA4YWxkTrZu0gW")
}

fn multipart_with(parts: &[Part], boundary: &str) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, filename, ctype, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = filename {
            body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if let Some(t) = ctype {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(w: &World, app: &str, token: &str, parts: &[Part<'_>]) -> reqwest::Response {
    upload_with(w, app, token, parts, None).await
}

async fn upload_with(w: &World, app: &str, token: &str, parts: &[Part<'_>], key: Option<&str>) -> reqwest::Response {
    upload_to(w, &format!("/v1/applications/{app}/documents"), token, parts, key).await
}

/// Uploads a PDF of `len` bytes answering the department's request `request`.
pub(crate) async fn upload_pdf_for(w: &World, app: &str, token: &str, request: &str) -> reqwest::Response {
    let path = format!("/v1/applications/{app}/documents?request={request}");
    upload_to(
        w,
        &path,
        token,
        &[("file", Some("x.pdf"), Some("application/pdf"), &pdf(300))],
        None,
    )
    .await
}

async fn upload_to(w: &World, path: &str, token: &str, parts: &[Part<'_>], key: Option<&str>) -> reqwest::Response {
    let (ct, body) = multipart(parts);
    let mut r = w
        .app
        .client
        .post(w.app.url(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body);
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    r.send().await.unwrap()
}

/// Uploads a PDF of `len` bytes.
pub(crate) async fn upload_pdf(w: &World, app: &str, token: &str, len: usize) -> reqwest::Response {
    upload(
        w,
        app,
        token,
        &[("file", Some("x.pdf"), Some("application/pdf"), &pdf(len))],
    )
    .await
}

/// `GET .../documents/{doc}/content` of an application, as `token`.
async fn download(w: &World, app: &str, doc: &str, token: &str) -> reqwest::Response {
    let path = format!("/v1/applications/{app}/documents/{doc}/content");
    w.call(Method::GET, &path, Some(token), None).await
}

fn sha256(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Objects in the document store (a directory or a bucket) under `applications/{app}`.
async fn stored_files(w: &World, app: &str) -> usize {
    w.app
        .documents
        .keys(&format!("applications/{app}"))
        .await
        .unwrap()
        .len()
}

fn document_rows(w: &World, app: &str) -> i64 {
    use diesel::prelude::*;
    use guichet::db::schema::documents::dsl as d;
    let id = guichet::db::types::SqlUuid(uuid::Uuid::parse_str(app).unwrap());
    w.app.with_conn(|c| {
        d::documents
            .filter(d::application_id.eq(id))
            .count()
            .get_result(c)
            .unwrap()
    })
}

/// A service that takes PDF and PNG up to 4 KiB, two files, and names a plan in its form.
pub(crate) fn permit_service() -> Value {
    json!({
        "slug": "kleinbaugesuch", "department": "einwohnerdienste", "category": "residence",
        "content": {
            "name": {"de": "Kleinbaugesuch"}, "summary": {"de": "Ein kleines Bauvorhaben melden."},
            "audience": ["resident"],
            "fee": {"amount": null, "currency": "CHF", "basis": "varies", "verified": false},
            "processing_time": {"days": null, "verified": false},
            "channel": "guichet", "requires_login": true,
            "document_limits": {"types": ["application/pdf", "image/png"], "max_bytes": 4096, "max_files": 2}
        },
        "form": {"schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"plan": {"type": "string", "format": "document-id", "pattern": "^[0-9a-fA-F-]{36}$"}}, "required": ["plan"]}}
    })
}

pub(crate) async fn draft(w: &World, token: &str, service: &str) -> String {
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(token),
            Some(json!({"service": service})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn documents_from_upload_to_download() {
    let w = World::new().await;
    publish(&w, permit_service()).await;
    let app = draft(&w, &w.a, "kleinbaugesuch").await;
    let plan = pdf(3000);

    // the applicant uploads a plan; the name keeps its accents, loses its folder
    let res = upload(
        &w,
        &app,
        &w.a,
        &[("file", Some("plans/Grundriss Süd.pdf"), Some("application/pdf"), &plan)],
    )
    .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let doc: Value = res.json().await.unwrap();
    let doc_id = doc["id"].as_str().unwrap().to_string();
    assert!(location.ends_with(&format!("/v1/applications/{app}/documents/{doc_id}")));
    assert_eq!(doc["filename"], "Grundriss Süd.pdf");
    assert_eq!(doc["media_type"], "application/pdf");
    assert_eq!(doc["size_bytes"], 3000);
    assert_eq!(doc["sha256"], sha256(&plan));
    assert_eq!(stored_files(&w, &app).await, 1);

    // the same upload retried with its Idempotency-Key is answered again, not stored twice
    let (ct, body) = multipart(&[("file", Some("photo.png"), Some("image/png"), &png(500))]);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let res = w
            .app
            .client
            .post(w.app.url(&format!("/v1/applications/{app}/documents")))
            .bearer_auth(&w.a)
            .header("content-type", &ct)
            .header("idempotency-key", "upload-photo-1")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let replayed = res.headers().contains_key("idempotent-replayed");
        answers.push((replayed, res.json::<Value>().await.unwrap()["id"].clone()));
    }
    assert_eq!(answers[0].1, answers[1].1);
    assert!(!answers[0].0 && answers[1].0, "{answers:?}");
    assert_eq!(document_rows(&w, &app), 2);
    let photo = answers[0].1.as_str().unwrap().to_string();

    // the form's file field must name a document of this application
    let path = format!("/v1/applications/{app}");
    let tag = etag(&w.call(Method::GET, &path, Some(&w.a), None).await);
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.a),
            Some(json!({"data": {"plan": uuid::Uuid::now_v7()}})),
            Some(&tag),
        )
        .await;
    let tag = etag(&res);
    let res = w.act(Method::POST, &format!("{path}/submit"), Some(&w.a), None).await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/data/plan");
    assert_eq!(p["errors"][0]["code"], "document");

    // the applicant removes the photo: record, bytes and a history entry
    let res = w
        .call(Method::DELETE, &format!("{path}/documents/{photo}"), Some(&w.a), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(document_rows(&w, &app), 1);
    assert_eq!(stored_files(&w, &app).await, 1);
    let res = w
        .call(Method::DELETE, &format!("{path}/documents/{photo}"), Some(&w.a), None)
        .await;
    assert_problem(res, 404, "not-found").await;

    // B, the other clerk and the partner do not see the draft's documents; clerks not before submission
    for t in [&w.b, &w.clerk, &w.other_clerk, &w.partner] {
        let res = w.call(Method::GET, &format!("{path}/documents"), Some(t), None).await;
        assert_problem(res, 404, "not-found").await;
        let res = download(&w, &app, &doc_id, t).await;
        assert_problem(res, 404, "not-found").await;
        let res = upload_pdf(&w, &app, t, 100).await;
        assert_eq!(res.status().as_u16(), 404, "{}", res.text().await.unwrap());
    }
    let res = w.call(Method::GET, &format!("{path}/documents"), None, None).await;
    assert_problem(res, 401, "unauthorized").await;

    // with the real id the application is submitted
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.a),
            Some(json!({"data": {"plan": doc_id}})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w.act(Method::POST, &format!("{path}/submit"), Some(&w.a), None).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // now the clerk of the department reads and downloads it, byte for byte
    let list: Value = w.get_json(&format!("{path}/documents"), &w.clerk).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], doc_id.as_str());
    let res = download(&w, &app, &doc_id, &w.clerk).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        res.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", sha256(&plan))
    );
    let cd = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(cd.contains("filename=\"Grundriss Sud.pdf\""), "{cd}");
    assert!(cd.contains("filename*=UTF-8''Grundriss%20S%C3%BCd.pdf"), "{cd}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), plan.as_slice());
    let one: Value = w.get_json(&format!("{path}/documents/{doc_id}"), &w.a).await;
    assert_eq!(one["sha256"], sha256(&plan));
    assert!(one["content_url"].as_str().unwrap().ends_with("/content"));
    // the other clerk still does not; an unknown document is a 404
    let res = w
        .call(Method::GET, &format!("{path}/documents"), Some(&w.other_clerk), None)
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = w
        .call(
            Method::GET,
            &format!("{path}/documents/{}", uuid::Uuid::now_v7()),
            Some(&w.a),
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;

    // once submitted, the applicant's documents no longer change (the department adds its
    // own: tests/api/decisions.rs); a clerk of another department does not see them
    let res = upload_pdf(&w, &app, &w.a, 100).await;
    assert_problem(res, 409, "conflict").await;
    let res = w
        .call(Method::DELETE, &format!("{path}/documents/{doc_id}"), Some(&w.a), None)
        .await;
    assert_problem(res, 409, "conflict").await;
    let res = upload_pdf(&w, &app, &w.other_clerk, 100).await;
    assert_problem(res, 404, "not-found").await;
    assert_eq!(document_rows(&w, &app), 1);
    assert_eq!(stored_files(&w, &app).await, 1);

    // history and events record the additions and the removal
    let history: Value = w.get_json(&format!("{path}/history"), &w.a).await;
    let actions: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "document_added",
            "document_added",
            "data_changed",
            "document_removed",
            "data_changed",
            "submitted"
        ]
    );
    let removed = &history["data"][4]["details"]["document"];
    assert_eq!(removed["id"], photo.as_str());
    assert_eq!(removed["media_type"], "image/png");
    let events: Vec<String> = w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::events::dsl as e;
        e::events.select(e::type_).order(e::occurred_at.asc()).load(c).unwrap()
    });
    assert_eq!(events.iter().filter(|t| *t == "application.document_added").count(), 2);
    assert_eq!(
        events.iter().filter(|t| *t == "application.document_removed").count(),
        1
    );

    // deleting a draft deletes its documents' bytes too
    let other = draft(&w, &w.a, "kleinbaugesuch").await;
    let res = upload_pdf(&w, &other, &w.a, 200).await;
    assert_eq!(res.status(), 201);
    assert_eq!(stored_files(&w, &other).await, 1);
    let res = w
        .act(Method::DELETE, &format!("/v1/applications/{other}"), Some(&w.a), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(stored_files(&w, &other).await, 0);
    assert_eq!(document_rows(&w, &other), 0);
}

/// An upload larger than what the idempotency layer keeps in memory (256 KiB) goes through a
/// temporary file: the handler gets the same bytes, a retry is answered again, and another
/// body under the same key is refused.
#[tokio::test]
async fn a_large_idempotent_upload_is_spooled_and_answered_again() {
    let w = World::new().await;
    let mut service = permit_service();
    service["content"]["document_limits"]["max_bytes"] = json!(2 * 1024 * 1024);
    publish(&w, service).await;
    let app = draft(&w, &w.a, "kleinbaugesuch").await;
    let mut plan = pdf(1024 * 1024 + 7);
    let tail = plan.len() - 1;
    plan[tail] = b'!'; // the last byte arrives last: a lost chunk would change the hash
    let send = |bytes: Vec<u8>| {
        let (w, app) = (&w, &app);
        async move {
            let parts: [Part; 1] = [("file", Some("plan.pdf"), Some("application/pdf"), &bytes)];
            upload_with(w, app, &w.a, &parts, Some("large-plan-1")).await
        }
    };

    let first = send(plan.clone()).await;
    assert_eq!(first.status(), 201);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let doc: Value = first.json().await.unwrap();
    assert_eq!(doc["size_bytes"], plan.len());
    assert_eq!(doc["sha256"], sha256(&plan));
    let id = doc["id"].as_str().unwrap().to_string();
    let res = download(&w, &app, &id, &w.a).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), plan.as_slice());

    let again = send(plan.clone()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());
    assert_eq!(document_rows(&w, &app), 1);
    assert_eq!(stored_files(&w, &app).await, 1);

    let mut other = plan.clone();
    other[tail] = b'?';
    let res = send(other).await;
    assert_problem(res, 422, "idempotency-key-reused").await;
    assert_eq!(document_rows(&w, &app), 1);
    assert_eq!(stored_files(&w, &app).await, 1);
}

#[tokio::test]
async fn every_document_limit_is_enforced() {
    let w = World::new().await;
    publish(&w, permit_service()).await;
    let app = draft(&w, &w.a, "kleinbaugesuch").await;
    let f = |name| Some(name);

    // too big: caught while streaming (4097 bytes) and from Content-Length (200 KiB)
    let res = upload_pdf(&w, &app, &w.a, 4097).await;
    let p = assert_problem(res, 413, "payload-too-large").await;
    assert!(p["detail"].as_str().unwrap().contains("4096"), "{p}");
    let res = upload_pdf(&w, &app, &w.a, 200 * 1024).await;
    assert_problem(res, 413, "payload-too-large").await;
    // exactly the limit is fine (and then removed again)
    let res = upload_pdf(&w, &app, &w.a, 4096).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = w
        .call(
            Method::DELETE,
            &format!("/v1/applications/{app}/documents/{id}"),
            Some(&w.a),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);

    // a type guichet does not take, and one this service does not take
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    let res = upload(&w, &app, &w.a, &[("file", f("a.gif"), f("image/gif"), &gif)]).await;
    assert_problem(res, 415, "unsupported-media-type").await;
    let res = upload(&w, &app, &w.a, &[("file", f("a.jpg"), f("image/jpeg"), &jpeg(300))]).await;
    let p = assert_problem(res, 415, "unsupported-media-type").await;
    assert!(
        p["detail"].as_str().unwrap().contains("application/pdf, image/png"),
        "{p}"
    );
    let res = upload(&w, &app, &w.a, &[("file", f("a.bin"), None, &pdf(300))]).await;
    assert_problem(res, 415, "unsupported-media-type").await;

    // declared one type, bytes of another (or of none)
    for (bytes, declared) in [
        (png(300), "application/pdf"),
        (pdf(300), "image/png"),
        (b"<html><script>alert(1)</script></html>".to_vec(), "application/pdf"),
    ] {
        let res = upload(&w, &app, &w.a, &[("file", f("x"), f(declared), &bytes)]).await;
        let p = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(p["errors"][0]["pointer"], "/file");
        assert_eq!(p["errors"][0]["code"], "type_mismatch");
    }

    // malformed uploads
    let res = upload(&w, &app, &w.a, &[("file", f("empty.pdf"), f("application/pdf"), b"")]).await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "empty");
    let res = upload(&w, &app, &w.a, &[("file", None, f("application/pdf"), &pdf(100))]).await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "filename");
    let res = upload(&w, &app, &w.a, &[("note", None, None, b"hello")]).await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/note");
    let res = upload(&w, &app, &w.a, &[]).await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "required");
    let res = upload(
        &w,
        &app,
        &w.a,
        &[
            ("file", f("1.pdf"), f("application/pdf"), &pdf(100)),
            ("file", f("2.pdf"), f("application/pdf"), &pdf(100)),
        ],
    )
    .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "one_file");
    let res = w
        .call(
            Method::POST,
            &format!("/v1/applications/{app}/documents"),
            Some(&w.a),
            Some(json!({"file": "x"})),
        )
        .await;
    assert_problem(res, 415, "unsupported-media-type").await;
    let res = w
        .app
        .client
        .post(w.app.url(&format!("/v1/applications/{app}/documents")))
        .bearer_auth(&w.a)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 truncated")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "bad-request").await;
    // none of these left anything behind
    assert_eq!(document_rows(&w, &app), 0);
    assert_eq!(stored_files(&w, &app).await, 0);

    // too many: the service takes two
    for name in ["1.pdf", "2.png"] {
        let (t, b) = if name.ends_with("pdf") {
            ("application/pdf", pdf(100))
        } else {
            ("image/png", png(100))
        };
        let res = upload(&w, &app, &w.a, &[("file", f(name), f(t), &b)]).await;
        assert_eq!(res.status(), 201);
    }
    let res = upload_pdf(&w, &app, &w.a, 100).await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("2 Dokumente"), "{p}");
    assert_eq!(document_rows(&w, &app), 2);
    assert_eq!(stored_files(&w, &app).await, 2);

    // the defaults of a service without limits: 20 MB, PDF, PNG and JPEG
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung"})),
        )
        .await;
    let plain = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = upload(
        &w,
        &plain,
        &w.a,
        &[("file", f("scan.jpg"), f("image/jpg"), &jpeg(10_000))],
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["media_type"], "image/jpeg");
    let res = upload(
        &w,
        &plain,
        &w.a,
        &[("file", f("big.pdf"), f("application/pdf"), &pdf(20 * 1024 * 1024 + 1))],
    )
    .await;
    assert_problem(res, 413, "payload-too-large").await;
    assert_eq!(document_rows(&w, &plain), 1);
}

#[tokio::test]
async fn organisation_documents_follow_who_acts_for_it() {
    let w = crate::common::world::with_firm_service().await;
    // a draft of organisation X, made by its member
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.member),
            Some(json!({"service": crate::common::world::FIRM_SERVICE, "applicant": {"organisation": w.org_x}})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let app = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = upload_pdf(&w, &app, &w.member, 300).await;
    assert_eq!(res.status(), 201);
    let doc = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let content = format!("/v1/applications/{app}/documents/{doc}/content");

    // the partner client of Y, residents and the administrator do not see a draft's documents
    for t in [&w.partner, &w.a, &w.admin] {
        let res = w.call(Method::GET, &content, Some(t), None).await;
        assert_problem(res, 404, "not-found").await;
        let res = upload_pdf(&w, &app, t, 100).await;
        assert_problem(res, 404, "not-found").await;
    }

    // submitted, the administrator reads but does not add; the member still reads
    let data = json!({
        "last_name": "Muster", "first_name": "Anna", "birth_date": "1990-02-28",
        "address": {"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"},
        "purpose": "employer", "copies": 1, "delivery": "post", "email": "anna@example.ch"
    });
    let path = format!("/v1/applications/{app}");
    let tag = etag(&w.call(Method::GET, &path, Some(&w.member), None).await);
    let res = w
        .send(
            Method::PATCH,
            &path,
            Some(&w.member),
            Some(json!({"data": data})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w
        .act(Method::POST, &format!("{path}/submit"), Some(&w.member), None)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    for t in [&w.admin, &w.member, &w.clerk] {
        let res = w.call(Method::GET, &content, Some(t), None).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap().len(), 300);
    }
    let res = upload_pdf(&w, &app, &w.b, 100).await;
    assert_problem(res, 404, "not-found").await;
    let res = w.call(Method::GET, &content, Some(&w.partner), None).await;
    assert_problem(res, 404, "not-found").await;
    assert_eq!(document_rows(&w, &app), 1);
}

/// Everything stored under applications, of any application.
async fn all_stored_files(w: &World) -> usize {
    w.app.documents.keys("applications").await.unwrap().len()
}

fn applications_count(w: &World) -> i64 {
    use diesel::prelude::*;
    w.app
        .with_conn(|c| guichet::db::schema::applications::table.count().get_result(c).unwrap())
}

/// `POST /v1/applications` as multipart: the application and its files in one call, created
/// and submitted atomically; replayed with its key; and all or nothing when a file or the form
/// is wrong.
#[tokio::test]
async fn an_application_is_submitted_with_its_documents_in_one_call() {
    let w = World::new().await;
    let mut service = crate::common::world::stepped_service();
    service["slug"] = json!("nachweis-einreichen");
    service["form"]["schema"]["properties"] = json!({
        "name": {"type": "string", "minLength": 1},
        "proof": {"type": "string", "format": "document-id",
                  "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
    });
    service["form"]["schema"]["required"] = json!(["name", "proof"]);
    publish(&w, service).await;

    // as JSON, a missing document says how to send it
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "nachweis-einreichen", "data": {"name": "Muster"}, "submit": true})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/data/proof");
    assert_eq!(p["errors"][0]["code"], "required");
    assert!(
        p["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{p}"
    );

    let send_with = |parts: Vec<OwnedPart>, key: Option<&'static str>, boundary: &'static str| {
        let w = &w;
        async move {
            let borrowed: Vec<Part> = parts
                .iter()
                .map(|(n, f, t, b)| (n.as_str(), *f, *t, b.as_slice()))
                .collect();
            let (ct, body) = multipart_with(&borrowed, boundary);
            let mut r = w
                .app
                .client
                .post(w.app.url("/v1/applications"))
                .bearer_auth(&w.a)
                .header("content-type", ct)
                .body(body);
            if let Some(k) = key {
                r = r.header("idempotency-key", k);
            }
            r.send().await.unwrap()
        }
    };
    let send = |parts, key| send_with(parts, key, "guichet-test-boundary-7MA4YWxkTrZu0gW");
    let application = |data: Value| {
        let body = json!({"service": "nachweis-einreichen", "submit": true, "data": data});
        (
            "application".to_string(),
            None,
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
        )
    };
    let scan = pdf(5000);
    let pdf_part = |filename: &'static str| {
        (
            "documents".to_string(),
            Some(filename),
            Some("application/pdf"),
            scan.clone(),
        )
    };
    let good = vec![
        application(json!({"name": "Muster", "proof": "Scan.pdf"})),
        pdf_part("Scan.pdf"),
    ];
    let (apps_before, files_before) = (applications_count(&w), all_stored_files(&w).await);

    let res = send(good.clone(), Some("with-docs-1")).await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["phase"], "submitted");
    let id = app["id"].as_str().unwrap().to_string();
    let doc = app["data"]["proof"].as_str().unwrap().to_string();
    assert_eq!(doc.len(), 36, "the file's name became the document's id: {app}");
    let docs = w.get_json(&format!("/v1/applications/{id}/documents"), &w.a).await;
    assert_eq!(docs["data"].as_array().unwrap().len(), 1);
    assert_eq!(docs["data"][0]["id"], doc.as_str());
    assert_eq!(docs["data"][0]["filename"], "Scan.pdf");
    let bytes = download(&w, &id, &doc, &w.a).await.bytes().await.unwrap();
    assert_eq!(sha256(&bytes), sha256(&scan));
    // the history is that of the calls it stands for
    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.a).await;
    let actions: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "document_added", "submitted"]);

    // the same request again with its key: the same answer, nothing new
    let again = send(good.clone(), Some("with-docs-1")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());
    // as a client sends it again: the same parts under a boundary of its own (FormData draws a
    // new one for every request); another file under the same key is another request
    let redrawn = send_with(good.clone(), Some("with-docs-1"), "----formdata-undici-0123456789").await;
    assert_eq!(redrawn.status(), 201);
    assert_eq!(redrawn.headers()["idempotent-replayed"], "true");
    assert_eq!(redrawn.json::<Value>().await.unwrap()["id"], id.as_str());
    let mut other = good.clone();
    other[1].3 = pdf(5001);
    let p = assert_problem(send(other, Some("with-docs-1")).await, 422, "idempotency-key-reused").await;
    assert!(p["detail"].is_string());
    assert_eq!(applications_count(&w), apps_before + 1);
    assert_eq!(all_stored_files(&w).await, files_before + 1);

    // all or nothing: a file whose bytes are not its declared type, a form that fails, a
    // file no field names, two files of one name, a file in a part of another name; each
    // leaves no application and no bytes
    let with = |files: Vec<OwnedPart>| {
        let mut parts = vec![application(json!({"name": "Muster", "proof": "Scan.pdf"}))];
        parts.extend(files);
        parts
    };
    let refused = [
        (
            with(vec![(
                "documents".to_string(),
                Some("Scan.pdf"),
                Some("application/pdf"),
                png(3000),
            )]),
            "/documents/0",
            "type_mismatch",
        ),
        (
            vec![application(json!({"proof": "Scan.pdf"})), pdf_part("Scan.pdf")],
            "/data/name",
            "required",
        ),
        (
            with(vec![pdf_part("Scan.pdf"), pdf_part("Extra.pdf")]),
            "/documents/1",
            "unused",
        ),
        (
            with(vec![pdf_part("Scan.pdf"), pdf_part("Scan.pdf")]),
            "/documents/1",
            "filename",
        ),
        (
            with(vec![(
                "scan".to_string(),
                Some("Scan.pdf"),
                Some("application/pdf"),
                scan.clone(),
            )]),
            "/documents/0",
            "part_name",
        ),
    ];
    for (parts, pointer, code) in refused {
        let p = assert_problem(send(parts, None).await, 422, "validation-failed").await;
        assert_eq!(
            (p["errors"][0]["pointer"].as_str(), p["errors"][0]["code"].as_str()),
            (Some(pointer), Some(code)),
            "{p}"
        );
    }
    let no_application = vec![pdf_part("Scan.pdf")];
    let p = assert_problem(send(no_application, None).await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "application");
    assert_eq!(applications_count(&w), apps_before + 1);
    assert_eq!(all_stored_files(&w).await, files_before + 1);
}

/// An organisation applies on behalf of a person where the service asks for a power of
/// attorney: the draft is made, its submission waits for the document giving the power, and
/// the department sees whom it is for.
#[tokio::test]
async fn a_fiduciary_applies_for_a_person_with_a_power_of_attorney() {
    let w = World::new().await;
    let maria = json!({"kind": "person", "name": "Maria Beispiel",
        "address": {"street": "Hofstettenstrasse", "house_number": "14", "postal_code": "3600", "city": "Thun"}});
    let body = json!({"service": "wohnsitzbestaetigung", "data": crate::common::world::valid_data(),
        "applicant": {"on_behalf_of": maria}});
    let res = w
        .call(Method::POST, "/v1/applications", Some(&w.partner), Some(body))
        .await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["applicant"]["on_behalf_of"]["name"], "Maria Beispiel");
    let id = app["id"].as_str().unwrap().to_string();
    let path = format!("/v1/applications/{id}");
    let submit_path = format!("{path}/submit");
    let submit = || w.act(Method::POST, &submit_path, Some(&w.partner), None);
    let patch = |body: Value| {
        let (w, path) = (&w, &path);
        async move {
            let tag = etag(&w.call(Method::GET, path, Some(&w.partner), None).await);
            w.send(Method::PATCH, path, Some(&w.partner), Some(body), Some(&tag))
                .await
        }
    };

    // no power of attorney yet: the submission says what is missing and how to give it
    let p = assert_problem(submit().await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/applicant/on_behalf_of/power_of_attorney");
    assert_eq!(p["errors"][0]["code"], "required");

    // a document id that is not one of this application's is refused on submission
    let res = patch(json!({"power_of_attorney": "0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60"})).await;
    assert_eq!(res.status(), 200);
    let p = assert_problem(submit().await, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "document");

    // the document, then its id, then the submission
    let doc: Value = upload_pdf(&w, &id, &w.partner, 800).await.json().await.unwrap();
    assert_eq!(patch(json!({"power_of_attorney": doc["id"]})).await.status(), 200);
    let res = submit().await;
    assert_eq!(res.status(), 200);
    let submitted: Value = res.json().await.unwrap();
    assert_eq!(submitted["phase"], "submitted");
    assert_eq!(submitted["applicant"]["on_behalf_of"]["power_of_attorney"], doc["id"]);

    // the department sees whom it is for; an application for oneself takes no power of attorney
    let seen = w.get_json(&path, &w.clerk).await;
    assert_eq!(seen["applicant"]["on_behalf_of"]["name"], "Maria Beispiel");
    let own = w
        .app
        .client
        .post(w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .json(&json!({"service": "wohnsitzbestaetigung"}))
        .send()
        .await
        .unwrap();
    let own: Value = own.json().await.unwrap();
    let own_path = format!("/v1/applications/{}", own["id"].as_str().unwrap());
    let tag = etag(&w.call(Method::GET, &own_path, Some(&w.a), None).await);
    let res = w
        .send(
            Method::PATCH,
            &own_path,
            Some(&w.a),
            Some(json!({"power_of_attorney": doc["id"]})),
            Some(&tag),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["code"], "not_represented");
}

/// Two instances on one database share the document store (one bucket, or one directory on
/// shared storage): what one stores, the other serves and removes, a draft deleted on one
/// takes its bytes along for both.
#[tokio::test]
async fn two_instances_share_the_document_store() {
    let w = World::new().await;
    let other = crate::common::TestApp::spawn_on(w.app.db.share(), &[]).await;
    let app = draft(&w, &w.a, "wohnsitzbestaetigung").await;
    let bytes = pdf(300_000);
    let (ct, body) = multipart(&[("file", Some("Mietvertrag.pdf"), Some("application/pdf"), &bytes)]);
    let res = other
        .client
        .post(other.url(&format!("/v1/applications/{app}/documents")))
        .bearer_auth(&w.a)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    let doc = doc["id"].as_str().unwrap().to_string();
    assert_eq!(stored_files(&w, &app).await, 1);
    if crate::common::s3::enabled() {
        // in the bucket, under the prefix, and nowhere on disk
        let key = format!("documents/applications/{app}/{doc}");
        assert_eq!(crate::common::s3::keys(&w.app.db.url), [key]);
        assert!(!crate::common::documents_dir(&w.app.db.url).exists());
    }
    // stored through the other instance, served by this one, byte for byte
    let res = download(&w, &app, &doc, &w.a).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // removed through this one: gone for the other
    let res = w
        .call(
            Method::DELETE,
            &format!("/v1/applications/{app}/documents/{doc}"),
            Some(&w.a),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(stored_files(&w, &app).await, 0);
    let res = other
        .client
        .get(other.url(&format!("/v1/applications/{app}/documents/{doc}/content")))
        .bearer_auth(&w.a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // a draft deleted through the other instance takes its documents' bytes along
    assert_eq!(upload_pdf(&w, &app, &w.a, 1000).await.status(), 201);
    assert_eq!(stored_files(&w, &app).await, 1);
    let path = format!("/v1/applications/{app}");
    let tag = etag(&w.call(Method::GET, &path, Some(&w.a), None).await);
    let res = other
        .client
        .delete(other.url(&path))
        .bearer_auth(&w.a)
        .header("if-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        crate::common::eventually(|| async { stored_files(&w, &app).await == 0 }).await,
        "the bytes go with the draft"
    );
}
