//! What the log says about a request: every line logged while a request is handled, down to
//! the cause of a 500 found on a database thread, carries the request's id, the id the answer
//! and its problem document give the caller. (This module installs the test process's log
//! subscriber, writing into memory; no other test installs one.)

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::common::world::{password_token, PW};
use crate::common::{config, TestApp};
use serde_json::Value;

/// The log lines of this test binary (it installs the process's one subscriber).
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(Default::default)
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_cause_of_a_500_is_logged_with_the_request_id() {
    // `warn`, as an operator might run it: the request's id is on the lines still logged
    let log_config = config("unused", &[("GUICHET_LOG", "warn"), ("GUICHET_LOG_FORMAT", "json")]);
    guichet::telemetry::init_logging_to(&log_config, || Capture(captured().clone()));
    let app = TestApp::spawn().await;
    app.with_conn(|c| guichet::admin::create_user(c, "admin@thun.ch", "admin", None, Some(PW.into())).unwrap());
    let admin = password_token(&app, "admin@thun.ch").await;
    // A draft (read from the database, not the catalogue snapshot) whose stored content no
    // version of guichet could have written: reading it is a 500, an internal error found on
    // a database thread while the row is turned into the answer.
    let draft = app
        .client
        .post(app.url("/v1/services/wohnsitzbestaetigung/versions"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(draft.status(), 201);
    app.with_conn(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE service_versions SET content = '\"broken\"' WHERE version = 2 AND service_id = \
             (SELECT id FROM services WHERE slug = 'wohnsitzbestaetigung')",
        )
        .execute(c)
        .unwrap();
    });
    let res = app
        .client
        .get(app.url("/v1/services/wohnsitzbestaetigung/versions/2"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["request_id"], id.as_str());
    let text = String::from_utf8(captured().lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == id.as_str() || l["request_id"] == id.as_str())
        .collect();
    let cause = of_request
        .iter()
        .find(|l| l["message"] == "internal error")
        .unwrap_or_else(|| panic!("no 'internal error' line carries {id}:\n{text}"));
    assert!(cause["error"].as_str().unwrap().contains("invalid type"), "{cause}");
    assert_eq!(cause["level"], "ERROR");
    assert!(of_request
        .iter()
        .any(|l| l["message"] == "request" && l["status"] == 500));
}
