//! Aging month ends built once when a build from empty ends, instead of batch by batch.
//!
//! A batch adds its flows of month `k` to every stored month from `k` on. In item order
//! every batch of a long log holds movements of nearly every month, so every batch rewrote
//! nearly every month's stock: a 1M-event build spent more than half its time on them
//! (docs/performance.md). A bulk build names the table in `projection_deferred_stocks`;
//! batches written meanwhile leave it alone, and when the build ends the stocks are summed
//! in one grouped pass over the finished movements, each item under its current key.
//!
//! Aging stays right meanwhile: the table is empty during such a build (it starts from
//! empty), and aging as of any date then sums every movement up to it.
//!
//! The build of the stocks holds the model's checkpoint row (PostgreSQL) or the write lock
//! (SQLite) from before it reads, so a batch of another projector commits either before it
//! (and is summed) or after it (and finds the stocks kept again, so adds its flows).

use std::collections::BTreeSet;

use suspense_database::{on_tx, Pool, Tx};

use super::aging_stock::{changes_from, AgingStockRow};
use super::{postgres, sqlite};
use crate::fast_hash::Map;
use crate::month_end_stock::Flows;
use crate::statistics::UNCLASSIFIED;

/// The table whose stocks are deferred.
const TABLE: &str = "aging_month_end";

/// SQLite: take the write lock at `BEGIN`, before the first read (see
/// `tuning/deferred_indexes.rs`).
const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";

const DEFER: &str = "INSERT INTO projection_deferred_stocks (name, projection) VALUES ($1, $2)
  ON CONFLICT (name) DO NOTHING";

const IS_DEFERRED: &str =
    "SELECT EXISTS (SELECT 1 FROM projection_deferred_stocks WHERE name = $1)";

const LOCK_CHECKPOINT: &str =
    "SELECT position FROM projection_checkpoints WHERE projection = $1 FOR UPDATE";

/// Every movement's flow per month and aging key, each item under its current key.
fn flows_query(month: &str) -> String {
    format!(
        "SELECT {month} AS month, r.branch, COALESCE(r.category, '{UNCLASSIFIED}') AS category,
                r.currency, r.booked_on, r.value_date,
                CAST(SUM(m.open_delta) AS BIGINT) AS open_count,
                CAST(SUM(m.outstanding_delta_minor) AS BIGINT) AS outstanding_minor
           FROM balance_movements m JOIN item_register r ON r.item_id = m.item_id
          GROUP BY 1, 2, 3, 4, 5, 6"
    )
}

/// Stops keeping `aging_month_end` batch by batch, for `projection`'s build from empty.
pub(super) async fn defer(pool: &Pool, projection: &str) -> Result<(), sqlx::Error> {
    suspense_database::with_pool!(pool, p => sqlx::query(DEFER)
        .bind(TABLE)
        .bind(projection)
        .execute(p)
        .await
        .map(|_| ()))
}

/// Whether batches written in `tx` leave `aging_month_end` alone.
pub(super) async fn is_deferred(tx: &mut Tx<'_>) -> Result<bool, sqlx::Error> {
    on_tx!(tx, t => sqlx::query_scalar(IS_DEFERRED).bind(TABLE).fetch_one(&mut **t).await)
}

/// Builds `aging_month_end` from the movements and the register as they stand, if it is
/// deferred; true if it was.
pub(super) async fn build(pool: &Pool, projection: &str) -> Result<bool, sqlx::Error> {
    let (mut tx, month) = match pool {
        Pool::Sqlite(p) => (
            Tx::Sqlite(p.begin_with(SQLITE_BEGIN).await?),
            "date(m.on_date, 'start of month')",
        ),
        Pool::Postgres(p) => {
            let mut tx = p.begin().await?;
            sqlx::query(LOCK_CHECKPOINT)
                .bind(projection)
                .execute(&mut *tx)
                .await?;
            (
                Tx::Postgres(tx),
                "CAST(date_trunc('month', m.on_date) AS date)",
            )
        }
    };
    if !is_deferred(&mut tx).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let flows: Vec<AgingStockRow> = on_tx!(&mut tx, t => {
        sqlx::query(&format!("DELETE FROM {TABLE}")).execute(&mut **t).await?;
        sqlx::query_as(&flows_query(month)).fetch_all(&mut **t).await?
    });
    let changes = suspense_database::cpu_bound(|| {
        let mut net: Map<_, Flows> = Map::default();
        for row in &flows {
            net.entry(&row.key)
                .or_default()
                .insert(row.month, (row.open_count, row.outstanding_minor));
        }
        changes_from(&net, &BTreeSet::new(), &Map::default())
    });
    match &mut tx {
        Tx::Sqlite(t) => sqlite::write_aging(t, &changes).await?,
        Tx::Postgres(t) => postgres::write_aging(t, &changes).await?,
    }
    on_tx!(&mut tx, t => sqlx::query("DELETE FROM projection_deferred_stocks WHERE name = $1")
        .bind(TABLE)
        .execute(&mut **t)
        .await
        .map(|_| ()))?;
    tx.commit().await?;
    Ok(true)
}
