//! The network side of webhooks: where a URL may point (checked at registration and again on
//! every delivery) and the HTTP requests that deliver.
//!
//! Every address a host resolves to is checked (`domain::webhook::deliverable`); the
//! delivering clients resolve through [`CheckedResolver`], so the address a request connects
//! to is one that was checked in that same resolution (no window for DNS rebinding between
//! check and connect). An address written in the URL is checked before the request. No
//! redirects are followed, no proxy is used, the connection must be made in 5 s and the answer
//! come in 10 s; at most 64 KB of it is read.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;

use crate::domain::messages::Msg;
use crate::domain::webhook::{self as rules, EndpointUrl, RESPONSE_KEPT, RESPONSE_READ_MAX};
use crate::msg;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A delivery succeeds with a 2xx within this time.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an address may not be used, in the caller's words.
fn refusal(ip: IpAddr, allowed: &[IpNet], https: bool) -> Option<Msg> {
    if let Err(range) = rules::deliverable(ip, allowed) {
        return Some(msg!(
            "The URL's host resolves to an address that is {range}: webhooks go to public addresses, or to networks the operator allows.",
            range = range.0
        ));
    }
    if !https && !rules::plain_http_allowed(ip, allowed) {
        return Some(msg!(
            "Plain http is only for addresses in the networks the operator allows; use https."
        ));
    }
    None
}

/// How URLs may point: the operator's networks, and whether names are resolved.
#[derive(Debug, Clone)]
pub struct Policy {
    pub allowed: Vec<IpNet>,
    /// `false` (`GUICHET_WEBHOOK_DNS=off`): only IP addresses, no name is looked up.
    pub dns: bool,
}

fn no_names() -> Msg {
    msg!("This instance delivers to IP addresses only: write the address, not a name.")
}

/// Resolves `host` and checks every address; all or nothing.
async fn resolve_checked(host: &str, policy: &Policy, https: bool) -> Result<Vec<IpAddr>, Msg> {
    if !policy.dns {
        return Err(no_names());
    }
    let allowed = &policy.allowed[..];
    let found = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host, 0))).await;
    let addrs: Vec<IpAddr> = match found {
        Ok(Ok(a)) => a.map(|s| s.ip()).collect(),
        _ => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(msg!("The URL's host could not be resolved."));
    }
    for ip in &addrs {
        if let Some(why) = refusal(*ip, allowed, https) {
            return Err(why);
        }
    }
    Ok(addrs)
}

/// The addresses of the URL's host, checked; the refusal otherwise.
pub async fn check(url: &EndpointUrl, policy: &Policy) -> Result<(), Msg> {
    let allowed = &policy.allowed[..];
    match url.url.host() {
        Some(url::Host::Ipv4(v4)) => refusal(IpAddr::V4(v4), allowed, url.is_https()).map_or(Ok(()), Err),
        Some(url::Host::Ipv6(v6)) => refusal(IpAddr::V6(v6), allowed, url.is_https()).map_or(Ok(()), Err),
        Some(url::Host::Domain(d)) => resolve_checked(d, policy, url.is_https()).await.map(|_| ()),
        None => Err(msg!("an absolute https URL")),
    }
}

/// A resolver for the delivering clients that hands out only checked addresses.
struct CheckedResolver {
    policy: Arc<Policy>,
    https: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let https = self.https;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve_checked(&host, &policy, https).await.map_err(
                |why| -> Box<dyn std::error::Error + Send + Sync> { why.render(crate::domain::lang::Lang::En).into() },
            )?;
            let out: reqwest::dns::Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(out)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why it failed, when it did (also for a non-2xx answer).
    pub error: Option<String>,
    /// The first 1 KB of the answer.
    pub body: Option<String>,
}

impl Answer {
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends signed deliveries.
#[derive(Clone)]
pub struct Sender {
    https: reqwest::Client,
    http: reqwest::Client,
    policy: Arc<Policy>,
}

impl Sender {
    pub fn new(policy: Policy) -> Result<Sender, String> {
        let policy = Arc::new(policy);
        let build = |https: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(TOTAL_TIMEOUT)
                .pool_idle_timeout(Duration::from_secs(30))
                .user_agent(concat!("guichet-webhooks/", env!("CARGO_PKG_VERSION")))
                .dns_resolver(Arc::new(CheckedResolver {
                    policy: policy.clone(),
                    https,
                }))
                .build()
                .map_err(|e| format!("webhook HTTP client: {e}"))
        };
        Ok(Sender {
            https: build(true)?,
            http: build(false)?,
            policy,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Posts `body` to `url` with the Standard Webhooks headers.
    pub async fn send(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signatures: &str,
        body: actix_web::web::Bytes,
    ) -> Answer {
        let started = Instant::now();
        let failed = |error: String| Answer {
            status: None,
            latency: started.elapsed(),
            error: Some(error),
            body: None,
        };
        let parsed = match EndpointUrl::parse("/url", url) {
            Ok(u) => u,
            Err(_) => return failed("the endpoint's URL is not valid".into()),
        };
        // an address in the URL does not go through the resolver: checked here
        let literal = match parsed.url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        if let Some(why) = literal.and_then(|ip| refusal(ip, &self.policy.allowed, parsed.is_https())) {
            return failed(why.render(crate::domain::lang::Lang::En));
        }
        let client = if parsed.is_https() { &self.https } else { &self.http };
        let sent = client
            .post(parsed.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(body)
            .send()
            .await;
        let mut res = match sent {
            Ok(r) => r,
            Err(e) => return failed(describe(&e)),
        };
        let status = res.status().as_u16();
        let mut kept: Vec<u8> = Vec::new();
        let mut read = 0usize;
        let mut error = None;
        loop {
            match res.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if kept.len() < RESPONSE_KEPT {
                        let room = RESPONSE_KEPT - kept.len();
                        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                    if read >= RESPONSE_READ_MAX {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        let latency = started.elapsed();
        if error.is_none() && !(200..300).contains(&status) {
            error = Some(format!("the receiver answered {status}"));
        }
        Answer {
            status: Some(status),
            latency,
            error,
            body: (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned()),
        }
    }
}

/// An error of reqwest in a sentence, with its causes (the refused address, the timeout).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer within 10 s".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let out = if causes.is_empty() {
        what
    } else {
        format!("{what}: {}", causes.join(": "))
    };
    out.chars().take(1000).collect()
}
