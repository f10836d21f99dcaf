//! Problems in the caller's language: titles, details and field messages in German, French,
//! Italian and English, negotiated as the catalogue is; codes and pointers the same in all.

use crate::common::world::{valid_data, World};
use reqwest::Method;
use serde_json::{json, Value};

async fn submit_as(w: &World, lang: Option<&str>, data: Value) -> (String, Value) {
    let mut req = w
        .app
        .client
        .request(Method::POST, w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .json(&json!({"service": "wohnsitzbestaetigung", "data": data, "submit": true}));
    if let Some(l) = lang {
        req = req.header("Accept-Language", l);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let content_language = res.headers()["content-language"].to_str().unwrap().to_string();
    (content_language, res.json().await.unwrap())
}

/// (pointer, code) of each field error.
fn fields(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().into(),
                e["code"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn detail_at<'p>(p: &'p Value, pointer: &str) -> &'p str {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["pointer"] == pointer)
        .and_then(|e| e["detail"].as_str())
        .unwrap()
}

#[tokio::test]
async fn problems_speak_the_callers_language() {
    let w = World::new().await;
    let mut data = valid_data();
    data.as_object_mut().unwrap().remove("last_name");
    data["ahv_number"] = json!("756.1234.5678.90"); // the right shape, a wrong check digit
    data["email"] = json!("not-an-address");

    let mut seen = Vec::new();
    for (header, lang, title, required) in [
        (
            "de-CH, de;q=0.9",
            "de",
            "Die übermittelten Angaben sind ungültig",
            "dieses Feld ist obligatorisch",
        ),
        (
            "fr-CH",
            "fr",
            "Les données envoyées sont invalides",
            "ce champ est obligatoire",
        ),
        (
            "it",
            "it",
            "I dati inviati non sono validi",
            "questo campo è obbligatorio",
        ),
        (
            "en-GB, de;q=0.5",
            "en",
            "The submitted data is invalid",
            "this field is required",
        ),
    ] {
        let (content_language, p) = submit_as(&w, Some(header), data.clone()).await;
        assert_eq!(content_language, lang);
        assert_eq!(p["type"], "/problems/validation-failed");
        assert_eq!(p["title"], title, "{p}");
        assert_eq!(detail_at(&p, "/data/last_name"), required, "{p}");
        // one error for the AHV number, about its check digit, never echoing the number
        let ahv: Vec<_> = fields(&p)
            .into_iter()
            .filter(|(at, _)| at == "/data/ahv_number")
            .collect();
        assert_eq!(
            ahv,
            [("/data/ahv_number".to_string(), "check_digit".to_string())],
            "{p}"
        );
        assert!(!p.to_string().contains("5678.90"), "{p}");
        seen.push((
            fields(&p),
            p["detail"].clone(),
            detail_at(&p, "/data/email").to_string(),
        ));
    }
    // the same codes and pointers in every language, with different words
    assert!(seen.iter().all(|(f, _, _)| *f == seen[0].0));
    for i in 0..seen.len() {
        for j in i + 1..seen.len() {
            assert_ne!(seen[i].1, seen[j].1, "details differ by language");
            assert_ne!(seen[i].2, seen[j].2, "field messages differ by language");
        }
    }

    // no Accept-Language: German, as the catalogue
    let (content_language, p) = submit_as(&w, None, data.clone()).await;
    assert_eq!(content_language, "de");
    assert_eq!(p["title"], "Die übermittelten Angaben sind ungültig");

    // a number of the wrong shape: one format error, not a pattern error beside it
    data["ahv_number"] = json!("756.123");
    let (_, p) = submit_as(&w, Some("en"), data).await;
    let ahv: Vec<_> = fields(&p)
        .into_iter()
        .filter(|(at, _)| at == "/data/ahv_number")
        .collect();
    assert_eq!(ahv, [("/data/ahv_number".to_string(), "format".to_string())], "{p}");
    assert!(detail_at(&p, "/data/ahv_number").contains("756.1234.5678.97"), "{p}");

    // other problems too, and the pages that explain them
    let res = w
        .app
        .client
        .get(w.app.url("/v1/applications/not-an-id"))
        .bearer_auth(&w.a)
        .header("Accept-Language", "it")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["title"], "Non trovato");
    assert_eq!(p["detail"], "Nulla ha questo identificativo.");
    for (lang, title) in [
        ("fr", "L'Idempotency-Key a servi pour une autre requête"),
        ("en", "The Idempotency-Key was used for another request"),
    ] {
        let page = w
            .app
            .get_json(&format!("/problems/idempotency-key-reused?lang={lang}"))
            .await;
        assert_eq!(page["title"], title);
        assert_eq!(page["status"], 422);
    }
    let all = w.app.get_json("/problems?lang=it").await;
    assert!(
        all.as_array().unwrap().iter().any(|p| p["title"] == "Troppe richieste"),
        "{all}"
    );
}

/// A person chooses the language they are written to in and whether they want the mails that
/// are not essential; an application keeps the language it was made in (`Accept-Language`,
/// else the account's).
#[tokio::test]
async fn a_person_s_language_and_mail_choice_and_the_language_of_an_application() {
    /// A draft A makes without naming a language.
    async fn draft_of(w: &World) -> Value {
        let body = json!({"service": "wohnsitzbestaetigung"});
        let res = w.call(Method::POST, "/v1/applications", Some(&w.a), Some(body)).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }
    let w = World::new().await;
    let res = w.call(Method::GET, "/v1/me", Some(&w.a), None).await;
    let tag = crate::common::world::etag(&res);
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (me["language"].as_str(), me["notifications"]["optional"].as_bool()),
        (Some("de"), Some(true))
    );
    let made = draft_of(&w).await;
    assert_eq!(made["language"], "de");

    // bad choices: a 422 at the field, in the caller's language, and nothing changes
    for (body, pointer) in [
        (json!({"language": "es"}), "/language"),
        (json!({"language": "fr-CH"}), "/language"),
        (json!({"notifications": {"optional": "no"}}), ""),
        (json!({"notifications": {"optional": false, "sms": true}}), ""),
    ] {
        let res = w
            .send(Method::PATCH, "/v1/me", Some(&w.a), Some(body.clone()), Some(&tag))
            .await;
        assert!(matches!(res.status().as_u16(), 400 | 422), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        if !pointer.is_empty() {
            let p: Value = res.json().await.unwrap();
            assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
        }
    }
    let me = w.get_json("/v1/me", &w.a).await;
    assert_eq!(me["language"], "de");

    let body = json!({"language": "fr", "notifications": {"optional": false}});
    let res = w
        .send(Method::PATCH, "/v1/me", Some(&w.a), Some(body), Some(&tag))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (me["language"].as_str(), me["notifications"]["optional"].as_bool()),
        (Some("fr"), Some(false))
    );

    // a new application takes the account's language, unless the request names one
    let made = draft_of(&w).await;
    assert_eq!(made["language"], "fr");
    let res = w
        .app
        .client
        .post(w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .header("Accept-Language", "it-CH, it;q=0.9")
        .json(&json!({"service": "wohnsitzbestaetigung"}))
        .send()
        .await
        .unwrap();
    let made: Value = res.json().await.unwrap();
    assert_eq!(made["language"], "it");
    // a client has no profile to choose in
    let client = w.get_json("/v1/me", &w.partner).await;
    assert!(client["language"].is_null() && client["notifications"].is_null());
}
