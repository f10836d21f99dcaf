//! The published catalogue over HTTP: listing, filters, search, pagination, languages,
//! ETags, versions, forms and departments.

use crate::common::{assert_problem, eventually, TestApp, PUBLIC_URL};
use serde_json::Value;

fn slugs(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_seeded_catalogue_pages_through_every_service_once_in_name_order() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/services?limit=7").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-language"], "de");
    let link = res.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("<{PUBLIC_URL}/v1/services?limit=7&cursor=")),
        "{link}"
    );
    assert!(link.ends_with("rel=\"next\""));
    let mut page: Value = res.json().await.unwrap();
    let mut all = slugs(&page);
    let mut names: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().into())
        .collect();
    while let Some(cursor) = page["next_cursor"].as_str() {
        page = app.get_json(&format!("/v1/services?limit=7&cursor={cursor}")).await;
        assert!(page["data"].as_array().unwrap().len() <= 7);
        all.extend(slugs(&page));
        names.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(all.len(), 30);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 30, "no service twice across pages");
    let keys: Vec<String> = names.iter().map(|n| guichet::domain::search::normalize(n)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "name order");

    // the last page has no Link header and a null cursor
    let last = app.get("/v1/services?limit=100").await;
    assert!(last.headers().get("link").is_none());
    let body: Value = last.json().await.unwrap();
    assert!(body["next_cursor"].is_null());
    assert_eq!(body["data"].as_array().unwrap().len(), 30);
}

#[tokio::test]
async fn a_service_shows_who_is_responsible_what_it_costs_and_how_to_apply() {
    let app = TestApp::spawn().await;
    let s = app.get_json("/v1/services/hund-anmelden").await;
    assert_eq!(s["slug"], "hund-anmelden");
    assert_eq!(s["version"], 1);
    assert_eq!(s["status"], "active");
    assert_eq!(s["fee"]["amount"], 10000);
    assert_eq!(s["fee"]["currency"], "CHF");
    assert_eq!(s["fee"]["basis"], "per_year");
    assert!(s["department"]["name"].as_str().is_some());
    assert!(s["department"]["href"].as_str().unwrap().starts_with(PUBLIC_URL));
    assert_eq!(
        s["form"]["schema_url"],
        format!("{PUBLIC_URL}/v1/services/hund-anmelden/form")
    );
    assert_eq!(s["channel"], "guichet");
    assert_eq!(s["accepts_applications"], true);
    assert!(s["documents_required"].is_array());
    assert_eq!(s["version_state"], "published");

    // by id too
    let id = s["id"].as_str().unwrap();
    let by_id = app.get_json(&format!("/v1/services/{id}")).await;
    assert_eq!(by_id["slug"], "hund-anmelden");

    // external services name their portal and take no applications here
    let ext = app.get_json("/v1/services/zuzug-anmelden").await;
    assert_eq!(ext["channel"], "external");
    assert!(ext["external_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(ext["accepts_applications"], false);
}

#[tokio::test]
async fn unknown_services_and_departments_are_problem_404s() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/services/no-such-service",
        "/v1/services/01a222ca-37d4-709e-90b0-e0c825ade16b",
        "/v1/services/no-such-service/form",
        "/v1/services/no-such-service/versions",
        "/v1/services/hund-anmelden/versions/9",
        "/v1/services/hund-anmelden/versions/9/form",
        "/v1/departments/no-such-department",
        &format!("/v1/services/{}", "x".repeat(300)),
    ] {
        let body = assert_problem(app.get(path).await, 404, "not-found").await;
        assert_eq!(body["instance"], path.split('?').next().unwrap());
    }
    assert_problem(
        app.get("/v1/services/hund-anmelden/versions/abc").await,
        400,
        "invalid-parameter",
    )
    .await;
}

