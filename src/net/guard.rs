//! The SSRF guard: rapport fetches URLs that come from prospects' profiles and
//! from feeds, so it must never be steered into the operator's own network.
//!
//! Only http and https are fetched, and no destination address may be
//! loopback, private, link-local, unique-local, CGNAT, multicast, broadcast,
//! documentation, benchmarking, reserved or unspecified — nor an IPv4-mapped,
//! IPv4-compatible, 6to4, Teredo or NAT64 form of one. The check runs on IP
//! literals in URLs here, and on every address a host name resolves to in the
//! client's resolver, so the address connected to is the address checked.

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

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240; // reserved, and broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site local (deprecated) fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]); // discard 100::/64
    !special
}

/// The IPv4 address carried inside an IPv6 one: mapped (::ffff:a.b.c.d),
/// compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and 64:ff9b:1::/48), 6to4
/// (2002::/16) and Teredo (2001::/32, client address inverted).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Some(from(hi, lo)),
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        // Local-use NAT64 (64:ff9b:1::/48) may put the IPv4 address anywhere:
        // report it as unspecified so the whole prefix is refused.
        [0x0064, 0xff9b, 1, ..] => Some(Ipv4Addr::UNSPECIFIED),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        [0x2001, 0, _, _, _, _, hi, lo] => Some(from(!hi, !lo)),
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

    #[test]
    fn teredo_and_compatible_forms_unwrap() {
        assert!(!is_public("2001:0:4136:e378:8000:63bf:80ff:fffe".parse().unwrap())); // Teredo client 127.0.0.1
        assert!(!is_public("::ffff:10.1.2.3".parse().unwrap()));
        assert!(is_public("2a00:1450:4001:81b::200e".parse().unwrap()));
    }
}
