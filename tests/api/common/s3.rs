//! An S3 server on loopback for the document tests: moto's server mode (`moto[server]` from
//! the tools venv), started once per test process and gone with it (it reads its stdin and
//! stops when the pipe closes). Each test database gets a bucket of its own.
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

const SERVE: &str = "
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False)
server.start()
print('ready', flush=True)
sys.stdin.read()
server.stop()
";

/// Whether the document tests run against S3 (`GUICHET_TEST_STORE=s3`) rather than a
/// directory.
pub fn enabled() -> bool {
    std::env::var("GUICHET_TEST_STORE").is_ok_and(|s| s == "s3")
}

/// The one moto server of this test process.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(super::tools_python())
            .args(["-c", SERVE, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto (scripts/install-tools installs moto[server] into the tools venv)");
        let mut line = String::new();
        let out = child.stdout.take().expect("moto's stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("moto starts");
        assert_eq!(line.trim(), "ready", "moto did not start");
        // the pipe stays open for the life of the process
        child.stdin.as_mut().expect("moto's stdin").flush().ok();
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: Mutex::new(child),
        }
    })
}

/// A bucket name for a test database (the same for every instance on it).
pub fn bucket(db_url: &str) -> String {
    let tail = db_url.rsplit(['/', '\\']).next().unwrap_or("db");
    let name: String = tail
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("guichet-{}", name.trim_matches('-'));
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// A plain HTTP request to moto (over a socket: this runs inside the tests' async runtime,
/// and moto takes unsigned requests): the whole answer.
fn request(method: &str, path: &str) -> String {
    let addr = moto().endpoint.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).expect("moto answers");
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut conn, &mut answer).expect("moto's answer");
    answer
}

/// The keys in the test database's bucket, as S3 lists them (ListObjectsV2).
pub fn keys(db_url: &str) -> Vec<String> {
    let answer = request("GET", &format!("/{}?list-type=2&max-keys=1000", bucket(db_url)));
    answer
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

/// Creates the bucket and answers the settings that point guichet at it.
pub fn settings(db_url: &str) -> Vec<(String, String)> {
    let m = moto();
    let bucket = bucket(db_url);
    let answer = request("PUT", &format!("/{bucket}"));
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    assert!(status == "200" || status == "409", "bucket {bucket}: {answer:.200}");
    vec![
        ("GUICHET_DOCUMENTS_URL".into(), format!("s3://{bucket}/documents")),
        ("AWS_ENDPOINT_URL".into(), m.endpoint.clone()),
        ("AWS_ALLOW_HTTP".into(), "true".into()),
        ("AWS_REGION".into(), "eu-central-2".into()),
        ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
    ]
}
