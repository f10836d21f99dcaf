//! Fees billed with Swiss QR-bills: the bill made at the moment its service says, shown with
//! the application, its QR code's text equal to what an independent implementation (PyPI
//! `qrbill`) makes of the same bill, and a move that waits for the payment.
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::assert_problem;
use crate::common::world::{password_token, valid_data, World};

/// What PyPI's `qrbill` (1.2.0, tools venv) writes into the QR code of a bill with the
/// invoice's account, creditor, amount, debtor, reference and message.
fn qrbill_payload(invoice: &Value) -> String {
    const MAKE: &str = r#"
import json, sys
from qrbill import QRBill
i = json.load(sys.stdin)
def party(a):
    if a is None:
        return None
    return {"name": a["name"], "street": a.get("street") or "", "house_num": a.get("house_number") or "",
            "pcode": a["postal_code"], "city": a["town"], "country": a["country"]}
rest = i["amount"] - i["paid_amount"]
bill = QRBill(account=i["iban"], creditor=party(i["creditor"]), debtor=party(i["debtor"]),
              amount="%d.%02d" % (rest // 100, rest % 100), currency=i["currency"],
              reference_number=i["reference"], additional_information=i["message"] or "")
sys.stdout.write(bill.qr_data())
"#;
    let mut child = std::process::Command::new(crate::common::tools_python())
        .args(["-c", MAKE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python with qrbill (scripts/install-tools)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(invoice.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_residence_confirmation_is_billed_on_submission_per_copy() {
    let w = World::new().await;
    let mut data = valid_data();
    data["copies"] = json!(3);
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
    let id = app["id"].as_str().unwrap().to_string();
    let payment = &app["payment"];
    assert_eq!(
        (
            &payment["status"],
            &payment["amount"],
            &payment["paid_amount"],
            &payment["currency"]
        ),
        (&json!("due"), &json!(6000), &json!(0), &json!("CHF")),
        "{app}"
    );
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    assert_eq!(payment["due_on"], due);
    let reference = payment["reference"].as_str().unwrap().to_string();
    assert_eq!(reference.len(), 27, "a QR reference, since the account is a QR-IBAN");

    // the bill: for the applicant and the department, not for others
    let path = format!("/v1/applications/{id}/invoice");
    assert_eq!(payment["href"], format!("{}{path}", crate::common::PUBLIC_URL));
    let invoice = w.get_json(&path, &w.a).await;
    assert_eq!(w.get_json(&path, &w.clerk).await, invoice);
    for other in [&w.b, &w.other_clerk] {
        let res = w.call(Method::GET, &path, Some(other), None).await;
        assert_problem(res, 404, "not-found").await;
    }
    assert_eq!(
        (&invoice["reference"], &invoice["reference_type"], &invoice["amount"]),
        (&json!(reference), &json!("QRR"), &json!(6000))
    );
    assert_eq!(invoice["iban"], "CH44 3199 9123 0008 8901 2");
    assert_eq!(invoice["creditor"]["name"], "Stadt Thun, Einwohnerdienste");
    assert_eq!(
        (&invoice["debtor"]["name"], &invoice["debtor"]["town"]),
        (&json!("Anna Muster"), &json!("Thun"))
    );
    let printed = invoice["reference_printed"].as_str().unwrap();
    assert_eq!(printed.replace(' ', ""), reference);
    assert!(printed.starts_with(&reference[..2]) && printed.split(' ').nth(1).unwrap().len() == 5);

    // its QR code's text is what an independent implementation makes of the same bill
    let ours = invoice["qr_payload"].as_str().unwrap();
    assert_eq!(ours, qrbill_payload(&invoice));
    let lines: Vec<&str> = ours.split("\r\n").collect();
    assert_eq!(&lines[18..20], ["60.00", "CHF"]);
    assert_eq!(lines[27], "QRR");
    assert_eq!(lines[28], reference);

    // partners learn of it: an event after the submission
    let types: Vec<String> = w.events_in_feed(&id).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        types,
        [
            "application.created",
            "application.submitted",
            "application.invoice_issued"
        ]
    );
    // and a draft has no bill
    let draft = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.a),
            Some(json!({"service": "wohnsitzbestaetigung", "data": {}})),
        )
        .await;
    let draft: Value = draft.json().await.unwrap();
    assert_eq!(draft["payment"], Value::Null);
    let res = w
        .call(
            Method::GET,
            &format!("/v1/applications/{}/invoice", draft["id"].as_str().unwrap()),
            Some(&w.a),
            None,
        )
        .await;
    assert_problem(res, 404, "not-found").await;
}

/// A craftsman's parking card is billed by the option chosen, and the approval waits for the
/// payment; a rejection does not.
#[tokio::test]
async fn a_parking_card_is_billed_by_its_option_and_its_approval_waits_for_the_payment() {
    let w = World::new().await;
    w.app.with_conn(|c| {
        guichet::admin::create_user(
            c,
            "polizei@thun.ch",
            "clerk",
            Some("polizeiinspektorat"),
            Some(crate::common::world::PW.into()),
        )
        .unwrap()
    });
    let clerk = password_token(&w.app, "polizei@thun.ch").await;
    let data = json!({"company_name": "Muster Sanitär AG", "contact_person": "Hans Muster", "email": "info@muster.example",
        "phone": "033 123 45 67", "license_plate": "BE 123456", "vehicle_has_workshop": true, "permit_type": "morning",
        "date": "2027-01-15", "work_location": "Bälliz 12, Thun"});
    let res = w
        .call(
            Method::POST,
            "/v1/applications",
            Some(&w.partner),
            Some(json!({"service": "handwerkerparkkarte", "data": data, "submit": true})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["payment"]["amount"], 1000, "a morning");
    let id = app["id"].as_str().unwrap().to_string();
    let invoice = w.get_json(&format!("/v1/applications/{id}/invoice"), &w.partner).await;
    assert_eq!(invoice["debtor"], Value::Null, "the form names no payer: left blank");
    assert_eq!(invoice["creditor"]["name"], "Stadt Thun, Polizeiinspektorat");
    assert_eq!(invoice["qr_payload"].as_str().unwrap(), qrbill_payload(&invoice));

    let moved = w.moved(&id, &clerk, json!({"to": "in_review"})).await;
    let res = w
        .act(
            Method::POST,
            &format!("/v1/applications/{id}/transitions"),
            Some(&clerk),
            Some(json!({"to": "approved"})),
        )
        .await;
    let p = assert_problem(res, 409, "conflict").await;
    assert!(p["detail"].as_str().unwrap().contains("Zahlung ausstehend"), "{p}");
    let unchanged = w.get_json(&format!("/v1/applications/{id}"), &clerk).await;
    assert_eq!(unchanged["revision"], moved["revision"], "the refusal changed nothing");
    let rejected = w
        .moved(
            &id,
            &clerk,
            json!({"to": "rejected", "public_comment": "Kein Werkstattfahrzeug"}),
        )
        .await;
    assert_eq!(rejected["phase"], "rejected");
}

/// A billing rule is checked against the form, and a department's account is checked.
#[tokio::test]
async fn bad_billing_rules_and_accounts_are_refused() {
    let w = World::new().await;
    let mut service = crate::common::world::stepped_service();
    service["content"]["billing"] = json!({"amount": {"kind": "per_unit", "unit_amount": 500, "quantity": "/days"},
        "billed": "on_submission", "payment_before": "in_review"});
    let res = w
        .call(Method::POST, "/v1/services", Some(&w.clerk), Some(service))
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    let at: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        at,
        ["/content/billing/amount/quantity", "/content/billing/payment_before"],
        "{p}"
    );

    let department = w.get_json("/v1/departments/einwohnerdienste", &w.admin).await;
    assert_eq!(department["creditor"]["iban"], "CH44 3199 9123 0008 8901 2");
    let file: Value = serde_json::from_str(guichet::catalogue::import::THUN_SEED).unwrap();
    let mut input = file["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["slug"] == "einwohnerdienste")
        .unwrap()
        .clone();
    input["creditor"]["iban"] = json!("CH44 3199 9123 0008 8901 3");
    let res = w
        .act(
            Method::PUT,
            "/v1/departments/einwohnerdienste",
            Some(&w.admin),
            Some(input),
        )
        .await;
    let p = assert_problem(res, 422, "validation-failed").await;
    assert_eq!(p["errors"][0]["pointer"], "/creditor/iban", "{p}");
}

/// Runs a tool from Debian's packages (scripts/install-tools installs them), its stdout.
fn run(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (scripts/install-tools): {e}"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// What a QR decoder reads from the code in a PNG, as a bank's app would: zxing-cpp (PyPI,
/// the tools venv), the decoder behind many phone scanners. Debian's zbar 0.23 reads none of
/// these dense codes under the Swiss cross, not even those PyPI's `qrbill` draws.
fn scan(png: &std::path::Path) -> String {
    const READ: &str = "import sys, zxingcpp, PIL.Image\n\
        codes = zxingcpp.read_barcodes(PIL.Image.open(sys.argv[1]), formats=zxingcpp.BarcodeFormat.QRCode)\n\
        assert len(codes) == 1, codes\n\
        sys.stdout.buffer.write(codes[0].bytes)";
    let out = run(
        crate::common::tools_python().to_str().unwrap(),
        &["-c", READ, png.to_str().unwrap()],
    );
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn the_bill_prints_as_pdf_and_svg_whose_code_reads_back_as_the_payload() {
    let w = World::new().await;
    let mut data = valid_data();
    data["last_name"] = json!("Müller-Šimić");
    data["copies"] = json!(2);
    let res = w
        .app
        .client
        .post(w.app.url("/v1/applications"))
        .bearer_auth(&w.a)
        .header("accept-language", "fr-CH, de;q=0.5")
        .json(&json!({"service": "wohnsitzbestaetigung", "data": data, "submit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/applications/{id}/invoice");
    let invoice = w.get_json(&path, &w.a).await;
    let payload = invoice["qr_payload"].as_str().unwrap().to_string();
    assert!(payload.contains("Müller-Šimić"), "{payload}");
    let dir = tempfile::tempdir().unwrap();
    let get = |accept: &'static str, token: String| {
        let req = w
            .app
            .client
            .get(w.app.url(&path))
            .bearer_auth(token)
            .header("accept", accept);
        async move { req.send().await.unwrap() }
    };

    // the A4 bill: a PDF whose QR code, printed and scanned, reads as the payload
    let res = get("application/pdf", w.a.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("facture-"), "{disposition}");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let pdf_path = dir.path().join("bill.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-singlefile",
            pdf_path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert_eq!(scan(&dir.path().join("page.png")), payload, "the PDF's QR code");
    // its texts in the applicant's language (French), the open amount and the printed reference
    let text = String::from_utf8(run("pdftotext", &["-layout", pdf_path.to_str().unwrap(), "-"])).unwrap();
    for expected in [
        "Section paiement",
        "Récépissé",
        "Compte / Payable à",
        "Point de dépôt",
        "A détacher avant le versement",
        "40.00",
        "CH44 3199 9123 0008 8901 2",
        "Müller-Šimic", // ć is not in the PDF fonts' encoding: transliterated in print, kept in the code
        invoice["reference_printed"].as_str().unwrap(),
    ] {
        assert!(text.contains(expected), "{expected:?} not in the PDF's text:\n{text}");
    }
    assert_eq!(
        run("pdfinfo", &[pdf_path.to_str().unwrap()])
            .windows(b"595.276 x 841.89".len())
            .filter(|w| *w == b"595.276 x 841.89")
            .count(),
        1,
        "A4"
    );

    // the payment part alone as SVG: the same code, the same texts; the department reads it too
    let res = get("image/svg+xml", w.clerk.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    assert!(svg.contains("width=\"210mm\" height=\"105mm\"") && svg.contains("Section paiement"));
    assert!(svg.contains("Müller-Šimić"), "the SVG keeps every character");
    let svg_path = dir.path().join("bill.svg");
    std::fs::write(&svg_path, &svg).unwrap();
    let png = dir.path().join("svg.png");
    run(
        "rsvg-convert",
        &[
            "-d",
            "200",
            "-p",
            "200",
            "-o",
            png.to_str().unwrap(),
            svg_path.to_str().unwrap(),
        ],
    );
    assert_eq!(scan(&png), payload, "the SVG's QR code");

    // JSON stays the default; what we cannot give is a 406; others still get 404
    let res = get("*/*", w.a.clone()).await;
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_problem(get("text/html", w.a.clone()).await, 406, "not-acceptable").await;
    assert_problem(get("application/pdf", w.b.clone()).await, 404, "not-found").await;
}

/// A clerk of the department changes a bill's amount, then waives it, each with a reason: the
/// approval that waited for the payment goes ahead; a settled bill is not changed again.
#[tokio::test]
async fn a_clerk_changes_and_waives_a_bill_with_a_reason() {
    let w = World::new().await;
    let clerk = crate::common::staff_token(&w.app, "polizei@thun.ch", "clerk", Some("polizeiinspektorat")).await;
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
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    w.moved(&id, &clerk, json!({"to": "in_review"})).await;
    let path = format!("/v1/applications/{id}/invoice/adjustments");
    let before = w.get_json(&format!("/v1/applications/{id}"), &clerk).await;

    // refused, and nothing changes: no If-Match, neither or both, no reason, out of range,
    // not the department's clerk, the applicant
    let res = w
        .call(
            Method::POST,
            &path,
            Some(&clerk),
            Some(json!({"amount": 500, "reason": "Härtefall"})),
        )
        .await;
    assert_problem(res, 428, "precondition-required").await;
    for (body, pointer) in [
        (json!({"reason": "Härtefall"}), ""),
        (json!({"amount": 500, "waive": true, "reason": "Härtefall"}), ""),
        (json!({"amount": 500, "reason": "  "}), "/reason"),
        (json!({"amount": -1, "reason": "Härtefall"}), "/amount"),
    ] {
        let res = w.act(Method::POST, &path, Some(&clerk), Some(body.clone())).await;
        let p = assert_problem(res, 422, "validation-failed").await;
        assert_eq!(p["errors"][0]["pointer"], pointer, "{body}: {p}");
    }
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&w.clerk),
            Some(json!({"waive": true, "reason": "x"})),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&w.partner),
            Some(json!({"waive": true, "reason": "x"})),
        )
        .await;
    assert_eq!(res.status(), 403);
    let after = w.get_json(&format!("/v1/applications/{id}"), &clerk).await;
    assert_eq!(after["revision"], before["revision"]);

    // a new amount: the bill and its QR code follow; history and event say why
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&clerk),
            Some(json!({"amount": 500, "reason": "Nur zwei Stunden"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (&changed["payment"]["amount"], &changed["payment"]["status"]),
        (&json!(500), &json!("due"))
    );
    let invoice = w.get_json(&format!("/v1/applications/{id}/invoice"), &w.partner).await;
    assert_eq!(
        invoice["qr_payload"].as_str().unwrap().split("\r\n").nth(18),
        Some("5.00")
    );
    let history = w.get_json(&format!("/v1/applications/{id}/history"), &w.partner).await;
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "invoice_adjusted", "{last}");
    assert_eq!(last["details"]["invoice"]["reason"], "Nur zwei Stunden", "{last}");
    let types: Vec<String> = w.events_in_feed(&id).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(types.last().map(String::as_str), Some("application.invoice_adjusted"));

    // waived: the approval goes ahead; the bill is settled and stays as it is
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&clerk),
            Some(json!({"waive": true, "reason": "Gebührenerlass"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["payment"]["status"], "waived");
    let approved = w.moved(&id, &clerk, json!({"to": "approved"})).await;
    assert_eq!(approved["phase"], "approved");
    let res = w
        .act(
            Method::POST,
            &path,
            Some(&clerk),
            Some(json!({"amount": 100, "reason": "zurück"})),
        )
        .await;
    assert_problem(res, 409, "conflict").await;
}
