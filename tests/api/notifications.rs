//! The applicant side is told by mail, through a real SMTP server (aiosmtpd on loopback), of
//! every moment of its application, in the application's language, with no form data; the
//! mails are read back with Python's `email` package (an independent MIME parser).
use reqwest::Method;
use serde_json::json;

use crate::common::world::{etag, World};
use crate::common::TestApp;
use crate::mail::{smtp_sink, SmtpSink};

/// Every mail received: (to, subject, text part, HTML part), decoded by Python's `email`.
fn received(sink: &SmtpSink) -> Vec<(String, String, String, String)> {
    const READ: &str = r#"
import email, json, sys
from email import policy
out = []
for path in sys.argv[1:]:
    m = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
    text = m.get_body(("plain",))
    html = m.get_body(("html",))
    out.append([str(m["To"]), str(m["Subject"]), text.get_content() if text else "", html.get_content() if html else ""])
print(json.dumps(out))
"#;
    let files = sink.files();
    if files.is_empty() {
        return Vec::new();
    }
    let out = std::process::Command::new(crate::common::tools_python())
        .arg("-c")
        .arg(READ)
        .args(&files)
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

async fn wait_for(sink: &SmtpSink, to: &str, subject_part: &str) -> (String, String, String) {
    for _ in 0..100 {
        if let Some((_, s, t, h)) = received(sink)
            .into_iter()
            .find(|(rcpt, s, _, _)| rcpt.contains(to) && s.contains(subject_part))
        {
            return (s, t, h);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no mail '{subject_part}' to {to}: {:?}",
        received(sink).iter().map(|m| (&m.0, &m.1)).collect::<Vec<_>>()
    );
}

fn count(sink: &SmtpSink, to: &str, subject_part: &str) -> usize {
    received(sink)
        .iter()
        .filter(|(rcpt, s, _, _)| rcpt.contains(to) && s.contains(subject_part))
        .count()
}

/// Takes back the confirmation of an address (a world's residents have confirmed theirs).
fn unconfirm(w: &World, email: &str) {
    w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::accounts as a;
        diesel::update(a::table.filter(a::email.eq(email)))
            .set(a::email_verified_at.eq(None::<guichet::db::types::SqlTime>))
            .execute(c)
            .unwrap();
    });
}

