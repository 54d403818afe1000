//! What can keep a deliverer from its work (not a target's refusal, which is retried and,
//! in the end, parks the subscription).

use suspense_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the log: {0}")]
    Log(#[from] StoreError),
    #[error("the delivery checkpoints: {0}")]
    Checkpoint(#[from] sqlx::Error),
    #[error("creating the delivery checkpoints: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no checkpoint for subscription {0}")]
    NoCheckpoint(String),
    #[error("no subscription {0}")]
    UnknownSubscription(String),
    #[error("{0}")]
    Invalid(#[from] suspense_domain::InvalidInput),
    #[error("a subscription named {0} exists already")]
    NameTaken(String),
    #[error("subscription {0} is in the service's configuration; remove it there")]
    Configured(String),
    #[error("the webhook client: {0}")]
    Client(String),
}
