//! A trusted external OpenID Connect identity provider (in production the cantonal BE-Login
//! or the federal AGOV): its ID tokens are exchanged for guichet tokens (RFC 8693).
//!
//! The provider's keys come from a JWKS file or URL, cached; an unknown `kid` triggers a
//! reload (at most once every 10 s), and the set is re-read every 10 minutes.
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Where the provider's keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(String),
    Url(String),
}

impl JwksSource {
    pub fn parse(raw: &str) -> JwksSource {
        if raw.starts_with("https://") || raw.starts_with("http://") {
            JwksSource::Url(raw.to_string())
        } else {
            JwksSource::File(raw.strip_prefix("file://").unwrap_or(raw).to_string())
        }
    }
}

#[derive(Debug, Clone)]
pub struct IdpConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks: JwksSource,
}

/// The claims guichet reads from an external ID token.
#[derive(Debug, Deserialize)]
pub struct ExternalClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
}

struct Cached {
    keys: HashMap<String, (DecodingKey, Vec<Algorithm>)>,
    fetched: Option<Instant>,
}

pub struct ExternalIdp {
    pub config: IdpConfig,
    cache: RwLock<Cached>,
    http: reqwest::Client,
}

const RELOAD_MIN: Duration = Duration::from_secs(10);
const MAX_AGE: Duration = Duration::from_secs(600);

/// Algorithms accepted for a key, by its type: asymmetric only (no `none`, no HMAC, so no
/// algorithm confusion with a public key).
fn algorithms_for(params: &AlgorithmParameters) -> Vec<Algorithm> {
    use Algorithm::*;
    match params {
        AlgorithmParameters::RSA(_) => vec![RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(_) => vec![ES256, ES384],
        AlgorithmParameters::OctetKeyPair(_) => vec![EdDSA],
        _ => vec![],
    }
}

impl ExternalIdp {
    pub fn new(config: IdpConfig) -> ExternalIdp {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        ExternalIdp {
            config,
            cache: RwLock::new(Cached {
                keys: HashMap::new(),
                fetched: None,
            }),
            http,
        }
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let text = match &self.config.jwks {
            JwksSource::File(path) => crate::sched::spawn_blocking({
                let p = path.clone();
                move || std::fs::read_to_string(p)
            })
            .await
            .map_err(|e| format!("{path}: {e}"))?
            .map_err(|e| format!("{path}: {e}"))?,
            JwksSource::Url(url) => {
                let res = self.http.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
                if !res.status().is_success() {
                    return Err(format!("{url}: HTTP {}", res.status()));
                }
                res.text().await.map_err(|e| format!("{url}: {e}"))?
            }
        };
        serde_json::from_str(&text).map_err(|e| format!("not a JWKS: {e}"))
    }

    /// Re-reads the provider's keys (kept as they were if that fails).
    pub async fn reload(&self) -> Result<(), String> {
        let set = self.fetch().await;
        let mut keys = HashMap::new();
        if let Ok(set) = &set {
            for jwk in &set.keys {
                let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) else {
                    continue;
                };
                let algs = algorithms_for(&jwk.algorithm);
                if !algs.is_empty() {
                    keys.insert(kid, (key, algs));
                }
            }
        }
        let mut c = match self.cache.write() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        c.fetched = Some(Instant::now());
        match set {
            Ok(_) => {
                c.keys = keys;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn lookup(&self, kid: &str) -> (Option<(DecodingKey, Vec<Algorithm>)>, bool) {
        let c = match self.cache.read() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let stale = c.fetched.is_none_or(|t| t.elapsed() > MAX_AGE);
        let may_reload = c.fetched.is_none_or(|t| t.elapsed() > RELOAD_MIN);
        (c.keys.get(kid).cloned(), stale || may_reload)
    }

    /// Verifies an ID token of this provider: signature by a published key with an
    /// asymmetric algorithm, issuer, audience, `exp`, `nbf`, `sub`.
    pub async fn verify(&self, token: &str) -> Result<ExternalClaims, String> {
        if token.len() > 16_384 {
            return Err("the subject token is too long".into());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the subject token is malformed".to_string())?;
        let kid = header.kid.ok_or("the subject token names no key")?;
        let (mut found, may_reload) = self.lookup(&kid);
        if found.is_none() && may_reload {
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "could not load the identity provider's keys");
            }
            found = self.lookup(&kid).0;
        }
        let (key, algs) = found.ok_or("the subject token was signed with an unknown key")?;
        if !algs.contains(&header.alg) {
            return Err("the subject token's algorithm does not match its key".into());
        }
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        v.leeway = 30;
        let data = jsonwebtoken::decode::<ExternalClaims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => "the subject token has expired".to_string(),
                K::InvalidIssuer => "the subject token comes from an issuer that is not trusted".to_string(),
                K::InvalidAudience => "the subject token is for another audience".to_string(),
                K::ImmatureSignature => "the subject token is not valid yet".to_string(),
                _ => "the subject token is invalid".to_string(),
            }
        })?;
        if data.claims.sub.is_empty() || data.claims.sub.len() > 255 {
            return Err("the subject token has no usable subject".into());
        }
        Ok(data.claims)
    }
}
