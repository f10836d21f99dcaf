//! The bank's notifications of incoming payments (camt.054, written after the Swiss Payment
//! Standards' examples) imported and matched to bills: full, partial and over-payments, an
//! unknown reference, the same file twice, a malformed file, two imports at once, and the
//! parking card from submission to approval.
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::world::{client_token, password_token, valid_data, World, PW};
use crate::common::{assert_problem, TestApp};

/// A camt.054 document (`04` or `08`): one booked credit entry per (bank reference, Rappen,
/// payment reference).
fn camt(version: &str, credits: &[(&str, i64, Option<&str>)]) -> String {
    let (status, payer) = if version == "04" {
        ("<Sts>BOOK</Sts>", "<Dbtr><Nm>Anna Muster</Nm></Dbtr>")
    } else {
        (
            "<Sts><Cd>BOOK</Cd></Sts>",
            "<Dbtr><Pty><Nm>Anna Muster</Nm></Pty></Dbtr>",
        )
    };
    let mut entries = String::new();
    for (bank_ref, rappen, reference) in credits {
        let amount = format!("{}.{:02}", rappen / 100, rappen % 100);
        let rmt = reference
            .map(|r| {
                let kind = if r.starts_with("RF") {
                    "<Cd>SCOR</Cd>"
                } else {
                    "<Prtry>QRR</Prtry>"
                };
                format!("<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry>{kind}</CdOrPrtry></Tp><Ref>{r}</Ref></CdtrRefInf></Strd></RmtInf>")
            })
            .unwrap_or_default();
        entries.push_str(&format!(
            "<Ntry><Amt Ccy=\"CHF\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>{status}\
             <BookgDt><Dt>2026-12-04</Dt></BookgDt><ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>{bank_ref}</AcctSvcrRef>\
             <NtryDtls><TxDtls><Refs><AcctSvcrRef>{bank_ref}-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>\
             <Amt Ccy=\"CHF\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>{payer}</RltdPties>{rmt}</TxDtls></NtryDtls></Ntry>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}\">\n\
         <BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>CAMT054-TEST-{version}</MsgId><CreDtTm>2026-12-04T21:15:03</CreDtTm></GrpHdr>\n\
         <Ntfctn><Id>NTF-1</Id><CreDtTm>2026-12-04T21:15:03</CreDtTm><Acct><Id><IBAN>CH4431999123000889012</IBAN></Id></Acct>\n\
         {entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n"
    )
}

async fn import(app: &TestApp, token: &str, xml: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/payments/bank-notifications"))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml.to_string())
        .send()
        .await
        .unwrap()
}

/// A residence confirmation of `copies` copies (CHF 20 each), submitted by A: (id, reference).
async fn billed(w: &World, copies: i64) -> (String, String) {
    let mut data = valid_data();
    data["copies"] = json!(copies);
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung", "data": data, "submit": true})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    (
        app["id"].as_str().unwrap().to_string(),
        app["payment"]["reference"].as_str().unwrap().to_string(),
    )
}

async fn payment_of(w: &World, id: &str) -> Value {
    w.get_json(&format!("/v1/applications/{id}"), &w.a).await["payment"].clone()
}

#[tokio::test]
async fn a_notification_pays_bills_fully_partly_and_over_and_records_each_credit_once() {
    let w = World::new().await;
    let finance = client_token(&w.app, "payments:read payments:write", None).await;
    let (full, r1) = billed(&w, 1).await;
    let (part, r2) = billed(&w, 2).await;
    let (over, r3) = billed(&w, 3).await;
    // someone else's valid QR reference, and a payment without one
    let foreign = "210000000003139471430009017";
    let xml = camt(
        "08",
        &[
            ("B1", 2000, Some(&r1)),
            ("B2", 1000, Some(&r2)),
            ("B3", 7000, Some(&r3)),
            ("B4", 5000, Some(foreign)),
            ("B5", 900, None),
        ],
    );
    // a resident may not import
    assert_problem(import(&w.app, &w.a, &xml).await, 403, "forbidden").await;

    let res = import(&w.app, &finance, &xml).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (
            &report["credits"],
            &report["recorded"],
            &report["matched"],
            &report["already_recorded"]
        ),
        (&json!(5), &json!(5), &json!(3), &json!(0)),
        "{report}"
    );
    let reasons: Vec<&str> = report["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["unknown_reference", "no_reference"]);
    let states = [
        payment_of(&w, &full).await,
        payment_of(&w, &part).await,
        payment_of(&w, &over).await,
    ];
    let seen: Vec<(&str, i64)> = states
        .iter()
        .map(|p| (p["status"].as_str().unwrap(), p["paid_amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(seen, [("paid", 2000), ("partially_paid", 1000), ("paid", 7000)]);
    let invoice = w.get_json(&format!("/v1/applications/{part}/invoice"), &w.a).await;
    let rest: Vec<&str> = invoice["qr_payload"].as_str().unwrap().split("\r\n").collect();
    assert_eq!(rest[18], "30.00", "the bill asks for what is left");
    // partners learn of each payment
    let types: Vec<String> = w.events_in_feed(&full).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(types.last().map(String::as_str), Some("application.payment_received"));

    // the same file again records nothing twice
    let again: Value = import(&w.app, &finance, &xml).await.json().await.unwrap();
    assert_eq!(
        (&again["recorded"], &again["already_recorded"], &again["matched"]),
        (&json!(0), &json!(5), &json!(0))
    );
    assert_eq!(payment_of(&w, &part).await["paid_amount"], 1000);
    // a payment for a bill already paid is for finance to return
    let late: Value = import(&w.app, &finance, &camt("04", &[("B6", 2000, Some(&r1))]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["unmatched"][0]["reason"], "settled");
    assert_eq!(payment_of(&w, &full).await["paid_amount"], 2000);
    let unmatched = w.get_json("/v1/payments/unmatched?limit=2", &finance).await;
    assert_eq!(unmatched["data"].as_array().unwrap().len(), 2);
    let next = unmatched["next_cursor"].as_str().unwrap();
    let rest = w
        .get_json(&format!("/v1/payments/unmatched?limit=2&cursor={next}"), &finance)
        .await;
    assert_eq!(rest["data"][0]["bank_reference"], "B6-1");
    assert_problem(
        w.call(Method::GET, "/v1/payments/unmatched", Some(&w.clerk), None)
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_or_foreign_notification_records_nothing() {
    let w = World::new().await;
    let finance = client_token(&w.app, "payments:read payments:write", None).await;
    let (id, reference) = billed(&w, 1).await;
    let good = camt("04", &[("C1", 2000, Some(&reference))]);
    // one credit of two with an amount that is none: the whole file is refused
    let bad = camt("04", &[("C1", 2000, Some(&reference)), ("C2", 100, None)]).replace(">1.00<", ">1,00<");
    let p = assert_problem(import(&w.app, &finance, &bad).await, 422, "validation-failed").await;
    assert_eq!(
        p["errors"][0]["pointer"], "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[2]/Amt",
        "{p}"
    );
    for (doc, what) in [
        (good[..good.len() / 2].to_string(), "truncated"),
        (good.replace("camt.054.001.04", "camt.053.001.08"), "camt.053"),
        (
            format!(
                "<!DOCTYPE d [<!ENTITY x \"y\">]>{}",
                &good[good.find("<Document").unwrap()..]
            ),
            "a DTD",
        ),
    ] {
        let res = import(&w.app, &finance, &doc).await;
        assert_eq!(res.status(), 422, "{what}");
    }
    let res = w
        .app
        .client
        .post(w.app.url("/v1/payments/bank-notifications"))
        .bearer_auth(&finance)
        .json(&json!({"camt": "no"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    assert_eq!(payment_of(&w, &id).await["status"], "due");
    let unmatched = w.get_json("/v1/payments/unmatched", &finance).await;
    assert_eq!(unmatched["data"], json!([]));
}

/// Two imports of one file at once, on two instances: each credit is recorded once.
#[tokio::test]
async fn two_imports_of_one_file_at_once_record_each_payment_once() {
    let w = World::new().await;
    let other = TestApp::spawn_on(w.app.db.share(), &[]).await;
    let finance = client_token(&w.app, "payments:read payments:write", None).await;
    let mut credits = Vec::new();
    for i in 0..5 {
        let (_, r) = billed(&w, 1).await;
        credits.push((format!("P{i}"), r));
    }
    let list: Vec<(&str, i64, Option<&str>)> = credits
        .iter()
        .map(|(b, r)| (b.as_str(), 2000, Some(r.as_str())))
        .collect();
    let xml = camt("08", &list);
    let (a, b) = tokio::join!(import(&w.app, &finance, &xml), import(&other, &finance, &xml));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    let recorded = a["recorded"].as_i64().unwrap() + b["recorded"].as_i64().unwrap();
    let repeated = a["already_recorded"].as_i64().unwrap() + b["already_recorded"].as_i64().unwrap();
    assert_eq!((recorded, repeated), (5, 5), "{a} {b}");
    let paid: i64 = w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::invoices as i;
        let each: Vec<i64> = i::table.select(i::paid_amount).load(c).unwrap();
        each.iter().sum()
    });
    assert_eq!(paid, 5 * 2000);
}

/// The craftsmen's parking card: submitted and billed, its approval waits; the bank's file,
/// imported with the command line, pays it; then it is approved.
#[tokio::test]
async fn a_parking_card_from_submission_through_payment_to_approval() {
    let w = World::new().await;
    w.app.with_conn(|c| {
        guichet::admin::create_user(
            c,
            "polizei@thun.ch",
            "clerk",
            Some("polizeiinspektorat"),
            Some(PW.into()),
        )
        .unwrap()
    });
    let clerk = password_token(&w.app, "polizei@thun.ch").await;
    let data = json!({"company_name": "Muster Sanitär AG", "contact_person": "Hans Muster", "email": "info@muster.example",
        "phone": "033 123 45 67", "license_plate": "BE 123456", "vehicle_has_workshop": true, "permit_type": "full_day",
        "date": "2027-01-15", "work_location": "Bälliz 12, Thun"});
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.partner),
            Some(json!({"service": "handwerkerparkkarte", "data": data, "submit": true})),
        )
        .await;
    let app: Value = res.json().await.unwrap();
    let id = app["id"].as_str().unwrap().to_string();
    let reference = app["payment"]["reference"].as_str().unwrap().to_string();
    w.moved(&id, &clerk, json!({"to": "in_review"})).await;
    let path = format!("/v1/applications/{id}/transitions");
    let res = w
        .act(Method::POST, &path, Some(&clerk), Some(json!({"to": "approved"})))
        .await;
    assert_problem(res, 409, "conflict").await;

    // the bank's file, as the operator imports it
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("camt054.xml");
    std::fs::write(&file, camt("04", &[("PK1", 2000, Some(&reference))])).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &w.app.db.url)
        .env("GUICHET_LOG", "warn")
        .args(["payments", "import"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["matched"], 1, "{report}");
    let paid = w.get_json(&format!("/v1/applications/{id}"), &w.partner).await;
    assert_eq!(paid["payment"]["status"], "paid");
    let approved = w.moved(&id, &clerk, json!({"to": "approved"})).await;
    assert_eq!(approved["phase"], "approved");
}

/// Moves a bill's due day `days` into the past (the clock of an overdue bill).
fn due_days_ago(w: &World, application: &str, days: i64) {
    let id = uuid::Uuid::parse_str(application).unwrap();
    let day = (chrono::Utc::now() - chrono::Duration::days(days)).date_naive();
    let due = guichet::db::types::SqlTime(day.and_hms_opt(0, 0, 0).unwrap().and_utc());
    w.app.with_conn(|c| {
        use diesel::prelude::*;
        use guichet::db::schema::invoices as i;
        diesel::update(i::table.filter(i::application_id.eq(guichet::db::types::SqlUuid(id))))
            .set(i::due_on.eq(due))
            .execute(c)
            .unwrap()
    });
}

/// The rows of a CSV as Python's `csv` module reads them (an independent reader).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    use std::io::Write;
    let mut child = Command::new(crate::common::tools_python())
        .args([
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.reader(sys.stdin))))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A world with finance staff of every department and of the police inspectorate alone.
async fn finance_world() -> (World, String, String) {
    let w = World::new().await;
    let all = crate::common::staff_token(&w.app, "finanzen@thun.ch", "finance", None).await;
    let police = crate::common::staff_token(
        &w.app,
        "finanzen.polizei@thun.ch",
        "finance",
        Some("polizeiinspektorat"),
    )
    .await;
    (w, all, police)
}

#[tokio::test]
async fn finance_lists_open_and_overdue_bills_sums_a_period_and_exports_it() {
    let (w, finance, police_finance) = finance_world().await;
    let (paid, r1) = billed(&w, 1).await;
    let (late, _) = billed(&w, 2).await;
    let (open, _) = billed(&w, 3).await;
    due_days_ago(&w, &late, 3);
    let res = import(&w.app, &finance, &camt("08", &[("F1", 2000, Some(&r1))])).await;
    assert_eq!(res.status(), 200);

    // the open bills, earliest due first; the overdue one; the paid one by status
    let list = |token: String, query: &'static str| {
        let w = &w;
        async move { w.get_json(&format!("/v1/invoices{query}"), &token).await }
    };
    let page = list(finance.clone(), "").await;
    let apps: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["application"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(apps, [late.as_str(), open.as_str()], "{page}");
    let first = &page["data"][0];
    assert_eq!(
        (
            &first["status"],
            &first["amount"],
            &first["overdue"],
            &first["service"],
            &first["department"]
        ),
        (
            &json!("due"),
            &json!(4000),
            &json!(true),
            &json!("wohnsitzbestaetigung"),
            &json!("einwohnerdienste")
        )
    );
    assert_eq!(first["debtor"]["name"], "Anna Muster");
    assert!(first["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v1/applications/{late}/invoice")));
    let overdue = list(finance.clone(), "?overdue=true").await;
    assert_eq!(overdue["data"].as_array().unwrap().len(), 1);
    assert_eq!(overdue["data"][0]["application"]["id"], json!(late));
    let settled = list(finance.clone(), "?status=paid,waived").await;
    assert_eq!(settled["data"][0]["application"]["id"], json!(paid));
    assert_eq!(settled["data"].as_array().unwrap().len(), 1);
    // pages of one
    let one = list(finance.clone(), "?limit=1").await;
    let cursor = one["next_cursor"].as_str().unwrap().to_string();
    let next = w
        .get_json(&format!("/v1/invoices?limit=1&cursor={cursor}"), &finance)
        .await;
    assert_eq!(next["data"][0]["application"]["id"], json!(open));
    // finance of one department sees its bills only; without the scope: 403
    assert!(list(police_finance.clone(), "").await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(
        list(police_finance.clone(), "?department=einwohnerdienste").await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        list(finance.clone(), "?department=polizeiinspektorat").await["data"],
        json!([])
    );
    for token in [&w.clerk, &w.a] {
        let res = w.call(Method::GET, "/v1/invoices", Some(token), None).await;
        assert_problem(res, 403, "forbidden").await;
    }
    for bad in [
        "?status=late",
        "?overdue=yes",
        "?department=nowhere",
        "?cursor=nonsense",
        "?sort=due_on",
    ] {
        let res = w
            .call(Method::GET, &format!("/v1/invoices{bad}"), Some(&finance), None)
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }

    // the totals of this year so far
    let summary = w.get_json("/v1/invoices/summary", &finance).await;
    let expected = json!({"service": "wohnsitzbestaetigung", "currency": "CHF", "count": 3, "billed": 12000,
        "paid": 2000, "open": 10000, "waived": 0});
    assert_eq!(summary["services"], json!([expected]), "{summary}");
    assert_eq!(summary["totals"][0]["billed"], 12000);
    let empty = w
        .get_json("/v1/invoices/summary?from=2020-01-01&to=2020-12-31", &finance)
        .await;
    assert_eq!(empty["services"], json!([]));
    let police = w.get_json("/v1/invoices/summary", &police_finance).await;
    assert_eq!(police["totals"], json!([]));
    for bad in ["?from=2026-13-01", "?from=2026-12-05&to=2026-12-01", "?day=2026-12-01"] {
        let res = w
            .call(Method::GET, &format!("/v1/invoices/summary{bad}"), Some(&finance), None)
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }

    // the export for the accounting, read by Python's csv module
    let res = w.call(Method::GET, "/v1/invoices/export", Some(&finance), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = csv_rows(&res.text().await.unwrap());
    assert_eq!(rows[0][..3], ["invoice", "application", "application_reference"]);
    assert_eq!(rows.len(), 4);
    let by_app = |id: &str| rows.iter().find(|r| r[1] == id).unwrap().clone();
    let p = by_app(&paid);
    let (status, amount, paid_amount, open_amount, paid_on) = (&p[7], &p[9], &p[10], &p[11], &p[12]);
    assert_eq!(
        (
            status.as_str(),
            amount.as_str(),
            paid_amount.as_str(),
            open_amount.as_str()
        ),
        ("paid", "20.00", "20.00", "0.00")
    );
    assert_eq!(paid_on, &chrono::Utc::now().date_naive().to_string());
    assert_eq!(by_app(&open)[11], "60.00");
    let res = w.call(Method::GET, "/v1/invoices/export", Some(&w.clerk), None).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn finance_assigns_a_payment_that_matched_no_bill() {
    let (w, finance, police_finance) = finance_world().await;
    let reader = client_token(&w.app, "payments:read", None).await;
    let (id, _) = billed(&w, 1).await;
    let report: Value = import(&w.app, &finance, &camt("04", &[("U1", 2000, None), ("U2", 500, None)]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["unmatched"].as_array().unwrap().len(), 2, "{report}");
    let payment = report["unmatched"][0]["id"].as_str().unwrap().to_string();
    let other = report["unmatched"][1]["id"].as_str().unwrap().to_string();
    let invoice = w.get_json("/v1/invoices", &finance).await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/payments/{payment}/assignment");
    let assign = |token: String, path: String, body: Value| {
        let w = &w;
        async move { w.call(Method::POST, &path, Some(&token), Some(body)).await }
    };

    // who may not, and what is refused, changes nothing
    assert_problem(
        assign(reader.clone(), path.clone(), json!({"invoice": invoice})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        assign(w.clerk.clone(), path.clone(), json!({"invoice": invoice})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        assign(police_finance.clone(), path.clone(), json!({"invoice": invoice})).await,
        422,
        "validation-failed",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        assign(finance.clone(), path.clone(), json!({"invoice": unknown})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_problem(
        assign(
            finance.clone(),
            format!("/v1/payments/{unknown}/assignment"),
            json!({"invoice": invoice}),
        )
        .await,
        404,
        "not-found",
    )
    .await;
    assert_eq!(
        assign(finance.clone(), path.clone(), json!({"bill": invoice}))
            .await
            .status(),
        422
    );
    assert_eq!(payment_of(&w, &id).await["status"], "due");

    // finance assigns it: the bill is paid, partners learn it, the list of unmatched shrinks
    let res = assign(finance.clone(), path.clone(), json!({"invoice": invoice})).await;
    assert_eq!(res.status(), 200);
    let matched: Value = res.json().await.unwrap();
    assert_eq!(
        (&matched["status"], &matched["invoice"]),
        (&json!("matched"), &json!(invoice))
    );
    assert!(
        matched["assigned_by"].as_str().unwrap().starts_with("staff:"),
        "{matched}"
    );
    assert!(matched["assigned_at"].is_string());
    assert_eq!(payment_of(&w, &id).await["status"], "paid");
    let types: Vec<String> = w.events_in_feed(&id).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(types.last().map(String::as_str), Some("application.payment_received"));
    let unmatched = w.get_json("/v1/payments/unmatched", &finance).await;
    let left: Vec<&str> = unmatched["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(left, [other.as_str()]);
    // not twice; and a settled bill takes no other payment
    assert_problem(
        assign(finance.clone(), path.clone(), json!({"invoice": invoice})).await,
        409,
        "conflict",
    )
    .await;
    let other_path = format!("/v1/payments/{other}/assignment");
    assert_problem(
        assign(finance.clone(), other_path, json!({"invoice": invoice})).await,
        409,
        "conflict",
    )
    .await;
}
