//! Connections kept out of the pool for the command path's one-statement queries.
//!
//! sqlx 0.8's pool tests every connection handed back to it with a ping
//! (`PoolConnection::return_to_pool`): on PostgreSQL one more round trip, two more socket
//! writes and wake-ups, for every statement. A command runs one or two statements, so the
//! ping was a third of its traffic with the database. A few connections are kept checked out
//! instead ("lanes") and reused. The pool still opens them, bounds them and times out waiting
//! for them: a lane that finds itself empty takes a connection from the pool, and when every
//! lane is busy the statement simply runs on a pool connection as before.
//!
//! A lane keeps its connection only when the statement finished and the connection is known
//! to be usable: on a connection-level error, or when the caller's future is dropped halfway
//! (a client gone, a timeout), the connection goes back to the pool, whose ping cleans it up
//! or closes it. A database error (a duplicate key, say) leaves the connection usable.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Postgres, Sqlite};
use tokio::sync::{Mutex, MutexGuard};

pub(crate) struct Lanes<DB: Database> {
    slots: Vec<Mutex<Option<PoolConnection<DB>>>>,
    next: AtomicUsize,
}

impl<DB: Database> Lanes<DB> {
    pub(crate) fn new(count: usize) -> Self {
        Self {
            slots: (0..count).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A connection for one statement: a free lane's, or the pool's if every lane is busy.
    pub(crate) async fn lease(&self, pool: &sqlx::Pool<DB>) -> Result<Lease<'_, DB>, sqlx::Error> {
        let count = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..count {
            if let Ok(mut slot) = self.slots[(start + i) % count].try_lock() {
                let conn = match slot.take() {
                    Some(conn) => conn,
                    None => pool.acquire().await?,
                };
                return Ok(Lease {
                    slot: Some(slot),
                    conn: Some(conn),
                    keep: false,
                });
            }
        }
        Ok(Lease {
            slot: None,
            conn: Some(pool.acquire().await?),
            keep: false,
        })
    }

    /// Hands every kept connection back to the pool (before the pool is closed: closing waits
    /// for checked-out connections).
    pub(crate) async fn clear(&self) {
        for slot in &self.slots {
            slot.lock().await.take();
        }
    }
}

impl<DB: Database> Drop for Lanes<DB> {
    fn drop(&mut self) {
        // Handing a connection back to the pool spawns a task, which needs a runtime: without
        // one, detach the connection from the pool and let it close on its own.
        if tokio::runtime::Handle::try_current().is_err() {
            for slot in &mut self.slots {
                if let Some(conn) = slot.get_mut().take() {
                    drop(conn.detach());
                }
            }
        }
    }
}

/// One statement's connection; returned to its lane on drop if `keep_if` judged it usable.
pub(crate) struct Lease<'a, DB: Database> {
    slot: Option<MutexGuard<'a, Option<PoolConnection<DB>>>>,
    conn: Option<PoolConnection<DB>>,
    keep: bool,
}

impl<DB: Database> Lease<'_, DB> {
    pub(crate) fn conn(&mut self) -> Result<&mut DB::Connection, sqlx::Error> {
        self.conn.as_deref_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Keeps the connection in its lane if the statement's `result` leaves it usable.
    pub(crate) fn keep_if<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.keep = matches!(result, Ok(_) | Err(sqlx::Error::Database(_)));
    }
}

impl<DB: Database> Drop for Lease<'_, DB> {
    fn drop(&mut self) {
        if let (true, Some(slot)) = (self.keep, self.slot.as_mut()) {
            **slot = self.conn.take();
        }
        // Otherwise `conn` drops here and goes back to the pool, which tests it.
    }
}

/// The lanes of one event log; only its backend's are ever filled.
pub(crate) struct CommandLanes {
    pub sqlite: Lanes<Sqlite>,
    pub postgres: Lanes<Postgres>,
}

