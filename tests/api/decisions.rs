//! Decisions: the department adds its own documents once an application is submitted, names
//! its decision with the deciding move, and the applicant downloads it; a decision stays.
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::assert_problem;
use crate::common::world::World;
use crate::documents::upload_pdf;

async fn upload_as(w: &World, app: &str, token: &str, query: &str) -> reqwest::Response {
    let body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nBewilligung".repeat(100);
    let boundary = "guichet-decision-boundary";
    let mut payload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Bewilligung.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    payload.extend_from_slice(&body);
    payload.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    w.app
        .client
        .post(w.app.url(&format!("/v1/applications/{app}/documents{query}")))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(payload)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_department_decides_with_a_document_the_applicant_downloads_and_it_stays() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap().to_string();
    w.moved(&id, &w.clerk, json!({"to": "in_review"})).await;

    // the clerk adds the department's document; it says whose it is
    let res = upload_as(&w, &id, &w.clerk, "").await;
    assert_eq!(res.status(), 201);
    let permit: Value = res.json().await.unwrap();
    assert_eq!(
        (permit["side"].as_str(), permit["decision"].as_bool()),
        (Some("department"), Some(false))
    );
    let permit_id = permit["id"].as_str().unwrap().to_string();
    // the applicant may not remove it, nor add a decision; a decision only with a deciding move
    let doc_path = format!("/v1/applications/{id}/documents/{permit_id}");
    let res = w.call(Method::DELETE, &doc_path, Some(&w.a), None).await;
    assert_problem(res, 409, "conflict").await;
    let res = upload_as(&w, &id, &w.clerk, "?decision=true").await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "decision");
    let path = format!("/v1/applications/{id}/transitions");
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&w.clerk),
            Some(json!({"to": "action_required", "public_comment": "x", "decision_documents": [permit_id]})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(
        (p["errors"][0]["pointer"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("/decision_documents"), Some("not_allowed"))
    );
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&w.clerk),
            Some(json!({"to": "approved", "decision_documents": [app["id"]]})),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/decision_documents/0");

    // approved with the permit as its decision
    let approved = w
        .moved(
            &id,
            &w.clerk,
            json!({"to": "approved", "decision_documents": [permit_id]}),
        )
        .await;
    assert_eq!(approved["phase"], "approved");
    let docs = w.get_json(&format!("/v1/applications/{id}/documents"), &w.a).await;
    let decided: Vec<&Value> = docs["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["decision"] == true)
        .collect();
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["id"], permit["id"]);
    let res = w
        .call(Method::GET, &format!("{doc_path}/content"), Some(&w.a), None)
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().ends_with(b"Bewilligung"));
    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.a).await;
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["details"]["decision_documents"], json!([permit_id]));

    // it stays; a correction is a new document, marked as a decision
    let res = w.call(Method::DELETE, &doc_path, Some(&w.clerk), None).await;
    assert_problem(res, 409, "conflict").await;
    let res = upload_as(&w, &id, &w.clerk, "?decision=true").await;
    assert_eq!(res.status(), 201);
    let correction: Value = res.json().await.unwrap();
    assert_eq!(correction["decision"], true);
    let res = upload_pdf(&w, &id, &w.a, 300).await;
    assert_problem(res, 409, "conflict").await;
    let docs = w.get_json(&format!("/v1/applications/{id}/documents"), &w.clerk).await;
    assert_eq!(docs["data"].as_array().unwrap().len(), 2);
}

async fn remove(w: &World, app: &str, token: &str, doc: &Value) -> reqwest::Response {
    let path = format!("/v1/applications/{app}/documents/{}", doc["id"].as_str().unwrap());
    w.call(Method::DELETE, &path, Some(token), None).await
}

#[tokio::test]
async fn each_side_removes_only_its_own_documents() {
    let w = World::new().await;
    let app = w.submitted(&w.a).await;
    let id = app["id"].as_str().unwrap().to_string();
    w.moved(&id, &w.clerk, json!({"to": "in_review"})).await;
    let note: Value = upload_as(&w, &id, &w.clerk, "").await.json().await.unwrap();
    let ask = json!({"to": "action_required", "public_comment": "Bitte den Mietvertrag."});
    w.moved(&id, &w.clerk, ask).await;
    let mine: Value = upload_pdf(&w, &id, &w.a, 300).await.json().await.unwrap();
    assert_eq!(mine["side"], "applicant");
    assert_problem(remove(&w, &id, &w.a, &note).await, 403, "forbidden").await;
    assert_problem(remove(&w, &id, &w.clerk, &mine).await, 403, "forbidden").await;
    assert_problem(remove(&w, &id, &w.other_clerk, &note).await, 404, "not-found").await;
    assert_eq!(remove(&w, &id, &w.clerk, &note).await.status(), 204);
    assert_eq!(remove(&w, &id, &w.a, &mine).await.status(), 204);
    let docs = w.get_json(&format!("/v1/applications/{id}/documents"), &w.clerk).await;
    assert!(docs["data"].as_array().unwrap().is_empty());
}
