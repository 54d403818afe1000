//! Events as read back from the log, with their place in it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::Aggregate;
use serde_json::Value;
use suspense_domain::{ItemId, StreamKind, SuspenseItem, SuspenseItemEvent};

use crate::error::StoreError;
use crate::metadata::EventMetadata;
use crate::upcast::upcast;

/// One event of the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordedEvent {
    /// Place in the global order, from 1 without gaps. `None` only in an item's history on
    /// PostgreSQL, for the moment between commit and sequencing.
    pub position: Option<u64>,
    pub item_id: ItemId,
    /// Place in the item's own stream, from 1 without gaps.
    pub sequence: u64,
    /// Event type and payload version as stored (before upcasting).
    pub event_type: String,
    pub event_version: String,
    pub event: SuspenseItemEvent,
    pub metadata: EventMetadata,
    /// When the database recorded the event (not the business time `event.at()`).
    pub recorded_at: DateTime<Utc>,
}

/// One line of an auditor's export (JSON Lines): the event as stored, with its place in the
/// log and in the hash chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportedEvent {
    pub position: u64,
    pub item_id: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// RFC 3339, microseconds, UTC: exactly as it enters the canonical bytes.
    pub recorded_at: String,
    pub content_hash: String,
    /// The chain link at this position; absent until the chain is extended over it.
    pub link: Option<String>,
}

/// An event of one of the log's other streams (a remediation plan's, a branch's transaction
/// volumes), with its place in the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded<E> {
    /// Place in the global order; `None` on PostgreSQL between commit and sequencing.
    pub position: Option<u64>,
    /// The stream's id as stored (a plan's id, a branch's code).
    pub stream: String,
    pub sequence: u64,
    pub event: E,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

/// An event of the log's other streams as stored, for a reader that hands every event on
/// without deciding anything by it (delivery to the bank's other systems).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: u64,
    pub kind: StreamKind,
    /// The stream's id as stored (a plan's id, a branch's code, an incident's reference).
    pub stream: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

/// A remediation plan's event as read back from the log.
pub type RecordedPlanEvent = Recorded<suspense_domain::PlanEvent>;
/// A transaction volume event as read back from the log.
pub type RecordedVolumeEvent = Recorded<suspense_domain::VolumeEvent>;
/// An escalation policy event as read back from the log.
pub type RecordedPolicyEvent = Recorded<suspense_domain::policy::PolicyEvent>;
pub type RecordedOrganisationEvent = Recorded<suspense_domain::organisation::OrganisationEvent>;
/// An incident's event as read back from the log.
pub type RecordedIncidentEvent = Recorded<suspense_domain::incident::IncidentEvent>;

/// A page of the log, in global order (`EventLog::read_page`): the items' events, and how far
/// the page reached. The log's other streams (plans, volumes) take positions too; a page
/// skips their events but counts them, so a reader's checkpoint moves past them.
pub struct LogPage {
    pub(crate) events: Vec<RecordedEvent>,
    pub(crate) others: Vec<StoredEvent>,
    pub(crate) rows: usize,
    pub(crate) last_position: Option<u64>,
}

impl LogPage {
    /// The items' events on the page.
    pub fn events(&self) -> &[RecordedEvent] {
        &self.events
    }

    /// The other streams' events on the page, as stored: filled only by
    /// `EventLog::read_page_of_every_stream`.
    pub fn others(&self) -> &[StoredEvent] {
        &self.others
    }

    /// How many events of any stream the page read: a page that read fewer than asked for
    /// reached the log's head.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// The position of the page's last event of any stream; `None` for an empty page.
    pub fn last_position(&self) -> Option<u64> {
        self.last_position
    }
}

/// A row as both backends return it.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub position: Option<i64>,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// JSON text: parsed straight into the event, without an intermediate `Value`, unless an
    /// upcaster has to rewrite it first.
    pub payload: String,
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
}

/// `EventRow` as an element of a SQLite page read as one JSON array (see `log::PAGE_SQLITE`).
#[derive(serde::Deserialize)]
struct JsonEventRow {
    position: Option<i64>,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    recorded_at: String,
}

impl EventRow {
    /// The rows of one JSON array of a SQLite page (`PAGE_SQLITE`), `recorded_at` parsed as sqlx parses
    /// SQLite text (`sqlite_time`), so that a page reads the same either way.
    pub(crate) fn from_json_page(page: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows: Vec<JsonEventRow> =
            serde_json::from_str(page).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        rows.into_iter()
            .map(|row| {
                let recorded_at =
                    crate::tuning::sqlite_time::parse(&row.recorded_at).ok_or_else(|| {
                        StoreError::CorruptEvent {
                            item_id: row.aggregate_id.clone(),
                            sequence: u64::try_from(row.sequence).unwrap_or(0),
                            reason: format!("recorded_at: invalid datetime {:?}", row.recorded_at),
                        }
                    })?;
                Ok(EventRow {
                    position: row.position,
                    aggregate_id: row.aggregate_id,
                    sequence: row.sequence,
                    event_type: row.event_type,
                    event_version: row.event_version,
                    payload: row.payload,
                    metadata: row.metadata,
                    recorded_at,
                })
            })
            .collect()
    }

