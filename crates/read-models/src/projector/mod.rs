//! The projector: follows the log by global position and keeps every read model exactly once.
//!
//! Each read model has a checkpoint (`checkpoints.rs`). A batch of events is folded in memory,
//! then the rows *and* the checkpoints are written in one transaction, guarded by the
//! checkpoint's old value: after a crash the projector resumes where the last commit left it,
//! and two projectors on one database cannot both apply the same batch.
//!
//! - `mod.rs`: the public face (`Projector`), and where the models stand.
//! - `pipeline.rs`: one run over the log: read a page, fold it for each model, commit.
//! - `bulk_build.rs`: building a model from empty in larger batches without its indexes.
//!
//! The projector knows no read model by name: it drives the `Projection`s registered in
//! `ReadModel::ALL`.

mod bulk_build;
pub(crate) mod checkpoints;
mod pipeline;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use suspense_database::{with_pool, Pool};
use suspense_store::{EventLog, LogPage, StoreError};
use tokio::sync::Mutex;
use tokio::time::Instant;

use self::checkpoints::CheckpointRow;
use crate::calendar::ReportingCalendar;
pub use crate::projection::ReadModel;

/// How the read models interpret the log. Changing it means rebuilding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadModelSettings {
    pub calendar: ReportingCalendar,
}

impl ReadModelSettings {
    /// Stored with each checkpoint, so a model built under other settings is noticed.
    fn fingerprint(&self) -> String {
        format!("time_zone={}", self.calendar.time_zone().name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("read-model database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("read-model migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// An event the projection cannot apply. The projection stops there (others go on) until
    /// the cause is fixed; nothing after it is applied, so no total is silently wrong.
    #[error("{projection} stopped at log position {position} (item {item_id}): {reason}")]
    Poisoned {
        projection: &'static str,
        position: u64,
        item_id: String,
        reason: String,
    },
    #[error(
        "{projection} was built with {stored} but is configured with {configured}: rebuild it"
    )]
    SettingsChanged {
        projection: &'static str,
        stored: String,
        configured: String,
    },
    #[error("read models did not reach log position {position} within {waited:?}")]
    Timeout { position: u64, waited: Duration },
    /// The runtime shut down before the projector's work finished.
    #[error("the projector was stopped before its work finished")]
    Interrupted,
}

/// Where a read model stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectionStatus {
    pub read_model: &'static str,
    pub position: u64,
    pub head: u64,
    pub lag: u64,
    pub last_error: Option<String>,
}

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub position: u64,
    pub head: u64,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ProjectorMetrics {
    pub events_applied: AtomicU64,
    pub batches_committed: AtomicU64,
    pub poisoned_events: AtomicU64,
}

/// Keeps the read models: follows the log, folds each page, writes rows and checkpoints.
///
/// The work of a catch-up (`catch_up`, `wait_for`, `refresh`) runs on a task of its own that
/// the caller awaits: a caller that stops waiting (a timeout, a dropped request) leaves the
/// work to finish. Cancelled between two statements, it could leave a pooled connection
/// inside a transaction for the next user.
pub struct Projector {
    core: Arc<Core>,
}

/// Events per transaction when following the log (a running service, or a service that
/// starts behind). Two batches are in memory at once (one folded while the one before is
/// written): 4,000 keeps a service catching up 100,000 events under load below 100 MB,
/// where 10,000 peaked at 117-142 MiB; it follows the log at 51-53k events/s against
/// 62-63k (docs/performance.md). Builds from empty use larger batches (`bulk_build.rs`).
const BATCH_SIZE: u32 = 4_000;

/// The projector's state, shared with the tasks its work runs on.
struct Core {
    log: Arc<EventLog>,
    settings: ReadModelSettings,
    batch_size: AtomicU32,
    /// From this many events in the log, a model built from empty is a bulk build: folded in
    /// pages of `bulk_batch_size` events and loaded without its secondary indexes
    /// (`tuning/deferred_indexes.rs`).
    bulk_build_from: AtomicU64,
    bulk_batch_size: AtomicU32,
    /// This projector deferred indexes that are not created again yet (its build is running,
    /// or creating them failed): the next build's end creates them. Kept in memory so that the
    /// polls of `wait_for` ask the database nothing more when no build is deferred.
    restore_pending: AtomicBool,
    /// One batch at a time per process; across processes the checkpoint guard decides.
    running: Mutex<()>,
    metrics: ProjectorMetrics,
    /// The next page (after position, size), being read while the current one is written.
    prefetched: std::sync::Mutex<Option<((u64, u32), PageRead)>>,
}

type PageRead = tokio::task::JoinHandle<Result<LogPage, StoreError>>;

/// How long `wait_for_position` waits between two looks at a replica's checkpoints.
const REPLICA_POLL: Duration = Duration::from_millis(20);

