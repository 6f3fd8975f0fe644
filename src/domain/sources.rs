//! Who a request comes from, for per-source limits and the audit log: the TCP peer,
//! unless the peer is a proxy the operator named as trusted (HAProxy in front of the
//! nodes), in which case the client is read from `X-Forwarded-For`.
//!
//! The header is read from the right: each trusted proxy appends the address it saw, so
//! the rightmost address that is not itself a trusted proxy is the first one nobody on
//! our side vouches for, and everything left of it may be made up by the client. A
//! header that is missing or malformed at that point leaves the source at the proxy's
//! address (conservative: a forged header can only share the proxy's budget, never
//! borrow another client's).

use std::net::IpAddr;
use std::str::FromStr;

/// Address ranges whose `X-Forwarded-For` is believed; empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Net>);

/// One address range: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    base: IpAddr,
    prefix: u8,
}

impl Net {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(b), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(b) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(b) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses or ranges: `10.0.0.5, 172.16.0.0/12, ::1`.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let base = IpAddr::from_str(addr)
                .map(canonical)
                .map_err(|_| format!("`{item}` is not an IP address or ADDRESS/PREFIX"))?;
            let longest: u8 = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => longest,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= longest)
                    .ok_or_else(|| format!("`{item}`: the prefix must be 0..={longest}"))?,
            };
            nets.push(Net { base, prefix });
        }
        Ok(TrustedProxies(nets))
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address, given the TCP peer and every `X-Forwarded-For` header value
    /// in the order received.
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rev();
        let mut source = peer;
        for hop in hops {
            match IpAddr::from_str(hop).map(canonical) {
                Ok(ip) if self.trusts(ip) => source = ip,
                Ok(ip) => return Some(ip),
                // Garbage where an address should be: stop at the last address we trust.
                Err(_) => return Some(source),
            }
        }
        Some(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(IpAddr::from_str(s).unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let t = TrustedProxies::default();
        assert_eq!(t.client(ip("10.0.0.5"), &["1.2.3.4"]), ip("10.0.0.5"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_forged_hops_are_skipped() {
        let t: TrustedProxies = "10.0.0.0/8, ::1".parse().unwrap();
        assert_eq!(
            t.client(ip("10.0.0.5"), &["203.0.113.7"]),
            ip("203.0.113.7")
        );
        // The client wrote "1.1.1.1" itself; the proxy appended what it saw.
        assert_eq!(
            t.client(ip("10.0.0.5"), &["1.1.1.1, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Two proxies of ours in a row, header given twice.
        assert_eq!(
            t.client(ip("::1"), &["198.51.100.2", "10.1.2.3"]),
            ip("198.51.100.2")
        );
        // IPv4 through an IPv6 socket.
        assert_eq!(
            t.client(ip("::ffff:10.0.0.5"), &["198.51.100.2"]),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn a_missing_or_garbled_header_leaves_the_proxy() {
        let t: TrustedProxies = "10.0.0.5".parse().unwrap();
        assert_eq!(t.client(ip("10.0.0.5"), &[]), ip("10.0.0.5"));
        assert_eq!(t.client(ip("10.0.0.5"), &["unknown"]), ip("10.0.0.5"));
        assert_eq!(
            t.client(ip("10.0.0.5"), &["1.2.3.4, garbage"]),
            ip("10.0.0.5")
        );
        assert_eq!(t.client(ip("10.0.0.6"), &["1.2.3.4"]), ip("10.0.0.6"));
    }

    #[test]
    fn ranges_are_parsed_strictly() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("10.0.0.0/x".parse::<TrustedProxies>().is_err());
        assert!("localhost".parse::<TrustedProxies>().is_err());
        let all: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert!(all.trusts(IpAddr::from_str("8.8.8.8").unwrap()));
        assert!(!all.trusts(IpAddr::from_str("2001:db8::1").unwrap()));
        let v6: TrustedProxies = "2001:db8::/32".parse().unwrap();
        assert!(v6.trusts(IpAddr::from_str("2001:db8:1::9").unwrap()));
        assert!(!v6.trusts(IpAddr::from_str("2001:db9::1").unwrap()));
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
    }
}
