//! Mechanisms that make the log fast without changing what it does, each measured
//! (docs/performance.md) and private to the crate:
//!
//! - `copy_out`: PostgreSQL pages read as binary `COPY` streams instead of rows;
//! - `lanes`: connections kept checked out for the command path's statements;
//! - `turns`: one command at a time per item within the process;
//! - `sqlite_time`: SQLite's text times read exactly as sqlx reads them, without sqlx.

pub(crate) mod copy_out;
pub(crate) mod lanes;
pub(crate) mod sqlite_time;
pub(crate) mod turns;