/// Waits until every read model on `pool` (a streaming replica of the log's database) has
/// applied the log up to `position`: the replica has replayed the primary's checkpoints that
/// far, and with them the rows they were written with (one transaction). A `Timeout` after
/// `timeout`.
pub async fn wait_for_position(
    pool: &Pool,
    position: u64,
    timeout: Duration,
) -> Result<(), ProjectionError> {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = checkpoints::all(pool).await?;
        let reached = rows.iter().map(CheckpointRow::reached).min().unwrap_or(0);
        if !rows.is_empty() && reached >= position {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ProjectionError::Timeout {
                position,
                waited: timeout,
            });
        }
        tokio::time::sleep(REPLICA_POLL).await;
    }
}

impl Projector {
    /// Creates the read-model tables if needed and checks they were built with `settings`.
    pub async fn new(
        log: Arc<EventLog>,
        settings: ReadModelSettings,
    ) -> Result<Self, ProjectionError> {
        let mut migrator = match log.pool() {
            Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        with_pool!(log.pool(), p => migrator.run(p).await?);
        let fingerprint = settings.fingerprint();
        for model in ReadModel::ALL {
            checkpoints::ensure(log.pool(), model.name(), &fingerprint).await?;
        }
        let bulk_batch_size = bulk_build::batch_size(log.pool());
        let core = Core {
            log,
            settings,
            batch_size: AtomicU32::new(BATCH_SIZE),
            bulk_build_from: AtomicU64::new(50_000),
            bulk_batch_size: AtomicU32::new(bulk_batch_size),
            restore_pending: AtomicBool::new(false),
            running: Mutex::new(()),
            metrics: ProjectorMetrics::default(),
            prefetched: std::sync::Mutex::new(None),
        };
        for row in core.checkpoints().await?.values() {
            core.check_settings(row)?;
        }
        // Indexes and stocks a build cut short (by a crash) left deferred.
        core.restore_pending.store(true, Ordering::Relaxed);
        core.finish_builds().await?;
        Ok(Self {
            core: Arc::new(core),
        })
    }

    /// Builds a model from empty as a bulk build once the log holds at least `events` events
    /// (default 50,000): in batches of the bulk batch size, and without its
    /// secondary indexes, which are created again when the build ends.
    #[must_use]
    pub fn with_bulk_build_threshold(self, events: u64) -> Self {
        self.core.bulk_build_from.store(events, Ordering::Relaxed);
        self
    }

    /// Events folded per transaction.
    #[must_use]
    pub fn with_batch_size(self, batch_size: u32) -> Self {
        self.core
            .batch_size
            .store(batch_size.max(1), Ordering::Relaxed);
        self
    }

    /// Events folded per transaction in a bulk build (default 150,000 on SQLite, 100,000 on
    /// PostgreSQL): fewer, larger commits write each page of a growing B-tree fewer times (on
    /// SQLite a tenth of the commits made its writes about three times cheaper;
    /// docs/performance.md).
    #[must_use]
    pub fn with_bulk_batch_size(self, batch_size: u32) -> Self {
        self.core
            .bulk_batch_size
            .store(batch_size.max(1), Ordering::Relaxed);
        self
    }

    pub fn batch_size(&self) -> u32 {
        self.core.batch_size.load(Ordering::Relaxed)
    }

    pub fn settings(&self) -> &ReadModelSettings {
        &self.core.settings
    }

    pub fn log(&self) -> &Arc<EventLog> {
        &self.core.log
    }

    pub fn metrics(&self) -> &ProjectorMetrics {
        &self.core.metrics
    }

    /// Applies everything the log holds now; returns the position all read models reached.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        self.detached(|core| async move { core.catch_up().await })
            .await
    }

    /// Waits until every read model includes log position `position` (e.g. the head returned
    /// by `EventLog::settle` after a command): reading your own writes.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), ProjectionError> {
        self.detached(move |core| async move { core.wait_for(position, timeout).await })
            .await
    }

    /// Settles the log (see `EventLog::settle`) and catches up: afterwards every read model
    /// includes every command that returned before the call.
    pub async fn refresh(&self, timeout: Duration) -> Result<u64, ProjectionError> {
        let head = self.log().settle(timeout).await?;
        self.wait_for(head, timeout).await?;
        Ok(head)
    }

    /// Empties one read model and rebuilds it from the whole log, reporting progress after
    /// each batch. Other read models keep running. Readers of the model see it grow back.
    pub async fn rebuild(
        &self,
        model: ReadModel,
        progress: impl FnMut(RebuildProgress),
    ) -> Result<u64, ProjectionError> {
        self.core.rebuild(model, progress).await
    }

    pub async fn status(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        self.core.status().await
    }

    /// Runs `catch_up` every `interval` until the returned task is aborted. Errors are logged
    /// and retried after the interval; a poisoned projection keeps reporting its error in
    /// `status()` while the others go on.
    pub fn spawn(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        // The background work may be taken over from an instance that died mid-build after
        // this projector started: its first catch-up finishes what that build left deferred.
        self.core.restore_pending.store(true, Ordering::Relaxed);
        tokio::spawn(async move {
            loop {
                if let Err(err) = self.catch_up().await {
                    tracing::error!(error = %err, "projector");
                }
                tokio::time::sleep(interval).await;
            }
        })
    }

    /// Runs `work` on a task of its own and waits for it (see `Projector`).
    async fn detached<T, F>(&self, work: impl FnOnce(Arc<Core>) -> F) -> Result<T, ProjectionError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, ProjectionError>> + Send + 'static,
    {
        joined(tokio::spawn(work(Arc::clone(&self.core)))).await
    }
}

