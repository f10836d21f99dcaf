//! Configuration from environment variables. Every variable is documented in the README.
use std::net::SocketAddr;
use std::time::Duration;

/// Where the demo seed comes from on an empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Thun,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// External base URL without a trailing slash, e.g. `https://guichet.thun.ch`.
    pub public_url: String,
    /// True when `GUICHET_PUBLIC_URL` was set (not derived from the listen address).
    pub public_url_set: bool,
    /// `GUICHET_METRICS_LISTEN`: an address of its own where `/metrics` is served openly.
    pub metrics_listen: Option<SocketAddr>,
    /// `GUICHET_METRICS_TOKEN`: bearers of this token may read `/metrics` on the public listener.
    pub metrics_token: Option<String>,
    /// `GUICHET_DRAFT_MAX_BYTES`: the form data one draft may hold, as JSON.
    pub draft_max_bytes: usize,
    /// `GUICHET_MAX_OPEN_DRAFTS`: open drafts per applicant.
    pub max_open_drafts: i64,
    /// `GUICHET_EVENT_RETENTION_DAYS`: how long the event feed keeps an event.
    pub event_retention_days: i64,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub pool_size: u32,
    /// PostgreSQL connections of each worker's asynchronous read pool.
    pub read_pool_size: usize,
    /// PostgreSQL: connections of each worker shared by its point reads, pipelined (0: none)
    pub pipeline_size: usize,
    pub cors_origins: Vec<String>,
    pub seed: Seed,
    pub workers: Option<usize>,
    /// The HTTP workers run as `SCHED_BATCH` (see [`crate::sched`]).
    pub batch_scheduling: bool,
    pub body_limit: usize,
    /// How often each instance checks whether the published catalogue changed.
    pub catalogue_refresh: Duration,
    pub shutdown_timeout: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// The OAuth password grant (RFC 9700 deprecates it; for first-party frontends only).
    pub password_grant: bool,
    /// Token requests per client IP per minute (0: no limit).
    pub rate_limit_token_ip: u32,
    /// Token requests per account or client per minute (0: no limit).
    pub rate_limit_token_account: u32,
    /// Account registrations per client IP per hour (0: no limit).
    pub rate_limit_signup_ip: u32,
    /// The trusted external OpenID Connect provider, for token exchange.
    pub idp: Option<crate::auth::external::IdpConfig>,
    /// Load balancers whose `X-Forwarded-For` is believed when finding the client's address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `GUICHET_WEBHOOK_ALLOWED_NETWORKS`: private networks webhooks may still be delivered to
    /// (a city's own systems), besides every globally reachable address.
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// When failed webhook deliveries are tried again, and when they are given up
    /// (`GUICHET_WEBHOOK_RETRY_WAITS`, `GUICHET_WEBHOOK_GIVE_UP_AFTER`).
    pub webhook_retry: crate::domain::webhook::RetrySchedule,
    /// `GUICHET_WEBHOOK_DNS=off`: endpoint URLs must name an IP address, no name is resolved
    /// (networks without DNS, and test runs that must send nothing beyond loopback).
    pub webhook_dns: bool,
    /// `GUICHET_WEBHOOK_BUSY_RATE`: webhook deliveries per second an instance still sends
    /// while all its API's database connections are taken (100; `unlimited`, `None`: never
    /// held back)
    pub webhook_busy_rate: Option<u32>,
    pub mail: crate::mail::MailConfig,
    /// Public tracking lookups per client IP per minute (0: no limit).
    pub rate_limit_tracking_ip: u32,
    /// Prefix of application references (`THU` in `THU-2026-7Q4KM2XD-J`).
    pub reference_prefix: String,
    /// The document store: a local directory (shared storage when several instances run) or
    /// an S3 bucket.
    pub documents: crate::storage::StoreConfig,
}

