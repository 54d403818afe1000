//! Replicas: the read models rebuilt, in a temporary SQLite file, from a chosen part of a log
//! or from an export file. Auditors use them to see reports exactly as they stood at a past
//! recorded time ("as known at"), or to recompute reports from an export with no database.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use suspense_domain::{ApprovalPolicy, FixedClock, ItemServices, RootCauseCatalogue};
use suspense_store::{EventLog, ExportedEvent, PoolSettings, StoreError, StoreLocation};

use crate::projector::{ProjectionError, Projector, ReadModelSettings};
use crate::reports::Reports;

pub struct Replica {
    log: Arc<EventLog>,
    projector: Projector,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// The read models as they stood when the log held only the events recorded at or before
    /// `at`: later events are ignored, including ones backdated into earlier periods.
    pub async fn as_known_at(
        source: &EventLog,
        settings: ReadModelSettings,
        at: DateTime<Utc>,
    ) -> Result<Self, ProjectionError> {
        let replica = Self::empty(settings).await?;
        let mut after = 0;
        loop {
            let page = source.export_after(after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            let known: Vec<ExportedEvent> = page
                .into_iter()
                .filter(|e| {
                    DateTime::parse_from_rfc3339(&e.recorded_at)
                        .is_ok_and(|r| r.with_timezone(&Utc) <= at)
                })
                .collect();
            replica.append(known).await?;
        }
        replica.projector.catch_up().await?;
        Ok(replica)
    }

    /// The read models of an exported log.
    pub async fn from_export(
        events: impl IntoIterator<Item = ExportedEvent>,
        settings: ReadModelSettings,
    ) -> Result<Self, ProjectionError> {
        let replica = Self::empty(settings).await?;
        let events: Vec<ExportedEvent> = events.into_iter().collect();
        for chunk in events.chunks(5_000) {
            replica.append(chunk.to_vec()).await?;
        }
        replica.projector.catch_up().await?;
        Ok(replica)
    }

    pub fn reports(&self) -> Reports<'_> {
        Reports::new(&self.log, self.projector.settings().calendar)
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    async fn empty(settings: ReadModelSettings) -> Result<Self, ProjectionError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(Box::new(e)))?;
        let location = StoreLocation::Sqlite(dir.path().join("replica.db"));
        // Nothing is ever decided on a replica: the services only satisfy the log's type.
        let services = ItemServices::new(
            Arc::new(FixedClock(Utc::now())),
            RootCauseCatalogue::default(),
            ApprovalPolicy::write_offs_only(),
        );
        let log = Arc::new(EventLog::open(&location, services, &PoolSettings::default()).await?);
        let projector = Projector::new(Arc::clone(&log), settings).await?;
        Ok(Self {
            log,
            projector,
            _dir: dir,
        })
    }

    /// Appends events in their order, numbered on from the replica's head.
    async fn append(&self, mut events: Vec<ExportedEvent>) -> Result<(), ProjectionError> {
        let head = self.log.head().await?;
        for (position, event) in (head + 1..).zip(events.iter_mut()) {
            event.position = position;
        }
        self.log.replicate(&events).await?;
        Ok(())
    }
}