#[tokio::test]
async fn languages_are_negotiated_with_german_fallback_and_per_language_etags() {
    let app = TestApp::spawn().await;
    let de = app.get("/v1/services/wohnsitzbestaetigung").await;
    let de_etag = de.headers()["etag"].to_str().unwrap().to_string();
    assert!(de.headers()["vary"].to_str().unwrap().contains("Accept-Language"));
    assert_eq!(de.headers()["content-language"], "de");

    let fr = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("Accept-Language", "fr-CH, fr;q=0.9, de;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(fr.headers()["content-language"], "fr");
    let fr_etag = fr.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(de_etag, fr_etag, "ETag per language");
    let fr_body: Value = fr.json().await.unwrap();
    assert!(
        fr_body["name"].as_str().unwrap().contains("domicile"),
        "{}",
        fr_body["name"]
    );

    // ?lang= wins over the header; lang=all gives every translation
    let it = app.get_json("/v1/services/wohnsitzbestaetigung?lang=it").await;
    assert!(it["name"].is_string());
    let all = app.get_json("/v1/services/wohnsitzbestaetigung?lang=all").await;
    assert!(all["name"]["de"].as_str().unwrap().contains("Wohnsitzbestätigung"));
    assert!(all["name"]["fr"].is_string() && all["name"]["it"].is_string() && all["name"]["en"].is_string());

    // unknown language in the header: German; invalid ?lang: a 400
    let ja = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("Accept-Language", "ja")
        .send()
        .await
        .unwrap();
    assert_eq!(ja.headers()["content-language"], "de");
    let body = assert_problem(
        app.get("/v1/services/wohnsitzbestaetigung?lang=xx").await,
        400,
        "invalid-parameter",
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "lang");

    // If-None-Match: 304 with the same ETag, 200 with a stale one
    let res = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("If-None-Match", &de_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), de_etag);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // the French ETag does not validate the German representation
    let res = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung"))
        .header("If-None-Match", &fr_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn search_is_case_and_accent_insensitive_with_name_matches_first() {
    let app = TestApp::spawn().await;
    let page = app.get_json("/v1/services?q=bestatigung").await;
    assert_eq!(slugs(&page)[0], "wohnsitzbestaetigung");
    let page = app.get_json("/v1/services?q=BESTÄTIGUNG").await;
    assert_eq!(slugs(&page)[0], "wohnsitzbestaetigung");

    let fr = app
        .client
        .get(app.url("/v1/services?q=demenagement"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    let fr: Value = fr.json().await.unwrap();
    let names: Vec<&str> = fr["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.contains("déménagement")), "{names:?}");

    // every hit contains the word; name hits come before summary/keyword hits
    let page = app.get_json("/v1/services?q=hund&lang=all").await;
    let hits = page["data"].as_array().unwrap();
    assert!(!hits.is_empty());
    let in_name: Vec<bool> = hits
        .iter()
        .map(|s| guichet::domain::search::normalize(s["name"]["de"].as_str().unwrap()).contains("hund"))
        .collect();
    let first_text_hit = in_name.iter().position(|b| !b).unwrap_or(in_name.len());
    assert!(
        in_name[first_text_hit..].iter().all(|b| !b),
        "name matches first: {in_name:?}"
    );

    let none = app.get_json("/v1/services?q=zzzzqqq").await;
    assert_eq!(none["data"].as_array().unwrap().len(), 0);
    assert!(none["next_cursor"].is_null());
    assert_problem(
        app.get(&format!("/v1/services?q={}", "a".repeat(201))).await,
        400,
        "invalid-parameter",
    )
    .await;
}

#[tokio::test]
async fn filters_narrow_the_listing_and_unknown_values_are_rejected() {
    let app = TestApp::spawn().await;
    let page = app.get_json("/v1/services?department=einwohnerdienste&limit=100").await;
    let data = page["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(data.iter().all(|s| s["department"]["slug"] == "einwohnerdienste"));

    let ext = app.get_json("/v1/services?channel=external&limit=100").await;
    let ext = ext["data"].as_array().unwrap();
    assert!(!ext.is_empty());
    assert!(ext
        .iter()
        .all(|s| s["channel"] == "external" && s["external_url"].is_string()));

    let biz = app.get_json("/v1/services?audience=business&limit=100").await;
    assert!(biz["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["audience"].as_array().unwrap().contains(&Value::from("business"))));

    let cat = app.get_json("/v1/services?category=residence&limit=100").await;
    assert!(cat["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["category"]["slug"] == "residence"));

    let retired = app.get_json("/v1/services?status=retired").await;
    assert_eq!(retired["data"].as_array().unwrap().len(), 0);

    for (q, kind) in [
        ("department=nope", "invalid-parameter"),
        ("category=nope", "invalid-parameter"),
        ("audience=alien", "invalid-parameter"),
        ("channel=fax", "invalid-parameter"),
        ("status=draft", "invalid-parameter"),
        ("limit=0", "invalid-parameter"),
        ("limit=101", "invalid-parameter"),
        ("limit=ten", "invalid-parameter"),
        ("sort=name", "unknown-parameter"),
        ("cursor=%%%", "invalid-cursor"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid-cursor"),
    ] {
        let body = assert_problem(app.get(&format!("/v1/services?{q}")).await, 400, kind).await;
        assert!(body["errors"][0]["pointer"].is_string(), "{body}");
    }
    // a departments cursor is not a services cursor
    let deps = app.get_json("/v1/departments?limit=1").await;
    let c = deps["next_cursor"].as_str().unwrap();
    assert_problem(
        app.get(&format!("/v1/services?cursor={c}")).await,
        400,
        "invalid-cursor",
    )
    .await;
}

#[tokio::test]
async fn forms_are_json_schema_2020_12_with_localised_titles() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/v1/services/hund-anmelden/form"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/schema+json");
    assert_eq!(res.headers()["content-language"], "fr");
    let schema: Value = res.json().await.unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["type"], "object");
    // the titles of the one language asked for; every translation only with lang=all
    let all_languages = app.get_json("/v1/services/hund-anmelden/form?lang=all").await;
    let props = all_languages["properties"].as_object().unwrap();
    let (name, p) = props.iter().find(|(_, p)| p["x-title"]["fr"].is_string()).unwrap();
    assert_eq!(schema["properties"][name]["title"], p["x-title"]["fr"]);
    assert!(!schema.to_string().contains("\"x-title\""), "{schema}");
    // every custom format carries a pattern, everywhere in the catalogue
    let all = app.get_json("/v1/services?limit=100").await;
    for s in all["data"].as_array().unwrap() {
        let form = app
            .get_json(&format!("/v1/services/{}/form", s["slug"].as_str().unwrap()))
            .await;
        assert!(guichet::domain::forms::compile(&form).is_ok());
        let text = form.to_string();
        for f in guichet::domain::forms::CUSTOM_FORMATS {
            if text.contains(&format!("\"format\":\"{f}\"")) {
                assert!(text.contains("\"pattern\""), "{} uses {f} without pattern", s["slug"]);
            }
        }
    }
}

/// Every form of a service applied for through guichet renders right with a standard
/// renderer: every choice has its label in the asked language (no raw code, no enum without
/// labels), yes/no too; no `x-` keyword in a one-language form; every string has a
/// `maxLength` and every array a `maxItems`; nested objects keep the authored order, in the
/// schema and in the UI schema's `ui:order` at every level; a file field names the document
/// widget with the service's limits. On both backends (PostgreSQL's jsonb keeps no order).
#[tokio::test]
async fn forms_render_right_in_every_language() {
    let app = TestApp::spawn().await;
    let all = app.get_json("/v1/services?limit=100&channel=guichet").await;
    let slugs: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_string())
        .collect();
    assert!(slugs.len() >= 10, "{slugs:?}");
    fn walk(v: &Value, at: &str, f: &mut dyn FnMut(&str, &serde_json::Map<String, Value>)) {
        if let Value::Object(m) = v {
            f(at, m);
            for (k, c) in m {
                if matches!(k.as_str(), "const" | "default" | "examples") {
                    continue;
                }
                if matches!(k.as_str(), "properties" | "$defs") {
                    for (n, s) in c.as_object().unwrap() {
                        walk(s, &format!("{at}/{k}/{n}"), f);
                    }
                } else {
                    walk(c, &format!("{at}/{k}"), f);
                }
            }
        } else if let Value::Array(a) = v {
            for (i, c) in a.iter().enumerate() {
                walk(c, &format!("{at}/{i}"), f);
            }
        }
    }
    let (mut choices, mut booleans) = (0, 0);
    for lang in ["de", "fr"] {
        let yes = if lang == "de" { "Ja" } else { "Oui" };
        for slug in &slugs {
            let form = app.get_json(&format!("/v1/services/{slug}/form?lang={lang}")).await;
            assert_eq!(form["$schema"], "https://json-schema.org/draft/2020-12/schema");
            let mut problems = Vec::new();
            walk(&form, "", &mut |at, m| {
                for k in m.keys().filter(|k| k.starts_with("x-")) {
                    problems.push(format!("{at}: keyword {k}"));
                }
                if m.contains_key("enum") {
                    problems.push(format!("{at}: choices without labels"));
                }
                let is = |t: &str| {
                    m.get("type")
                        .is_some_and(|x| x == t || x.as_array().is_some_and(|a| a.iter().any(|y| y == t)))
                };
                if is("string") && !m.contains_key("maxLength") {
                    problems.push(format!("{at}: a string without maxLength"));
                }
                if is("array") && !m.contains_key("maxItems") {
                    problems.push(format!("{at}: an array without maxItems"));
                }
                if let Some(Value::Array(one_of)) = m.get("oneOf") {
                    if one_of.iter().all(|o| o.get("const").is_some()) {
                        choices += 1;
                        for o in one_of {
                            let title = o["title"].as_str().unwrap_or("");
                            if title.is_empty() || o["const"].as_str() == Some(title) {
                                problems.push(format!("{at}: the choice {} has no label", o["const"]));
                            }
                        }
                        if is("boolean") {
                            booleans += 1;
                            if one_of[0]["title"] != yes {
                                problems.push(format!("{at}: yes is {} in {lang}", one_of[0]["title"]));
                            }
                        }
                    }
                }
            });
            assert!(problems.is_empty(), "{slug} ({lang}): {problems:#?}");
        }
    }
    assert!(
        choices >= 60 && booleans >= 18,
        "{choices} choice lists, {booleans} yes/no"
    );

    // the parking permit: the address in its authored order, the zone labelled, the file field
    let form = app.get_json("/v1/services/anwohnerparkkarte/form?lang=fr").await;
    let address: Vec<&String> = form["$defs"]["address"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(address, ["street", "house_number", "postal_code", "city", "country"]);
    let top: Vec<&String> = form["properties"].as_object().unwrap().keys().collect();
    assert_eq!(top[..3], ["applicant_type", "last_name", "first_name"]);
    let zone = &form["properties"]["zone"]["oneOf"];
    assert_eq!(zone[0]["const"], "seefeld_bahnhof_SB");
    assert!(zone[0]["title"].as_str().unwrap().contains("Seefeld"), "{zone}");
    let service = app.get_json("/v1/services/anwohnerparkkarte").await;
    let ui = &service["form"]["ui_schema"];
    let order = |v: &Value| -> Vec<String> {
        v["ui:order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        order(&ui["address"]),
        ["street", "house_number", "postal_code", "city", "country"]
    );
    assert_eq!(order(ui)[..3], ["applicant_type", "last_name", "first_name"]);
    let file = &ui["vehicle_registration"];
    assert_eq!(file["ui:widget"], "document", "{ui}");
    assert_eq!(file["ui:options"]["accept"], "application/pdf,image/png,image/jpeg");
    assert!(file["ui:options"]["maxBytes"].as_u64().unwrap() > 1_000_000);
}

#[tokio::test]
async fn departments_list_their_contacts_and_services() {
    let app = TestApp::spawn().await;
    let page = app.get_json("/v1/departments?limit=100").await;
    let deps = page["data"].as_array().unwrap();
    assert_eq!(deps.len(), 12);
    let total: u64 = deps.iter().map(|d| d["service_count"].as_u64().unwrap()).sum();
    assert_eq!(total, 30);
    let d = app.get_json("/v1/departments/einwohnerdienste").await;
    assert_eq!(d["slug"], "einwohnerdienste");
    assert!(d["address"].is_string());
    assert!(d["contact_verified"]["address"].is_boolean());
    let services = d["services"].as_array().unwrap();
    assert_eq!(services.len() as u64, d["service_count"].as_u64().unwrap());
    let by_id = app
        .get_json(&format!("/v1/departments/{}", d["id"].as_str().unwrap()))
        .await;
    assert_eq!(by_id["slug"], "einwohnerdienste");
    // paging departments
    let first = app.get_json("/v1/departments?limit=5").await;
    let c = first["next_cursor"].as_str().unwrap();
    let second = app.get_json(&format!("/v1/departments?limit=5&cursor={c}")).await;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
    assert_problem(app.get("/v1/departments?limit=500").await, 400, "invalid-parameter").await;
}

fn changed_seed(f: impl FnOnce(&mut Value)) -> String {
    let mut file: Value = serde_json::from_str(guichet::catalogue::import::THUN_SEED).unwrap();
    f(&mut file);
    file.to_string()
}

#[tokio::test]
async fn a_changed_form_becomes_a_new_version_and_every_instance_sees_it_within_the_bound() {
    let app = TestApp::spawn().await;
    let before = app.get_json("/v1/services/hund-anmelden").await;
    let old_form = app.get_json("/v1/services/hund-anmelden/form?lang=all").await;

    // import the same file again: nothing changes
    let report =
        app.with_conn(|c| guichet::catalogue::import::import_str(c, guichet::catalogue::import::THUN_SEED).unwrap());
    assert_eq!(report.services_unchanged, 30);
    assert!(!report.changed());

    let json = changed_seed(|f| {
        let s = f["services"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["slug"] == "hund-anmelden")
            .unwrap();
        s["form"]["schema"]["properties"]["chip_note"] =
            serde_json::json!({"type": "string", "maxLength": 100, "title": "Bemerkung"});
    });
    let report = app.with_conn(|c| guichet::catalogue::import::import_str(c, &json).unwrap());
    assert_eq!(report.services_new_version, 1);
    assert_eq!(report.services_unchanged, 29);

    // the snapshot follows within the refresh interval
    assert!(eventually(|| async { app.get_json("/v1/services/hund-anmelden").await["version"] == 2 }).await);
    let now = app.get("/v1/services/hund-anmelden").await;
    assert_ne!(now.headers()["etag"].to_str().unwrap(), "");
    let versions = app.get_json("/v1/services/hund-anmelden/versions").await;
    let vs = versions["data"].as_array().unwrap();
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["version"], 2);
    assert_eq!(vs[0]["state"], "published");
    assert_eq!(vs[1]["state"], "superseded");
    assert!(vs[1]["superseded_at"].is_string());

    // the superseded version and its form stay readable and unchanged
    let v1 = app.get_json("/v1/services/hund-anmelden/versions/1").await;
    assert_eq!(v1["version_state"], "superseded");
    assert_eq!(v1["name"], before["name"]);
    assert_eq!(v1["accepts_applications"], false);
    let v1_form = app
        .get_json("/v1/services/hund-anmelden/versions/1/form?lang=all")
        .await;
    assert_eq!(v1_form, old_form);
    let v2_form = app.get_json("/v1/services/hund-anmelden/form").await;
    assert!(v2_form["properties"]["chip_note"].is_object());

    // in the database: two versions, one published
    use diesel::prelude::*;
    use guichet::db::schema::service_versions::dsl as v;
    let states: Vec<String> = app.with_conn(|c| {
        v::service_versions
            .select(v::state)
            .order(v::version)
            .filter(v::version.gt(0))
            .load(c)
            .unwrap()
    });
    assert_eq!(states.iter().filter(|s| *s == "published").count(), 30);
    assert_eq!(states.iter().filter(|s| *s == "superseded").count(), 1);
}

#[tokio::test]
async fn a_retired_service_stays_readable_but_is_not_listed() {
    let app = TestApp::spawn().await;
    let json = changed_seed(|f| {
        let s = f["services"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["slug"] == "taxi-bewilligung")
            .unwrap();
        s["retired"] = Value::Bool(true);
    });
    let report = app.with_conn(|c| guichet::catalogue::import::import_str(c, &json).unwrap());
    assert_eq!(report.services_retired, 1);
    assert!(eventually(|| async { app.get_json("/v1/services/taxi-bewilligung").await["status"] == "retired" }).await);
    let s = app.get_json("/v1/services/taxi-bewilligung").await;
    assert_eq!(s["accepts_applications"], false);
    assert!(s["retired_at"].is_string());
    let listed = slugs(&app.get_json("/v1/services?limit=100").await);
    assert!(!listed.contains(&"taxi-bewilligung".to_string()));
    assert_eq!(listed.len(), 29);
    let retired = slugs(&app.get_json("/v1/services?status=retired").await);
    assert_eq!(retired, vec!["taxi-bewilligung"]);
}

#[tokio::test]
async fn a_missing_translation_falls_back_to_german_and_says_so() {
    let app = TestApp::spawn().await;
    let json = changed_seed(|f| {
        let s = f["services"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["slug"] == "hund-anmelden")
            .unwrap();
        s["name"].as_object_mut().unwrap().remove("it");
    });
    app.with_conn(|c| guichet::catalogue::import::import_str(c, &json).unwrap());
    assert!(eventually(|| async { app.get_json("/v1/services/hund-anmelden").await["version"] == 2 }).await);
    let res = app.get("/v1/services/hund-anmelden?lang=it").await;
    assert_eq!(res.headers()["content-language"], "de");
    let body: Value = res.json().await.unwrap();
    let de = app.get_json("/v1/services/hund-anmelden?lang=de").await;
    assert_eq!(body["name"], de["name"]);
}
