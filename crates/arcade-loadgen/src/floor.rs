//! What the hello-world floors share with `arcade serve`: a runtime of two worker threads (the
//! machine's cores) and a listener with the same backlog, so that a floor differs from Arcade
//! only in what it does per request.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The address given as the first argument, else `default`.
pub fn address(default: &str) -> anyhow::Result<SocketAddr> {
    Ok(std::env::args()
        .nth(1)
        .unwrap_or_else(|| default.to_owned())
        .parse()?)
}

/// Run `serve` with a listener on `addr` until it returns.
pub fn run<F, Fut>(addr: SocketAddr, serve: F) -> anyhow::Result<()>
where
    F: FnOnce(TcpListener) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            serve(socket.listen(1024)?).await
        })
}
