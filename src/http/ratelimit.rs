//! Abuse limits (token endpoint, account creation), with the IETF httpapi rate-limit headers.
//!
//! Limits are kept per instance (GCRA, `governor`): with N instances behind a balancer a client
//! gets at most N times the configured rate. That is the documented choice: it keeps the token
//! endpoint free of a database write per request, and N is small and known to the operator, who
//! can divide the configured limits by it.
use std::num::NonZeroU32;
use std::time::Duration;

use crate::domain::messages::Msg;
use actix_web::http::header::{HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

pub struct Limiter {
    name: &'static str,
    limit: u32,
    window: Duration,
    inner: Option<Keyed>,
}

/// What the client is told about a limit, allowed or not.
#[derive(Debug, Clone)]
pub struct RateState {
    pub policy: String,
    pub state: String,
    /// Seconds to wait, when the request was refused.
    pub retry_after: Option<u64>,
}

impl RateState {
    /// The 429 problem for a refused request, with `Retry-After` and the rate-limit headers.
    pub fn problem(&self, detail: Msg) -> crate::error::ApiError {
        let mut e = crate::error::ApiError::new(crate::error::ProblemKind::RateLimited, detail);
        e.headers = self.headers();
        e
    }

    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = Vec::new();
        if let Ok(v) = HeaderValue::from_str(&self.policy) {
            h.push((HeaderName::from_static("ratelimit-policy"), v));
        }
        if let Ok(v) = HeaderValue::from_str(&self.state) {
            h.push((HeaderName::from_static("ratelimit"), v));
        }
        if let Some(s) = self.retry_after {
            h.push((actix_web::http::header::RETRY_AFTER, HeaderValue::from(s)));
        }
        h
    }
}

impl Limiter {
    /// `limit` requests per `window` and key; 0 switches the limit off.
    pub fn new(name: &'static str, limit: u32, window: Duration) -> Limiter {
        let inner = NonZeroU32::new(limit).and_then(|n| {
            let period = window / limit;
            Quota::with_period(period)
                .map(|q| RateLimiter::keyed(q.allow_burst(n)).with_middleware::<StateInformationMiddleware>())
        });
        Limiter {
            name,
            limit,
            window,
            inner,
        }
    }

    /// Counts one request for `key`; `Err` when the key is over its limit.
    pub fn check(&self, key: &str) -> Result<Option<RateState>, RateState> {
        let Some(inner) = &self.inner else { return Ok(None) };
        let policy = format!("\"{}\";q={};w={}", self.name, self.limit, self.window.as_secs());
        let per_unit = (self.window.as_secs_f64() / self.limit as f64).ceil() as u64;
        match inner.check_key(&key.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = per_unit * u64::from(self.limit - remaining.min(self.limit));
                Ok(Some(RateState {
                    policy,
                    state: format!("\"{}\";r={};t={}", self.name, remaining, reset),
                    retry_after: None,
                }))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
                Err(RateState {
                    policy,
                    state: format!("\"{}\";r=0;t={}", self.name, wait),
                    retry_after: Some(wait),
                })
            }
        }
    }

    /// Forgets keys whose limit has fully replenished (keeps memory bounded).
    pub fn prune(&self) {
        if let Some(inner) = &self.inner {
            inner.retain_recent();
            inner.shrink_to_fit();
        }
    }
}

/// The limits of one instance.
pub struct Limits {
    pub token_ip: Limiter,
    pub token_account: Limiter,
    pub signup_ip: Limiter,
    pub tracking_ip: Limiter,
}

impl Limits {
    pub fn new(config: &crate::Config) -> Limits {
        Limits {
            token_ip: Limiter::new("token-ip", config.rate_limit_token_ip, Duration::from_secs(60)),
            token_account: Limiter::new(
                "token-account",
                config.rate_limit_token_account,
                Duration::from_secs(60),
            ),
            signup_ip: Limiter::new("signup-ip", config.rate_limit_signup_ip, Duration::from_secs(3600)),
            tracking_ip: Limiter::new("tracking-ip", config.rate_limit_tracking_ip, Duration::from_secs(60)),
        }
    }

    pub fn prune(&self) {
        self.token_ip.prune();
        self.token_account.prune();
        self.signup_ip.prune();
        self.tracking_ip.prune();
    }
}