    /// The kind of stream the row belongs to (by its event type: see `StreamKind`).
    pub(crate) fn kind(&self) -> StreamKind {
        StreamKind::of_event_type(&self.event_type)
    }

    /// The event of one of the log's other streams this row stores. Those streams have no
    /// older shapes yet, so no upcaster applies.
    pub(crate) fn decode_as<E: serde::de::DeserializeOwned>(
        &self,
        name: impl Fn(&E) -> &'static str,
    ) -> Result<Recorded<E>, StoreError> {
        let metadata: EventMetadata = serde_json::from_str(&self.metadata)
            .map_err(|e| self.corrupt(format!("metadata: {e}")))?;
        let event: E = serde_json::from_str(&self.payload).map_err(|e| self.corrupt_payload(e))?;
        if name(&event) != self.event_type {
            return Err(self.corrupt(format!(
                "event_type says {} but the payload is {}",
                self.event_type,
                name(&event)
            )));
        }
        let (sequence, position) = self.place()?;
        Ok(Recorded {
            position,
            stream: self.aggregate_id.clone(),
            sequence,
            event,
            metadata,
            recorded_at: self.recorded_at,
        })
    }

    /// The event this row stores, through the upcasters.
    pub(crate) fn decode(
        &self,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<RecordedEvent, StoreError> {
        let metadata: EventMetadata = serde_json::from_str(&self.metadata)
            .map_err(|e| self.corrupt(format!("metadata: {e}")))?;
        let (event_type, event) = if self.needs_upcast(upcasters) {
            self.upcast(upcasters)?
        } else {
            let event = serde_json::from_str(&self.payload).map_err(|e| self.corrupt_payload(e))?;
            (Cow::Borrowed(self.event_type.as_str()), event)
        };
        self.recorded(&event_type, event, metadata)
    }

    fn needs_upcast(&self, upcasters: &[Box<dyn EventUpcaster>]) -> bool {
        upcasters
            .iter()
            .any(|u| u.can_upcast(&self.event_type, &self.event_version))
    }

    /// The payload in its current shape, and its event type there, from an older shape:
    /// parsed into a `Value` for the upcasters to rewrite, then deserialised.
    fn upcast(
        &self,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<(Cow<'_, str>, SuspenseItemEvent), StoreError> {
        let payload: Value =
            serde_json::from_str(&self.payload).map_err(|e| self.corrupt_payload(e))?;
        let serialized = upcast(
            SerializedEvent::new(
                self.aggregate_id.clone(),
                usize::try_from(self.sequence).unwrap_or(usize::MAX),
                SuspenseItem::TYPE.to_owned(),
                self.event_type.clone(),
                self.event_version.clone(),
                payload,
                Value::Null,
            ),
            upcasters,
        );
        let event: SuspenseItemEvent =
            serde_json::from_value(serialized.payload).map_err(|e| self.corrupt_payload(e))?;
        Ok((Cow::Owned(serialized.event_type), event))
    }

    /// The recorded event, once its row's other columns check out and the payload is the
    /// `event_type` the row says (after upcasting).
    fn recorded(
        &self,
        event_type: &str,
        event: SuspenseItemEvent,
        metadata: EventMetadata,
    ) -> Result<RecordedEvent, StoreError> {
        if event.name() != event_type {
            return Err(self.corrupt(format!(
                "event_type says {event_type} but the payload is {}",
                event.name()
            )));
        }
        let item_id = ItemId::parse(&self.aggregate_id).map_err(|e| self.corrupt(e.to_string()))?;
        let (sequence, position) = self.place()?;
        Ok(RecordedEvent {
            position,
            item_id,
            sequence,
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            event,
            metadata,
            recorded_at: self.recorded_at,
        })
    }

    /// The row's sequence in its stream and its position in the log (if assigned).
    /// The event as stored, its payload and metadata as JSON values.
    pub(crate) fn stored(&self) -> Result<StoredEvent, StoreError> {
        let payload = serde_json::from_str(&self.payload).map_err(|e| self.corrupt_payload(e))?;
        let metadata = serde_json::from_str(&self.metadata)
            .map_err(|e| self.corrupt(format!("metadata: {e}")))?;
        let (sequence, position) = self.place()?;
        Ok(StoredEvent {
            position: position.ok_or_else(|| self.corrupt("no position yet".into()))?,
            kind: self.kind(),
            stream: self.aggregate_id.clone(),
            sequence,
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            payload,
            metadata,
            recorded_at: self.recorded_at,
        })
    }

    fn place(&self) -> Result<(u64, Option<u64>), StoreError> {
        let sequence = u64::try_from(self.sequence)
            .map_err(|_| self.corrupt(format!("negative sequence {}", self.sequence)))?;
        let position = self
            .position
            .map(|p| u64::try_from(p).map_err(|_| self.corrupt(format!("negative position {p}"))))
            .transpose()?;
        Ok((sequence, position))
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::CorruptEvent {
            item_id: self.aggregate_id.clone(),
            sequence: u64::try_from(self.sequence).unwrap_or(0),
            reason,
        }
    }

    fn corrupt_payload(&self, e: serde_json::Error) -> StoreError {
        self.corrupt(format!("{} v{}: {e}", self.event_type, self.event_version))
    }
}
