//! The server under load. Load is only ever sent to the loopback interface: a load generator
//! pointed at someone else's server by a typo is an attack, so anything else is refused.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, bail};

/// A loopback `http://` address.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:8080`, without a trailing slash.
    pub base: String,
}

impl Target {
    /// Parse `http://HOST:PORT` where HOST is a loopback IP or `localhost`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .context("the target must be an http:// URL")?;
        let authority = rest.split('/').next().unwrap_or_default();
        if rest.len() > authority.len() + 1 {
            bail!("the target is a server's base URL, without a path: {url}");
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().context("a port number")?),
            None => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::from([127, 0, 0, 1])
        } else {
            host.parse()
                .with_context(|| format!("{host:?} is not an IP address or localhost"))?
        };
        if !ip.is_loopback() {
            bail!("refusing to load {ip}: only loopback targets (127.0.0.0/8, ::1) are allowed");
        }
        let addr = SocketAddr::new(ip, port);
        Ok(Self {
            addr,
            base: format!("http://{addr}"),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert_eq!(
            Target::parse("http://127.0.0.1:8080").unwrap().base,
            "http://127.0.0.1:8080"
        );
        assert!(Target::parse("http://localhost:9").is_ok());
        assert!(Target::parse("http://[::1]:9").is_ok());
        assert!(Target::parse("http://127.3.2.1:9/").is_ok());
        for refused in [
            "http://10.0.0.1:80",
            "http://example.com",
            "https://127.0.0.1:1",
            "http://0.0.0.0:80",
            "http://127.0.0.1:80/api",
        ] {
            assert!(Target::parse(refused).is_err(), "{refused}");
        }
    }
}
