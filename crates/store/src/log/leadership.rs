//! Which instance does the background work (the projector, the hash chain, the escalation
//! sweep): the one holding a session-level advisory lock on PostgreSQL. The lock lives as long
//! as the session that took it, so an instance that dies (even by SIGKILL) lets it go when
//! PostgreSQL ends its connection, and the next instance to ask takes it over. On SQLite one
//! process owns the file, and it always leads.

use sqlx::{Connection, PgConnection};
use suspense_database::Pool;

use super::EventLog;
use crate::error::StoreError;

/// The advisory lock key of the background work: a fixed number no other lock on the
/// database uses ("SUSPLEAD" in ASCII; the sequencer's is "SUSPENSE").
const LEADER_LOCK: i64 = 0x5355_5350_4C45_4144;

/// Held by the instance that leads.
pub enum LeaderLease {
    /// The embedded database: one process, always the leader.
    Embedded,
    /// The connection whose session holds the lock, kept out of the pool.
    Postgres(PgConnection),
}

impl EventLog {
    /// The lease on the background work if no other instance holds it; `None` if one does.
    pub async fn try_lead(&self) -> Result<Option<LeaderLease>, StoreError> {
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(Some(LeaderLease::Embedded));
        };
        // A connection of its own: the lock must outlive any one statement the pool runs.
        let mut connection = pool.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_LOCK)
            .fetch_one(&mut connection)
            .await?;
        if locked {
            Ok(Some(LeaderLease::Postgres(connection)))
        } else {
            let _ = connection.close().await;
            Ok(None)
        }
    }
}

impl LeaderLease {
    /// Whether the lease still holds: its session answers (the lock goes only with it).
    pub async fn still_held(&mut self) -> bool {
        match self {
            Self::Embedded => true,
            Self::Postgres(connection) => connection.ping().await.is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_leader_lock_is_not_the_sequencers() {
        assert_ne!(super::LEADER_LOCK, crate::sequencer::SEQUENCER_LOCK);
    }
}
