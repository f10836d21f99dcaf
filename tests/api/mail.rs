//! Mail through the outbox and a real SMTP server: address confirmation and password reset.
//! The SMTP server is aiosmtpd (installed by scripts/install-tools) on a loopback port,
//! writing every message it receives into a Maildir the test reads.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{assert_problem, TestApp};
use serde_json::{json, Value};

pub(crate) struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    pub(crate) port: u16,
}

impl SmtpSink {
    /// The Maildir's files, as they arrived.
    pub(crate) fn files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.dir.path().join("mail").join("new"))
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn smtp_sink() -> SmtpSink {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    let mut child = Command::new(crate::common::tools_python())
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd (run scripts/install-tools, or set GUICHET_TEST_PYTHON)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return SmtpSink { child, dir, port };
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("aiosmtpd did not start");
}

/// Every message received so far, as text with quoted-printable soft breaks undone.
pub(crate) fn messages(dir: &Path) -> Vec<String> {
    let new = dir.join("mail").join("new");
    let mut out: Vec<String> = std::fs::read_dir(new)
        .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect())
        .unwrap_or_default();
    for m in out.iter_mut() {
        *m = m.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    }
    out
}

async fn wait_for_mail(sink: &SmtpSink, to: &str, subject: &str) -> String {
    for _ in 0..100 {
        if let Some(m) = messages(sink.dir.path())
            .into_iter()
            .find(|m| m.contains(to) && m.contains(subject))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail '{subject}' to {to}");
}

fn token_in(mail: &str) -> String {
    let at = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/oauth/token"))
        .form(&[("grant_type", "password"), ("username", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url(path)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn with_a_mail_server_residents_confirm_their_address_before_signing_in() {
    let sink = smtp_sink();
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::spawn_with(&[
        ("GUICHET_SMTP_URL", &smtp),
        ("GUICHET_FRONTEND_URL", "https://portal.example"),
        ("GUICHET_MAIL_FROM", "Stadt Thun <noreply@thun.example>"),
    ])
    .await;
    let res = post(
        &app,
        "/v1/accounts",
        json!({"email": "anna@example.ch", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let body: Value = login(&app, "anna@example.ch", "correct horse battery")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"], "invalid_grant");

    let mail = wait_for_mail(&sink, "anna@example.ch", "Confirm your e-mail address").await;
    assert!(mail.contains("https://portal.example/verify-email?token="), "{mail}");
    assert!(mail.contains("noreply@thun.example"));
    let token = token_in(&mail);
    assert_problem(
        post(&app, "/v1/accounts/email-verification", json!({"token": "gev_forged"})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        post(&app, "/v1/accounts/email-verification", json!({"token": token}))
            .await
            .status(),
        204
    );
    assert_problem(
        post(&app, "/v1/accounts/email-verification", json!({"token": token})).await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        login(&app, "anna@example.ch", "correct horse battery").await.status(),
        200
    );

    // registering the address again tells its owner, and changes nothing
    let res = post(
        &app,
        "/v1/accounts",
        json!({"email": "anna@example.ch", "password": "another long password"}),
    )
    .await;
    assert_eq!(res.status(), 202);
    wait_for_mail(&sink, "anna@example.ch", "Your guichet account").await;
    assert_eq!(
        login(&app, "anna@example.ch", "correct horse battery").await.status(),
        200
    );
}

#[tokio::test]
async fn a_password_is_reset_through_a_mailed_link_and_every_session_ends() {
    let sink = smtp_sink();
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::spawn_with(&[("GUICHET_SMTP_URL", &smtp)]).await;
    post(
        &app,
        "/v1/accounts",
        json!({"email": "beat@example.ch", "password": "correct horse battery"}),
    )
    .await;
    let confirm = wait_for_mail(&sink, "beat@example.ch", "Confirm your e-mail address").await;
    let _ = token_in(&confirm); // not used: the reset confirms the address too

    let unknown = post(
        &app,
        "/v1/accounts/password-reset",
        json!({"email": "nobody@example.ch"}),
    )
    .await;
    let known = post(&app, "/v1/accounts/password-reset", json!({"email": "beat@example.ch"})).await;
    assert_eq!(unknown.status(), 202);
    assert_eq!(known.status(), 202);
    let (a, b): (Value, Value) = (unknown.json().await.unwrap(), known.json().await.unwrap());
    assert_eq!(a, b, "the same answer whether or not the address has an account");
    let mail = wait_for_mail(&sink, "beat@example.ch", "Reset your password").await;
    let token = token_in(&mail);
    assert_problem(
        post(
            &app,
            "/v1/accounts/password-reset/confirm",
            json!({"token": token, "password": "short"}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        post(
            &app,
            "/v1/accounts/password-reset/confirm",
            json!({"token": token, "password": "a brand new password"})
        )
        .await
        .status(),
        204
    );
    assert_problem(
        post(
            &app,
            "/v1/accounts/password-reset/confirm",
            json!({"token": token, "password": "yet another password"}),
        )
        .await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(
        login(&app, "beat@example.ch", "correct horse battery").await.status(),
        400
    );
    assert_eq!(
        login(&app, "beat@example.ch", "a brand new password").await.status(),
        200
    );
    assert!(!messages(sink.dir.path())
        .iter()
        .any(|m| m.contains("nobody@example.ch")));
}

#[tokio::test]
async fn without_a_mail_server_mails_go_to_the_log_and_accounts_work_at_once() {
    let app = TestApp::spawn().await;
    post(
        &app,
        "/v1/accounts",
        json!({"email": "carla@example.ch", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(
        login(&app, "carla@example.ch", "correct horse battery").await.status(),
        200
    );
    post(
        &app,
        "/v1/accounts/password-reset",
        json!({"email": "carla@example.ch"}),
    )
    .await;
    use diesel::prelude::*;
    use guichet::db::schema::mail_outbox::dsl as m;
    let sent = crate::common::eventually(|| async {
        let n: i64 = app.with_conn(|c| {
            m::mail_outbox
                .filter(m::sent_at.is_not_null())
                .count()
                .get_result(c)
                .unwrap()
        });
        n == 1
    })
    .await;
    assert!(sent, "the outbox entry is written to the log and marked sent");
}
