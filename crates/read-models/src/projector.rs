//! The projector: follows the log by global position and keeps every read model exactly once.
//!
//! Each read model has a checkpoint (`projection_checkpoints`). A batch of events is folded in
//! memory, then the rows *and* the checkpoints are written in one transaction, guarded by the
//! checkpoint's old value: after a crash the projector resumes where the last commit left it,
//! and two projectors on one database cannot both apply the same batch.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use suspense_domain::SuspenseItemEvent;
use suspense_store::{with_pool, EventLog, LogPage, Pool, RecordedEvent, StoreError};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::calendar::ReportingCalendar;
use crate::db::{self, CheckpointMove, CheckpointRow};
use crate::fast_hash::{Map, Set};
use crate::register::{RegisterBatch, RegisterRow};
use crate::statistics::{StatsBatch, StatsItem};

/// The read models the projector keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadModel {
    /// `item_register`, `open_balance`, `balance_movements` (aging reads these).
    ItemRegister,
    /// `root_cause_monthly`, `root_cause_open`, `resolution_time_histogram`, `stats_items`.
    RootCauseStatistics,
}

impl ReadModel {
    pub const ALL: [ReadModel; 2] = [Self::ItemRegister, Self::RootCauseStatistics];

    pub fn name(&self) -> &'static str {
        match self {
            Self::ItemRegister => "item_register",
            Self::RootCauseStatistics => "root_cause_statistics",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name.trim())
    }

    /// The tables the model writes (and a rebuild empties).
    pub fn tables(&self) -> &'static [&'static str] {
        match self {
            Self::ItemRegister => &["item_register", "open_balance", "balance_movements"],
            Self::RootCauseStatistics => &[
                "root_cause_monthly",
                "root_cause_open",
                "resolution_time_histogram",
                "stats_items",
            ],
        }
    }
}

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

