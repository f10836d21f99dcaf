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
    allowed.iter().any(|n| n.contains(&ip))
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
}
