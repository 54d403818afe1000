//! **suspense**: track every bank suspense item (掛賬) from the moment it is booked until it is
//! cleared, as an event-sourced log that auditors can replay.
//!
//! A bank service embeds it in a few lines; the log is an SQLite file by default (created on
//! first use) or a PostgreSQL database:
//!
//! ```no_run
//! use suspense::prelude::*;
//!
//! # async fn book(item: OpenItem) -> Result<(), Box<dyn std::error::Error>> {
//! let ledger = Suspense::open("./suspense.db").await?;
//! let teller = Actor::new(UserId::parse("teller-7")?).with_source("core-banking");
//! let opened = ledger.open_item(&teller, item).await?;
//! ledger
//!     .execute(&teller, opened.item_id, ItemAction::Comment { text: Note::parse("called remitter")? })
//!     .await?;
//! let history = ledger.history(opened.item_id).await?;
//! # Ok(()) }
//! ```
//!
//! See `examples/embed.rs` for a whole item's life.

mod actor;
mod clearing;
mod clock;
mod incidents;
mod leadership;
mod ledger;
mod organisation;
mod outlook;
mod plans;
mod scope;
mod sweep;

pub use actor::Actor;
pub use clearing::AllocationCheck;
pub use clock::SystemClock;
pub use incidents::{IncidentQueryError, IncidentReport};
pub use leadership::{BackgroundWork, Leadership};
pub use ledger::{Background, Suspense, SuspenseBuilder};
pub use plans::{EvaluationError, LoadedPlan};
pub use sweep::{SweepError, SweepOutcome, SYSTEM_USER};

/// Delivery of the log's events to the bank's other systems.
pub use suspense_delivery as delivery;
/// The domain: commands, events, value types and rules.
pub use suspense_domain as domain;
/// Read models, the projector and reports.
pub use suspense_read_models as read_models;
/// The event log and its errors.
pub use suspense_store as store;

pub use suspense_read_models::ProjectionError;
pub use suspense_store::{Executed, LoadedItem, RecordedEvent, StoreError as Error};

/// Everything an embedding service usually needs.
pub mod prelude {
    pub use crate::{Actor, Error, Executed, LoadedItem, ProjectionError, RecordedEvent, Suspense};
    pub use suspense_domain::*;
    pub use suspense_read_models::{
        AgingPolicy, PeriodKind, ReportingCalendar, RootCauseQuery, WatchQuery,
    };
}