/// The result of a task the projector spawned; a panic in it is raised again here.
async fn joined<T>(
    task: tokio::task::JoinHandle<Result<T, ProjectionError>>,
) -> Result<T, ProjectionError> {
    match task.await {
        Ok(result) => result,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels the task.
            Err(_) => Err(ProjectionError::Interrupted),
        },
    }
}

impl Core {
    /// Applies everything the log holds now to every read model; returns their position.
    async fn catch_up(&self) -> Result<u64, ProjectionError> {
        self.run_to_end(ReadModel::ALL, |_| {}).await?;
        self.position().await
    }

    /// Runs `models` to the end of the log as it stood (see `run`), and afterwards creates
    /// again any index and builds any stock their build deferred, however the build ended: a
    /// model stopped by a poisoned event keeps serving reads, and should do so with its
    /// indexes.
    async fn run_to_end(
        &self,
        models: &[ReadModel],
        mut committed: impl FnMut(u64),
    ) -> Result<(), ProjectionError> {
        let mut batch_size = None;
        let ran = async {
            while !self
                .run(models, &mut batch_size, &mut committed)
                .await?
                .drained
            {}
            Ok::<_, ProjectionError>(())
        }
        .await;
        let restored = self.finish_builds().await;
        ran?;
        restored
    }

    /// See `Projector::wait_for`.
    async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), ProjectionError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.catch_up().await? >= position {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ProjectionError::Timeout {
                    position,
                    waited: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// See `Projector::rebuild`.
    async fn rebuild(
        &self,
        model: ReadModel,
        mut progress: impl FnMut(RebuildProgress),
    ) -> Result<u64, ProjectionError> {
        {
            let _running = self.running.lock().await;
            let fingerprint = self.settings.fingerprint();
            checkpoints::reset(self.log.pool(), model, &fingerprint).await?
        }
        let head = self.log.head().await?;
        self.run_to_end(&[model], |position| {
            progress(RebuildProgress {
                position,
                head: head.max(position),
            })
        })
        .await?;
        let position = self.checkpoint_of(model).await?;
        progress(RebuildProgress {
            position,
            head: head.max(position),
        });
        Ok(position)
    }

    async fn status(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        let head = self.log.head().await?;
        let rows = self.checkpoints().await?;
        Ok(ReadModel::ALL
            .iter()
            .map(|model| {
                let row = rows.get(model.name());
                let position = row.map_or(0, CheckpointRow::reached);
                ProjectionStatus {
                    read_model: model.name(),
                    position,
                    head,
                    lag: head.saturating_sub(position),
                    last_error: row.and_then(|r| r.last_error.clone()),
                }
            })
            .collect())
    }

    /// The lowest checkpoint: every read model includes the log up to here.
    async fn position(&self) -> Result<u64, ProjectionError> {
        let rows = self.checkpoints().await?;
        Ok(ReadModel::ALL
            .iter()
            .map(|m| rows.get(m.name()).map_or(0, CheckpointRow::reached))
            .min()
            .unwrap_or(0))
    }

    async fn checkpoint_of(&self, model: ReadModel) -> Result<u64, ProjectionError> {
        let rows = self.checkpoints().await?;
        Ok(rows.get(model.name()).map_or(0, CheckpointRow::reached))
    }

    async fn checkpoints(&self) -> Result<HashMap<String, CheckpointRow>, ProjectionError> {
        let rows = checkpoints::all(self.log.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.projection.clone(), r))
            .collect())
    }

    fn check_settings(&self, row: &CheckpointRow) -> Result<(), ProjectionError> {
        let Some(model) = ReadModel::parse(&row.projection) else {
            return Ok(());
        };
        let configured = self.settings.fingerprint();
        if row.settings != configured {
            return Err(ProjectionError::SettingsChanged {
                projection: model.name(),
                stored: row.settings.clone(),
                configured,
            });
        }
        Ok(())
    }
}
