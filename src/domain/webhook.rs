//! Where webhooks may be delivered: the rules that keep guichet from being turned against the
//! networks it runs in (SSRF). No I/O here: the caller resolves the host and checks every
//! address it got, at registration and again before each delivery (so that a name that
//! resolves elsewhere later, DNS rebinding, is caught).
//!
//! An address is deliverable when it is globally reachable, or when it lies in the networks
//! the operator allows (`GUICHET_WEBHOOK_ALLOWED_NETWORKS`: a city's own systems may sit on
//! private addresses). The special-purpose ranges are those of the IANA IPv4 and IPv6
//! Special-Purpose Address Registries (RFC 6890 and its updates) that are not globally
//! reachable, plus multicast and the IPv4 broadcast address.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::domain::FieldError;
use crate::msg;

/// Why an address may not receive webhooks: the special-purpose range it lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialRange(pub &'static str);

const V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\" (RFC 791)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link-local (RFC 3927)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation (RFC 5737)"),
    ("192.31.196.0/24", "AS112-v4 (RFC 7535)"),
    ("192.52.193.0/24", "AMT (RFC 7450)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("192.175.48.0/24", "direct delegation AS112 service (RFC 7534)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation (RFC 5737)"),
    ("203.0.113.0/24", "documentation (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    ("240.0.0.0/4", "reserved (RFC 1112)"),
];

const V6: &[(&str, &str)] = &[
    ("::/128", "unspecified (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    ("::/96", "IPv4-compatible, deprecated (RFC 4291)"),
    ("::ffff:0:0:0/96", "IPv4-translated (RFC 2765)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001::/23", "IETF protocol assignments (RFC 2928)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "segment routing SIDs (RFC 9602)"),
    ("fc00::/7", "unique-local (RFC 4193)"),
    ("fe80::/10", "link-local (RFC 4291)"),
    ("fec0::/10", "site-local, deprecated (RFC 3879)"),
    ("ff00::/8", "multicast (RFC 4291)"),
];

fn in_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    if ip == Ipv4Addr::BROADCAST {
        return Some(SpecialRange("limited broadcast (RFC 919)"));
    }
    V4.iter()
        .find(|(net, _)| net.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&ip)))
        .map(|(_, why)| SpecialRange(why))
}

/// The IPv4 address an IPv6 address carries where the IPv4 address is what is reached: mapped
/// (`::ffff:a.b.c.d`), NAT64's well-known prefix (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// The special-purpose range `ip` lies in, or `None` for a globally reachable address.
pub fn special_range(ip: IpAddr) -> Option<SpecialRange> {
    match ip {
        IpAddr::V4(v4) => in_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return in_v4(v4);
            }
            V6.iter()
                .find(|(net, _)| net.parse::<Ipv6Net>().is_ok_and(|n| n.contains(&v6)))
                .map(|(_, why)| SpecialRange(why))
        }
    }
}

/// Whether webhooks may go to `ip`: a globally reachable address, or one in `allowed`.
pub fn deliverable(ip: IpAddr, allowed: &[IpNet]) -> Result<(), SpecialRange> {
    let ip = match ip {
        // an IPv4-mapped address is the IPv4 address, also for the allowed networks
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if allowed.iter().any(|n| n.contains(&ip)) {
        return Ok(());
    }
    special_range(ip).map_or(Ok(()), Err)
}

/// Whether plain `http` may be used for `ip`: only inside the allowed networks (a city's own
/// systems); everything else is `https`.
pub fn plain_http_allowed(ip: IpAddr, allowed: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    allowed.iter().any(|n| n.contains(&ip))
}

/// Who a webhook endpoint belongs to: an organisation, a department or the administrators,
/// never a person, so that it keeps delivering when someone leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Organisation(uuid::Uuid),
    Department(uuid::Uuid),
    Administrators,
}

impl Owner {
    /// From the endpoint's two owner columns (neither set: the administrators').
    pub fn of(organisation: Option<uuid::Uuid>, department: Option<uuid::Uuid>) -> Owner {
        match (organisation, department) {
            (Some(o), _) => Owner::Organisation(o),
            (None, Some(d)) => Owner::Department(d),
            (None, None) => Owner::Administrators,
        }
    }