impl CommandLanes {
    pub(crate) async fn clear(&self) {
        self.sqlite.clear().await;
        self.postgres.clear().await;
    }

    /// Half the pool: the other half stays free for the projector and reports, which need a
    /// few connections at a time (a report runs its queries at once); with a quarter, eight
    /// clients already sent half their commands through the pool's slower hand-back.
    pub(crate) fn for_pool(max_connections: u32) -> Self {
        let count = (max_connections as usize / 2).max(1);
        Self {
            sqlite: Lanes::new(count),
            postgres: Lanes::new(count),
        }
    }
}

/// Runs `$body` (a `Result<_, sqlx::Error>`, may `.await`) with `$conn` bound to a leased
/// connection of `$pool`'s backend, taken from `$lanes`.
macro_rules! on_lane {
    ($pool:expr, $lanes:expr, $conn:ident => $body:expr) => {
        match $pool {
            suspense_database::Pool::Sqlite(pool) => $crate::tuning::lanes::on_lane!(@leased $lanes.sqlite, pool, $conn => $body),
            suspense_database::Pool::Postgres(pool) => $crate::tuning::lanes::on_lane!(@leased $lanes.postgres, pool, $conn => $body),
        }
    };
    (@leased $lanes:expr, $pool:expr, $conn:ident => $body:expr) => {
        match $lanes.lease($pool).await {
            Ok(mut lease) => {
                let result = match lease.conn() {
                    Ok($conn) => $body,
                    Err(e) => Err(e),
                };
                lease.keep_if(&result);
                result
            }
            Err(e) => Err(e),
        }
    };
}
pub(crate) use on_lane;

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> sqlx::SqlitePool {
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory database")
    }

    async fn kept(lanes: &Lanes<Sqlite>) -> usize {
        let mut n = 0;
        for slot in &lanes.slots {
            n += usize::from(slot.lock().await.is_some());
        }
        n
    }

    #[tokio::test]
    async fn a_finished_statement_leaves_its_connection_in_the_lane() {
        let (pool, lanes) = (pool().await, Lanes::<Sqlite>::new(1));
        let mut lease = lanes.lease(&pool).await.expect("lease");
        let result = sqlx::query("SELECT 1")
            .execute(lease.conn().expect("connection"))
            .await;
        lease.keep_if(&result);
        drop(lease);
        assert_eq!(kept(&lanes).await, 1);
        // The next statement reuses it rather than taking another from the pool.
        let before = pool.size();
        let lease = lanes.lease(&pool).await.expect("lease");
        assert_eq!(pool.size(), before, "no new connection opened");
        drop(lease);
        assert_eq!(kept(&lanes).await, 0, "not judged usable: handed back");
    }

    #[tokio::test]
    async fn a_lease_dropped_halfway_or_failed_hands_its_connection_back_to_the_pool() {
        let (pool, lanes) = (pool().await, Lanes::<Sqlite>::new(1));
        drop(lanes.lease(&pool).await.expect("lease"));
        assert_eq!(kept(&lanes).await, 0, "dropped before finishing");
        let mut lease = lanes.lease(&pool).await.expect("lease");
        lease.keep_if::<()>(&Err(sqlx::Error::PoolTimedOut));
        drop(lease);
        assert_eq!(kept(&lanes).await, 0, "failed at the connection level");
    }

    #[tokio::test]
    async fn when_every_lane_is_busy_the_statement_runs_on_a_pool_connection() {
        let (pool, lanes) = (pool().await, Lanes::<Sqlite>::new(1));
        let busy = lanes.lease(&pool).await.expect("lease");
        let mut overflow = lanes.lease(&pool).await.expect("overflow lease");
        let result = sqlx::query("SELECT 1")
            .execute(overflow.conn().expect("connection"))
            .await;
        overflow.keep_if(&result);
        assert!(result.is_ok());
        assert!(overflow.slot.is_none(), "not a lane's connection");
        drop((busy, overflow));
    }
}
