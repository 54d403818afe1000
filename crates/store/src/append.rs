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
    let rows = item_rows(events)?;
    let stream = Stream {
        aggregate_type: SuspenseItem::TYPE,
        aggregate_id: &item_id.to_string(),
    };
    match append_rows(pool, lanes, stream, version, &rows, metadata).await {
        Err(AppendError::Taken) => Err(StoreError::Conflict { item_id }),
        Err(AppendError::Store(e)) => Err(e),
        Ok(()) => Ok(()),
    }
}

/// An item's events as stored rows.
pub(crate) fn item_rows(events: &[SuspenseItemEvent]) -> Result<Vec<EventText>, StoreError> {
    events
        .iter()
        .map(|e| Ok((e.event_type(), e.event_version(), serialise(e)?)))
        .collect()
}

/// A stream of the log: an aggregate's type and id.
#[derive(Clone, Copy)]
pub(crate) struct Stream<'a> {
    pub aggregate_type: &'static str,
    pub aggregate_id: &'a str,
}

pub(crate) enum AppendError {
    /// Another writer took one of the sequences first; nothing was written.
    Taken,
    Store(StoreError),
}

/// A stored event row: event type, payload version, payload JSON.
pub(crate) type EventText = (String, String, String);

/// An event's payload as stored.
pub(crate) fn serialise(event: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(event).map_err(encode_error)
}

/// The rows of `events` of a stream other than an item's: each event's type name, the
/// stream's payload version and its JSON.
pub(crate) fn stream_rows_of<E: serde::Serialize>(
    events: &[E],
    name: fn(&E) -> &'static str,
    version: &str,
) -> Result<Vec<EventText>, StoreError> {
    events
        .iter()
        .map(|e| Ok((name(e).to_owned(), version.to_owned(), serialise(e)?)))
        .collect()
}

/// Writes `rows` as sequences `version + 1 ..` of `stream`, all or none, in one statement.
pub(crate) async fn append_rows(
    pool: &Pool,
    lanes: &CommandLanes,
    stream: Stream<'_>,
    version: u64,
    rows: &[EventText],
    metadata: &HashMap<String, String>,
) -> Result<(), AppendError> {
    let metadata =
        serde_json::to_string(metadata).map_err(|e| AppendError::Store(encode_error(e)))?;
    let write = StreamWrite {
        stream,
        version,
        rows,
        metadata: &metadata,
    };
    append_streams(pool, lanes, &[write]).await
}

/// New events of one stream: its rows after `version`, with the command's metadata (JSON).
pub(crate) struct StreamWrite<'a> {
    pub stream: Stream<'a>,
    pub version: u64,
    pub rows: &'a [EventText],
    pub metadata: &'a str,
}

/// Writes every stream's rows after its version, all or none, in one statement: a sequence
/// another writer took first in any of them is `Taken`, and nothing is written.
pub(crate) async fn append_streams(
    pool: &Pool,
    lanes: &CommandLanes,
    writes: &[StreamWrite<'_>],
) -> Result<(), AppendError> {
    let rows: Vec<(&StreamWrite<'_>, i64, &EventText)> = writes
        .iter()
        .flat_map(|write| {
            (write.version + 1..)
                .zip(write.rows)
                .map(move |(sequence, row)| {
                    (write, i64::try_from(sequence).unwrap_or(i64::MAX), row)
                })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
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
        insert.push_values(&rows, |mut row, (write, sequence, (event_type, event_version, payload))| {
            row.push_bind(write.stream.aggregate_type)
                .push_bind(write.stream.aggregate_id)
                .push_bind(*sequence)
                .push_bind(event_type.as_str())
                .push_bind(event_version.as_str())
                .push_bind(payload.as_str())
                .push_unseparated(json)
                .push_bind(write.metadata)
                .push_unseparated(json);
        });
        insert.build().execute(&mut *conn).await.map(|_| ())
    });
    match inserted {
        Ok(()) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Err(AppendError::Taken),
        Err(e) => Err(AppendError::Store(e.into())),
    }
}

pub(crate) fn encode_error(err: serde_json::Error) -> StoreError {
    StoreError::Database(Box::new(err))
}
