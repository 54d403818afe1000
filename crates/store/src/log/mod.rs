//! `EventLog`: the suspense event log on one database, split by job:
//!
//! - `commands.rs`: running a command against an item (load, decide, append), with the item
//!   cache and the per-item turns that spare most commands a load;
//! - `items.rs`: one item's history;
//! - `pages.rs`: the whole log in global order, a page at a time, with each backend's
//!   fastest faithful way to read a page;
//! - `hash_chain.rs`: extending and verifying the tamper-evident chain over the log;
//! - `export.rs`: auditors' exports, and replicas built from them;
//! - `streams.rs`: the log's other streams: remediation plans and transaction volumes.

mod allocation;
mod batch;
mod commands;
mod export;
mod hash_chain;
mod incidents;
mod items;
mod leadership;
mod organisation;
mod pages;
mod streams;

use std::time::Duration;

use cqrs_es::persist::EventUpcaster;
use suspense_database::{with_pool, Pool, PoolSettings};
use suspense_domain::{
    ItemId, ItemServices, ItemState, StreamKind, SuspenseItem, SuspenseItemEvent,
};
use tokio::time::Instant;

use crate::backend::{self, ItemStore};
use crate::error::StoreError;
use crate::location::StoreLocation;
use crate::record::{EventRow, RecordedEvent};
use crate::sequencer::{sequence_pending, settle};
use crate::tuning::lanes::CommandLanes;
use crate::tuning::turns::ItemTurns;
use crate::upcast::upcasters;

/// The result of a command that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub item_id: ItemId,
    /// The item's version (its last event's sequence) after the command.
    pub version: u64,
    /// The events the command wrote, with their sequences. Empty for an idempotent repeat.
    pub events: Vec<(u64, SuspenseItemEvent)>,
    /// The item's state after the command, so callers need not load it again.
    pub state: Option<ItemState>,
}

/// An item's current state at a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedItem {
    pub item_id: ItemId,
    pub version: u64,
    pub state: ItemState,
}

pub use leadership::LeaderLease;
pub use streams::ExecutedPlan;

/// The suspense event log on one database.
pub struct EventLog {
    location: StoreLocation,
    pool: Pool,
    items: ItemStore,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    services: ItemServices,
    /// Recently written items: (version, state). Saves loading an item's history for the next
    /// command on it; never trusted without the write's own version check.
    cache: std::sync::Mutex<std::collections::HashMap<ItemId, (u64, SuspenseItem)>>,
    /// Commands on one item run one after another in this process (see `turns`).
    turns: ItemTurns,
    /// Connections kept for the command path's statements (see `lanes`).
    lanes: CommandLanes,
    /// SQLite: this process's writers take turns here (see `write_turn`).
    writer: tokio::sync::Mutex<()>,
    /// See `pages_read_by_position`.
    pages_read_by_position: std::sync::atomic::AtomicU64,
}

/// Items kept in the cache at most.
const CACHED_ITEMS: usize = 10_000;

/// Selects events with their positions; `{filter}` is filled per use.
const EVENT_COLUMNS: &str = "
SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
       CAST(e.payload AS TEXT) AS payload, CAST(e.metadata AS TEXT) AS metadata, e.recorded_at
  FROM events e";

impl EventLog {
    /// Connects to `location`, creating the database file (SQLite) and migrating the schema.
    pub async fn open(
        location: &StoreLocation,
        services: ItemServices,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let pool = backend::connect(location, settings).await?;
        backend::migrate(&pool).await?;
        let items = backend::item_store(&pool);
        let log = Self {
            location: location.clone(),
            pool,
            items,
            upcasters: upcasters(),
            services,
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            turns: ItemTurns::default(),
            lanes: CommandLanes::for_pool(settings.max_connections),
            writer: tokio::sync::Mutex::new(()),
            pages_read_by_position: std::sync::atomic::AtomicU64::new(0),
        };
        log.reload_published().await?;
        Ok(log)
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    pub fn backend_name(&self) -> &'static str {
        self.pool.backend_name()
    }

    /// The database the log lives in, shared with the read models beside it.
    /// A pool on a read-only streaming replica of this log's PostgreSQL database, for the
    /// reports (`url` is the replica's; the log itself is never written there).
    pub async fn open_read_replica(
        &self,
        url: &str,
        settings: &PoolSettings,
    ) -> Result<Pool, StoreError> {
        let location = StoreLocation::parse(url)?;
        if !matches!(
            (&location, &self.pool),
            (StoreLocation::Postgres(_), Pool::Postgres(_))
        ) {
            return Err(StoreError::Database(
                "a read replica is a PostgreSQL standby of a PostgreSQL log".into(),
            ));
        }
        backend::connect(&location, settings).await
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The requests this database has answered, by idempotency key.
    pub fn idempotency_keys(&self) -> crate::IdempotencyKeys<'_> {
        crate::IdempotencyKeys::new(&self.pool)
    }

    pub fn services(&self) -> &ItemServices {
        &self.services
    }

    /// The highest global position assigned so far (0 for an empty log).
    pub async fn head(&self) -> Result<u64, StoreError> {
        self.sequence().await?;
        self.last_position().await
    }

    /// The highest position assigned, without sequencing first.
    async fn last_position(&self) -> Result<u64, StoreError> {
        let head: Option<i64> = with_pool!(&self.pool, p =>
            sqlx::query_scalar("SELECT max(position) FROM event_log").fetch_one(p).await?);
        Ok(head.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
    }

    /// Waits until every event committed before this call has its global position, then
    /// returns the head. Immediate on SQLite. On PostgreSQL it waits for transactions that
    /// were running at the call to end (normally milliseconds), at most `timeout`.
    ///
    /// Use it to read your own writes through the log: after `execute` returns, `settle`
    /// guarantees the next `read_after` includes what was written.
    pub async fn settle(&self, timeout: Duration) -> Result<u64, StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            let deadline = Instant::now() + timeout;
            if !settle(pool, SEQUENCE_BATCH, deadline).await? {
                return Err(StoreError::SettleTimeout { waited: timeout });
            }
        }
        // `settle` sequenced until nothing was left: no need to sequence again.
        self.last_position().await
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.lanes.clear().await;
        self.pool.close().await;
    }

    /// On PostgreSQL, positions the events whose transactions have ended; a no-op on SQLite,
    /// where a trigger positions each event as it is inserted.
    pub(super) async fn sequence(&self) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            sequence_pending(pool, SEQUENCE_BATCH).await?;
        }
        Ok(())
    }

    /// The items' events among `rows`; rows of the log's other streams are skipped.
    pub(super) fn decode_all(&self, rows: &[EventRow]) -> Result<Vec<RecordedEvent>, StoreError> {
        // Sized once: collecting a `Result` gives the vector no size hint, and growing a
        // page's tens of megabytes by doubling copied them and took fresh memory from the
        // kernel at every step.
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            if row.kind() == StreamKind::Item {
                events.push(row.decode(&self.upcasters)?);
            }
        }
        Ok(events)
    }
}

/// Events sequenced per round trip; big enough to keep up with any write rate.
const SEQUENCE_BATCH: i64 = 10_000;
