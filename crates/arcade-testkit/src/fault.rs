//! A TCP proxy that tests put between the server and a real backend (PostgreSQL, Redis, NATS)
//! to take the backend away and bring it back: while cut, existing connections are closed and
//! new ones are closed as soon as they are accepted, as if the service had gone; while held,
//! connections stay open but nothing gets through, as if the service had stopped answering.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct FaultProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
    held: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Proxy to `target` (e.g. `127.0.0.1:5432`) from a random local port.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let addr = listener.local_addr().expect("an address");
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (held, _) = watch::channel(false);
        let task = {
            let up = up.clone();
            let cut = cut.clone();
            let held = held.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let mut cut_rx = cut.subscribe();
                    let (up_held, down_held) = (held.subscribe(), held.subscribe());
                    tokio::spawn(async move {
                        let Ok(server) = TcpStream::connect(target).await else {
                            return;
                        };
                        let (client_read, client_write) = client.into_split();
                        let (server_read, server_write) = server.into_split();
                        tokio::select! {
                            () = pump(client_read, server_write, up_held) => {}
                            () = pump(server_read, client_write, down_held) => {}
                            _ = cut_rx.changed() => {}
                        }
                    });
                }
            })
        };
        Self {
            addr,
            up,
            cut,
            held,
            task,
        }
    }

    /// Close every connection and refuse new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    /// Accept connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Keep every connection open but pass nothing on, in either direction.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Pass on again what was held, and what comes next.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// `url` with its host and port replaced by this proxy's (e.g. for a DATABASE_URL).
    pub fn rewrite_url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let (auth, host_and_path) = match rest.rsplit_once('@') {
            Some((auth, tail)) => (format!("{auth}@"), tail),
            None => (String::new(), rest),
        };
        let path = host_and_path.find('/').map_or("", |i| &host_and_path[i..]);
        format!("{scheme}://{auth}{}{path}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// Copy `from` to `to` until either closes; while held, what was read waits.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut held: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if held.wait_for(|h| !*h).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The `host:port` a URL points at.
pub fn target_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, t)| t);
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let host = host.replace("localhost", "127.0.0.1");
    host.parse().expect("a host:port URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_are_rewritten_to_the_proxy() {
        let p = FaultProxy::start("127.0.0.1:5432".parse().unwrap()).await;
        let url = p.rewrite_url("postgres://postgres:pw@127.0.0.1:5432/test");
        assert_eq!(url, format!("postgres://postgres:pw@{}/test", p.addr));
        assert_eq!(
            p.rewrite_url("nats://127.0.0.1:4222"),
            format!("nats://{}", p.addr)
        );
        assert_eq!(
            target_of("redis://localhost:6379/0"),
            "127.0.0.1:6379".parse().unwrap()
        );
    }
}
