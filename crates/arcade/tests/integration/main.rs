//! Integration tests: the real server on a random port, driven over HTTP, plus the storage
//! conformance suite on the embedded adapters. One binary so it links once.

mod admin;
mod backup;
mod bad_input;
mod boards;
mod cli;
mod faults;
mod live;
mod lost_sessions;
mod names;
mod notify;
mod oidc;
mod one_path;
mod operations;
mod past_boards;
mod play;
mod player_data;
mod postgres;
mod redis;
mod replicas;
mod restarts;
mod retention;
mod seasons;
mod storage;
mod traces;
mod windows;
