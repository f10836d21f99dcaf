//! A webhook receiver on loopback (127.0.0.1, a free port): it records every request (the
//! Standard Webhooks headers and the body, byte for byte) and answers as it is told (a status
//! per request from a script, 204 after it; or no answer for a while, to test timeouts).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub path: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the receiver does with the next request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// No answer for this long, then 204.
    Stall(Duration),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    /// Answer every request with this once the script is done (default 204).
    otherwise: Option<u16>,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn hook(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let reply = {
        let mut s = state.lock().unwrap();
        s.received.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: body.to_vec(),
            path: req.path().to_string(),
        });
        s.script
            .pop_front()
            .unwrap_or(Reply::Status(s.otherwise.unwrap_or(204)))
    };
    match reply {
        Reply::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).body(format!("answer {code}"))
        }
        Reply::Stall(d) => {
            tokio::time::sleep(d).await;
            HttpResponse::NoContent().finish()
        }
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state: Arc<Mutex<State>> = Arc::default();
        let data = web::Data::new(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(hook)))
                    .workers(2)
                    .bind(("127.0.0.1", 0))
                    .unwrap();
                let port = server.addrs()[0].port();
                let server = server.run();
                let _ = tx.send((port, server.handle()));
                let _ = server.await;
            });
        });
        let (port, handle) = rx.await.unwrap();
        Receiver {
            port,
            state,
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, replies: &[Reply]) {
        self.state.lock().unwrap().script.extend(replies.iter().copied());
    }

    /// Every request after the script gets this status.
    pub fn otherwise(&self, status: u16) {
        self.state.lock().unwrap().otherwise = Some(status);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits up to `secs` seconds until `check` holds on what was received.
    pub async fn wait_for(&self, secs: u64, check: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if check(&got) || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Verifies every delivery with the `standardwebhooks` package (PyPI), an implementation of
/// the standard independent of ours, once per secret given; answers, per secret, how many
/// verified.
pub fn verified_by_standardwebhooks(received: &[Received], secrets: &[&str]) -> Vec<usize> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("deliveries.json");
    let items: Vec<serde_json::Value> = received
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "timestamp": r.timestamp, "signature": r.signature,
                "body": String::from_utf8(r.body.clone()).unwrap(),
            })
        })
        .collect();
    std::fs::write(
        &input,
        serde_json::to_vec(&serde_json::json!({"secrets": secrets, "deliveries": items})).unwrap(),
    )
    .unwrap();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
spec = json.load(open(sys.argv[1]))
counts = []
for secret in spec["secrets"]:
    wh = Webhook(secret)
    ok = 0
    for d in spec["deliveries"]:
        headers = {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"], "webhook-signature": d["signature"]}
        try:
            wh.verify(d["body"].encode(), headers)
            ok += 1
        except Exception as e:
            print("not verified:", e, file=sys.stderr)
    counts.append(ok)
print(json.dumps(counts))
"#;
    let out = std::process::Command::new(super::tools_python())
        .arg("-c")
        .arg(script)
        .arg(&input)
        .output()
        .expect("the tools' Python (scripts/install-tools)");
    assert!(
        out.status.success(),
        "standardwebhooks: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
