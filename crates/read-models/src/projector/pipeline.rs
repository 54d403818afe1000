//! One run of the projector over the log: read a page, fold it for each model that has not
//! applied it, commit each model's rows with its checkpoint; pipelined, so that the next page
//! is read and folded while the batch before it is written.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::future::try_join_all;
use suspense_database::Pool;
use suspense_store::{LogPage, RecordedEvent};

use super::checkpoints::{self, CheckpointMove, CheckpointRow};
use super::{joined, Core, ProjectionError};
use crate::projection::{AnyBatch, FoldContext, ReadModel};

/// Batches committed in one turn of `Core::run` before it lets other callers in.
const BATCHES_PER_TURN: usize = 8;

/// What one `Core::run` did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// It applied a batch that was not full, or found nothing to apply: the models were at
    /// the end of the log as it stood when that batch was read.
    pub(super) drained: bool,
}

impl Run {
    const DRAINED: Run = Run { drained: true };
    /// Stopped before the end (another projector went first, or an event was poisoned): run
    /// again.
    const MORE: Run = Run { drained: false };
}

/// Where one read model stands: its position, and its checkpoint's generation (the guard).
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    pub(super) position: u64,
    generation: i64,
}

pub(super) type Cursors = HashMap<ReadModel, Cursor>;

/// One page of the log folded for each model that had not applied it, ready to write.
struct FoldedBatch {
    /// Events on the page.
    read: usize,
    /// The page was full: the log may hold more after it.
    full: bool,
    /// Shared with the task that commits them while the next batch is folded against them.
    writes: Arc<BatchWrites>,
    poisoned: Vec<ProjectionError>,
}

/// The batches of the models that applied some of the page, and their checkpoint moves.
struct BatchWrites {
    batches: Vec<(ReadModel, AnyBatch)>,
    moves: Vec<CheckpointMove<'static>>,
}

