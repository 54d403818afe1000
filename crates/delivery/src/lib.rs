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
//! Subscriptions come from the service's configuration (`Delivery::new`) or from a
//! supervisor through the API (`Delivery::add`, kept in `delivery_subscriptions`, so every
//! instance sees them); the instance that delivers starts and stops deliverers as they come
//! and go.
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
//! let delivery = std::sync::Arc::new(
//!     Delivery::new(log, vec![gateway], DeliverySettings::default()).await?,
//! );
//! let task = delivery.spawn(); // on one instance at a time
//! # Ok(()) }
//! ```

mod checkpoint;
pub mod cloud_event;
mod deliverer;
mod error;
pub mod signature;
mod stored;
mod subscription;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use suspense_store::EventLog;

pub use checkpoint::CheckpointRow;
pub use deliverer::DeliverySettings;
pub use error::DeliveryError;
pub use subscription::{
    known_event_types, EventFilter, JetStreamSubject, NatsServer, StartAt, Subscription,
    SubscriptionName, SubscriptionSpec, Target, WebhookSecret, WebhookUrl,
};

/// Where a subscription comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The service's configuration file: changed there, and by a restart.
    Configured,
    /// A supervisor's request through the API.
    Api { by: String, at: DateTime<Utc> },
}

/// Where one subscription stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionStatus {
    pub name: String,
    pub subscription: Subscription,
    pub origin: Origin,
    /// The log position handed over up to.
    pub position: u64,
    /// Events of the log after `position`.
    pub lag: u64,
    pub delivered: u64,
    /// Failed attempts at the event waiting.
    pub failures: u32,
    pub last_error: Option<String>,
    pub parked_at: Option<DateTime<Utc>>,
}

/// How long a new subscription starting now waits for transactions in flight to end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The subscriptions of one log, and their deliverers.
pub struct Delivery {
    log: Arc<EventLog>,
    configured: Vec<Subscription>,
    settings: DeliverySettings,
    client: reqwest::Client,
    /// The problems with kept subscriptions logged already: the subscriptions are read every
    /// `reload`, and a problem is logged when it appears, not every second while it lasts.
    reported: Mutex<BTreeSet<KeptProblem>>,
}

/// Why a subscription kept in the database is not delivered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeptProblem {
    /// A configured subscription has its name; the configured one is delivered.
    Shadowed(String),
    /// It no longer reads as a subscription (an event type since renamed, say).
    Unreadable(String),
}

impl KeptProblem {
    fn log(&self) {
        match self {
            Self::Shadowed(name) => {
                tracing::warn!(subscription = %name, "a subscription made through the API has the name of a configured one; the configured one is delivered")
            }
            Self::Unreadable(reason) => {
                tracing::error!(error = %reason, "a kept subscription is not delivered")
            }
        }
    }
}

/// The problems of `now` not in `reported`, which becomes `now`: a problem that goes away
/// and comes back is reported again.
fn newly_seen(
    reported: &mut BTreeSet<KeptProblem>,
    now: BTreeSet<KeptProblem>,
) -> Vec<KeptProblem> {
    let new = now.difference(reported).cloned().collect();
    *reported = now;
    new
}

