//! Appends an item's new events to the log in one statement.
//!
//! cqrs-es's `PersistedEventStore::commit` opens a transaction and sends one `INSERT` per event:
//! `BEGIN`, n inserts and `COMMIT` are n + 2 round trips, and each payload is serialised twice
//! (to a `serde_json::Value`, then to text). A single multi-row `INSERT` is atomic on its own
//! on both backends, so the same rows go in one round trip. The table, its columns and the
//! optimistic-concurrency check (the `(aggregate_type, aggregate_id, sequence)` primary key)
//! are exactly those of postgres-es / sqlite-es, which still load the items.

use std::collections::HashMap;

use cqrs_es::{Aggregate, DomainEvent};
use suspense_domain::{ItemId, SuspenseItem, SuspenseItemEvent};

use crate::error::{is_duplicate_key, StoreError};
use crate::tuning::lanes::{on_lane, CommandLanes};
use suspense_database::Pool;

/// Writes `events` as sequences `version + 1 ..` of `item_id`, all or none. A sequence taken
/// by another writer first is a [`StoreError::Conflict`], and nothing is written.
pub(crate) async fn append(
    pool: &Pool,
    lanes: &CommandLanes,
    item_id: ItemId,
    version: u64,
    events: &[SuspenseItemEvent],
    metadata: &HashMap<String, String>,
) -> Result<(), StoreError> {
    let aggregate_id = item_id.to_string();
    let metadata = serde_json::to_string(metadata).map_err(encode_error)?;
    let mut rows = Vec::with_capacity(events.len());
    for (sequence, event) in (version + 1..).zip(events) {
        let payload = serde_json::to_string(event).map_err(encode_error)?;
        rows.push((
            i64::try_from(sequence).unwrap_or(i64::MAX),
            event.event_type(),
            event.event_version(),
            payload,
        ));
    }
    // PostgreSQL's columns are `json`: the bound text is cast there, as postgres-es's own
    // binding of a `serde_json::Value` would be.
    let json = match pool {
        Pool::Sqlite(_) => "",
        Pool::Postgres(_) => "::json",
    };
    let inserted: Result<_, sqlx::Error> = on_lane!(pool, lanes, conn => {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) ",
        );
        insert.push_values(&rows, |mut row, (sequence, event_type, event_version, payload)| {
            row.push_bind(SuspenseItem::TYPE)
                .push_bind(aggregate_id.as_str())
                .push_bind(*sequence)
                .push_bind(event_type.as_str())
                .push_bind(event_version.as_str())
                .push_bind(payload.as_str())
                .push_unseparated(json)
                .push_bind(metadata.as_str())
                .push_unseparated(json);
        });
        insert.build().execute(&mut *conn).await.map(|_| ())
    });
    match inserted {
        Ok(()) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Err(StoreError::Conflict { item_id }),
        Err(e) => Err(e.into()),
    }
}

fn encode_error(err: serde_json::Error) -> StoreError {
    StoreError::Database(Box::new(err))
}