    /// Whether the owner sees what the city's side sees (internal notes, assignments).
    pub fn is_staff(self) -> bool {
        !matches!(self, Owner::Organisation(_))
    }
}

crate::domain::stored_text! {
    /// Where a delivery stands.
    pub enum DeliveryState {
        /// Behind an earlier event of the same application, which goes first.
        Waiting = "waiting",
        /// Waiting for its (next) attempt.
        Pending = "pending",
        /// A receiver answered 2xx.
        Delivered = "delivered",
        /// Not sent: a ping that failed, an event its endpoint's owner no longer sees.
        Failed = "failed",
    }
}

/// The longest URL of an endpoint.
pub const URL_MAX: usize = 2048;
/// The most event types one endpoint subscribes to (each at most once).
pub const EVENT_TYPES_MAX: usize = 16;
/// The longest description.
pub const DESCRIPTION_MAX: usize = 500;
/// The most endpoints one owner has.
pub const ENDPOINTS_MAX: usize = 20;
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// How much of a receiver's answer is kept in the delivery log.
pub const RESPONSE_KEPT: usize = 1024;
/// How much of a receiver's answer is read at all.
pub const RESPONSE_READ_MAX: usize = 64 * 1024;

/// A checked endpoint URL: `https` (or `http`, which the caller allows only for addresses in
/// the operator's networks), with a host, without credentials or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    pub url: url::Url,
}

