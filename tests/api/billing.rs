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
