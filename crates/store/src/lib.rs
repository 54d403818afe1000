//! The suspense event log: every event of every suspense item, persisted through cqrs-es on
//! an embedded SQLite file (sqlite-es, the default) or PostgreSQL (postgres-es), and readable
//! in one global, gap-free order.
//!
//! - [`EventLog::execute`] runs a command against an item with optimistic concurrency.
//! - [`EventLog::load`] and [`EventLog::history`] read one item.
//! - [`EventLog::read_after`] follows the whole log by global position; see `sequencer` for
//!   why a reader can never miss an event committed late by a concurrent writer.

mod append;
mod backend;
mod canonical;
pub mod chain;
mod error;
mod idempotency;
mod location;
mod log;
mod metadata;
mod record;
mod sequencer;
mod tuning;
mod upcast;

pub use chain::{verify_export, ChainVerdict, Tampering};
pub use error::{is_duplicate_key, StoreError};
pub use idempotency::{Claim, IdempotencyKeys};
pub use location::StoreLocation;
pub use log::{EventLog, Executed, ExecutedPlan, LeaderLease, LoadedItem};
pub use metadata::{EventMetadata, RequestMetadata};
pub use record::{
    ExportedEvent, LogPage, Recorded, RecordedEvent, RecordedIncidentEvent,
    RecordedOrganisationEvent, RecordedPlanEvent, RecordedPolicyEvent, RecordedVolumeEvent,
    StoredEvent,
};
/// Pool sizes: an input of [`EventLog::open`].
pub use suspense_database::PoolSettings;
pub use upcast::upcasters;
