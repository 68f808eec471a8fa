//! One keep-alive HTTP/1.1 connection, driven by the task that sends on it. A pooled client
//! runs each connection as a task of its own and hands it every request over a channel, which
//! costs a cross-task wake per request in each direction; here the request and the
//! connection's I/O are polled together, so one request costs little more than its syscalls.

use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What browsers put in `Accept-Encoding`.
pub const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

type Driver = http1::Connection<TokioIo<TcpStream>, Empty<Bytes>>;

pub struct Connection {
    sender: SendRequest<Empty<Bytes>>,
    driver: Pin<Box<Driver>>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> Result<Self, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("setting TCP_NODELAY: {e}"))?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
        Ok(Self {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// GET `path` with these `Accept-Encoding` codings and read the whole body (dropping
    /// it). After an `Err` the connection is in an unknown state: drop it.
    pub async fn get(
        &mut self,
        host: &str,
        path: &str,
        accept_encoding: &'static str,
    ) -> Result<StatusCode, String> {
        let request = Request::get(path)
            .header(header::HOST, host)
            .header(header::ACCEPT_ENCODING, accept_encoding)
            .body(Empty::new())
            .map_err(|e| format!("bad request: {e}"))?;
        let Self { sender, driver } = self;
        let exchange = async {
            sender.ready().await.map_err(|e| e.to_string())?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                frame.map_err(|e| format!("reading the body: {e}"))?;
            }
            Ok(status)
        };
        tokio::select! {
            // The request first, so that it is queued before the driver writes.
            biased;
            answer = exchange => answer,
            ended = driver.as_mut() => Err(match ended {
                Ok(()) => "the server closed the connection".to_owned(),
                Err(e) => format!("connection: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::ConnectInfo;
    use axum::http::HeaderMap;
    use axum::routing::get;

    #[tokio::test]
    async fn requests_reuse_one_connection_and_carry_host_and_codings() {
        let peers = Arc::new(Mutex::new(HashSet::new()));
        let seen = peers.clone();
        let app = Router::new().route(
            "/echo",
            get(
                move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap| async move {
                    seen.lock().unwrap().insert(peer);
                    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
                    let codings = headers.get(header::ACCEPT_ENCODING);
                    if host.is_some_and(|h| h.starts_with("127.0.0.1:"))
                        && codings.is_some_and(|c| c == "br, gzip")
                    {
                        StatusCode::OK
                    } else {
                        StatusCode::BAD_REQUEST
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });

        let mut connection = Connection::open(addr).await.unwrap();
        let host = addr.to_string();
        for _ in 0..3 {
            let status = connection.get(&host, "/echo", "br, gzip").await.unwrap();
            assert_eq!(status, StatusCode::OK);
        }
        let status = connection.get(&host, "/missing", "br").await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            peers.lock().unwrap().len(),
            1,
            "one connection for every request"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_says_where_it_was_refused() {
        // Bind then drop, so that the port is very likely free and refuses.
        let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let Err(e) = Connection::open(addr).await else {
            panic!("connected to a closed port");
        };
        assert!(e.contains(&addr.to_string()), "{e}");
    }
}
