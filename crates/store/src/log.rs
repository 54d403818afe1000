//! `EventLog`: execute commands against items, load them, and read the log in global order.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::EventUpcaster;
use cqrs_es::Aggregate;
use suspense_domain::{
    ItemCommand, ItemId, ItemServices, ItemState, SuspenseItem, SuspenseItemEvent,
};
use tokio::time::Instant;

use crate::append::append;
use crate::backend::{ItemStore, Pool, PoolSettings};
use crate::chain::{self, ChainRow, ChainSegment, ChainVerdict};
use crate::copy_out;
use crate::error::StoreError;
use crate::lanes::{on_lane, CommandLanes};
use crate::location::StoreLocation;
use crate::metadata::RequestMetadata;
use crate::record::{EventRow, ExportedEvent, LogPage, RecordedEvent};
use crate::sequencer::{sequence_pending, settle};
use crate::turns::ItemTurns;
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

/// A page of SQLite rows as one JSON array, and whether each row's `positioned` was true:
/// the statement both `PAGE_SQLITE` and `PAGE_SQLITE_THROUGH_LOG` are, around their own
/// selection of the page's rows (`$1`: after this position, `$2`: at most this many), so the
/// two cannot hand `EventRow::from_json_page` different shapes.
macro_rules! sqlite_page {
    ($rows:literal) => {
        concat!(
            "
SELECT json_group_array(json_object('position', position, 'aggregate_id', aggregate_id,
           'sequence', sequence, 'event_type', event_type, 'event_version', event_version,
           'payload', payload, 'metadata', metadata, 'recorded_at', recorded_at)),
       coalesce(min(positioned), 1)
  FROM (",
            $rows,
            ")"
        )
    };
}

/// A page of the log in global order on SQLite: a walk of `events` by the position each event
/// carries as its rowid (migration 0004), as JSON arrays of up to `SQLITE_EVENTS_PER_ARRAY`
/// events, one row each: sqlx's SQLite driver steps the statement on a worker thread and hands
/// every row across on its own, which cost more than reading the page. Payload and metadata
/// come as JSON strings, so their stored text (which the hash chain covers) arrives unchanged.
///
/// `event_log` stays the definition of positions: each event is matched with the `event_log`
/// row at its position (a lookup on the neighbouring page of the last one, as both tables are
/// in position order), and the array carries whether all of them agree (`positioned`).
/// `raw_after` reads a page that disagrees through `event_log` instead
/// (`PAGE_SQLITE_THROUGH_LOG`). Looking each event up by its key there cost a descent of the
/// key index per event on a page of its own when items interleave, as they do in a bank's log:
/// a 1M-event catch-up took a fifth longer in time order than item by item.
///
/// A page of more events is read as several arrays, one statement each, in one read
/// transaction (see `raw_after`): a 100,000-event page as one array is a 45 MB string, which
/// SQLite grows by doubling and sqlx copies, each time into memory fresh from the kernel, so
/// that clearing new pages took a tenth of a catch-up's CPU. Arrays of half a megabyte come
/// from memory the allocators keep and reuse.
const PAGE_SQLITE: &str = sqlite_page!(
    "SELECT e.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
               e.payload, e.metadata, e.recorded_at,
               l.aggregate_type IS e.aggregate_type AND l.aggregate_id IS e.aggregate_id
               AND l.sequence IS e.sequence AS positioned
          FROM events e
          LEFT JOIN event_log l ON l.position = e.position
         WHERE e.position > $1
         ORDER BY e.position
         LIMIT $2"
);

/// The same arrays read through `event_log`: its positions in order, each event looked up by
/// its key. For a log whose events disagree with `event_log` (edited past the application),
/// so that readers and hash-chain verification see the positions `event_log` gives.
const PAGE_SQLITE_THROUGH_LOG: &str = sqlite_page!(
    "SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
               e.payload, e.metadata, e.recorded_at, 1 AS positioned
          FROM event_log l
          JOIN events e
            ON e.aggregate_type = l.aggregate_type AND e.aggregate_id = l.aggregate_id
           AND e.sequence = l.sequence
         WHERE l.position > $1
         ORDER BY l.position
         LIMIT $2"
);

/// Events per JSON array of `PAGE_SQLITE`: about half a megabyte of text.
const SQLITE_EVENTS_PER_ARRAY: u32 = 1_000;

/// The same page on PostgreSQL, written so that the plan is always "the page's positions by
/// index, then one key lookup per event": a plain join lets the planner pick a hash join that
/// scans the whole `events` table on every page when its statistics are stale (a log that
/// grew since the last ANALYZE), which made each read O(log) instead of O(page). `OFFSET 0`
/// keeps the lateral lookup from being flattened back into such a join.
const PAGE_POSTGRES: &str = "
SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
       CAST(e.payload AS TEXT) AS payload, CAST(e.metadata AS TEXT) AS metadata, e.recorded_at
  FROM (SELECT position, aggregate_type, aggregate_id, sequence
          FROM event_log
         WHERE position > $1
         ORDER BY position
         LIMIT $2) l
 CROSS JOIN LATERAL (
        SELECT aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at
          FROM events
         WHERE aggregate_type = l.aggregate_type AND aggregate_id = l.aggregate_id
           AND sequence = l.sequence
        OFFSET 0) e
 ORDER BY l.position";

/// The same page read in commit order, the order the sequencer numbered the events in: one
/// range scan of `events_commit_order` from the event at position `$1` (two key lookups),
/// instead of one key lookup per event (about half of PostgreSQL's time for a page of
/// 10,000). The rows carry no position: the caller numbers them from `$1 + 1` in the order
/// they come. Those are the sequencer's positions only while its invariants hold
/// (`sequencer.rs`: every finished event below the head's key numbered, in key order, none
/// changed or removed), so the caller holds the page against `event_log`'s rows for the same
/// positions (`EVENT_LOG_RANGE`) and against the log's last position, which each row carries
/// (`log_head`, one value for the whole statement), and falls back to `PAGE_POSTGRES` when
/// they disagree (a log edited past the application).
///
/// The comparison is the caller's, not a join's: joining `event_log` on numbered rows made
/// PostgreSQL number them with a window function and hash one side, which spilled to
/// temporary files on every page of a bulk build and was most of the read's cost.
///
/// The head's key bounds the page outside the `LIMIT`ed scan, so the planner keeps the scan an
/// ordered index walk; inside it, its estimate picks a bitmap scan and a sort of everything up
/// to the head. The outer `ORDER BY` costs nothing (the scan's order already is the key's)
/// and makes the order the numbering relies on a promise.
const PAGE_POSTGRES_IN_COMMIT_ORDER: &str = "
SELECT NULL::bigint AS position, p.aggregate_type, p.aggregate_id, p.sequence, p.event_type,
       p.event_version, p.payload, p.metadata, p.recorded_at,
       (SELECT max(position) FROM event_log) AS log_head
  FROM (SELECT e.txid, e.event_id, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
               e.event_version, CAST(e.payload AS TEXT) AS payload,
               CAST(e.metadata AS TEXT) AS metadata, e.recorded_at
          FROM events e
         WHERE (e.txid, e.event_id) > (
                 CASE WHEN $1 = 0 THEN '0'::xid8 ELSE (
                     SELECT s.txid FROM event_log l JOIN events s USING (aggregate_type, aggregate_id, sequence)
                      WHERE l.position = $1) END,
                 CASE WHEN $1 = 0 THEN 0 ELSE (
                     SELECT s.event_id FROM event_log l JOIN events s USING (aggregate_type, aggregate_id, sequence)
                      WHERE l.position = $1) END)
         ORDER BY e.txid, e.event_id
         LIMIT $2) p
 WHERE (p.txid, p.event_id) <= (SELECT last_txid, last_event_id FROM event_log_head)
 ORDER BY p.txid, p.event_id";

/// `event_log`'s rows for positions `$1 + 1 ..= $2`, in no promised order: the caller places
/// each by its position, so whichever plan the planner picks (a bitmap scan, with stale
/// statistics) needs no sort.
const EVENT_LOG_RANGE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence
  FROM event_log
 WHERE position > $1 AND position <= $2";

/// A row of `PAGE_POSTGRES_IN_COMMIT_ORDER`.
struct CommitOrderRow {
    row: EventRow,
    aggregate_type: String,
    log_head: Option<i64>,
}

/// A row of `EVENT_LOG_RANGE`.
struct LogEntry {
    position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
}

impl LogEntry {
    fn is_for(&self, row: &CommitOrderRow) -> bool {
        self.aggregate_type == row.aggregate_type
            && self.aggregate_id == row.row.aggregate_id
            && self.sequence == row.row.sequence
    }
}

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
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            turns: ItemTurns::default(),
            lanes: CommandLanes::for_pool(settings.max_connections),
            writer: tokio::sync::Mutex::new(()),
            pages_read_by_position: std::sync::atomic::AtomicU64::new(0),
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

    /// The requests this database has answered, by idempotency key.
    pub fn idempotency_keys(&self) -> crate::IdempotencyKeys<'_> {
        crate::IdempotencyKeys::new(&self.pool)
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
        let metadata = metadata.to_map(&command.by);
        let _turn = self.turns.take(item_id).await;
        // Fast path: decide on the cached state. Only a decision that writes events is taken
        // from it, and the write checks it: a stale version collides on the primary key, and
        // the command is then decided again on the state loaded from the database. With an
        // expected version, only a cached state at exactly that version is used: the write at
        // the next sequence then succeeds only if the item is still at it.
        if let Some((version, aggregate)) = self.cached(item_id) {
            if expected_version.is_none_or(|expected| expected == version) {
                if let Ok(events) = aggregate.decide(command.clone(), &self.services) {
                    if !events.is_empty() {
                        match self
                            .commit(item_id, version, aggregate, events, &metadata)
                            .await
                        {
                            Err(StoreError::Conflict { .. }) => self.forget(item_id),
                            result => return result,
                        }
                    }
                }
            }
        }
        let context = self
            .items
            .load(&item_id.to_string())
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
        let events = context.aggregate.decide(command, &self.services)?;
        if events.is_empty() {
            return Ok(Executed {
                item_id,
                version,
                state: context.aggregate.state().cloned(),
                events: Vec::new(),
            });
        }
        self.commit(item_id, version, context.aggregate, events, &metadata)
            .await
    }

    /// On SQLite, a turn to write: the database takes one writer at a time, and a writer that
    /// finds it busy sleeps in SQLite's busy handler (1, 2, 5, 10… ms) however soon the other
    /// finishes. Commands and the hash chain queue here instead and start the moment the
    /// previous one is done (library p99 at 8 clients: 34 → 4 ms, worst case 1.3 s → 8 ms).
    /// The projector does not take turns: a background writer that backs off in the busy
    /// handler leaves commands first (queued with them it cost the service a fifth of its
    /// throughput). Take the turn before a connection, so no writer holds a connection while
    /// it waits. `None` on PostgreSQL, which has no such limit. Writers in other processes are
    /// still serialised by SQLite itself.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// Writes `events` decided on `aggregate` at `version`; remembers the new state.
    async fn commit(
        &self,
        item_id: ItemId,
        version: u64,
        aggregate: SuspenseItem,
        events: Vec<SuspenseItemEvent>,
        metadata: &std::collections::HashMap<String, String>,
    ) -> Result<Executed, StoreError> {
        let writing = self.write_turn().await;
        let appended = append(&self.pool, &self.lanes, item_id, version, &events, metadata).await;
        drop(writing);
        if let Err(e) = appended {
            self.forget(item_id);
            return Err(e);
        }
        let mut after = aggregate;
        for event in &events {
            after.apply(event.clone());
        }
        let events: Vec<(u64, SuspenseItemEvent)> = (version + 1..).zip(events).collect();
        let version = events.last().map_or(version, |(sequence, _)| *sequence);
        let state = after.state().cloned();
        self.remember(item_id, version, after);
        Ok(Executed {
            item_id,
            version,
            events,
            state,
        })
    }

    /// The item as this process last wrote it, without reading the database: `None` if it is
    /// not cached. Another process may have changed it since: `load` checks it before using
    /// it, and anything else may act on it only as a command run with this version as its
    /// expected version (`execute(.., Some(version))`), which then fails with
    /// `VersionMismatch` rather than act on a stale state.
    pub fn recent(&self, item_id: ItemId) -> Option<LoadedItem> {
        let (version, aggregate) = self.cached(item_id)?;
        Some(LoadedItem {
            item_id,
            version,
            state: aggregate.state()?.clone(),
        })
    }

    fn cached(&self, item_id: ItemId) -> Option<(u64, SuspenseItem)> {
        self.cache.lock().ok()?.get(&item_id).cloned()
    }

    fn remember(&self, item_id: ItemId, version: u64, item: SuspenseItem) {
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded without bookkeeping: a full cache starts over (it only saves reads).
            if cache.len() >= CACHED_ITEMS {
                cache.clear();
            }
            cache.insert(item_id, (version, item));
        }
    }

    fn forget(&self, item_id: ItemId) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&item_id);
        }
    }

    /// The item's current state, or `None` if no item was opened under `item_id`.
    ///
    /// When this process wrote the item last, one indexed lookup of the item's last sequence
    /// confirms the cached state is current (events are immutable, so the state at a version
    /// never changes), and the history is not read.
    pub async fn load(&self, item_id: ItemId) -> Result<Option<LoadedItem>, StoreError> {
        if let Some(recent) = self.recent(item_id) {
            let id = item_id.to_string();
            let last: Option<i64> = on_lane!(&self.pool, self.lanes, conn => sqlx::query_scalar(
                "SELECT max(sequence) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2",
            )
            .bind(SuspenseItem::TYPE)
            .bind(id.as_str())
            .fetch_one(&mut *conn)
            .await)?;
            if last.and_then(|l| u64::try_from(l).ok()) == Some(recent.version) {
                return Ok(Some(recent));
            }
            self.forget(item_id);
        }
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
        self.decode_all(&rows)
    }

    /// The events of `item_ids` at global positions up to `up_to`, by item and sequence: what a
    /// reader of the log that has reached `up_to` knows of these items.
    pub async fn history_up_to(
        &self,
        item_ids: &[String],
        up_to: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        let mut rows: Vec<EventRow> = Vec::new();
        // PostgreSQL: each event's position by key (`OFFSET 0` keeps the lookup a nested
        // loop); a plain join lets a planner with stale statistics hash-join all of
        // `event_log`, as for the log's pages.
        let position = match self.pool {
            Pool::Sqlite(_) => {
                "JOIN event_log l ON l.aggregate_type = e.aggregate_type
                  AND l.aggregate_id = e.aggregate_id AND l.sequence = e.sequence"
            }
            Pool::Postgres(_) => {
                "CROSS JOIN LATERAL (SELECT position FROM event_log
                  WHERE aggregate_type = e.aggregate_type AND aggregate_id = e.aggregate_id
                    AND sequence = e.sequence OFFSET 0) l"
            }
        };
        let select = format!("{EVENT_COLUMNS} {position} WHERE e.aggregate_type = ");
        for chunk in item_ids.chunks(500) {
            rows.extend(with_pool!(&self.pool, p => {
                let mut q = sqlx::QueryBuilder::new(select.as_str());
                q.push_bind(SuspenseItem::TYPE)
                    .push(" AND l.position <= ")
                    .push_bind(up_to)
                    .push(" AND e.aggregate_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id.as_str());
                }
                q.push(") ORDER BY e.aggregate_id, e.sequence");
                q.build_query_as::<EventRow>().fetch_all(p).await?
            }));
        }
        self.decode_all(&rows)
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
        let rows = self.raw_after(after, limit).await?;
        self.decode_all(&rows)
    }

    /// `read_after`, keeping the stored rows beside the events so that `chain_page` can extend
    /// the hash chain over them without reading the log a second time.
    pub async fn read_page(&self, after: u64, limit: u32) -> Result<LogPage, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        let events = crate::cpu_bound(|| self.decode_all(&rows))?;
        Ok(LogPage {
            after,
            events,
            rows,
            digests: None,
        })
    }

    /// `read_page` for a reader that extends the hash chain over the page (`chain_page`):
    /// each event's content digest is computed as it is decoded, from the same parse of its
    /// JSON, so that `chain_page` only links them.
    pub async fn read_page_with_digests(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<LogPage, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        let (events, digests) = crate::cpu_bound(|| {
            let mut events = Vec::with_capacity(rows.len());
            let mut digests = Vec::with_capacity(rows.len());
            for row in &rows {
                let (event, digest) = row.decode_and_digest(&self.upcasters)?;
                events.push(event);
                digests.push(digest);
            }
            Ok::<_, StoreError>((events, digests))
        })?;
        Ok(LogPage {
            after,
            events,
            rows,
            digests: Some(digests),
        })
    }

    /// Stored rows after `after`, in global order, not decoded.
    async fn raw_after(&self, after: u64, limit: u32) -> Result<Vec<EventRow>, StoreError> {
        self.sequence().await?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        match &self.pool {
            Pool::Sqlite(p) => {
                // One read transaction for the arrays. Not for consistency (SQLite numbers
                // events in commit order, so a later array could only add events after the
                // ones already read) but for the page cache: a connection that starts a read
                // transaction after another one committed discards its whole cache, and the
                // projector commits while it reads. Without it a 1M-event catch-up took
                // 10-15% longer.
                let mut tx = p.begin().await?;
                let log_head: Option<i64> =
                    sqlx::query_scalar("SELECT max(position) FROM event_log")
                        .fetch_one(&mut *tx)
                        .await?;
                let expected = on_page(after, limit, log_head);
                let (rows, positioned) =
                    sqlite_arrays(&mut tx, PAGE_SQLITE, after, limit, expected).await?;
                let rows = if positioned && is_log_from(after, expected, &rows) {
                    rows
                } else {
                    self.count_page_read_through_log(after);
                    sqlite_arrays(&mut tx, PAGE_SQLITE_THROUGH_LOG, after, limit, expected)
                        .await?
                        .0
                };
                tx.commit().await?;
                Ok(rows)
            }
            Pool::Postgres(p) => {
                let (fast, expected) = commit_order_page(p, after, limit).await?;
                // Nothing after `after` in commit order is asked again by position, which costs
                // nothing when there is nothing (an idle projector's poll) and is right when the
                // event at `after` itself is gone.
                if !fast.is_empty() {
                    // After the page, so its snapshot holds every row the page's does.
                    let log = log_range(p, after, after.saturating_add(expected)).await?;
                    if let Some(rows) = in_position_order(after, expected, fast, &log) {
                        return Ok(rows);
                    }
                    self.count_page_read_through_log(after);
                }
                Ok(sqlx::query_as(PAGE_POSTGRES)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(p)
                    .await?)
            }
        }
    }

    /// Pages of the log read position by position through `event_log` because the events' own
    /// order disagreed with it: on PostgreSQL the order the events committed in (see
    /// `PAGE_POSTGRES_IN_COMMIT_ORDER`), on SQLite the position each event carries (see
    /// `PAGE_SQLITE`). The application never makes them disagree: anything but 0 means the log
    /// was edited past it, and `verify_chain` will say where.
    pub fn pages_read_by_position(&self) -> u64 {
        self.pages_read_by_position
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts a page read through `event_log` (see `pages_read_by_position`) and says so.
    fn count_page_read_through_log(&self, after: i64) {
        self.pages_read_by_position
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            after,
            "the events disagree with event_log: page read through event_log"
        );
    }

    /// Appends hash-chain links for every positioned event not chained yet, up to the end of
    /// the log as it stood when the last page was read (see `chain`); returns the last chained
    /// position. Safe to call from several places at once. The next page of the log is read
    /// while the current one is hashed and written.
    pub async fn extend_chain(&self) -> Result<u64, StoreError> {
        let (mut last, mut previous) = self.chain_head().await?.unwrap_or_default();
        let mut rows = self.raw_after(last, CHAIN_BATCH).await?;
        loop {
            let Some(end) = rows.last().and_then(|r| r.position) else {
                return Ok(last);
            };
            let end = end.max(0) as u64;
            let full = rows.len() as u32 == CHAIN_BATCH;
            let link_and_write = async {
                let segment = ChainSegment::over(last, &previous, &rows, None)?;
                let written = self.write_segment(&segment).await;
                Ok::<_, StoreError>((written, segment.link))
            };
            let read_next = async {
                if full {
                    self.raw_after(end, CHAIN_BATCH).await.map(Some)
                } else {
                    Ok(None)
                }
            };
            let ((written, head), next) = tokio::try_join!(link_and_write, read_next)?;
            match written {
                Ok(()) => {
                    last = end;
                    previous = head;
                    // A page that was not full reached the end of the log as it stood; events
                    // committed since are left to the next call rather than chased one small
                    // page at a time while writers keep writing.
                    let Some(next) = next else {
                        return Ok(last);
                    };
                    rows = next;
                }
                // Another process extended the chain first: start again from its head.
                Err(e) if crate::error::is_duplicate_key(&e) => {
                    (last, previous) = self.chain_head().await?.unwrap_or_default();
                    rows = self.raw_after(last, CHAIN_BATCH).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs `extend_chain` every `interval` until the returned task is aborted: the chain's
    /// own follower of the log, beside whatever else follows it. Errors are logged and
    /// retried after the interval.
    pub fn follow_chain(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(err) = self.extend_chain().await {
                    tracing::error!(error = %err, "hash chain");
                }
                tokio::time::sleep(interval).await;
            }
        })
    }

    /// Extends the hash chain over `page` if the chain stands at the page's start or inside
    /// it; returns the last chained position if it did. A chain already past the page, or
    /// behind its start (`extend_chain` bridges that), is left alone, as are links another
    /// writer inserted first.
    pub async fn chain_page(&self, page: &LogPage) -> Result<Option<u64>, StoreError> {
        let (last, previous) = self.chain_head().await?.unwrap_or_default();
        if last < page.after {
            return Ok(None);
        }
        let start = page
            .rows
            .partition_point(|r| r.position.is_some_and(|p| p.max(0) as u64 <= last));
        let rows = &page.rows[start..];
        let Some(end) = rows.last().and_then(|r| r.position) else {
            return Ok(None);
        };
        let digests = page.digests.as_deref().and_then(|d| d.get(start..));
        let segment = ChainSegment::over(last, &previous, rows, digests)?;
        match self.write_segment(&segment).await {
            Ok(()) => Ok(Some(end.max(0) as u64)),
            Err(e) if crate::error::is_duplicate_key(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a segment of the chain: one row, whatever its length. Two writers extending
    /// from the same head collide on `first_position`, and the second gets a duplicate key.
    async fn write_segment(&self, segment: &ChainSegment) -> Result<(), sqlx::Error> {
        let _writing = self.write_turn().await;
        with_pool!(&self.pool, p => sqlx::query(
            "INSERT INTO event_chain_segments (first_position, last_position, content_hashes, link, chained_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(segment.first_position)
        .bind(segment.last_position)
        .bind(&segment.content_hashes)
        .bind(&segment.link)
        .bind(chrono::Utc::now())
        .execute(p)
        .await
        .map(|_| ()))
    }

    /// The last chained position and its link: the value an auditor anchors (it is printed on
    /// issued reports). `None` before anything was chained.
    pub async fn chain_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        let head: Option<(i64, String)> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT last_position, link FROM event_chain_segments ORDER BY last_position DESC LIMIT 1",
        )
        .fetch_optional(p)
        .await?);
        Ok(head.map(|(p, l)| (p.max(0) as u64, l)))
    }

    /// Recomputes the hash chain over the whole log and compares it with the stored links.
    pub async fn verify_chain(&self) -> Result<ChainVerdict, StoreError> {
        let mut log = Vec::new();
        let mut after = 0;
        loop {
            let page = self.raw_after(after, 10_000).await?;
            let Some(last) = page.last().and_then(|r| r.position) else {
                break;
            };
            after = last.max(0) as u64;
            for row in page {
                // An event whose JSON no longer parses can only be altered.
                let hash = row
                    .content_hash()
                    .unwrap_or_else(|_| "unparseable".to_owned());
                log.push((row.position.unwrap_or(0).max(0) as u64, hash));
            }
        }
        let segments: Vec<ChainSegment> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT first_position, last_position, content_hashes, link
               FROM event_chain_segments ORDER BY last_position",
        )
        .fetch_all(p)
        .await?);
        Ok(chain::compare_segments(&log, &segments))
    }

    /// Appends exported events, as they were, to this log: for building a replica of another
    /// log (as it stood at a past date, or from an export file) to run reports on. Only into an
    /// SQLite log, and only in order: the first event must take the next position.
    pub async fn replicate(&self, events: &[ExportedEvent]) -> Result<(), StoreError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(StoreError::InvalidLocation {
                location: self.location.to_string(),
                reason: "replicas are SQLite files".to_owned(),
            });
        };
        let head = self.head().await?;
        let mut tx = pool.begin().await?;
        for (expected, event) in (head + 1..).zip(events) {
            if event.position != expected {
                return Err(StoreError::CorruptEvent {
                    item_id: event.item_id.clone(),
                    sequence: event.sequence,
                    reason: format!("position {} where {expected} was expected", event.position),
                });
            }
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                     payload, metadata, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(SuspenseItem::TYPE)
            .bind(&event.item_id)
            .bind(i64::try_from(event.sequence).unwrap_or(i64::MAX))
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(event.payload.to_string())
            .bind(event.metadata.to_string())
            .bind(&event.recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` events after `after` as an auditor's export carries them: raw payload and
    /// metadata, canonical recorded-at, content hash and chain link (once chained).
    pub async fn export_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ExportedEvent>, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        let (Some(first), Some(last)) = (
            rows.first().and_then(|r| r.position),
            rows.last().and_then(|r| r.position),
        ) else {
            return Ok(Vec::new());
        };
        let links: std::collections::HashMap<i64, String> = self
            .chain_rows(first, last)
            .await?
            .into_iter()
            .map(|c| (c.position, c.link))
            .collect();
        rows.into_iter()
            .map(|row| {
                let corrupt = |reason: String| StoreError::CorruptEvent {
                    item_id: row.aggregate_id.clone(),
                    sequence: row.sequence.max(0) as u64,
                    reason,
                };
                let content_hash = row.content_hash().map_err(corrupt)?;
                let position = row.position.unwrap_or(0);
                Ok(ExportedEvent {
                    position: position.max(0) as u64,
                    item_id: row.aggregate_id.clone(),
                    sequence: row.sequence.max(0) as u64,
                    event_type: row.event_type.clone(),
                    event_version: row.event_version.clone(),
                    payload: serde_json::from_str(&row.payload)
                        .map_err(|e| corrupt(e.to_string()))?,
                    metadata: serde_json::from_str(&row.metadata)
                        .map_err(|e| corrupt(e.to_string()))?,
                    recorded_at: chain::canonical_time(&row.recorded_at),
                    content_hash,
                    link: links.get(&position).cloned(),
                })
            })
            .collect()
    }

    /// The stored chain's rows for positions `first..=last`: the segments that hold them,
    /// expanded from the link before the first (see `ChainSegment::rows`). Positions of a
    /// segment that does not fit its positions have none (`verify_chain` reports it).
    async fn chain_rows(&self, first: i64, last: i64) -> Result<Vec<ChainRow>, StoreError> {
        let segments: Vec<ChainSegment> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT first_position, last_position, content_hashes, link
               FROM event_chain_segments
              WHERE last_position >= $1 AND first_position <= $2
              ORDER BY last_position",
        )
        .bind(first)
        .bind(last)
        .fetch_all(p)
        .await?);
        let Some(start) = segments.first().map(|s| s.first_position) else {
            return Ok(Vec::new());
        };
        let before: Option<String> = with_pool!(&self.pool, p => sqlx::query_scalar(
            "SELECT link FROM event_chain_segments WHERE last_position = $1",
        )
        .bind(start - 1)
        .fetch_optional(p)
        .await?);
        let mut previous = before.unwrap_or_default();
        let mut rows = Vec::new();
        for segment in &segments {
            rows.extend(segment.rows(&previous, first..=last).unwrap_or_default());
            previous = segment.link.clone();
        }
        Ok(rows)
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
    async fn sequence(&self) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            sequence_pending(pool, SEQUENCE_BATCH).await?;
        }
        Ok(())
    }

    fn decode_all(&self, rows: &[EventRow]) -> Result<Vec<RecordedEvent>, StoreError> {
        // Sized once: collecting a `Result` gives the vector no size hint, and growing a
        // page's tens of megabytes by doubling copied them and took fresh memory from the
        // kernel at every step.
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            events.push(row.decode(&self.upcasters)?);
        }
        Ok(events)
    }
}

/// Events chained per segment (one row of `event_chain_segments`).
const CHAIN_BATCH: u32 = 10_000;

/// Events sequenced per round trip; big enough to keep up with any write rate.
const SEQUENCE_BATCH: i64 = 10_000;

/// Up to `limit` events after `after` as `sql` (`PAGE_SQLITE` or `PAGE_SQLITE_THROUGH_LOG`)
/// reads them, array by array, and whether every array said its events were positioned.
/// Room is made once for the `expected` events `event_log` has there.
async fn sqlite_arrays(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    sql: &str,
    after: i64,
    limit: u32,
    expected: i64,
) -> Result<(Vec<EventRow>, bool), StoreError> {
    let mut rows: Vec<EventRow> = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut positioned = true;
    let mut last = after;
    while rows.len() < limit as usize {
        let wanted = (limit - rows.len() as u32).min(SQLITE_EVENTS_PER_ARRAY);
        let (array, all_positioned): (String, bool) = sqlx::query_as(sql)
            .bind(last)
            .bind(i64::from(wanted))
            .fetch_one(&mut **tx)
            .await?;
        positioned &= all_positioned;
        let part = EventRow::from_json_page(&array)?;
        let Some(end) = part.iter().filter_map(|row| row.position).max() else {
            break;
        };
        let short = part.len() < wanted as usize;
        rows.extend(part);
        last = end;
        if short {
            break;
        }
    }
    // An aggregate's input order is SQLite's choice, not SQL's promise; the sort is a linear
    // check on rows that arrive in order, as they do.
    rows.sort_by_key(|row| row.position);
    Ok((rows, positioned))
}

/// How many events `event_log`, whose last position is `log_head`, holds on the page of up
/// to `limit` events after `after`.
fn on_page(after: i64, limit: u32, log_head: Option<i64>) -> i64 {
    (log_head.unwrap_or(0) - after).clamp(0, i64::from(limit))
}

/// Whether `rows` are positions `after + 1 ..` without a gap, as many as the `expected`
/// `event_log` has there. Every event read by its own position can agree with `event_log`
/// while the page still misses one: an event that `event_log` has moved to a later position
/// than the one it carries.
fn is_log_from(after: i64, expected: i64, rows: &[EventRow]) -> bool {
    let Ok(len) = i64::try_from(rows.len()) else {
        return false;
    };
    len == expected
        && rows
            .iter()
            .zip(after + 1..)
            .all(|(row, position)| row.position == Some(position))
}

/// `PAGE_POSTGRES_IN_COMMIT_ORDER` after `after`, up to `limit` rows, and how many events
/// `event_log` holds on that page as the statement saw it (0 for no rows). Room is made once,
/// for that many rows, when the first row says how many: growing a page of tens of megabytes
/// by doubling copied it and took fresh memory at every step.
///
/// Read as a binary COPY stream (`copy_out`), as is `log_range`: fetched as rows, the two took
/// a quarter of a PostgreSQL catch-up's own CPU.
async fn commit_order_page(
    pool: &sqlx::PgPool,
    after: i64,
    limit: u32,
) -> Result<(Vec<CommitOrderRow>, i64), sqlx::Error> {
    let mut rows: Vec<CommitOrderRow> = Vec::new();
    let mut expected = 0;
    let query = copy_out::with_integers(PAGE_POSTGRES_IN_COMMIT_ORDER, &[after, i64::from(limit)]);
    copy_out::copy_rows(pool, &query, |f| {
        // In the statement's column order.
        let position = f.bigint_or_null("position")?;
        let aggregate_type = f.text("aggregate_type")?;
        let row = CommitOrderRow {
            row: EventRow {
                position,
                aggregate_id: f.text("aggregate_id")?,
                sequence: f.bigint("sequence")?,
                event_type: f.text("event_type")?,
                event_version: f.text("event_version")?,
                payload: f.text("payload")?,
                metadata: f.text("metadata")?,
                recorded_at: f.timestamptz("recorded_at")?,
            },
            aggregate_type,
            log_head: f.bigint_or_null("log_head")?,
        };
        if rows.is_empty() {
            expected = on_page(after, limit, row.log_head);
            rows.reserve(usize::try_from(expected).unwrap_or(0));
        }
        rows.push(row);
        Ok(())
    })
    .await?;
    Ok((rows, expected))
}

/// `EVENT_LOG_RANGE`: `event_log`'s rows for positions `after + 1 ..= through`.
async fn log_range(
    pool: &sqlx::PgPool,
    after: i64,
    through: i64,
) -> Result<Vec<LogEntry>, sqlx::Error> {
    let mut entries = Vec::with_capacity(usize::try_from(through - after).unwrap_or(0));
    let query = copy_out::with_integers(EVENT_LOG_RANGE, &[after, through]);
    copy_out::copy_rows(pool, &query, |f| {
        entries.push(LogEntry {
            position: f.bigint("position")?,
            aggregate_type: f.text("aggregate_type")?,
            aggregate_id: f.text("aggregate_id")?,
            sequence: f.bigint("sequence")?,
        });
        Ok(())
    })
    .await?;
    Ok(entries)
}

/// The commit-order page numbered from `after + 1`, if it is exactly what `event_log` holds
/// there: as many rows as the `expected` the log has on the page, each the event `event_log`
/// gives that position (`log`, the log's rows for those positions, in any order).
fn in_position_order(
    after: i64,
    expected: i64,
    page: Vec<CommitOrderRow>,
    log: &[LogEntry],
) -> Option<Vec<EventRow>> {
    if i64::try_from(page.len()).ok()? != expected {
        return None;
    }
    let mut slots: Vec<Option<&LogEntry>> = vec![None; page.len()];
    for entry in log {
        let slot = usize::try_from(entry.position - after - 1)
            .ok()
            .and_then(|i| slots.get_mut(i))?;
        if slot.replace(entry).is_some() {
            return None;
        }
    }
    page.into_iter()
        .zip(slots)
        .zip(after + 1..)
        .map(|((row, entry), position)| {
            entry.filter(|e| e.is_for(&row)).map(|_| EventRow {
                position: Some(position),
                ..row.row
            })
        })
        .collect()
}
