//! `arcade healthcheck`: probe readiness from inside a container that has no shell or curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::config::HealthcheckArgs;

/// The URL to probe: `--url`, or `/health/ready` on the listen address (a wildcard listen
/// address is probed on loopback).
pub fn target(args: &HealthcheckArgs) -> String {
    if let Some(url) = &args.url {
        return url.clone();
    }
    let ip = match args.listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!(
        "http://{}/health/ready",
        SocketAddr::new(ip, args.listen.port())
    )
}

/// `Ok(())` when the server answered 2xx.
pub async fn probe(args: &HealthcheckArgs) -> anyhow::Result<()> {
    let url = target(args);
    let client = reqwest::Client::builder().timeout(args.timeout).build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url} did not answer: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("{url} answered {status}: {body}")
    }
}
