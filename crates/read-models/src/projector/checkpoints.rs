//! Where each read model stands: `projection_checkpoints`, one row per model with the log
//! position it has applied up to, the settings it was built with, the last error, and a
//! generation that every write bumps. A batch moves its model's checkpoint in the
//! transaction that writes its rows, and only from the generation it was folded from, so two
//! projectors (or a crash between batches) can never apply a batch twice.

use chrono::Utc;
use suspense_database::{on_tx, with_pool, Pool, Tx};

use crate::projection::{AnyBatch, ReadModel};

/// A checkpoint as stored: position, the settings it was built with, the last error.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct CheckpointRow {
    pub projection: String,
    pub position: i64,
    pub settings: String,
    pub generation: i64,
    pub last_error: Option<String>,
}

impl CheckpointRow {
    /// The log position the projection has applied up to.
    pub fn reached(&self) -> u64 {
        u64::try_from(self.position).unwrap_or(0)
    }
}

/// One projection's move in a flush to `new`, refused unless the projection is still at the
/// `generation` the batch was folded from (nobody else wrote it in between).
#[derive(Clone)]
pub(crate) struct CheckpointMove<'a> {
    pub projection: &'a str,
    pub generation: i64,
    pub new: i64,
}

const SELECT: &str =
    "SELECT projection, position, settings, generation, last_error FROM projection_checkpoints";

const ENSURE: &str =
    "INSERT INTO projection_checkpoints (projection, position, updated_at, settings)
     VALUES ($1, 0, $2, $3) ON CONFLICT (projection) DO NOTHING";

const RECORD_ERROR: &str =
    "UPDATE projection_checkpoints SET last_error = $1, updated_at = $2 WHERE projection = $3";

const REWIND: &str = "UPDATE projection_checkpoints
    SET position = 0, last_error = NULL, settings = $1, updated_at = $2,
        generation = generation + 1
  WHERE projection = $3";

const MOVE: &str = "UPDATE projection_checkpoints
    SET position = $1, updated_at = $2, last_error = NULL, generation = generation + 1
  WHERE projection = $3 AND generation = $4";

pub(crate) async fn all(pool: &Pool) -> Result<Vec<CheckpointRow>, sqlx::Error> {
    with_pool!(pool, p => sqlx::query_as(SELECT).fetch_all(p).await)
}

/// Creates the checkpoint of `projection` at position 0 if it has none.
pub(crate) async fn ensure(
    pool: &Pool,
    projection: &str,
    settings: &str,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, p => sqlx::query(ENSURE)
        .bind(projection)
        .bind(Utc::now())
        .bind(settings)
        .execute(p)
        .await
        .map(|_| ()))
}

pub(crate) async fn record_error(
    pool: &Pool,
    projection: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, p => sqlx::query(RECORD_ERROR)
        .bind(error)
        .bind(Utc::now())
        .bind(projection)
        .execute(p)
        .await
        .map(|_| ()))
}

/// Empties the model's tables and rewinds its checkpoint, atomically.
pub(crate) async fn reset(
    pool: &Pool,
    model: ReadModel,
    settings: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = Tx::begin(pool).await?;
    for table in model.tables() {
        let delete = format!("DELETE FROM {table}");
        on_tx!(&mut tx, t => sqlx::query(&delete).execute(&mut **t).await.map(|_| ()))?;
    }
    on_tx!(&mut tx, t => sqlx::query(REWIND)
        .bind(settings)
        .bind(Utc::now())
        .bind(model.name())
        .execute(&mut **t)
        .await
        .map(|_| ()))?;
    tx.commit().await
}

/// Writes the batches of `writes` and moves their checkpoints, in one transaction. Returns
/// false (and writes nothing) if another projector moved a checkpoint first.
pub(crate) async fn flush(
    pool: &Pool,
    writes: &[(ReadModel, &AnyBatch)],
    moves: &[CheckpointMove<'_>],
) -> Result<bool, sqlx::Error> {
    let mut tx = Tx::begin(pool).await?;
    for step in moves {
        let moved = on_tx!(&mut tx, t => sqlx::query(MOVE)
            .bind(step.new)
            .bind(Utc::now())
            .bind(step.projection)
            .bind(step.generation)
            .execute(&mut **t)
            .await?
            .rows_affected());
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    for (model, batch) in writes {
        model.write(&mut tx, batch).await?;
    }
    tx.commit().await?;
    Ok(true)
}