#[tokio::test]
async fn the_round_trip_tells_the_applicant_of_every_moment_in_its_language_without_form_data() {
    let sink = smtp_sink();
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::spawn_with(&[
        ("GUICHET_SMTP_URL", &smtp),
        ("GUICHET_FRONTEND_URL", "https://portal.example"),
    ])
    .await;
    let w = World::on(app).await;
    unconfirm(&w, "b@example.ch");
    // A writes in French
    let tag = etag(&w.call(Method::GET, "/v1/me", Some(&w.a), None).await);
    let res = w
        .send(
            Method::PATCH,
            "/v1/me",
            Some(&w.a),
            Some(json!({"language": "fr"})),
            Some(&tag),
        )
        .await;
    assert_eq!(res.status(), 200);

    // received: the reference, the tracking code, the link; nothing of the form
    let app = w.submitted(&w.a).await;
    let (id, reference) = (app["id"].as_str().unwrap(), app["reference"].as_str().unwrap());
    assert_eq!(app["language"], "fr");
    let (subject, text, html) = wait_for(&sink, "a@example.ch", reference).await;
    assert_eq!(subject, format!("Votre demande {reference} a été reçue"));
    assert!(
        text.contains(&format!("https://portal.example/applications/{id}")),
        "{text}"
    );
    assert!(
        html.contains(&format!("portal.example&#x2f;applications&#x2f;{id}")),
        "{html}"
    );
    for body in [&text, &html] {
        assert!(body.contains(reference) && body.contains(app["tracking_code"].as_str().unwrap()));
        for personal in [
            "Muster",
            "Anna",
            "Hofstettenstrasse",
            "1990",
            "anna@example.ch",
            "225 84 98",
        ] {
            assert!(!body.contains(personal), "{personal} in {body}");
        }
    }

    // a new public step, what is needed and by when, a message from the department
    w.moved(id, &w.clerk, json!({"to": "in_review"})).await;
    wait_for(&sink, "a@example.ch", "Nouvel état").await;
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(10))
        .format("%d.%m.%Y")
        .to_string();
    let ask = json!({"to": "action_required", "public_comment": "Bitte den Mietvertrag.",
        "requests": {"documents": [{"label": "Mietvertrag"}], "fields": ["/address/street"]},
        "due_date": (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string()});
    w.moved(id, &w.clerk, ask).await;
    let (_, text, _) = wait_for(&sink, "a@example.ch", "Nous avons besoin").await;
    assert!(text.contains("Document : Mietvertrag") && text.contains(&due), "{text}");
    assert!(
        !text.contains("Bitte den Mietvertrag"),
        "the comment is read on the portal"
    );
    let path = format!("/v1/applications/{id}/messages");
    let res = w
        .call(
            Method::POST,
            &path,
            Some(&w.clerk),
            Some(json!({"body": "Privat: 079 123 45 67"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (_, text, _) = wait_for(&sink, "a@example.ch", "Nouveau message").await;
    assert!(!text.contains("079 123 45 67"), "a message's text stays on the portal");
    // the applicant's own moves and messages tell no one
    let res = w
        .call(Method::POST, &path, Some(&w.a), Some(json!({"body": "Merci"})))
        .await;
    assert_eq!(res.status(), 201);

    // A turns the optional notices off: a step is no news any more, the decision still is
    let tag = etag(&w.call(Method::GET, "/v1/me", Some(&w.a), None).await);
    let off = json!({"notifications": {"optional": false}});
    assert_eq!(
        w.send(Method::PATCH, "/v1/me", Some(&w.a), Some(off), Some(&tag))
            .await
            .status(),
        200
    );
    let street = json!({"data": {"address": {"street": "Frutigenstrasse"}}});
    let app_path = format!("/v1/applications/{id}");
    assert_eq!(
        w.act(Method::PATCH, &app_path, Some(&w.a), Some(street)).await.status(),
        200
    );
    // the field is answered, the document not yet: resubmitting is a 422 naming it
    let asked_document = {
        let view = w.get_json(&app_path, &w.a).await;
        let asked = view["requests"].as_array().unwrap().clone();
        assert_eq!(asked.len(), 1, "the changed field is answered: {asked:?}");
        let doc = asked.iter().find(|r| r["kind"] == "document").unwrap();
        doc["id"].as_str().unwrap().to_string()
    };
    let res = w
        .act(
            Method::POST,
            &format!("{app_path}/transitions"),
            Some(&w.a),
            Some(json!({"to": "in_review"})),
        )
        .await;
    let p = crate::common::assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], format!("/requests/{asked_document}"));
    let upload = crate::documents::upload_pdf_for(&w, id, &w.a, &asked_document).await;
    assert_eq!(upload.status(), 201);
    w.moved(id, &w.a, json!({"to": "in_review"})).await;
    // approved with the department's decision document, which the applicant downloads
    let res = crate::documents::upload_pdf(&w, id, &w.clerk, 4_321).await;
    assert_eq!(res.status(), 201);
    let permit: serde_json::Value = res.json().await.unwrap();
    w.moved(
        id,
        &w.clerk,
        json!({"to": "approved", "decision_documents": [permit["id"]]}),
    )
    .await;
    let (subject, _, _) = wait_for(&sink, "a@example.ch", "Décision").await;
    assert!(subject.contains(reference));
    let documents = w.get_json(&format!("{app_path}/documents"), &w.a).await;
    let decision = documents["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["decision"] == true)
        .expect("the decision is among the applicant's documents")
        .clone();
    assert_eq!(decision["side"], "department");
    let res = w
        .app
        .client
        .get(
            w.app.url(
                decision["content_url"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(crate::common::PUBLIC_URL),
            ),
        )
        .bearer_auth(&w.a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), crate::documents::pdf(4_321).as_slice());
    assert_eq!(
        count(&sink, "a@example.ch", "Nouvel état"),
        1,
        "only the step before the opt-out"
    );
    assert_eq!(count(&sink, "a@example.ch", "Nouveau message"), 1);
    // B's address is not confirmed: B is not written to
    let theirs = w.submitted(&w.b).await;
    let theirs = theirs["reference"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        count(&sink, "b@example.ch", &theirs),
        0,
        "no notice to an unconfirmed address"
    );
    // (the world's registrations were mailed too: the address confirmations)
    assert!(count(&sink, "b@example.ch", "") > 0);
}
