//! The connection pool on either backend.

use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// Tuning of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a command waits for a connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The connection pool of the shared database.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool `$pool` is, with `$p` the backend's own
/// sqlx pool: the code is written once and compiled for each backend, so SQL shared by both
/// cannot drift apart. Keep the expression short (a statement and its binds): rustfmt does
/// not format macro bodies.
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

impl Pool {
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// The pool's connections now: how saturated it is.
    pub fn usage(&self) -> PoolUsage {
        with_pool!(self, p => {
            let open = p.size();
            let idle = u32::try_from(p.num_idle()).unwrap_or(u32::MAX);
            PoolUsage {
                in_use: open.saturating_sub(idle),
                idle,
                max: p.options().get_max_connections(),
            }
        })
    }
}

/// Connections of a pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}
