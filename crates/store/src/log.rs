//! `EventLog`: execute commands against items, load them, and read the log in global order.

use std::time::Duration;

use cqrs_es::persist::EventUpcaster;
use cqrs_es::Aggregate;
use suspense_domain::{
    ItemCommand, ItemId, ItemServices, ItemState, SuspenseItem, SuspenseItemEvent,
};
use tokio::time::Instant;

use crate::backend::{ItemStore, Pool, PoolSettings};
use crate::error::StoreError;
use crate::location::StoreLocation;
use crate::metadata::RequestMetadata;
use crate::record::{EventRow, RecordedEvent};
use crate::sequencer::{sequence_pending, settle};
use crate::upcast::upcasters;
use crate::with_pool;

/// The result of a command that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub item_id: ItemId,
    /// The item's version (its last event's sequence) after the command.
    pub version: u64,
    /// The events the command wrote, with their sequences. Empty for an idempotent repeat.
    pub events: Vec<(u64, SuspenseItemEvent)>,
}

/// An item's current state at a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedItem {
    pub item_id: ItemId,
    pub version: u64,
    pub state: ItemState,
}

/// The suspense event log on one database.
pub struct EventLog {
    location: StoreLocation,
    pool: Pool,
    items: ItemStore,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    services: ItemServices,
}

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
        let pool = Pool::connect(location, settings).await?;
        pool.migrate().await?;
        let items = pool.item_store();
        Ok(Self {
            location: location.clone(),
            pool,
            items,
            upcasters: upcasters(),
            services,
        })
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    pub fn backend_name(&self) -> &'static str {
        self.pool.backend_name()
    }

    /// The database pool, for read models that live beside the log.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn services(&self) -> &ItemServices {
        &self.services
    }

    /// Runs one command against one item: load, decide, commit. One attempt: a concurrent
    /// writer that got there first makes this return [`StoreError::Conflict`], and nothing is
    /// written. With `expected_version`, the command only applies to that version of the item.
    pub async fn execute(
        &self,
        item_id: ItemId,
        command: ItemCommand,
        metadata: &RequestMetadata,
        expected_version: Option<u64>,
    ) -> Result<Executed, StoreError> {
        let id = item_id.to_string();
        let context = self
            .items
            .load(&id)
            .await
            .map_err(|e| StoreError::from_aggregate(item_id, e))?;
        let version = context.current_sequence as u64;
        if let Some(expected) = expected_version {
            if expected != version {
                return Err(StoreError::VersionMismatch {
                    expected,
                    actual: version,
                });
            }
        }
        let metadata = metadata.to_map(&command.by);
        let events = context.aggregate.decide(command, &self.services)?;
        if events.is_empty() {
            return Ok(Executed {
                item_id,
                version,
                events: Vec::new(),
            });
        }
        let committed = self
            .items
            .commit(events, context, metadata)
            .await
            .map_err(|e| StoreError::from_aggregate(item_id, e))?;
        let events: Vec<(u64, SuspenseItemEvent)> = committed
            .into_iter()
            .map(|envelope| (envelope.sequence as u64, envelope.payload))
            .collect();
        let version = events.last().map_or(version, |(sequence, _)| *sequence);
        Ok(Executed {
            item_id,
            version,
            events,
        })
    }

    /// The item's current state, or `None` if no item was opened under `item_id`.
    pub async fn load(&self, item_id: ItemId) -> Result<Option<LoadedItem>, StoreError> {
        let context = self
            .items
            .load(&item_id.to_string())
            .await
            .map_err(|e| StoreError::from_aggregate(item_id, e))?;
        let version = context.current_sequence as u64;
        Ok(context.aggregate.state().cloned().map(|state| LoadedItem {
            item_id,
            version,
            state,
        }))
    }

    /// Every event of one item, oldest first, with who recorded it and when.
    pub async fn history(&self, item_id: ItemId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.sequence().await?;
        let sql = format!(
            "{EVENT_COLUMNS}
  LEFT JOIN event_log l
         ON l.aggregate_type = e.aggregate_type AND l.aggregate_id = e.aggregate_id
        AND l.sequence = e.sequence
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
 ORDER BY e.sequence"
        );
        let rows: Vec<EventRow> = with_pool!(&self.pool, p => sqlx::query_as(&sql)
            .bind(SuspenseItem::TYPE)
            .bind(item_id.to_string())
            .fetch_all(p)
            .await?);
        self.decode_all(rows)
    }

    /// Up to `limit` events after global position `after`, in global order.
    ///
    /// Positions start at 1 and have no gaps; a reader that stores the last position it
    /// processed and asks again from there sees every event exactly once, on both backends.
    pub async fn read_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.sequence().await?;
        let sql = format!(
            "{EVENT_COLUMNS}
  JOIN event_log l
    ON l.aggregate_type = e.aggregate_type AND l.aggregate_id = e.aggregate_id
   AND l.sequence = e.sequence
 WHERE l.position > $1
 ORDER BY l.position
 LIMIT $2"
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows: Vec<EventRow> = with_pool!(&self.pool, p => sqlx::query_as(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?);
        self.decode_all(rows)
    }

    /// The highest global position assigned so far (0 for an empty log).
    pub async fn head(&self) -> Result<u64, StoreError> {
        self.sequence().await?;
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
        self.head().await
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// On PostgreSQL, positions the events whose transactions have ended; a no-op on SQLite,
    /// where a trigger positions each event as it is inserted.
    async fn sequence(&self) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            sequence_pending(pool, SEQUENCE_BATCH).await?;
        }
        Ok(())
    }

    fn decode_all(&self, rows: Vec<EventRow>) -> Result<Vec<RecordedEvent>, StoreError> {
        rows.into_iter()
            .map(|row| row.decode(&self.upcasters))
            .collect()
    }
}

/// Events sequenced per round trip; big enough to keep up with any write rate.
const SEQUENCE_BATCH: i64 = 10_000;
