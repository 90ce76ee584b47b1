//! The SSRF guard: rapport fetches URLs that come from prospects' profiles and
//! from feeds, so it must never be steered into the operator's own network.
//!
//! Only http and https are fetched, and no destination address may lie in a
//! block of IANA's IPv4 or IPv6 Special-Purpose Address Registry (loopback,
//! private, shared, link-local, unique-local, documentation, benchmarking,
//! protocol assignments, deprecated relays, reserved...), nor be multicast or
//! broadcast. An IPv6 address that carries an IPv4 one (IPv4-mapped,
//! IPv4-compatible, IPv4-translated, NAT64's 64:ff9b::/96, 6to4) is judged by
//! the IPv4 address it carries. The check runs on IP literals in URLs here,
//! and on every address a host name resolves to in the client's resolver, so
//! the address connected to is the address checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("'{0}' is not an http or https URL; rapport fetches only web addresses")]
    Scheme(String),
    #[error("'{url}' points at {address}, a private or special-purpose address; rapport fetches only public addresses (set [fetch] allow_private_networks = true for intranets and tests)")]
    Private { url: String, address: IpAddr },
    #[error("'{0}' has no host")]
    NoHost(String),
}

/// Checks what can be checked before any connection: the scheme, and the
/// host when it is an IP literal (in any of the spellings URLs allow:
/// `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]` all parse to addresses).
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), GuardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(GuardError::Scheme(url.to_string()));
    }
    let address = match url.host() {
        None => return Err(GuardError::NoHost(url.to_string())),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    if allow_private || is_public(address) {
        Ok(())
    } else {
        Err(GuardError::Private {
            url: url.to_string(),
            address,
        })
    }
}

/// Whether an address is an ordinary public unicast address.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates),
/// every block, plus multicast (224.0.0.0/4) from the address space registry.
/// Blocks the registry marks globally reachable (AS112, AMT, PCP and TURN
/// anycast) are refused too: no feed lives there.
pub const SPECIAL_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\""),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private-use"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared address space (CGNAT)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private-use"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation (TEST-NET-1)"),
    (Ipv4Addr::new(192, 31, 196, 0), 24, "AS112-v4"),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "deprecated 6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private-use"),
    (Ipv4Addr::new(192, 175, 48, 0), 24, "direct delegation AS112 service"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation (TEST-NET-2)"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation (TEST-NET-3)"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "limited broadcast"),
];

/// IANA IPv6 Special-Purpose Address Registry, every block except those that
/// carry an IPv4 address (judged by it: see `embedded_v4`), plus multicast,
/// deprecated site-local and the IPv4-translated form (RFC 2765).
pub const SPECIAL_V6: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, "unspecified"),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, "loopback"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local-use IPv4/IPv6 translation",
    ),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard-only"),
    (Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0), 64, "dummy IPv6 prefix"),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments (Teredo, benchmarking, ORCHID...)",
    ),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation"),
    (
        Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0),
        48,
        "direct delegation AS112 service",
    ),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation"),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing (SRv6) SIDs",
    ),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique local"),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link local"),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site local (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

fn in_block_v4(ip: Ipv4Addr, (base, len, _): &(Ipv4Addr, u8, &str)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(*base) & mask
}

fn in_block_v6(ip: Ipv6Addr, (base, len, _): &(Ipv6Addr, u8, &str)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(*base) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !SPECIAL_V4.iter().any(|block| in_block_v4(ip, block))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !SPECIAL_V6.iter().any(|block| in_block_v6(ip, block))
}

/// The IPv4 address carried inside an IPv6 one: mapped (::ffff:a.b.c.d),
/// translated (::ffff:0:a.b.c.d), compatible (::a.b.c.d), NAT64
/// (64:ff9b::/96) and 6to4 (2002::/16).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(from(hi, lo)),
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(from(hi, lo)),
        // ::/128 and ::1 are judged as themselves.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Some(from(hi, lo)),
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        check_url(&Url::parse(url).unwrap(), false).is_err()
    }

    #[test]
    fn the_ssrf_matrix_is_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b:1:5db8:d822::]/",
            "http://[64:ff9b:1::a00:1]/",
            "http://224.0.0.1/",
            "file:///etc/passwd",
            "ftp://example.com/",
            "gopher://example.com/",
        ] {
            assert!(refused(url), "{url} was allowed");
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        for url in [
            "https://github.com/jane.atom",
            "http://93.184.216.34/",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
            "http://[2002:5db8:d822::]/",
        ] {
            assert!(!refused(url), "{url} was refused");
        }
    }

    #[test]
    fn the_switch_allows_private_networks_but_not_other_schemes() {
        assert!(check_url(&Url::parse("http://127.0.0.1:8080/").unwrap(), true).is_ok());
        assert!(check_url(&Url::parse("file:///etc/passwd").unwrap(), true).is_err());
    }

    /// Every block of both registries: its first and last address are
    /// refused, in every spelling that carries an IPv4 address too.
    #[test]
    fn every_special_purpose_block_is_refused() {
        for block @ (base, len, name) in SPECIAL_V4 {
            let first = u32::from(*base);
            let last = first | u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for ip in [first, last].map(Ipv4Addr::from) {
                assert!(in_block_v4(ip, block));
                let forms = [
                    IpAddr::V4(ip),
                    IpAddr::V6(ip.to_ipv6_mapped()),
                    IpAddr::V6(Ipv6Addr::from((0xffffu128 << 32) | u128::from(u32::from(ip)))),
                    IpAddr::V6(Ipv6Addr::from((0x64_ff9bu128 << 96) | u128::from(u32::from(ip)))),
                    IpAddr::V6(Ipv6Addr::from((0x2002u128 << 112) | (u128::from(u32::from(ip)) << 80))),
                ];
                for form in forms {
                    assert!(!is_public(form), "{form} ({name}) was allowed");
                }
            }
        }
        for block @ (base, len, name) in SPECIAL_V6 {
            let first = u128::from(*base);
            let last = first | u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            for ip in [first, last].map(Ipv6Addr::from) {
                assert!(in_block_v6(ip, block));
                assert!(!is_public(IpAddr::V6(ip)), "{ip} ({name}) was allowed");
            }
        }
        // The forms a review found passing.
        for text in [
            "::ffff:0:7f00:1",
            "192.88.99.1",
            "2001:2::1",
            "2001:20::1",
            "3fff::1",
            "5f00::1",
        ] {
            assert!(!is_public(text.parse().unwrap()), "{text} was allowed");
        }
    }

    #[test]
    fn neighbours_of_special_blocks_are_public() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "192.0.1.0",
            "192.88.98.255",
            "192.88.100.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2a00:1450:4001:81b::200e",
            "2001:200::1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(text.parse().unwrap()), "{text} was refused");
        }
    }

    #[test]
    fn teredo_and_compatible_forms_unwrap() {
        assert!(!is_public("2001:0:4136:e378:8000:63bf:80ff:fffe".parse().unwrap())); // Teredo client 127.0.0.1
        assert!(!is_public("::ffff:10.1.2.3".parse().unwrap()));
        assert!(is_public("2a00:1450:4001:81b::200e".parse().unwrap()));
    }
}
