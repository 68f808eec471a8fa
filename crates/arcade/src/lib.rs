//! The `arcade` binary's library: its configuration, the wiring of concrete adapters for each
//! role, and the process that runs them. The only crate that picks adapters.
//!
//! Modules, each importing only the ones listed after it (no cycles):
//! - [`runtime`]: version, logging and metrics, the shutdown signal, and the run loop that
//!   checks the settings and starts the chosen role → every module below.
//! - [`admin`]: `admin`, the operators' commands on the database → [`app`], [`config`].
//! - [`app`]: `serve` and `migrate`, the server's adapters and lifecycle → [`notify`],
//!   [`config`].
//! - [`notify`]: `notify`, the Discord/Slack worker, and the notifier `serve` embeds without
//!   NATS → [`config`].
//! - [`check_config`]: `check-config ROLE` → [`config`].
//! - [`healthcheck`]: `healthcheck` → [`config`].
//! - [`config`]: every clap struct and the one check that turns them into typed settings;
//!   imports no other module.

pub mod admin;
pub mod app;
pub mod check_config;
pub mod config;
pub mod healthcheck;
pub mod notify;
pub mod runtime;