/// A configuration error names the variable and what is wrong with it, in one line.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests can pass their own variables.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let database_url = var("DATABASE_URL").unwrap_or_else(|| "guichet.db".to_string());
        crate::db::Backend::from_url(&database_url).map_err(|m| err("DATABASE_URL", m))?;

        let listen_raw = var("GUICHET_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_raw.parse().map_err(|_| {
            err(
                "GUICHET_LISTEN",
                format!("'{listen_raw}' is not a socket address (expected host:port, e.g. 127.0.0.1:8080)"),
            )
        })?;

        let public_url_set = var("GUICHET_PUBLIC_URL").is_some();
        let public_url = match var("GUICHET_PUBLIC_URL") {
            Some(u) => parse_public_url(&u).map_err(|m| err("GUICHET_PUBLIC_URL", m))?,
            None => format!("http://{listen}"),
        };

        let log_filter = var("GUICHET_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| err("GUICHET_LOG", format!("'{log_filter}' is not a log filter: {e}")))?;

        let log_format = match var("GUICHET_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(o) => return Err(err("GUICHET_LOG_FORMAT", format!("'{o}' is not one of text, json"))),
        };

        let pool_size = parse_num::<u32>(&var, "GUICHET_DB_POOL_SIZE", 10, 1, 1000)?;
        let read_pool_size = parse_num::<usize>(&var, "GUICHET_DB_READ_POOL_SIZE", 8, 1, 1000)?;
        let pipeline_size = parse_num::<usize>(&var, "GUICHET_DB_PIPELINE_SIZE", 4, 0, 64)?;
        let workers = match var("GUICHET_WORKERS") {
            None => None,
            Some(_) => Some(parse_num::<usize>(&var, "GUICHET_WORKERS", 0, 1, 256)?),
        };
        let batch_scheduling = on_off(&var, "GUICHET_BATCH_SCHEDULING", true)?;
        let body_limit = parse_num::<usize>(&var, "GUICHET_BODY_LIMIT", 1_048_576, 1024, 1 << 30)?;
        let refresh_ms = parse_num::<u64>(&var, "GUICHET_CATALOGUE_REFRESH_MS", 1000, 50, 2000)?;
        let shutdown_s = parse_num::<u64>(&var, "GUICHET_SHUTDOWN_TIMEOUT", 30, 0, 3600)?;

        let access_ttl = parse_num::<u64>(&var, "GUICHET_ACCESS_TOKEN_TTL", 900, 60, 86_400)?;
        let refresh_ttl = parse_num::<u64>(&var, "GUICHET_REFRESH_TOKEN_TTL", 2_592_000, 300, 31_536_000)?;
        let rate_limit_token_ip = parse_num::<u32>(&var, "GUICHET_RATE_LIMIT_TOKEN_IP", 120, 0, 1_000_000)?;
        let rate_limit_token_account = parse_num::<u32>(&var, "GUICHET_RATE_LIMIT_TOKEN_ACCOUNT", 20, 0, 1_000_000)?;
        let rate_limit_signup_ip = parse_num::<u32>(&var, "GUICHET_RATE_LIMIT_SIGNUP_IP", 20, 0, 1_000_000)?;
        let rate_limit_tracking_ip = parse_num::<u32>(&var, "GUICHET_RATE_LIMIT_TRACKING_IP", 60, 0, 1_000_000)?;
        let reference_prefix = var("GUICHET_REFERENCE_PREFIX").unwrap_or_else(|| "THU".into());
        if !(2..=5).contains(&reference_prefix.len()) || !reference_prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err("GUICHET_REFERENCE_PREFIX", "2 to 5 capital letters A-Z"));
        }
        let documents = match (
            var("GUICHET_DOCUMENTS_URL").filter(|d| !d.trim().is_empty()),
            var("GUICHET_DOCUMENTS_DIR").filter(|d| !d.trim().is_empty()),
        ) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "GUICHET_DOCUMENTS_URL",
                    "set it or GUICHET_DOCUMENTS_DIR (its older name for a directory), not both",
                ))
            }
            (Some(url), None) => {
                crate::storage::StoreConfig::parse(url.trim(), var).map_err(|m| err("GUICHET_DOCUMENTS_URL", m))?
            }
            (None, dir) => crate::storage::StoreConfig::Local(dir.unwrap_or_else(|| "guichet-documents".into()).into()),
        };
        let idp = match (
            var("GUICHET_OIDC_ISSUER"),
            var("GUICHET_OIDC_AUDIENCE"),
            var("GUICHET_OIDC_JWKS"),
        ) {
            (None, None, None) => None,
            (Some(issuer), Some(audience), Some(jwks)) => Some(crate::auth::external::IdpConfig {
                issuer,
                audience,
                jwks: crate::auth::external::JwksSource::parse(&jwks),
            }),
            (None, _, _) => {
                return Err(err(
                    "GUICHET_OIDC_ISSUER",
                    "must be set with GUICHET_OIDC_AUDIENCE and GUICHET_OIDC_JWKS",
                ))
            }
            (_, None, _) => {
                return Err(err(
                    "GUICHET_OIDC_AUDIENCE",
                    "must be set with GUICHET_OIDC_ISSUER and GUICHET_OIDC_JWKS",
                ))
            }
            (_, _, None) => {
                return Err(err(
                    "GUICHET_OIDC_JWKS",
                    "must be set with GUICHET_OIDC_ISSUER and GUICHET_OIDC_AUDIENCE",
                ))
            }
        };
        // RFC 9700: the password grant is on by default only while no external identity
        // provider is configured.
        let password_grant = on_off(&var, "GUICHET_PASSWORD_GRANT", idp.is_none())?;

        let trusted_proxies = networks(&var, "GUICHET_TRUSTED_PROXIES")?;
        let webhook_allowed_networks = networks(&var, "GUICHET_WEBHOOK_ALLOWED_NETWORKS")?;
        let webhook_dns = on_off(&var, "GUICHET_WEBHOOK_DNS", true)?;
        let webhook_busy_rate = match var("GUICHET_WEBHOOK_BUSY_RATE").as_deref() {
            None => Some(100),
            Some("unlimited") => None,
            Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 1).map(Some).ok_or_else(|| {
                err(
                    "GUICHET_WEBHOOK_BUSY_RATE",
                    format!("'{v}' is not a whole number of deliveries per second (at least 1) or 'unlimited'"),
                )
            })?,
        };
        let mut webhook_retry = crate::domain::webhook::RetrySchedule::default();
        if let Some(v) = var("GUICHET_WEBHOOK_RETRY_WAITS") {
            webhook_retry.waits = v
                .split(',')
                .map(|w| crate::domain::webhook::parse_duration(w.trim()))
                .collect::<Option<Vec<_>>>()
                .filter(|w| !w.is_empty())
                .ok_or_else(|| {
                    err(
                        "GUICHET_WEBHOOK_RETRY_WAITS",
                        format!("'{v}' is not a comma-separated list of durations such as 5s,5m,2h"),
                    )
                })?;
        }
        if let Some(v) = var("GUICHET_WEBHOOK_GIVE_UP_AFTER") {
            webhook_retry.give_up_after = crate::domain::webhook::parse_duration(v.trim()).ok_or_else(|| {
                err(
                    "GUICHET_WEBHOOK_GIVE_UP_AFTER",
                    format!("'{v}' is not a duration such as 3d"),
                )
            })?;
        }

        let smtp_url = var("GUICHET_SMTP_URL");
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(err(
                    "GUICHET_SMTP_URL",
                    format!("'{u}' must start with smtp:// or smtps://"),
                ));
            }
        }
        let mail_from = var("GUICHET_MAIL_FROM").unwrap_or_else(|| "guichet <noreply@localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err("GUICHET_MAIL_FROM", format!("'{mail_from}' is not a mail address")));
        }
        let frontend_url = match var("GUICHET_FRONTEND_URL") {
            Some(u) => parse_public_url(&u).map_err(|m| err("GUICHET_FRONTEND_URL", m))?,
            None => public_url.clone(),
        };
        let mail = crate::mail::MailConfig {
            smtp_url,
            from: mail_from,
            frontend_url,
        };

        let cors_origins = match var("GUICHET_CORS_ORIGINS") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| parse_origin(o).map_err(|m| err("GUICHET_CORS_ORIGINS", m)))
                .collect::<Result<_, _>>()?,
        };

        let draft_max_bytes = parse_num::<usize>(&var, "GUICHET_DRAFT_MAX_BYTES", 262_144, 1024, 16 << 20)?;
        let max_open_drafts = parse_num::<i64>(&var, "GUICHET_MAX_OPEN_DRAFTS", 20, 1, 100_000)?;
        let event_retention_days = parse_num::<i64>(&var, "GUICHET_EVENT_RETENTION_DAYS", 90, 1, 3650)?;
        let metrics_listen = match var("GUICHET_METRICS_LISTEN").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) => Some(raw.trim().parse::<SocketAddr>().map_err(|_| {
                err(
                    "GUICHET_METRICS_LISTEN",
                    format!("'{raw}' is not a socket address (expected host:port, e.g. 10.0.0.5:9090)"),
                )
            })?),
        };
        let metrics_token = match var("GUICHET_METRICS_TOKEN").filter(|v| !v.is_empty()) {
            None => None,
            Some(t) if t.len() >= 32 && t.bytes().all(|b| b.is_ascii_graphic()) => Some(t),
            Some(_) => {
                return Err(err(
                    "GUICHET_METRICS_TOKEN",
                    "at least 32 visible ASCII characters (e.g. `openssl rand -hex 32`)",
                ))
            }
        };

        let seed = match var("GUICHET_SEED").as_deref() {
            None | Some("thun") => Seed::Thun,
            Some("none") => Seed::None,
            Some(o) => return Err(err("GUICHET_SEED", format!("'{o}' is not one of thun, none"))),
        };

        Ok(Config {
            database_url,
            listen,
            public_url,
            public_url_set,
            metrics_listen,
            metrics_token,
            draft_max_bytes,
            max_open_drafts,
            event_retention_days,
            log_filter,
            log_format,
            pool_size,
            read_pool_size,
            pipeline_size,
            cors_origins,
            seed,
            workers,
            batch_scheduling,
            body_limit,
            catalogue_refresh: Duration::from_millis(refresh_ms),
            shutdown_timeout: Duration::from_secs(shutdown_s),
            access_token_ttl: Duration::from_secs(access_ttl),
            refresh_token_ttl: Duration::from_secs(refresh_ttl),
            password_grant,
            rate_limit_token_ip,
            rate_limit_token_account,
            rate_limit_signup_ip,
            idp,
            trusted_proxies,
            webhook_allowed_networks,
            webhook_retry,
            webhook_dns,
            webhook_busy_rate,
            mail,
            rate_limit_tracking_ip,
            reference_prefix,
            documents,
        })
    }
}

