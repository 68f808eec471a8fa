//! The barest floor: hyper's own "hello world", an HTTP/1.1 connection per accepted socket
//! and a service that answers every request with the same 13 bytes, without a router or any
//! middleware, on the same runtime settings as `hello` (two worker threads, the same listen
//! backlog). `cargo run --release -p arcade-loadgen --example hyper_hello -- 127.0.0.1:18085`.

use std::convert::Infallible;

use arcade_loadgen::floor;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

fn main() -> anyhow::Result<()> {
    floor::run(floor::address("127.0.0.1:18085")?, |listener| async move {
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                // A connection that fails ends; the floor serves the others.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    })
}
