//! Errors of the event log, one enum for the layer; the service and CLI map them once.

use cqrs_es::AggregateError;
use suspense_domain::incident::IncidentError;
use suspense_domain::organisation::OrganisationError;
use suspense_domain::policy::PolicyError;
use suspense_domain::{ItemError, ItemId, PlanError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The command broke a business rule; nothing was written.
    #[error(transparent)]
    Rejected(#[from] ItemError),
    /// One item refused its share of a clearing allocated across items (`index` in the
    /// allocation's shares); nothing was written on any item.
    #[error("shares[{index}]: item {item_id}: {error}")]
    ShareRejected {
        index: usize,
        item_id: ItemId,
        error: ItemError,
    },
    /// The command broke a rule of an incident; nothing was written.
    #[error(transparent)]
    IncidentRejected(#[from] IncidentError),
    /// The command broke a rule of a remediation plan; nothing was written.
    #[error(transparent)]
    PlanRejected(#[from] PlanError),
    /// A policy version was refused at publication; nothing was written.
    #[error(transparent)]
    PolicyRejected(#[from] PolicyError),
    /// The actor may not book to this branch: it lies outside the branches it works for.
    #[error("branch {branch} is outside the branches you work for")]
    OutOfScope { branch: String },
    /// An organisation registry version was refused at publication; nothing was written.
    #[error(transparent)]
    OrganisationRejected(#[from] OrganisationError),
    /// Another command on the same plan or branch volumes was written first; nothing was
    /// written.
    #[error("{stream} was changed by another command at the same time")]
    StreamConflict { stream: String },
    /// Another command on the same item was written first; nothing was written. Retry on the
    /// new state, or report the conflict.
    #[error("item {item_id} was changed by another command at the same time")]
    Conflict { item_id: ItemId },
    /// A batch of commands named an item twice; nothing was written.
    #[error("item {item_id} appears twice in one batch of commands")]
    DuplicateItem { item_id: ItemId },
    /// The caller acted on an older version of the item; nothing was written.
    #[error("item is at version {actual}, the command expected version {expected}")]
    VersionMismatch { expected: u64, actual: u64 },
    /// The store location could not be understood.
    #[error("invalid store location '{location}': {reason}")]
    InvalidLocation { location: String, reason: String },
    /// The database cannot be reached (connection refused, pool exhausted, timeout).
    #[error("the event store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Creating or upgrading the schema failed.
    #[error("migrating the event store failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored event cannot be read back as a known event (unknown type or version, bad
    /// JSON). Reported, never skipped: a reader that skips events would report wrong totals.
    #[error("stored event {item_id}#{sequence} cannot be read: {reason}")]
    CorruptEvent {
        item_id: String,
        sequence: u64,
        reason: String,
    },
    /// Events committed before a `settle` call were not all positioned in time: some
    /// transaction (perhaps a session left idle in a transaction) holds back the horizon.
    #[error(
        "the log did not settle within {waited:?}: a long-running transaction holds back positions"
    )]
    SettleTimeout { waited: std::time::Duration },
    /// Any other database error.
    #[error("event store error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// True when retrying the same command later may succeed without any change to it.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. } | Self::StreamConflict { .. } | Self::Unavailable(_)
        )
    }

    pub(crate) fn from_aggregate(item_id: ItemId, err: AggregateError<ItemError>) -> Self {
        match err {
            AggregateError::UserError(rule) => Self::Rejected(rule),
            AggregateError::AggregateConflict => Self::Conflict { item_id },
            AggregateError::DatabaseConnectionError(source) => Self::Unavailable(source),
            AggregateError::DeserializationError(source) => Self::CorruptEvent {
                item_id: item_id.to_string(),
                sequence: 0,
                reason: source.to_string(),
            },
            AggregateError::UnexpectedError(source) => Self::from_boxed(source),
        }
    }

    fn from_boxed(source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        match source.downcast::<sqlx::Error>() {
            Ok(sqlx_error) => Self::from(*sqlx_error),
            Err(other) => Self::Database(other),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Self::Unavailable(Box::new(err)),
            // Postgres class 08 (connection exception), 57P01..03 (shutdown, cannot connect now).
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
                Self::Unavailable(Box::new(err))
            }
            other => Self::Database(Box::new(other)),
        }
    }
}

/// True when `err` is a duplicate primary or unique key: on the events table, another writer
/// took the sequence first. (SQLite reports a duplicate primary key as code 1555, which sqlx
/// does not count as a unique violation.)
pub fn is_duplicate_key(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => e.is_unique_violation() || e.code().as_deref() == Some("1555"),
        _ => false,
    }
}
