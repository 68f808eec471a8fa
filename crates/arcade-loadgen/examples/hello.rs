//! The floor Arcade is compared with: an axum "hello world" on the same runtime settings (two
//! worker threads, the same listen backlog). `cargo run --release -p arcade-loadgen
//! --example hello -- 127.0.0.1:18081`.

use axum::Router;
use axum::routing::get;
use tokio::net::TcpSocket;

fn main() -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned())
        .parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            let listener = socket.listen(1024)?;
            let app = Router::new().route("/", get(|| async { "Hello, world!" }));
            axum::serve(listener, app).await?;
            Ok(())
        })
}
