//! Building a model from empty (a first catch-up or a rebuild) over a long log: folded in
//! larger batches, and loaded without its secondary indexes, which are created again when
//! the build ends however it ends (`tuning/deferred_indexes.rs`), and without the month-end
//! stocks a model defers, built once at the end (`Projection::defer_stocks`).

use std::sync::atomic::Ordering;

use suspense_database::Pool;

use super::pipeline::Cursors;
use super::{Core, ProjectionError};
use crate::projection::ReadModel;
use crate::tuning::deferred_indexes;

/// Events per transaction of a bulk build on SQLite. Each commit writes (and checkpoints)
/// again most pages of the read models' indexes, whose random item ids a batch touches all
/// over; in a log of interleaved items, fewer batches also leave fewer items to update in a
/// later one. 150,000 caught a 1M-event log in time order up 11% sooner than 100,000, and
/// 200,000 no sooner (docs/performance.md).
const SQLITE_BULK_BATCH_SIZE: u32 = 150_000;

/// The same on PostgreSQL, where 150,000 made no difference against the same-writes floor.
const POSTGRES_BULK_BATCH_SIZE: u32 = 100_000;

/// The batch size of a bulk build on `pool`'s backend.
pub(super) fn batch_size(pool: &Pool) -> u32 {
    match pool {
        Pool::Sqlite(_) => SQLITE_BULK_BATCH_SIZE,
        Pool::Postgres(_) => POSTGRES_BULK_BATCH_SIZE,
    }
}

impl Core {
    /// The batch size for applying `models` from `cursors`: the bulk batch size when some of
    /// them hold nothing yet (position 0) and the log holds at least `bulk_build_from` events;
    /// it then also drops those models' secondary indexes.
    pub(super) async fn prepare_build(&self, cursors: &Cursors) -> Result<u32, ProjectionError> {
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
            if deferred_indexes::defer(pool, model.name(), model.tables()).await? > 0 {
                self.restore_pending.store(true, Ordering::Relaxed);
            }
            if model.projection().defer_stocks(pool).await? {
                self.restore_pending.store(true, Ordering::Relaxed);
            }
        }
        Ok(self.bulk_batch_size.load(Ordering::Relaxed))
    }

    /// Ends the builds this projector deferred anything for: creates again every deferred
    /// index (all stored ones, whichever build deferred them) and builds every deferred
    /// month-end stock. Tables that got indexes back were just bulk-loaded: their planner
    /// statistics are refreshed too.
    pub(super) async fn finish_builds(&self) -> Result<(), ProjectionError> {
        if self.restore_pending.load(Ordering::Relaxed) {
            let pool = self.log.pool();
            if deferred_indexes::restore(pool).await? > 0 {
                let tables: Vec<&str> = ReadModel::ALL
                    .iter()
                    .flat_map(|m| m.tables().iter().copied())
                    .collect();
                deferred_indexes::analyze(pool, &tables).await?;
            }
            for model in ReadModel::ALL {
                model.projection().build_deferred_stocks(pool).await?;
            }
            self.restore_pending.store(false, Ordering::Relaxed);
        }
        Ok(())
    }
}