/// A switch: `on` or `off`, `default` when unset.
fn on_off(var: &impl Fn(&str) -> Option<String>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).as_deref() {
        None => Ok(default),
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(o) => Err(err(name, format!("'{o}' is not one of on, off"))),
    }
}

fn parse_num<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(err(name, format!("'{raw}' is not a whole number from {min} to {max}"))),
        },
    }
}

/// A comma-separated list of IP addresses and CIDR ranges (`name` is the variable's).
fn networks(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(v) = var(name) else { return Ok(Vec::new()) };
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| err(name, format!("'{s}' is not an IP address or CIDR range")))
        })
        .collect()
}

/// The longest base URL guichet is configured with (`GUICHET_PUBLIC_URL`, CORS origins).
pub const PUBLIC_URL_MAX: usize = 500;

fn parse_public_url(raw: &str) -> Result<String, String> {
    let u = raw.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| format!("'{raw}' must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("'{raw}' is not a base URL (no query, fragment or spaces)"));
    }
    // the URLs the API answers (Location, links, hrefs) are documented as at most 2048
    // characters: the base leaves room for the longest path and cursor
    if u.len() > PUBLIC_URL_MAX {
        return Err(format!("'{raw}' is longer than {PUBLIC_URL_MAX} characters"));
    }
    Ok(u.to_string())
}