impl Delivery {
    /// Creates the delivery tables if needed and a checkpoint for each new configured
    /// subscription (at the start of the log or at its head, as the subscription says).
    pub async fn new(
        log: Arc<EventLog>,
        configured: Vec<Subscription>,
        settings: DeliverySettings,
    ) -> Result<Self, DeliveryError> {
        checkpoint::migrate(log.pool()).await?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| DeliveryError::Client(e.to_string()))?;
        let delivery = Self {
            log,
            configured,
            settings,
            client,
            reported: Mutex::default(),
        };
        delivery.ensure_checkpoints(&delivery.configured).await?;
        Ok(delivery)
    }

    /// A checkpoint for each of `subscriptions` that has none.
    async fn ensure_checkpoints(
        &self,
        subscriptions: &[Subscription],
    ) -> Result<(), DeliveryError> {
        for subscription in subscriptions {
            let start = self.start_of(subscription).await?;
            checkpoint::ensure(self.log.pool(), &subscription.name, start).await?;
        }
        Ok(())
    }

    /// Where a new subscription starts: the log's beginning, or, starting now, after every
    /// event committed before the call. (`head` positions at most one batch of what is
    /// pending; after a burst of commands more may wait.)
    async fn start_of(&self, subscription: &Subscription) -> Result<u64, DeliveryError> {
        match subscription.start {
            StartAt::Beginning => Ok(0),
            StartAt::Now => Ok(self.log.settle(SETTLE_TIMEOUT).await?),
        }
    }

    /// The subscriptions of the configuration file.
    pub fn configured(&self) -> &[Subscription] {
        &self.configured
    }

    /// Every subscription: the configured ones, then those made through the API by name. A
    /// kept one that no longer reads as a subscription (an event type since renamed) is left
    /// out and logged, once while the problem lasts.
    pub async fn subscriptions(&self) -> Result<Vec<(Subscription, Origin)>, DeliveryError> {
        let mut all: Vec<(Subscription, Origin)> = self
            .configured
            .iter()
            .map(|s| (s.clone(), Origin::Configured))
            .collect();
        let mut problems = BTreeSet::new();
        for kept in stored::all(self.log.pool()).await? {
            let parsed = kept.and_then(|kept| {
                let subscription = kept
                    .spec
                    .parse()
                    .map_err(|e| format!("subscription {}: {e}", kept.spec.name))?;
                Ok((subscription, kept))
            });
            match parsed {
                Ok((subscription, _)) if self.is_configured(subscription.name.as_str()) => {
                    problems.insert(KeptProblem::Shadowed(subscription.name.to_string()));
                }
                Ok((subscription, kept)) => all.push((
                    subscription,
                    Origin::Api {
                        by: kept.created_by,
                        at: kept.created_at,
                    },
                )),
                Err(err) => {
                    problems.insert(KeptProblem::Unreadable(err));
                }
            }
        }
        let new = {
            let mut reported = self
                .reported
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            newly_seen(&mut reported, problems)
        };
        new.iter().for_each(KeptProblem::log);
        Ok(all)
    }

    fn is_configured(&self, name: &str) -> bool {
        self.configured.iter().any(|s| s.name.as_str() == name)
    }

    /// Makes a subscription from a supervisor's request, checked field by field, and puts its
    /// checkpoint where it starts. The instance that delivers starts it within
    /// `DeliverySettings::reload`.
    pub async fn add(
        &self,
        spec: &SubscriptionSpec,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Subscription, DeliveryError> {
        let subscription = spec.parse()?;
        let name = subscription.name.clone();
        if self.is_configured(name.as_str()) {
            return Err(DeliveryError::NameTaken(name.to_string()));
        }
        let kept = stored::StoredSubscription {
            spec: subscription.spec(),
            created_by: by.to_owned(),
            created_at: at,
        };
        if !stored::insert(self.log.pool(), &kept).await? {
            return Err(DeliveryError::NameTaken(name.to_string()));
        }
        let placed = match self.start_of(&subscription).await {
            Ok(start) => checkpoint::restart(self.log.pool(), &name, start)
                .await
                .map_err(DeliveryError::from),
            Err(err) => Err(err),
        };
        if let Err(err) = placed {
            // Without its checkpoint the subscription would start wherever the deliverer
            // first looked: take it back, and let the caller try again.
            stored::delete(self.log.pool(), name.as_str()).await?;
            return Err(err);
        }
        Ok(subscription)
    }

    /// Removes a subscription made through the API, with its checkpoint; the instance that
    /// delivers stops it within `DeliverySettings::reload`. A configured one is refused: it
    /// goes from the configuration file.
    pub async fn remove(&self, name: &str) -> Result<(), DeliveryError> {
        if self.is_configured(name) {
            return Err(DeliveryError::Configured(name.to_owned()));
        }
        if !stored::delete(self.log.pool(), name).await? {
            return Err(DeliveryError::UnknownSubscription(name.to_owned()));
        }
        checkpoint::remove(self.log.pool(), name).await?;
        Ok(())
    }

    /// The task that delivers every subscription until aborted: a deliverer per subscription,
    /// started and stopped as subscriptions are added and removed (looked at every
    /// `reload`). Run it on one instance at a time (the service does so on the instance that
    /// leads).
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let delivery = Arc::clone(self);
        tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every deliverer.
            let mut deliverers = tokio::task::JoinSet::new();
            let mut running: HashMap<SubscriptionName, (Subscription, tokio::task::AbortHandle)> =
                HashMap::new();
            loop {
                if let Err(err) = delivery.follow(&mut deliverers, &mut running).await {
                    tracing::warn!(error = %err, "cannot read the subscriptions");
                }
                while deliverers.try_join_next().is_some() {}
                tokio::time::sleep(delivery.settings.reload).await;
            }
        })
    }

    /// Starts a deliverer for each subscription not running, and stops those removed or
    /// changed.
    async fn follow(
        &self,
        deliverers: &mut tokio::task::JoinSet<()>,
        running: &mut HashMap<SubscriptionName, (Subscription, tokio::task::AbortHandle)>,
    ) -> Result<(), DeliveryError> {
        let wanted: Vec<Subscription> = self
            .subscriptions()
            .await?
            .into_iter()
            .map(|(subscription, _)| subscription)
            .collect();
        running.retain(|_, (subscription, task)| {
            let keep = wanted.contains(subscription);
            if !keep {
                tracing::info!(subscription = %subscription.name, "delivery stopped");
                task.abort();
            }
            keep
        });
        let new: Vec<Subscription> = wanted
            .into_iter()
            .filter(|s| !running.contains_key(&s.name))
            .collect();
        self.ensure_checkpoints(&new).await?;
        for subscription in new {
            let deliverer = Arc::new(deliverer::Deliverer::new(
                Arc::clone(&self.log),
                subscription.clone(),
                self.settings,
                self.client.clone(),
            ));
            let task = deliverers.spawn(deliverer.run());
            tracing::info!(subscription = %subscription.name, "delivery started");
            running.insert(subscription.name.clone(), (subscription, task));
        }
        Ok(())
    }

    /// Where every subscription stands against the log's head.
    pub async fn status(&self) -> Result<Vec<SubscriptionStatus>, DeliveryError> {
        let head = self.log.head().await?;
        let rows = checkpoint::all(self.log.pool()).await?;
        Ok(self
            .subscriptions()
            .await?
            .into_iter()
            .filter_map(|(subscription, origin)| {
                let row = rows
                    .iter()
                    .find(|r| r.subscription == subscription.name.as_str())?;
                Some(SubscriptionStatus {
                    name: row.subscription.clone(),
                    subscription,
                    origin,
                    position: row.reached(),
                    lag: head.saturating_sub(row.reached()),
                    delivered: u64::try_from(row.delivered).unwrap_or(0),
                    failures: u32::try_from(row.failures).unwrap_or(0),
                    last_error: row.last_error.clone(),
                    parked_at: row.parked_at,
                })
            })
            .collect())
    }

    /// Un-parks `name`: it goes on with the event it stopped at, or, given a position,
    /// delivers again every event after it (a replay).
    pub async fn resume(&self, name: &str, from: Option<u64>) -> Result<(), DeliveryError> {
        let known = self
            .subscriptions()
            .await?
            .into_iter()
            .map(|(subscription, _)| subscription)
            .find(|s| s.name.as_str() == name)
            .ok_or_else(|| DeliveryError::UnknownSubscription(name.to_owned()))?;
        if checkpoint::resume(self.log.pool(), &known.name, from).await? {
            Ok(())
        } else {
            Err(DeliveryError::NoCheckpoint(name.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_reported_when_it_appears_and_again_after_it_went_away() {
        let shadowed = || KeptProblem::Shadowed("gateway".to_owned());
        let unreadable = || KeptProblem::Unreadable("subscription old: 'Gone'".to_owned());
        let mut reported = BTreeSet::new();
        assert_eq!(
            newly_seen(&mut reported, BTreeSet::from([shadowed()])),
            vec![shadowed()]
        );
        assert_eq!(
            newly_seen(&mut reported, BTreeSet::from([shadowed(), unreadable()])),
            vec![unreadable()],
            "the lasting problem is not reported again"
        );
        assert!(newly_seen(&mut reported, BTreeSet::from([unreadable()])).is_empty());
        assert!(newly_seen(&mut reported, BTreeSet::new()).is_empty());
        assert_eq!(
            newly_seen(&mut reported, BTreeSet::from([unreadable()])),
            vec![unreadable()],
            "back after it went away"
        );
    }
}
