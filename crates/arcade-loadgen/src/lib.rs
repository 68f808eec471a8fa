//! Instruments that show how fast and how small Arcade is.
//!
//! - [`target`]: the server to load, refused unless it is on the loopback interface;
//! - [`client`]: a small keep-alive HTTP/1.1 client (hyper) that times every request;
//! - [`connection`]: one lean keep-alive HTTP/1.1 connection (requests written as bytes,
//!   answers framed by httparse), for read traffic at tens of thousands of requests per second;
//! - [`stats`]: per-endpoint latency series and their summary (rate, percentiles, errors);
//! - [`procstat`]: a server's RSS and CPU, sampled from `/proc/<pid>/`;
//! - [`players`]: simulated players that start, heartbeat in real time and finish with bot
//!   replays, and the finish burst;
//! - [`reads`]: open-loop read traffic at fixed rates (leaderboards, ranks, pages);
//! - [`sse`]: idle live-leaderboard connections, to measure what each one costs;
//! - [`seed`]: bulk loading of players and scores into PostgreSQL and Redis;
//! - [`floor`]: the runtime and listener the hello-world floors share with the server.

pub mod client;
pub mod connection;
pub mod floor;
pub mod players;
pub mod procstat;
pub mod reads;
pub mod seed;
pub mod sse;
pub mod stats;
pub mod target;
