//! Running a command against one item.

use std::collections::HashMap;

use cqrs_es::Aggregate;
use suspense_database::Pool;
use suspense_domain::{ItemCommand, ItemError, ItemId, SuspenseItem, SuspenseItemEvent};

use super::{EventLog, Executed, LoadedItem, CACHED_ITEMS};
use crate::append::append;
use crate::error::StoreError;
use crate::metadata::RequestMetadata;
use crate::tuning::lanes::on_lane;

impl EventLog {
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
        if let Some((version, aggregate, events)) =
            self.decide_on_cached(item_id, &command, expected_version)
        {
            match self
                .commit(item_id, version, aggregate, events, &metadata)
                .await
            {
                Err(StoreError::Conflict { .. }) => self.forget(item_id),
                result => return result,
            }
        }
        let (version, aggregate, events) = self
            .decide_on_stored(item_id, command, expected_version)
            .await?;
        if events.is_empty() {
            return Ok(Executed {
                item_id,
                version,
                state: aggregate.state().cloned(),
                events: Vec::new(),
            });
        }
        self.commit(item_id, version, aggregate, events, &metadata)
            .await
    }

    /// The fast path: `command` decided on the cached state. Only a decision that writes
    /// events is taken from it, and the write checks it: a stale version collides on the
    /// primary key, and the command is then decided again on the state loaded from the
    /// database. With an expected version, only a cached state at exactly that version is
    /// used: the write at the next sequence then succeeds only if the item is still at it.
    pub(super) fn decide_on_cached(
        &self,
        item_id: ItemId,
        command: &ItemCommand,
        expected_version: Option<u64>,
    ) -> Option<(u64, SuspenseItem, Vec<SuspenseItemEvent>)> {
        let (version, aggregate) = self.cached(item_id)?;
        if expected_version.is_some_and(|expected| expected != version) {
            return None;
        }
        let events = aggregate.decide(command.clone(), &self.services).ok()?;
        (!events.is_empty()).then_some((version, aggregate, events))
    }

    /// `command` decided on the item as the database holds it, at the expected version if
    /// one is given.
    pub(super) async fn decide_on_stored(
        &self,
        item_id: ItemId,
        command: ItemCommand,
        expected_version: Option<u64>,
    ) -> Result<(u64, SuspenseItem, Vec<SuspenseItemEvent>), StoreError> {
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
        let events = match context.aggregate.decide(command.clone(), &self.services) {
            // A branch or team this process has not heard of may be in a version another
            // process published since: read the registry again and decide once more.
            Err(ItemError::UnknownBranch { .. } | ItemError::UnknownTeam { .. })
                if self.reload_organisation().await? =>
            {
                context.aggregate.decide(command, &self.services)?
            }
            decided => decided?,
        };
        Ok((version, context.aggregate, events))
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
    pub(super) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
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
        metadata: &HashMap<String, String>,
    ) -> Result<Executed, StoreError> {
        let writing = self.write_turn().await;
        let appended = append(&self.pool, &self.lanes, item_id, version, &events, metadata).await;
        drop(writing);
        if let Err(e) = appended {
            self.forget(item_id);
            return Err(e);
        }
        Ok(self.committed(item_id, version, aggregate, events))
    }

    /// The result of `events`, written at `version` after `aggregate`: the state they leave
    /// is remembered for the next command.
    pub(super) fn committed(
        &self,
        item_id: ItemId,
        version: u64,
        aggregate: SuspenseItem,
        events: Vec<SuspenseItemEvent>,
    ) -> Executed {
        let mut after = aggregate;
        for event in &events {
            after.apply(event.clone());
        }
        let events: Vec<(u64, SuspenseItemEvent)> = (version + 1..).zip(events).collect();
        let version = events.last().map_or(version, |(sequence, _)| *sequence);
        let state = after.state().cloned();
        self.remember(item_id, version, after);
        Executed {
            item_id,
            version,
            events,
            state,
        }
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

    pub(super) fn cached(&self, item_id: ItemId) -> Option<(u64, SuspenseItem)> {
        self.cache.lock().ok()?.get(&item_id).cloned()
    }

    pub(super) fn remember(&self, item_id: ItemId, version: u64, item: SuspenseItem) {
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded without bookkeeping: a full cache starts over (it only saves reads).
            if cache.len() >= CACHED_ITEMS {
                cache.clear();
            }
            cache.insert(item_id, (version, item));
        }
    }

    pub(super) fn forget(&self, item_id: ItemId) {
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
        let state = context.aggregate.state().cloned();
        if state.is_some() {
            // A command that follows the read (the sweep's, a checked assignment's) decides
            // on this state without loading the history again; its write checks the version.
            self.remember(item_id, version, context.aggregate);
        }
        Ok(state.map(|state| LoadedItem {
            item_id,
            version,
            state,
        }))
    }
}