fn parse_origin(raw: &str) -> Result<String, String> {
    if raw == "*" {
        return Err("'*' is not allowed: list the frontends' origins".into());
    }
    let url = parse_public_url(raw)?;
    let host = url.split_once("://").map(|(_, h)| h).unwrap_or("");
    if host.contains('/') {
        return Err(format!("'{raw}' is not an origin (scheme://host[:port], no path)"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn documents_go_to_a_directory_or_a_bucket() {
        use crate::storage::StoreConfig;
        let local = |p: &str| StoreConfig::Local(p.into());
        assert_eq!(cfg(&[]).unwrap().documents, local("guichet-documents"));
        assert_eq!(
            cfg(&[("GUICHET_DOCUMENTS_DIR", "/srv/d")]).unwrap().documents,
            local("/srv/d")
        );
        assert_eq!(
            cfg(&[("GUICHET_DOCUMENTS_URL", "file:///srv/d")]).unwrap().documents,
            local("/srv/d")
        );
        let s3 = cfg(&[
            ("GUICHET_DOCUMENTS_URL", "s3://thun-documents/prod/"),
            ("AWS_ENDPOINT_URL", "https://sos-ch-gva-2.exo.io"),
            ("AWS_REGION", "ch-gva-2"),
            ("AWS_ACCESS_KEY_ID", "EXO1"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_UNRELATED", "x"),
        ])
        .unwrap()
        .documents;
        let StoreConfig::S3 {
            bucket,
            prefix,
            settings,
        } = s3
        else {
            panic!("an S3 store")
        };
        assert_eq!((bucket.as_str(), prefix.as_str()), ("thun-documents", "prod"));
        let names: Vec<&str> = settings.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "aws_endpoint_url",
                "aws_region",
                "aws_access_key_id",
                "aws_secret_access_key"
            ]
        );
        for (pairs, why) in [
            (
                vec![("GUICHET_DOCUMENTS_URL", "file:///a"), ("GUICHET_DOCUMENTS_DIR", "/b")],
                "not both",
            ),
            (vec![("GUICHET_DOCUMENTS_URL", "file://relative")], "absolute"),
            (vec![("GUICHET_DOCUMENTS_URL", "/srv/d")], "s3://bucket/prefix"),
            (vec![("GUICHET_DOCUMENTS_URL", "s3://Thun_Docs")], "bucket name"),
            (
                vec![
                    ("GUICHET_DOCUMENTS_URL", "s3://docs"),
                    ("AWS_ENDPOINT_URL", "http://10.0.0.5:9000"),
                ],
                "AWS_ALLOW_HTTP",
            ),
        ] {
            let e = cfg(&pairs).unwrap_err();
            assert_eq!(e.var, "GUICHET_DOCUMENTS_URL");
            assert!(e.message.contains(why), "{pairs:?}: {}", e.message);
        }
        let plain = cfg(&[
            ("GUICHET_DOCUMENTS_URL", "s3://docs"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
            ("AWS_ALLOW_HTTP", "true"),
        ]);
        assert!(plain.is_ok());
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, "guichet.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.seed, Seed::Thun);
        assert_eq!(c.webhook_busy_rate, Some(100));
        assert_eq!(
            cfg(&[("GUICHET_WEBHOOK_BUSY_RATE", "unlimited")])
                .unwrap()
                .webhook_busy_rate,
            None
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("GUICHET_LISTEN", "nope"),
            ("GUICHET_DB_POOL_SIZE", "0"),
            ("GUICHET_SEED", "x"),
            ("GUICHET_LOG_FORMAT", "xml"),
            ("GUICHET_PUBLIC_URL", "ftp://x"),
            ("GUICHET_CORS_ORIGINS", "*"),
            ("DATABASE_URL", "mysql://x"),
            ("GUICHET_CATALOGUE_REFRESH_MS", "5000"),
            ("GUICHET_ACCESS_TOKEN_TTL", "10"),
            ("GUICHET_PASSWORD_GRANT", "maybe"),
            ("GUICHET_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("GUICHET_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, intranet"),
            ("GUICHET_WEBHOOK_BUSY_RATE", "0"),
            ("GUICHET_WEBHOOK_BUSY_RATE", "fast"),
        ] {
            let e = cfg(&[(k, v)]).unwrap_err();
            assert_eq!(e.var, k);
            assert!(e.to_string().starts_with(k));
        }
        // the URLs the API answers are documented as at most 2048 characters
        let long = format!("https://{}.example", "a".repeat(PUBLIC_URL_MAX));
        assert_eq!(
            cfg(&[("GUICHET_PUBLIC_URL", &long)]).unwrap_err().var,
            "GUICHET_PUBLIC_URL"
        );
        let fits = format!("https://{}", "a".repeat(PUBLIC_URL_MAX - 8));
        assert_eq!(cfg(&[("GUICHET_PUBLIC_URL", &fits)]).unwrap().public_url, fits);
    }
}
