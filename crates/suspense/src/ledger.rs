//! `Suspense`: the facade an embedding service holds.

use std::sync::Arc;
use std::time::Duration;

use suspense_domain::{
    ApprovalPolicy, BusinessDates, Clock, Counterparties, ItemAction, ItemCommand, ItemId,
    ItemServices, OpenItem, RootCauseCatalogue,
};
use suspense_read_models::{
    ProjectionError, Projector, ReadModelSettings, ReportingCalendar, Reports,
};
use suspense_store::{
    EventLog, Executed, LoadedItem, PoolSettings, RecordedEvent, StoreError, StoreLocation,
};

use crate::actor::Actor;
use crate::clock::SystemClock;

/// Wait before retry `attempt` after a conflict: growing, capped at 20 ms, with jitter so that
/// writers who collided once do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = u64::from(attempt.min(20));
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
    ) % (base * 1_000 + 1);
    Duration::from_millis(base) + Duration::from_micros(jitter)
}

/// How long `refresh` waits for transactions still running on PostgreSQL.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

/// The suspense ledger: a log of suspense items with the bank's rules applied, and the read
/// models kept from it.
pub struct Suspense {
    log: Arc<EventLog>,
    projector: Arc<Projector>,
    conflict_attempts: u32,
    /// A streaming replica the reports read from, when configured.
    read_replica: Option<suspense_database::Pool>,
}

/// Configures a [`Suspense`] before opening it.
pub struct SuspenseBuilder {
    location: String,
    clock: Arc<dyn Clock>,
    catalogue: RootCauseCatalogue,
    approval: ApprovalPolicy,
    dates: BusinessDates,
    counterparties: Counterparties,
    pool: PoolSettings,
    conflict_attempts: u32,
    read_models: ReadModelSettings,
    read_replica: Option<String>,
}

impl SuspenseBuilder {
    /// Reports (and `refresh`) read the read models from this streaming replica of the
    /// PostgreSQL database instead of the primary.
    #[must_use]
    pub fn read_replica(mut self, url: &str) -> Self {
        self.read_replica = Some(url.to_owned());
        self
    }

    /// The bank's time zone for reports (default UTC). Changing it later needs a rebuild of
    /// the read models.
    #[must_use]
    pub fn reporting_calendar(mut self, calendar: ReportingCalendar) -> Self {
        self.read_models.calendar = calendar;
        self
    }

    /// The business clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The bank's root-cause sub-codes (default: a starter catalogue).
    #[must_use]
    pub fn catalogue(mut self, catalogue: RootCauseCatalogue) -> Self {
        self.catalogue = catalogue;
        self
    }

    /// When resolutions need a second person (default: write-offs only).
    #[must_use]
    pub fn approval(mut self, approval: ApprovalPolicy) -> Self {
        self.approval = approval;
        self
    }

    /// The counterparties an external cause may be attributed to (default none).
    #[must_use]
    pub fn counterparties(mut self, counterparties: Counterparties) -> Self {
        self.counterparties = counterparties;
        self
    }

    /// The window of plausible booking and value dates (default: from 1990, at most 31 days
    /// ahead); a booking outside it is refused.
    #[must_use]
    pub fn business_dates(mut self, dates: BusinessDates) -> Self {
        self.dates = dates;
        self
    }

    #[must_use]
    pub fn pool(mut self, pool: PoolSettings) -> Self {
        self.pool = pool;
        self
    }

    /// How often [`Suspense::execute`] tries a command that keeps losing the race against other
    /// writers of the same item before it reports the conflict (default 8; at least 1).
    #[must_use]
    pub fn conflict_attempts(mut self, attempts: u32) -> Self {
        self.conflict_attempts = attempts.max(1);
        self
    }

    /// Connects, creating and migrating the database (log and read models) as needed.
    pub async fn open(self) -> Result<Suspense, ProjectionError> {
        let location = StoreLocation::parse(&self.location)?;
        let services = ItemServices::new(self.clock, self.catalogue, self.approval)
            .with_business_dates(self.dates)
            .with_counterparties(self.counterparties);
        let log = Arc::new(EventLog::open(&location, services, &self.pool).await?);
        let projector = Arc::new(Projector::new(Arc::clone(&log), self.read_models).await?);
        let read_replica = match &self.read_replica {
            Some(url) => Some(log.open_read_replica(url, &self.pool).await?),
            None => None,
        };
        tracing::info!(store = %location, replica = read_replica.is_some(), "suspense ledger opened");
        Ok(Suspense {
            log,
            projector,
            conflict_attempts: self.conflict_attempts,
            read_replica,
        })
    }
}

/// The background tasks of [`Suspense::spawn_background`].
#[must_use = "the work runs until stopped"]
pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Adds the delivery of every subscription of `delivery`, those added later included.
    pub fn delivering(mut self, delivery: &Arc<suspense_delivery::Delivery>) -> Self {
        self.tasks.push(delivery.spawn());
        self
    }

    /// Adds the escalation sweep every `every`, on the business clock's time (each run is
    /// idempotent, so instances sweeping at once do no harm; a failed run is logged and the
    /// next one goes on).
    pub fn sweeping(mut self, ledger: Arc<Suspense>, every: Duration) -> Self {
        self.tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = ledger.log().services().clock.now();
                match ledger.sweep(now).await {
                    Ok(outcome) if !outcome.escalated.is_empty() => tracing::info!(
                        escalated = outcome.escalated.len(),
                        policy_version = outcome.policy_version,
                        "escalation sweep"
                    ),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "escalation sweep failed"),
                }
            }
        }));
        self
    }

    /// Stops every task between two runs (or in the middle of one: each run's writes are
    /// transactions, so nothing is half written).
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

