//! The client's address behind proxies: the right-most `X-Forwarded-For` address that is not
//! one of the configured trusted proxies. Proxies append what they saw, so everything left of
//! the first untrusted hop may have been written by the client itself.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client's address, given the socket peer, the `X-Forwarded-For` values in the order
/// they came (several headers count as one list) and the trusted proxies. A peer that is not
/// a trusted proxy is the client, whatever the header says.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rev().flat_map(|v| v.rsplit(',')) {
        let Some(ip) = parse_hop(hop.trim()) else {
            // What a client wrote cannot be told from what a proxy wrote past a garbled hop:
            // stop at the last address a trusted proxy vouched for.
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

/// One hop: an address, possibly with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let got = client_ip(ip("198.51.100.1"), ["203.0.113.7"].into_iter(), &[]);
        assert_eq!(got, ip("198.51.100.1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(ip("198.51.100.1"), ["203.0.113.7"].into_iter(), &trusted);
        assert_eq!(got, ip("198.51.100.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.0/24"]);
        // The client wrote 1.2.3.4 itself; the load balancer (192.0.2.5) appended the
        // address it saw, and the ingress (10.1.1.1) appended the balancer's.
        let got = client_ip(
            ip("10.1.1.1"),
            ["1.2.3.4, 203.0.113.7, 192.0.2.5"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.7"));
        // Several headers are one list, in order.
        let got = client_ip(
            ip("10.1.1.1"),
            ["1.2.3.4", "203.0.113.7", "192.0.2.5"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn hops_with_ports_and_ipv6_are_read() {
        let trusted = nets(&["10.0.0.0/8", "fd00::/8"]);
        let got = client_ip(ip("fd00::1"), ["[2001:db8::7]:4711"].into_iter(), &trusted);
        assert_eq!(got, ip("2001:db8::7"));
        let got = client_ip(ip("10.0.0.2"), ["203.0.113.7:4711"].into_iter(), &trusted);
        assert_eq!(got, ip("203.0.113.7"));
        // An IPv4 peer seen as IPv4-mapped IPv6 is still the trusted proxy.
        let got = client_ip(ip("::ffff:10.0.0.2"), ["203.0.113.7"].into_iter(), &trusted);
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn a_chain_of_trusted_hops_or_a_garbled_hop_stops_at_the_last_vouched_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(ip("10.0.0.2"), ["10.0.0.9, 10.0.0.8"].into_iter(), &trusted);
        assert_eq!(got, ip("10.0.0.9"));
        let got = client_ip(
            ip("10.0.0.2"),
            ["203.0.113.7, junk, 10.0.0.8"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("10.0.0.8"));
        let got = client_ip(ip("10.0.0.2"), std::iter::empty(), &trusted);
        assert_eq!(got, ip("10.0.0.2"));
    }
}