impl EndpointUrl {
    pub fn parse(pointer: &str, s: &str) -> Result<EndpointUrl, FieldError> {
        let bad = |code: &str, detail| FieldError::new(pointer, code, detail);
        if s.len() > URL_MAX {
            return Err(bad("length", msg!("at most {max} characters", max = URL_MAX)));
        }
        let url = url::Url::parse(s).map_err(|_| bad("format", msg!("an absolute https URL")))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(bad("format", msg!("an absolute https URL")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials",
                msg!("no user name or password in the URL: deliveries are signed instead"),
            ));
        }
        if url.fragment().is_some() {
            return Err(bad("format", msg!("no fragment (#...) in the URL")));
        }
        Ok(EndpointUrl { url })
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

/// The event types an endpoint subscribes to: known types, each once; empty means all.
pub fn event_types(pointer: &str, types: &[String]) -> Result<Vec<String>, FieldError> {
    if types.len() > EVENT_TYPES_MAX {
        return Err(FieldError::new(
            pointer,
            "length",
            msg!("at most {max} event types", max = EVENT_TYPES_MAX),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        if !crate::domain::event::is_type(t) {
            return Err(FieldError::new(
                format!("{pointer}/{i}"),
                "enum",
                msg!(
                    "event types are {types}",
                    types = crate::domain::event::ALL_TYPES.join(", ")
                ),
            ));
        }
        if out.contains(t) {
            return Err(FieldError::new(
                format!("{pointer}/{i}"),
                "unique",
                msg!("listed twice"),
            ));
        }
        out.push(t.clone());
    }
    Ok(out)
}

/// A signing secret as Standard Webhooks writes it: `whsec_` and the base64 of its key.
pub fn secret_text(key: &[u8]) -> String {
    use base64::Engine;
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// The key of a `whsec_` secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_")?)
        .ok()
}

/// One signature of Standard Webhooks: `v1,` and the base64 of HMAC-SHA256 over
/// `id.timestamp.body` with the secret's key.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let key = secret_key(secret)?;
    let mut mac = hmac::Hmac::<sha2_011::Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A duration as an operator writes it: a whole number and `s`, `m`, `h` or `d` (at least
/// one second, at most 30 days).
pub fn parse_duration(s: &str) -> Option<chrono::Duration> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let d = match unit {
        's' => chrono::Duration::seconds(n),
        'm' => chrono::Duration::minutes(n),
        'h' => chrono::Duration::hours(n),
        'd' => chrono::Duration::days(n),
        _ => return None,
    };
    (d >= chrono::Duration::seconds(1) && d <= chrono::Duration::days(30)).then_some(d)
}

/// The retry schedule: the wait after each failed attempt (the last one repeats), and how long
/// after its first attempt a delivery is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    pub waits: Vec<chrono::Duration>,
    pub give_up_after: chrono::Duration,
}

impl Default for RetrySchedule {
    /// About 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h, for 3 days.
    fn default() -> Self {
        use chrono::Duration as D;
        RetrySchedule {
            waits: vec![
                D::seconds(5),
                D::minutes(5),
                D::minutes(30),
                D::hours(2),
                D::hours(5),
                D::hours(10),
            ],
            give_up_after: D::days(3),
        }
    }
}

impl RetrySchedule {
    /// When to try again after `failed` failed attempts of a delivery first due at `first`,
    /// from `now`, spread by `jitter` (-1 to 1: up to a tenth of the wait either way, so that
    /// the deliveries of one outage do not all come back at once); `None` once it is given up.
    /// The last attempt is made at the give-up time itself.
    pub fn next(
        &self,
        failed: u32,
        first: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
        jitter: f64,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let end = first + self.give_up_after;
        if now >= end || self.waits.is_empty() {
            return None;
        }
        let i = (failed.max(1) as usize - 1).min(self.waits.len() - 1);
        let wait = self.waits[i];
        let spread = wait.num_milliseconds() as f64 * 0.1 * jitter.clamp(-1.0, 1.0);
        let at = now + wait + chrono::Duration::milliseconds(spread as i64);
        Some(at.min(end))
    }
}

/// How a dispatcher that yields to requests keeps to `rate` deliveries per second: deliveries
/// per turn and the length of a turn (a tenth of the rate every 100 ms; below 10/s one
/// delivery per turn of 1/rate seconds).
pub fn busy_pace(rate: u32) -> (usize, std::time::Duration) {
    let rate = rate.max(1);
    if rate >= 10 {
        ((rate / 10) as usize, std::time::Duration::from_millis(100))
    } else {
        (1, std::time::Duration::from_millis(1000_u64.div_ceil(u64::from(rate))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Every special-purpose range is refused, at its first and last address, and the
    /// addresses just outside the private ranges are not.
    #[test]
    fn every_special_range_is_refused_at_both_ends() {
        for (net, _) in V4 {
            let n: Ipv4Net = net.parse().unwrap();
            for a in [n.network(), n.broadcast()] {
                assert!(special_range(IpAddr::V4(a)).is_some(), "{a} in {net}");
            }
        }
        for (net, _) in V6 {
            let n: Ipv6Net = net.parse().unwrap();
            for a in [n.network(), n.broadcast()] {
                let refused = special_range(IpAddr::V6(a)).is_some();
                // ::/96's last address is an IPv4-compatible 255.255.255.255, refused as well
                assert!(refused, "{a} in {net}");
            }
        }
        for outside in [
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(special_range(ip(outside)), None, "{outside}");
        }
    }

    #[test]
    fn the_usual_suspects() {
        for (addr, why) in [
            ("127.0.0.1", "loopback"),
            ("127.0.0.2", "loopback"),
            ("10.1.2.3", "private"),
            ("192.168.1.1", "private"),
            ("172.20.0.1", "private"),
            ("169.254.169.254", "link-local"), // a cloud's metadata service
            ("0.0.0.0", "this network"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("100.100.100.200", "shared"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("fd00:ec2::254", "unique-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:7f00:1::", "loopback"),
            ("2002:a00:1::", "private"),
            ("2001:db8::1", "documentation"),
        ] {
            let got = special_range(ip(addr)).map(|r| r.0);
            assert!(got.is_some_and(|r| r.contains(why)), "{addr}: {got:?}");
        }
        for global in [
            "8.8.8.8",
            "193.5.216.14",
            "2a02:168:6c1e::1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert_eq!(special_range(ip(global)), None, "{global}");
        }
    }

    /// The operator's allowed networks open exactly themselves: allowing 127.0.0.1/32 does not
    /// open 127.0.0.2, and plain http is only for addresses inside them.
    #[test]
    fn allowed_networks_open_exactly_themselves() {
        let allowed: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap(), "10.20.0.0/16".parse().unwrap()];
        assert_eq!(deliverable(ip("127.0.0.1"), &allowed), Ok(()));
        assert_eq!(deliverable(ip("::ffff:127.0.0.1"), &allowed), Ok(()));
        assert!(deliverable(ip("127.0.0.2"), &allowed).is_err());
        assert_eq!(deliverable(ip("10.20.5.5"), &allowed), Ok(()));
        assert!(deliverable(ip("10.21.0.1"), &allowed).is_err());
        assert_eq!(deliverable(ip("8.8.8.8"), &allowed), Ok(()));
        assert!(deliverable(ip("127.0.0.1"), &[]).is_err());
        assert!(plain_http_allowed(ip("10.20.1.1"), &allowed));
        assert!(!plain_http_allowed(ip("8.8.8.8"), &allowed));
    }

    /// The example of the Standard Webhooks specification (and of its reference libraries).
    #[test]
    fn signatures_are_those_of_the_standard() {
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        assert_eq!(signature("not a secret", "id", 1, b""), None);
        let key = [7u8; 32];
        assert_eq!(secret_key(&secret_text(&key)).as_deref(), Some(&key[..]));
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_end_at_the_give_up_time() {
        use chrono::{Duration as D, TimeZone, Utc};
        let s = RetrySchedule::default();
        let first = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        assert_eq!(s.next(1, first, first, 0.0), Some(first + D::seconds(5)));
        assert_eq!(s.next(2, first, first, 0.0), Some(first + D::minutes(5)));
        assert_eq!(s.next(6, first, first, 0.0), Some(first + D::hours(10)));
        assert_eq!(
            s.next(40, first, first, 0.0),
            Some(first + D::hours(10)),
            "the last wait repeats"
        );
        assert_eq!(
            s.next(2, first, first, 1.0),
            Some(first + D::seconds(330)),
            "up to a tenth more"
        );
        assert_eq!(s.next(2, first, first, -1.0), Some(first + D::seconds(270)));
        let late = first + D::days(3) - D::hours(1);
        assert_eq!(
            s.next(9, first, late, 0.0),
            Some(first + D::days(3)),
            "the last attempt at the end"
        );
        assert_eq!(s.next(10, first, first + D::days(3), 0.0), None);
        assert_eq!(parse_duration("5s"), Some(D::seconds(5)));
        assert_eq!(parse_duration("3d"), Some(D::days(3)));
        for bad in ["", "5", "0s", "31d", "5w", "-5s", "5 s", "é"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn endpoint_urls_are_absolute_https_or_http_without_credentials() {
        assert!(EndpointUrl::parse("/url", "https://partner.example/hook?x=1")
            .unwrap()
            .is_https());
        assert!(!EndpointUrl::parse("/url", "http://10.0.0.1:8080/").unwrap().is_https());
        for (bad, code) in [
            ("partner.example/hook", "format"),
            ("ftp://partner.example/", "format"),
            ("https://u:p@partner.example/", "credentials"),
            ("https://partner.example/#x", "format"),
            ("mailto:a@b.ch", "format"),
        ] {
            assert_eq!(EndpointUrl::parse("/url", bad).unwrap_err().code, code, "{bad}");
        }
        let long = format!("https://partner.example/{}", "a".repeat(URL_MAX));
        assert_eq!(EndpointUrl::parse("/url", &long).unwrap_err().code, "length");
        let types = |t: &[&str]| event_types("/t", &t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(types(&["application.submitted", "webhook_endpoint.disabled"]).is_ok());
        assert_eq!(
            types(&["application.submitted", "application.submitted"])
                .unwrap_err()
                .pointer,
            "/t/1"
        );
        assert_eq!(types(&["ping"]).unwrap_err().code, "enum");
    }

    #[test]
    fn the_busy_pace_keeps_to_the_rate() {
        use std::time::Duration;
        for rate in [1u32, 3, 9, 10, 99, 100, 1_000, 123_456] {
            let (n, turn) = busy_pace(rate);
            let per_second = n as f64 / turn.as_secs_f64();
            assert!(n >= 1 && turn >= Duration::from_millis(100), "{rate}: {n} per {turn:?}");
            assert!(per_second <= f64::from(rate) * 1.001, "{rate}: {per_second}/s");
            assert!(per_second >= f64::from(rate) * 0.9 - 1.0, "{rate}: {per_second}/s");
        }
        assert_eq!(busy_pace(0), busy_pace(1));
    }
}