/// The projector's state, shared with the tasks its work runs on.
struct Core {
    log: Arc<EventLog>,
    settings: ReadModelSettings,
    batch_size: AtomicU32,
    /// From this many events in the log, a model built from empty is a bulk build: folded in
    /// pages of `bulk_batch_size` events and loaded without its secondary indexes
    /// (`db/deferred_indexes.rs`).
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
            on_backend!(log.pool(), [db] ensure_checkpoint(model.name(), &fingerprint))?;
        }
        let bulk_batch_size = match log.pool() {
            Pool::Sqlite(_) => SQLITE_BULK_BATCH_SIZE,
            Pool::Postgres(_) => POSTGRES_BULK_BATCH_SIZE,
        };
        let core = Core {
            log,
            settings,
            batch_size: AtomicU32::new(10_000),
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
        // Indexes a build cut short (by a crash) left deferred.
        core.restore_pending.store(true, Ordering::Relaxed);
        core.restore_indexes().await?;
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

    /// Applies everything the log holds now, and extends the log's hash chain over it;
    /// returns the position all read models reached.
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
    async fn catch_up(&self) -> Result<u64, ProjectionError> {
        // The projector's pages carry the chain along where it joins them; what they did not
        // chain (events after the last page, or a chain that was behind them) is chained here.
        let position = self.apply_all().await?;
        self.log.extend_chain().await?;
        Ok(position)
    }

    /// Applies everything the log holds now to every read model, extending the hash chain
    /// over the pages it reads; returns their position.
    async fn apply_all(&self) -> Result<u64, ProjectionError> {
        self.run_to_end(&ReadModel::ALL, Chain::Extend, |_| {})
            .await?;
        self.position().await
    }

    /// Runs `models` to the end of the log as it stood (see `run`), and afterwards creates
    /// again any index their build deferred, however the build ended: a model stopped by a
    /// poisoned event keeps serving reads, and should do so with its indexes.
    async fn run_to_end(
        &self,
        models: &[ReadModel],
        chain: Chain,
        mut committed: impl FnMut(u64),
    ) -> Result<(), ProjectionError> {
        let mut batch_size = None;
        let ran = async {
            while !self
                .run(models, chain, &mut batch_size, &mut committed)
                .await?
                .drained
            {}
            Ok::<_, ProjectionError>(())
        }
        .await;
        let restored = self.restore_indexes().await;
        ran?;
        restored
    }

    /// The batch size for applying `models` from `cursors`: the bulk batch size when some of
    /// them hold nothing yet (position 0) and the log holds at least `bulk_build_from` events;
    /// it then also drops those models' secondary indexes.
    async fn prepare_build(&self, cursors: &Cursors) -> Result<u32, ProjectionError> {
        let empty: Vec<&ReadModel> = cursors
            .iter()
            .filter(|(_, cursor)| cursor.position == 0)
            .map(|(model, _)| model)
            .collect();
        if empty.is_empty() || self.log.head().await? < self.bulk_build_from.load(Ordering::Relaxed)
        {
            return Ok(self.batch_size.load(Ordering::Relaxed));
        }
        let pool = self.log.pool();
        for model in empty {
            if crate::db::deferred_indexes::defer(pool, model.name(), model.tables()).await? > 0 {
                self.restore_pending.store(true, Ordering::Relaxed);
            }
        }
        Ok(self.bulk_batch_size.load(Ordering::Relaxed))
    }

    /// Creates again every deferred index, if this projector deferred any: all
    /// stored ones, whichever build deferred them. Tables that got indexes back were just
    /// bulk-loaded: their planner statistics are refreshed too.
    async fn restore_indexes(&self) -> Result<(), ProjectionError> {
        if self.restore_pending.load(Ordering::Relaxed) {
            let pool = self.log.pool();
            if crate::db::deferred_indexes::restore(pool).await? > 0 {
                let tables: Vec<&str> = ReadModel::ALL
                    .iter()
                    .flat_map(|m| m.tables().iter().copied())
                    .collect();
                crate::db::deferred_indexes::analyze(pool, &tables).await?;
            }
            self.restore_pending.store(false, Ordering::Relaxed);
        }
        Ok(())
    }

    /// See `Projector::wait_for`.
    async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), ProjectionError> {
        let deadline = Instant::now() + timeout;
        loop {
            // The chain is extended once, when the wait is over, not on every poll.
            if self.apply_all().await? >= position {
                self.log.extend_chain().await?;
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
            on_backend!(self.log.pool(), [db] reset(model.name(), model.tables(), &fingerprint))?
        }
        let head = self.log.head().await?;
        self.run_to_end(&[model], Chain::Leave, |position| {
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
            .into_iter()
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
        let rows = on_backend!(self.log.pool(), [db] checkpoints())?;
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

    /// Folds and commits batches for `models` until a batch is not full (or for at most
    /// `BATCHES_PER_TURN` batches, so a rebuild of one model lets the other's batches in);
    /// returns whether it reached the end of the log as it stood (`Run::drained`). After each
    /// committed batch `committed` gets the position every model of `models` reached.
    ///
    /// `batch_size` holds the events per batch of the build this run belongs to: the first run
    /// of a build (`None`) decides it from the checkpoints it reads (`prepare_build`), and the
    /// build's later runs keep it, though their models no longer hold nothing.
    ///
    /// A batch that is not full ends the catch-up even if more events have been committed
    /// since: under a steady stream of commands the next batch would hold only the few events
    /// committed while this one was written, and a projector that chased them would write
    /// dozens of tiny batches a second, paying each batch's statements, commit and chain for a
    /// handful of events (measured: the HTTP service at 8 clients did 3,300 commands/s against
    /// 5,700 with its projector idle). Those events wait for the next tick instead.
    ///
    /// Pipelined: batch N+1 is read and folded while batch N is written. Its items' current
    /// rows come from batch N's folded rows where N touched them (N may not have committed
    /// yet), from the database otherwise; N+1 is committed only after N, and dropped unwritten
    /// if N was not applied.
    async fn run(
        &self,
        models: &[ReadModel],
        chain: Chain,
        batch_size: &mut Option<u32>,
        mut committed: impl FnMut(u64),
    ) -> Result<Run, ProjectionError> {
        let _running = self.running.lock().await;
        let checkpoints = self.checkpoints().await?;
        let mut cursors: Cursors = models
            .iter()
            .map(|m| {
                let row = checkpoints.get(m.name());
                let cursor = Cursor {
                    position: row.map_or(0, CheckpointRow::reached),
                    generation: row.map_or(0, |r| r.generation),
                };
                (*m, cursor)
            })
            .collect();
        let batch_size = match *batch_size {
            Some(size) => size,
            None => *batch_size.insert(self.prepare_build(&cursors).await?),
        };
        let Some(mut batch) = self.fold_next(&cursors, batch_size, chain, None).await? else {
            return Ok(Run::DRAINED);
        };
        let mut drained = false;
        for turn in 1.. {
            let after = batch.cursors_after(&cursors);
            let last = turn >= BATCHES_PER_TURN || !batch.full || !batch.poisoned.is_empty();
            // The page is chained while it is committed (and the next one folded): the chain
            // is its own table, independent of the read models' transactions.
            let chained = async {
                match chain {
                    Chain::Extend => self.log.chain_page(&batch.page).await.map(|_| ()),
                    Chain::Leave => Ok(()),
                }
            };
            let (applied, next) = if last {
                let (applied, chained) = tokio::join!(self.commit(&batch), chained);
                chained?;
                (applied?, None)
            } else {
                let (applied, next, chained) = tokio::join!(
                    self.commit(&batch),
                    self.fold_next(&after, batch_size, chain, Some(&batch)),
                    chained
                );
                chained?;
                (applied?, Some(next))
            };
            if !applied {
                // Another projector committed this batch first: nothing was written; go again.
                return Ok(Run::MORE);
            }
            if let Some(position) = after.values().map(|c| c.position).min() {
                committed(position);
            }
            if !batch.poisoned.is_empty() {
                self.report_poisoned(batch, &cursors).await?;
                return Ok(Run::MORE);
            }
            match next {
                Some(next) => match next? {
                    Some(next) => {
                        free_elsewhere(std::mem::replace(&mut batch, next));
                        cursors = after;
                    }
                    None => {
                        drained = true;
                        break;
                    }
                },
                None => {
                    drained = !batch.full;
                    break;
                }
            }
        }
        Ok(Run { drained })
    }

    /// Reads the page of `size` events after the lowest of `cursors` and folds it for each
    /// model that has not applied it yet; `carry` is the batch before it, if that is not
    /// committed yet. The page after it is read (and, if `chain` extends the chain, hashed)
    /// meanwhile.
    async fn fold_next(
        &self,
        cursors: &Cursors,
        size: u32,
        chain: Chain,
        carry: Option<&FoldedBatch>,
    ) -> Result<Option<FoldedBatch>, ProjectionError> {
        let Some(from) = cursors.values().map(|c| c.position).min() else {
            return Ok(None);
        };
        let page = self.read_page(from, size).await?;
        let events = page.events();
        if events.is_empty() {
            return Ok(None);
        }
        let full = events.len() as u32 == size;
        // Read the next page while this one is folded and written: the two overlap on
        // separate connections (and cores).
        if full {
            if let Some(last) = page.last_position() {
                let log = Arc::clone(&self.log);
                let next = tokio::spawn(async move {
                    // Hashed for the chain here, beside the fold and the commit, rather than
                    // in the task that commits, whose writes would wait for it.
                    match chain {
                        Chain::Extend => log.read_page_with_digests(last, size).await,
                        Chain::Leave => log.read_page(last, size).await,
                    }
                });
                if let Ok(mut slot) = self.prefetched.lock() {
                    *slot = Some(((last, size), next));
                }
            }
        }
        let pending = |model: ReadModel| -> Vec<&RecordedEvent> {
            let Some(cursor) = cursors.get(&model) else {
                return Vec::new();
            };
            events
                .iter()
                .filter(|e| e.position.unwrap_or(0) > cursor.position)
                .collect()
        };
        let register_pending = pending(ReadModel::ItemRegister);
        let stats_pending = pending(ReadModel::RootCauseStatistics);
        // The two models read their current rows on separate connections at the same time.
        let (register_fold, stats_fold) = tokio::try_join!(
            async {
                if register_pending.is_empty() {
                    return Ok(None);
                }
                let carry = carry.and_then(|c| c.writes.register.as_ref());
                self.fold_register(&register_pending, carry).await.map(Some)
            },
            async {
                if stats_pending.is_empty() {
                    return Ok(None);
                }
                let carry = carry.and_then(|c| c.writes.stats.as_ref());
                let after = cursors
                    .get(&ReadModel::RootCauseStatistics)
                    .map_or(0, |c| c.position);
                self.fold_stats(&stats_pending, after, carry)
                    .await
                    .map(Some)
            },
        )?;
        let (register, register_folded) = register_fold.unzip();
        let (stats, stats_folded) = stats_fold.unzip();
        let mut moves = Vec::new();
        let mut poisoned = Vec::new();
        let folds = [
            (ReadModel::ItemRegister, register_folded),
            (ReadModel::RootCauseStatistics, stats_folded),
        ];
        for (model, folded) in folds {
            let (Some((applied_up_to, poison)), Some(cursor)) = (folded, cursors.get(&model))
            else {
                continue;
            };
            // Everything before a poisoned event is applied; the checkpoint stops before it.
            if applied_up_to > cursor.position {
                moves.push(CheckpointMove {
                    projection: model.name(),
                    generation: cursor.generation,
                    new: applied_up_to as i64,
                });
            }
            if let Some((event, reason)) = poison {
                poisoned.push(ProjectionError::Poisoned {
                    projection: model.name(),
                    position: event.position.unwrap_or(0),
                    item_id: event.item_id.to_string(),
                    reason,
                });
            }
        }
        Ok(Some(FoldedBatch {
            read: events.len(),
            full,
            page,
            writes: Arc::new(BatchWrites {
                register,
                stats,
                moves,
            }),
            poisoned,
        }))
    }

    /// Writes a folded batch; true if it was applied (see `write`).
    async fn commit(&self, batch: &FoldedBatch) -> Result<bool, ProjectionError> {
        let applied = write(self.log.pool(), &batch.writes).await?;
        if applied && !batch.writes.moves.is_empty() {
            self.metrics
                .batches_committed
                .fetch_add(1, Ordering::Relaxed);
            self.metrics
                .events_applied
                .fetch_add(batch.read as u64, Ordering::Relaxed);
        }
        Ok(applied)
    }

    /// Records and returns the first poisoned event of a committed batch. Rows read after
    /// another projector's commit can look poisoned; only a projection nobody else has written
    /// since `cursors` were read is really stuck.
    async fn report_poisoned(
        &self,
        batch: FoldedBatch,
        cursors: &Cursors,
    ) -> Result<(), ProjectionError> {
        let now = self.checkpoints().await?;
        let unchanged = |projection: &str| {
            let ours = i64::from(
                batch
                    .writes
                    .moves
                    .iter()
                    .any(|m| m.projection == projection),
            );
            let read = cursors
                .iter()
                .find(|(m, _)| m.name() == projection)
                .map(|(_, c)| c.generation + ours);
            now.get(projection).map(|r| r.generation) == read
        };
        let mut first = None;
        for err in batch.poisoned {
            let ProjectionError::Poisoned { projection, .. } = &err else {
                continue;
            };
            if !unchanged(projection) {
                continue;
            }
            self.metrics.poisoned_events.fetch_add(1, Ordering::Relaxed);
            let message = err.to_string();
            on_backend!(self.log.pool(), [db] record_error(projection, &message))?;
            tracing::error!(error = %err, "poisoned event");
            first.get_or_insert(err);
        }
        match first {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// The page of `size` events after `from`: the prefetched one if it is that page, else a
    /// fresh read.
    async fn read_page(&self, from: u64, size: u32) -> Result<LogPage, ProjectionError> {
        let prefetched = self.prefetched.lock().ok().and_then(|mut slot| slot.take());
        if let Some((wanted, page)) = prefetched {
            if wanted == (from, size) {
                if let Ok(result) = page.await {
                    return Ok(result?);
                }
            } else {
                page.abort();
            }
        }
        Ok(self.log.read_page(from, size).await?)
    }

    /// Folds events into register rows, stopping at a poisoned event: returns the rows, the
    /// position of the last event applied, and the poisoned event with the reason.
    async fn fold_register<'e>(
        &self,
        events: &[&'e RecordedEvent],
        carry: Option<&RegisterBatch>,
    ) -> Result<(RegisterBatch, Folded<'e>), ProjectionError> {
        let opened = opened_in(events);
        let (carried, ids) = rows_to_read(events, &opened, |id| {
            carry.and_then(|c| c.rows.get(id)).cloned()
        });
        let rows = on_backend!(self.log.pool(), [db] register_rows(&ids))?;
        let mut rows: Map<String, RegisterRow> =
            rows.into_iter().map(|r| (r.item_id.clone(), r)).collect();
        rows.extend(carried);
        let mut batch = RegisterBatch::new(rows, opened.len());
        let folded = suspense_store::cpu_bound(|| {
            fold(events, |event| batch.apply(event, &self.settings.calendar))
        });
        Ok((batch, folded))
    }

    /// Folds events into statistics rows. Items whose cause changes in the batch need their
    /// facts (every contribution so far): the carried batch's when it has them, else replayed
    /// from the item's history in the log up to `after`, where this model stands.
    async fn fold_stats<'e>(
        &self,
        events: &[&'e RecordedEvent],
        after: u64,
        carry: Option<&StatsBatch>,
    ) -> Result<(StatsBatch, Folded<'e>), ProjectionError> {
        let opened = opened_in(events);
        let (carried_items, ids) = rows_to_read(events, &opened, |id| {
            carry.and_then(|c| c.items.get(id)).cloned()
        });
        let reclassified: Vec<String> = events
            .iter()
            .filter(|e| StatsBatch::needs_facts(&e.event))
            .map(|e| e.item_id.to_string())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let (carried_facts, reclassified) = split_carried(reclassified, |id| {
            carry.and_then(|c| c.facts.get(id)).cloned()
        });
        // An item opened in this batch has no history before it: nothing to replay.
        let (new_items, reclassified): (Vec<String>, Vec<String>) =
            reclassified.into_iter().partition(|id| opened.contains(id));
        let (items, history) = tokio::try_join!(
            async {
                Ok::<_, ProjectionError>(on_backend!(self.log.pool(), [db] stats_items(&ids))?)
            },
            async { Ok::<_, ProjectionError>(self.log.history_up_to(&reclassified, after).await?) },
        )?;
        let mut facts = StatsBatch::replay_facts(&history, &self.settings.calendar).map_err(
            |(event, reason)| ProjectionError::Poisoned {
                projection: ReadModel::RootCauseStatistics.name(),
                position: event.position.unwrap_or(0),
                item_id: event.item_id.to_string(),
                reason: format!("replaying the item's history: {reason}"),
            },
        )?;
        for id in reclassified.into_iter().chain(new_items) {
            facts.entry(id).or_default();
        }
        facts.extend(carried_facts);
        let mut items: Map<String, StatsItem> =
            items.into_iter().map(|i| (i.item_id.clone(), i)).collect();
        items.extend(carried_items);
        let mut batch = StatsBatch::new(items, facts, opened.len());
        let folded = suspense_store::cpu_bound(|| {
            fold(events, |event| batch.apply(event, &self.settings.calendar))
        });
        Ok((batch, folded))
    }
}

/// Whether `Projector::run` extends the hash chain over the pages it reads (a rebuild reads
/// pages the chain has long passed).
#[derive(Debug, Clone, Copy)]
enum Chain {
    Extend,
    Leave,
}

/// Events per transaction of a bulk build on SQLite. Each commit writes (and checkpoints)
/// again most pages of the read models' indexes, whose random item ids a batch touches all
/// over; in a log of interleaved items, fewer batches also leave fewer items to update in a
/// later one. 150,000 caught a 1M-event log in time order up 11% sooner than 100,000, and
/// 200,000 no sooner (docs/performance.md, eleventh session).
const SQLITE_BULK_BATCH_SIZE: u32 = 150_000;

/// The same on PostgreSQL, where 150,000 made no difference against the same-writes floor.
const POSTGRES_BULK_BATCH_SIZE: u32 = 100_000;

/// Batches committed in one turn of `Projector::run` before it lets other callers in.
const BATCHES_PER_TURN: usize = 8;

/// What one `Projector::run` did.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// It applied a batch that was not full, or found nothing to apply: the models were at
    /// the end of the log as it stood when that batch was read.
    drained: bool,
}

impl Run {
    const DRAINED: Run = Run { drained: true };
    /// Stopped before the end (another projector went first, or an event was poisoned): run
    /// again.
    const MORE: Run = Run { drained: false };
}

/// Where one read model stands: its position, and its checkpoint's generation (the guard).
#[derive(Debug, Clone, Copy)]
struct Cursor {
    position: u64,
    generation: i64,
}

type Cursors = HashMap<ReadModel, Cursor>;

/// One page of the log folded for each model that had not applied it, ready to write.
struct FoldedBatch {
    /// Events on the page.
    read: usize,
    /// The page was full: the log may hold more after it.
    full: bool,
    page: LogPage,
    /// Shared with the task that commits them while the next batch is folded against them.
    writes: Arc<BatchWrites>,
    poisoned: Vec<ProjectionError>,
}

/// The rows a folded batch writes, and the checkpoint moves that go with them.
struct BatchWrites {
    register: Option<RegisterBatch>,
    stats: Option<StatsBatch>,
    moves: Vec<CheckpointMove<'static>>,
}

impl FoldedBatch {
    /// Where each model stands once this batch is committed.
    fn cursors_after(&self, before: &Cursors) -> Cursors {
        before
            .iter()
            .map(|(model, cursor)| {
                let moved = self
                    .writes
                    .moves
                    .iter()
                    .find(|m| m.projection == model.name());
                let after = moved.map_or(*cursor, |m| Cursor {
                    position: m.new.max(0) as u64,
                    generation: cursor.generation + 1,
                });
                (*model, after)
            })
            .collect()
    }
}

/// Writes a folded batch with its checkpoint moves; true if every move was applied (false:
/// another projector moved a checkpoint first, and that model wrote nothing).
///
/// On PostgreSQL each model commits its own transaction (rows and its checkpoint), both at
/// once on separate connections: the database works on both with its two cores. SQLite has
/// one writer at a time, so there one transaction carries both.
async fn write(pool: &Pool, writes: &Arc<BatchWrites>) -> Result<bool, ProjectionError> {
    if writes.moves.is_empty() {
        return Ok(true);
    }
    if let (Pool::Postgres(_), true) = (pool, writes.moves.len() > 1) {
        let (register, stats) = tokio::try_join!(
            write_on_own_task(pool, writes, Some(ReadModel::ItemRegister)),
            write_on_own_task(pool, writes, Some(ReadModel::RootCauseStatistics)),
        )?;
        return Ok(register && stats);
    }
    write_on_own_task(pool, writes, None).await
}

/// Commits `writes` (only `model`'s, if given) in one transaction, on a task of its own: the
/// fold of the next batch runs meanwhile in the projector's task, and a task sends its next
/// statement only when it is polled, so in that task the database would wait for the fold.
async fn write_on_own_task(
    pool: &Pool,
    writes: &Arc<BatchWrites>,
    model: Option<ReadModel>,
) -> Result<bool, ProjectionError> {
    let (pool, writes) = (pool.clone(), Arc::clone(writes));
    let task = tokio::spawn(async move {
        let ours = |wanted: ReadModel| model.is_none_or(|model| model == wanted);
        let moves: Vec<CheckpointMove<'_>> = writes
            .moves
            .iter()
            .filter(|m| model.is_none_or(|model| m.projection == model.name()))
            .cloned()
            .collect();
        let register = writes
            .register
            .as_ref()
            .filter(|_| ours(ReadModel::ItemRegister));
        let stats = writes
            .stats
            .as_ref()
            .filter(|_| ours(ReadModel::RootCauseStatistics));
        Ok(on_backend!(&pool, [db] flush(register, stats, &moves))?)
    });
    // If the runtime shuts down meanwhile, the transaction is rolled back or committed whole,
    // and the checkpoints say which.
    joined(task).await
}

/// Frees `value` on a blocking thread. A committed 150,000-event batch (its page, its rows)
/// took 85 ms to free, and the next batch's commit, the catch-up's critical path, waited
/// for it (docs/performance.md, fifteenth session).
fn free_elsewhere<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || drop(value));
}

/// The position of the last event applied, and the poisoned event that stopped the fold.
type Folded<'e> = (u64, Option<(&'e RecordedEvent, String)>);

