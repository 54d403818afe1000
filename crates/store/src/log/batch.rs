//! Commands on several items written together: each decided on its item's state (at the
//! version the caller expects, if any), and all their events appended in one statement, all
//! or none, with the optimistic-concurrency check on every item. A rejection of any command,
//! or another writer first on any item, writes nothing. The sweep appends its escalations
//! this way, a chunk of items per statement.

use cqrs_es::Aggregate;
use suspense_domain::{ItemCommand, ItemError, ItemId, SuspenseItem};

use super::{EventLog, Executed};
use crate::append::{append_streams, encode_error, item_rows, AppendError, StreamWrite};
use crate::error::StoreError;
use crate::metadata::RequestMetadata;

/// One item's command, and the version it must be at (`None`: whatever it is at).
pub type ItemBatchCommand = (ItemId, ItemCommand, Option<u64>);

impl EventLog {
    /// Runs one command on each of several items, all or none. An item named twice is
    /// refused (`StoreError::DuplicateItem`); a command the domain rejects returns that
    /// rejection, a version other than the expected one `VersionMismatch`, and another
    /// writer first on any item `Conflict`: in every case nothing is written.
    pub async fn execute_all(
        &self,
        commands: Vec<ItemBatchCommand>,
        metadata: &RequestMetadata,
    ) -> Result<Vec<Executed>, StoreError> {
        self.run_batch(commands, metadata, None, None).await
    }

    /// `execute_all`, appending `extra` (another stream's new events) in the same statement;
    /// with `unless_written`, a command that writes nothing refuses the batch with that error.
    pub(super) async fn run_batch(
        &self,
        commands: Vec<ItemBatchCommand>,
        metadata: &RequestMetadata,
        extra: Option<StreamWrite<'_>>,
        unless_written: Option<ItemError>,
    ) -> Result<Vec<Executed>, StoreError> {
        let mut ids: Vec<ItemId> = commands.iter().map(|(id, ..)| *id).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(StoreError::DuplicateItem { item_id: pair[0] });
        }
        // Turns in item-id order: two batches sharing items cannot wait on each other.
        let mut turns = Vec::with_capacity(ids.len());
        for id in &ids {
            turns.push(self.turns.take(*id).await);
        }
        let mut decided = Vec::with_capacity(commands.len());
        for (item_id, command, expected) in commands {
            let metadata =
                serde_json::to_string(&metadata.to_map(&command.by)).map_err(encode_error)?;
            // As for one item: only a decision that writes events is taken from the cached
            // state (the write checks its version); anything else is decided again on the
            // state in the database.
            let (version, aggregate, events) =
                match self.decide_on_cached(item_id, &command, expected) {
                    Some(decided) => decided,
                    None => self.decide_on_stored(item_id, command, expected).await?,
                };
            if events.is_empty() {
                if let Some(refusal) = &unless_written {
                    return Err(StoreError::Rejected(refusal.clone()));
                }
            }
            decided.push((item_id, version, aggregate, events, metadata));
        }
        let Some(first) = decided.first().map(|(id, ..)| *id) else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = decided.iter().map(|(id, ..)| id.to_string()).collect();
        let rows = decided
            .iter()
            .map(|(_, _, _, events, _)| item_rows(events))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut writes: Vec<StreamWrite<'_>> = decided
            .iter()
            .zip(&ids)
            .zip(&rows)
            .map(|(((_, version, _, _, metadata), id), rows)| StreamWrite {
                stream: crate::append::Stream {
                    aggregate_type: SuspenseItem::TYPE,
                    aggregate_id: id,
                },
                version: *version,
                rows,
                metadata,
            })
            .collect();
        writes.extend(extra);
        let writing = self.write_turn().await;
        let appended = append_streams(&self.pool, &self.lanes, &writes).await;
        drop(writing);
        drop(writes);
        match appended {
            Ok(()) => {}
            Err(AppendError::Taken) => {
                for (item_id, ..) in &decided {
                    self.forget(*item_id);
                }
                return Err(StoreError::Conflict { item_id: first });
            }
            Err(AppendError::Store(e)) => return Err(e),
        }
        let executed = decided
            .into_iter()
            .map(|(item_id, version, aggregate, events, _)| {
                self.committed(item_id, version, aggregate, events)
            })
            .collect();
        drop(turns);
        Ok(executed)
    }
}