impl BatchWrites {
    fn batch_of(&self, model: ReadModel) -> Option<&AnyBatch> {
        self.batches
            .iter()
            .find(|(m, _)| *m == model)
            .map(|(_, batch)| batch)
    }
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

impl Core {
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
    /// dozens of tiny batches a second, paying each batch's statements and commit for a
    /// handful of events (measured: the HTTP service at 8 clients did 3,300 commands/s against
    /// 5,700 with its projector idle). Those events wait for the next tick instead.
    ///
    /// Pipelined: batch N+1 is read and folded while batch N is written. Its items' current
    /// rows come from batch N's folded rows where N touched them (N may not have committed
    /// yet), from the database otherwise; N+1 is committed only after N, and dropped unwritten
    /// if N was not applied.
    pub(super) async fn run(
        &self,
        models: &[ReadModel],
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
        let Some(mut batch) = self.fold_next(models, &cursors, batch_size, None).await? else {
            return Ok(Run::DRAINED);
        };
        let mut drained = false;
        for turn in 1.. {
            let after = batch.cursors_after(&cursors);
            let last = turn >= BATCHES_PER_TURN || !batch.full || !batch.poisoned.is_empty();
            let (applied, next) = if last {
                (self.commit(&batch).await?, None)
            } else {
                let (applied, next) = tokio::join!(
                    self.commit(&batch),
                    self.fold_next(models, &after, batch_size, Some(&batch)),
                );
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
    /// committed yet. The page after it is read meanwhile.
    async fn fold_next(
        &self,
        models: &[ReadModel],
        cursors: &Cursors,
        size: u32,
        carry: Option<&FoldedBatch>,
    ) -> Result<Option<FoldedBatch>, ProjectionError> {
        let Some(from) = cursors.values().map(|c| c.position).min() else {
            return Ok(None);
        };
        let page = self.read_page(from, size).await?;
        let events = page.events();
        let Some(page_last) = page.last_position() else {
            return Ok(None);
        };
        let full = page.rows_read() as u32 == size;
        // Read the next page while this one is folded and written: the two overlap on
        // separate connections (and cores).
        if full {
            if let Some(last) = page.last_position() {
                let log = Arc::clone(&self.log);
                let next = tokio::spawn(async move { log.read_page(last, size).await });
                if let Ok(mut slot) = self.prefetched.lock() {
                    *slot = Some(((last, size), next));
                }
            }
        }
        // Each model reads its current rows on a connection of its own, all at once.
        let folds = models.iter().filter_map(|model| {
            let cursor = *cursors.get(model)?;
            if page_last <= cursor.position {
                return None;
            }
            // Events of plans and volumes are not on the page, but the model passes them:
            // its checkpoint moves to the page's last position unless an event stops it.
            let pending: Vec<&RecordedEvent> = events
                .iter()
                .filter(|e| e.position.unwrap_or(0) > cursor.position)
                .collect();
            let carried = carry.and_then(|c| c.writes.batch_of(*model));
            Some(async move {
                let cx = FoldContext {
                    log: &self.log,
                    calendar: &self.settings.calendar,
                    after: cursor.position,
                };
                let (batch, (applied_up_to, poison)) =
                    model.projection().fold(&cx, &pending, carried).await?;
                let applied_up_to = if poison.is_none() {
                    page_last
                } else {
                    applied_up_to
                };
                // Everything before a poisoned event is applied; the checkpoint stops before it.
                let step = (applied_up_to > cursor.position).then(|| {
                    let step = CheckpointMove {
                        projection: model.name(),
                        generation: cursor.generation,
                        new: applied_up_to as i64,
                    };
                    (step, (*model, batch))
                });
                let poisoned = poison.map(|(event, reason)| ProjectionError::Poisoned {
                    projection: model.name(),
                    position: event.position.unwrap_or(0),
                    item_id: event.item_id.to_string(),
                    reason,
                });
                Ok::<_, ProjectionError>((step, poisoned))
            })
        });
        let folded = try_join_all(folds).await?;
        let mut batches = Vec::new();
        let mut moves = Vec::new();
        let mut poisoned = Vec::new();
        for (step, poison) in folded {
            if let Some((step, batch)) = step {
                moves.push(step);
                batches.push(batch);
            }
            poisoned.extend(poison);
        }
        let read = page.rows_read();
        // The page's events are folded into the batches: it is freed with the batch before.
        free_elsewhere(page);
        Ok(Some(FoldedBatch {
            read,
            full,
            writes: Arc::new(BatchWrites { batches, moves }),
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
            checkpoints::record_error(self.log.pool(), projection, &message).await?;
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
}

/// Writes a folded batch with its checkpoint moves; true if every move was applied (false:
/// another projector moved a checkpoint first, and that model wrote nothing).
///
/// On PostgreSQL each model commits its own transaction (rows and its checkpoint), all at
/// once on separate connections: the database works on them with its cores. SQLite has one
/// writer at a time, so there one transaction carries every model's.
async fn write(pool: &Pool, writes: &Arc<BatchWrites>) -> Result<bool, ProjectionError> {
    if writes.moves.is_empty() {
        return Ok(true);
    }
    if let (Pool::Postgres(_), true) = (pool, writes.batches.len() > 1) {
        let each = writes
            .batches
            .iter()
            .map(|(model, _)| write_on_own_task(pool, writes, Some(*model)));
        let applied = try_join_all(each).await?;
        return Ok(applied.into_iter().all(|applied| applied));
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
        let batches: Vec<(ReadModel, &AnyBatch)> = writes
            .batches
            .iter()
            .filter(|(m, _)| ours(*m))
            .map(|(m, batch)| (*m, batch))
            .collect();
        Ok(checkpoints::flush(&pool, &batches, &moves).await?)
    });
    // If the runtime shuts down meanwhile, the transaction is rolled back or committed whole,
    // and the checkpoints say which.
    joined(task).await
}

/// Frees `value` on a blocking thread. A committed 150,000-event batch (its page, its rows)
/// took 85 ms to free, and the next batch's commit, the catch-up's critical path, waited
/// for it (docs/performance.md).
fn free_elsewhere<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || drop(value));
}