fn fold<'e>(
    events: &[&'e RecordedEvent],
    mut apply: impl FnMut(&RecordedEvent) -> Result<(), String>,
) -> Folded<'e> {
    let mut applied = 0;
    for event in events {
        if let Err(reason) = apply(event) {
            return (applied, Some((event, reason)));
        }
        applied = event.position.unwrap_or(applied);
    }
    (applied, None)
}

/// Splits `ids` into the values `carried` has for them and the ids left to read.
fn split_carried<T>(
    ids: Vec<String>,
    carried: impl Fn(&str) -> Option<T>,
) -> (Vec<(String, T)>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match carried(&id) {
            Some(value) => found.push((id, value)),
            None => missing.push(id),
        }
    }
    (found, missing)
}

/// The batch's items split into the rows `carried` has for them and the ids whose rows are
/// read from the database; items in `opened` have none anywhere (see `opened_in`).
fn rows_to_read<T>(
    events: &[&RecordedEvent],
    opened: &Set<String>,
    carried: impl Fn(&str) -> Option<T>,
) -> (Vec<(String, T)>, Vec<String>) {
    let (carried, mut ids) = split_carried(item_ids(events), carried);
    ids.retain(|id| !opened.contains(id));
    (carried, ids)
}

/// The items opened by one of `events`. A model that has not applied an item's opening has
/// no row for it, and the log holds nothing of it before: there is nothing to read for them.
fn opened_in(events: &[&RecordedEvent]) -> Set<String> {
    events
        .iter()
        .filter(|e| matches!(e.event, SuspenseItemEvent::Opened { .. }))
        .map(|e| e.item_id.to_string())
        .collect()
}

fn item_ids(events: &[&RecordedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.item_id.to_string())
        .collect::<Set<_>>()
        .into_iter()
        .collect()
}
