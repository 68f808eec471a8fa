//! Who a per-client limit counts: an IPv4 address, or an IPv6 client's /64 (a host picks any
//! address in its subscriber's prefix, so one address per request would be no limit at all).

use std::net::{IpAddr, Ipv6Addr};

/// The key a client's allowance is kept under.
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_clients_are_counted_by_address() {
        assert_eq!(client_key("203.0.113.7".parse().unwrap()), "203.0.113.7");
        // An IPv4 client seen through a dual-stack socket is the same client.
        assert_eq!(
            client_key("::ffff:203.0.113.7".parse().unwrap()),
            "203.0.113.7"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_prefix() {
        let a = client_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = client_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let other = client_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
