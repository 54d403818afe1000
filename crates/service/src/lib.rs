//! The suspense HTTP service (axum) and the library behind the `suspense` command-line tool.
//!
//! Errors of every layer become one JSON shape with the right status in `error.rs`, and one
//! exit code in `cli`; nothing else maps them.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod memory;
pub mod metrics;
pub mod openapi;
pub mod reply;
pub mod routes;
pub mod state;
pub mod telemetry;
