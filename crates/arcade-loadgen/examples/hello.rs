//! The floor Arcade is compared with: an axum "hello world" on the same runtime settings (two
//! worker threads, the same listen backlog). `cargo run --release -p arcade-loadgen
//! --example hello -- 127.0.0.1:18081`.

use arcade_loadgen::floor;
use axum::Router;
use axum::routing::get;

fn main() -> anyhow::Result<()> {
    floor::run(floor::address("127.0.0.1:18081")?, |listener| async {
        let app = Router::new().route("/", get(|| async { "Hello, world!" }));
        axum::serve(listener, app).await?;
        Ok(())
    })
}
