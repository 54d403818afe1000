//! Every event of the suspense log delivered to the bank's other systems (a core-banking
//! service, the messaging gateway, a data warehouse), in log order, as signed CloudEvents.
//!
//! **The log is the outbox.** A command writes its events and nothing else; each
//! subscription follows the log's global order with a checkpoint of its own, exactly as the
//! projector does. Positions have no gaps (on PostgreSQL a position is given only once every
//! earlier one is), so a deliverer that moves its checkpoint after handing events over sees
//! each event once, and a command never waits for, or fails because of, a subscriber. An
//! outbox table filled in the command's transaction would only copy what the log already
//! holds in the same order.
//!
//! Guarantees, per subscription: events arrive in log order; nothing is lost across a crash
//! or a target that is away (the checkpoint stays, and the event is tried again); a
//! receiver sees an event twice only after a crash between delivering it and moving the
//! checkpoint (at most one page), and de-duplicates by the CloudEvents `id`.
//!
//! ```no_run
//! # async fn example(log: std::sync::Arc<suspense_store::EventLog>) -> Result<(), Box<dyn std::error::Error>> {
//! use suspense_delivery::{Delivery, DeliverySettings, EventFilter, StartAt, Subscription,
//!     SubscriptionName, Target, WebhookSecret, WebhookUrl};
//!
//! let gateway = Subscription {
//!     name: SubscriptionName::parse("messaging-gateway")?,
//!     filter: EventFilter::parse(&["Escalated".into()], &[])?,
//!     target: Target::Webhook {
//!         url: WebhookUrl::parse("https://gateway.bank.example/suspense")?,
//!         secret: WebhookSecret::parse("a secret of at least thirty-two bytes")?,
//!     },
//!     start: StartAt::Now,
//!     max_attempts: Subscription::DEFAULT_MAX_ATTEMPTS,
//! };
//! let delivery = Delivery::new(log, vec![gateway], DeliverySettings::default()).await?;
//! let tasks = delivery.spawn(); // on one instance at a time
//! # Ok(()) }
//! ```

mod checkpoint;
pub mod cloud_event;
mod deliverer;
mod error;
pub mod signature;
mod subscription;

use std::sync::Arc;
use std::time::Duration;

use suspense_store::EventLog;

pub use checkpoint::CheckpointRow;
pub use deliverer::DeliverySettings;
pub use error::DeliveryError;
pub use subscription::{
    EventFilter, JetStreamSubject, NatsServer, StartAt, Subscription, SubscriptionName, Target,
    WebhookSecret, WebhookUrl,
};

/// Where one subscription stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionStatus {
    pub name: String,
    /// The log position handed over up to.
    pub position: u64,
    /// Events of the log after `position`.
    pub lag: u64,
    pub delivered: u64,
    /// Failed attempts at the event waiting.
    pub failures: u32,
    pub last_error: Option<String>,
    pub parked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How long a new subscription starting now waits for transactions in flight to end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The subscriptions of one log, and their deliverers.
pub struct Delivery {
    log: Arc<EventLog>,
    subscriptions: Vec<Subscription>,
    settings: DeliverySettings,
    client: reqwest::Client,
}

impl Delivery {
    /// Creates the checkpoints table if needed and a checkpoint for each new subscription
    /// (at the start of the log or at its head, as the subscription says).
    pub async fn new(
        log: Arc<EventLog>,
        subscriptions: Vec<Subscription>,
        settings: DeliverySettings,
    ) -> Result<Self, DeliveryError> {
        checkpoint::migrate(log.pool()).await?;
        // `head` positions at most one batch of what is pending; a subscription that starts
        // now must start after every event committed before this call, however many wait.
        let now = if subscriptions.iter().any(|s| s.start == StartAt::Now) {
            log.settle(SETTLE_TIMEOUT).await?
        } else {
            0
        };
        for subscription in &subscriptions {
            let start = match subscription.start {
                StartAt::Beginning => 0,
                StartAt::Now => now,
            };
            checkpoint::ensure(log.pool(), &subscription.name, start).await?;
        }
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| DeliveryError::Client(e.to_string()))?;
        Ok(Self {
            log,
            subscriptions,
            settings,
            client,
        })
    }

    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// A task per subscription, delivering until aborted. Run them on one instance at a time
    /// (the service does so on the instance that leads).
    pub fn spawn(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.subscriptions
            .iter()
            .map(|subscription| {
                Arc::new(deliverer::Deliverer::new(
                    Arc::clone(&self.log),
                    subscription.clone(),
                    self.settings,
                    self.client.clone(),
                ))
                .spawn()
            })
            .collect()
    }

    /// Where every subscription stands against the log's head.
    pub async fn status(&self) -> Result<Vec<SubscriptionStatus>, DeliveryError> {
        let head = self.log.head().await?;
        let rows = checkpoint::all(self.log.pool()).await?;
        Ok(self
            .subscriptions
            .iter()
            .filter_map(|s| rows.iter().find(|r| r.subscription == s.name.as_str()))
            .map(|row| SubscriptionStatus {
                name: row.subscription.clone(),
                position: row.reached(),
                lag: head.saturating_sub(row.reached()),
                delivered: u64::try_from(row.delivered).unwrap_or(0),
                failures: u32::try_from(row.failures).unwrap_or(0),
                last_error: row.last_error.clone(),
                parked_at: row.parked_at,
            })
            .collect())
    }

    /// Un-parks `name`: it goes on with the event it stopped at, or, given a position,
    /// delivers again every event after it (a replay).
    pub async fn resume(&self, name: &str, from: Option<u64>) -> Result<(), DeliveryError> {
        let known = self
            .subscriptions
            .iter()
            .find(|s| s.name.as_str() == name)
            .ok_or_else(|| DeliveryError::UnknownSubscription(name.to_owned()))?;
        if checkpoint::resume(self.log.pool(), &known.name, from).await? {
            Ok(())
        } else {
            Err(DeliveryError::NoCheckpoint(name.to_owned()))
        }
    }
}