impl Suspense {
    /// Opens the ledger at `location` with default settings: an SQLite file path (created on
    /// first use) or a `postgres://` URL.
    pub async fn open(location: &str) -> Result<Self, ProjectionError> {
        Self::builder(location).open().await
    }

    pub fn builder(location: &str) -> SuspenseBuilder {
        SuspenseBuilder {
            location: location.to_owned(),
            clock: Arc::new(SystemClock),
            catalogue: RootCauseCatalogue::default(),
            approval: ApprovalPolicy::write_offs_only(),
            dates: BusinessDates::default(),
            counterparties: Counterparties::default(),
            pool: PoolSettings::default(),
            conflict_attempts: 8,
            read_models: ReadModelSettings::default(),
            read_replica: None,
        }
    }

    /// Books an item. Idempotent: opening the same reference with the same facts again returns
    /// the existing item and writes nothing; other facts under the same reference are refused
    /// with `ItemError::ReferenceConflict`.
    pub async fn open_item(&self, actor: &Actor, item: OpenItem) -> Result<Executed, StoreError> {
        let item_id = ItemId::for_reference(&item.reference);
        self.execute(actor, item_id, ItemAction::Open(item)).await
    }

    /// Runs a command on the item's current state. If another writer changes the item between
    /// load and commit, the command is re-checked against the new state and tried again (up to
    /// the configured attempts), so two people working one item do not bounce each other.
    pub async fn execute(
        &self,
        actor: &Actor,
        item_id: ItemId,
        action: ItemAction,
    ) -> Result<Executed, StoreError> {
        self.check_scope(actor, item_id, &action).await?;
        self.retrying_conflicts(|| {
            let command = ItemCommand::new(actor.user.clone(), action.clone())
                .with_standing(actor.standing());
            self.log.execute(item_id, command, &actor.metadata, None)
        })
        .await
    }

    /// Runs `write` until it does something other than lose a race: another writer first on
    /// an item or a stream is decided again after a short backoff, up to the configured
    /// attempts; anything else, success or refusal, is returned as it is.
    pub(crate) async fn retrying_conflicts<T, F, Fut>(&self, mut write: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 1;
        loop {
            match write().await {
                Err(StoreError::Conflict { .. } | StoreError::StreamConflict { .. })
                    if attempt < self.conflict_attempts =>
                {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// Runs a command only if the item is still at `version` (the version the caller looked
    /// at); otherwise returns `StoreError::VersionMismatch` and writes nothing.
    pub async fn execute_at_version(
        &self,
        actor: &Actor,
        item_id: ItemId,
        action: ItemAction,
        version: u64,
    ) -> Result<Executed, StoreError> {
        self.check_scope(actor, item_id, &action).await?;
        let command = ItemCommand::new(actor.user.clone(), action).with_standing(actor.standing());
        self.log
            .execute(item_id, command, &actor.metadata, Some(version))
            .await
    }

    /// The item's current state, or `None` if it was never opened.
    pub async fn item(&self, item_id: ItemId) -> Result<Option<LoadedItem>, StoreError> {
        self.log.load(item_id).await
    }

    /// Every event of the item, with who recorded it and when.
    pub async fn history(&self, item_id: ItemId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.log.history(item_id).await
    }

    /// The underlying log, for readers that follow it by global position.
    pub fn log(&self) -> &Arc<EventLog> {
        &self.log
    }

    /// The projector that keeps the read models. Embedders either call [`Suspense::refresh`]
    /// before reading reports, or run it in the background with [`Suspense::spawn_background`].
    pub fn projector(&self) -> &Arc<Projector> {
        &self.projector
    }

    /// Brings every read model up to date with every command that returned before the call
    /// (read your own writes), and extends the log's hash chain over them. Returns the log
    /// position the read models now include.
    pub async fn refresh(&self) -> Result<u64, ProjectionError> {
        let position = self.projector.refresh(REFRESH_TIMEOUT).await?;
        self.log.extend_chain().await?;
        // Reports read the replica: it must have replayed the primary this far.
        if let Some(replica) = &self.read_replica {
            suspense_read_models::wait_for_position(replica, position, REFRESH_TIMEOUT).await?;
        }
        Ok(position)
    }

    /// Runs the background work of a long-running service every `interval`: the projector
    /// (read models), the hash chain and the organisation registry, each following the log
    /// on a task of its own.
    /// Stopped by [`Background::stop`] (or when the runtime shuts down).
    pub fn spawn_background(&self, interval: Duration) -> Background {
        Background {
            tasks: vec![
                Arc::clone(&self.projector).spawn(interval),
                Arc::clone(&self.log).follow_chain(interval),
                Arc::clone(&self.log).follow_published(interval),
            ],
        }
    }

    /// Requests already answered, by the caller's idempotency key: a service that takes
    /// retried requests claims the key before running one and keeps its answer after.
    pub fn idempotency_keys(&self) -> suspense_store::IdempotencyKeys<'_> {
        self.log.idempotency_keys()
    }

    /// Queries over the read models: root-cause statistics, aging, open balance, the register.
    /// Reports over every branch.
    pub fn reports(&self) -> Reports<'_> {
        let reports = Reports::new(&self.log, self.projector.settings().calendar);
        match &self.read_replica {
            Some(replica) => reports.on_pool(replica),
            None => reports,
        }
    }

    /// Closes the database connections.
    pub async fn close(&self) {
        self.log.close().await;
    }
}
