//! The one database the suspense log and its read models share: an SQLite file (the embedded
//! default) or PostgreSQL. The log and the read models live in the same database so that a
//! projection can write its rows and its checkpoint in one transaction.
//!
//! **One way to write SQL for both backends.** Statements are constants (both dialects accept
//! the same text almost everywhere: `$1` parameters, `ON CONFLICT`). The Rust that runs a
//! statement is written once and compiled for each backend by [`with_pool!`] (on a [`Pool`])
//! or [`on_tx!`] (on a [`Tx`]): each arm gets the backend's own sqlx type, so binds and rows
//! are checked for both. Where the dialects or the fast paths differ, each backend gets a
//! small function of its own beside the shared ones. A statement whose text depends on its
//! inputs (filters, periods) is built once as a [`Statement`], with `$n` parameters and their
//! values, and run on either backend.

mod cpu_bound;
mod pool;
mod statement;
mod transaction;

pub use cpu_bound::cpu_bound;
pub use pool::{Pool, PoolSettings, PoolUsage};
pub use statement::{Param, Statement};
pub use transaction::Tx;
