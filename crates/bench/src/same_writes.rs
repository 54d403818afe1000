//! The floor under catch-up: the read models' final rows written into fresh tables of the same
//! schema (the same indexes), in as many transactions as the projector commits, with nothing
//! to read, fold or update. A projector writes at least these rows, so none can catch up
//! faster than this on the same database.
//!
//! PostgreSQL gets the rows by `COPY … FROM STDIN`, each model's tables on their own
//! connection at once (as the projector commits them); SQLite copies them from the projected
//! database, attached, with `INSERT … SELECT` on its one writer. Both, like the projector's
//! build from empty, load them without the indexes it defers (all but the primary keys), then
//! create those (timed too; PostgreSQL two at a time).

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use suspense_database::Pool;
use suspense_read_models::{bulk_load, Projector, ReadModel, ReadModelSettings};
use suspense_store::{EventLog, PoolSettings, StoreLocation};
use suspense_testkit::{fixed_services, Backend, TestDatabase};

/// Writes the rows `projected` holds into a fresh database in `batches` transactions per read
/// model; returns how long the writes took, once the fresh tables are checked to hold as many
/// rows as the projected ones.
pub async fn time(
    projected: &EventLog,
    settings: ReadModelSettings,
    batches: usize,
) -> Result<Duration, Box<dyn Error>> {
    let source = projected.location().clone();
    let backend = match source {
        StoreLocation::Sqlite(_) => Backend::Sqlite,
        StoreLocation::Postgres(_) => Backend::Postgres,
    };
    let fresh = TestDatabase::create(backend).await;
    let location = StoreLocation::parse(&fresh.url())?;
    let log =
        Arc::new(EventLog::open(&location, fixed_services(), &PoolSettings::default()).await?);
    // Creates the read-model tables as the projector's migrations define them.
    Projector::new(Arc::clone(&log), settings).await?;
    let elapsed = write(log.pool(), source, batches.max(1)).await?;
    for table in all_tables() {
        let (written, expected) = (
            count(log.pool(), table).await?,
            count(projected.pool(), table).await?,
        );
        if written != expected {
            return Err(format!("{table}: {written} rows written, {expected} projected").into());
        }
    }
    Ok(elapsed)
}

/// Every table of every read model.
fn all_tables() -> impl Iterator<Item = &'static str> {
    ReadModel::ALL.iter().flat_map(|m| m.tables()).copied()
}

async fn count(pool: &Pool, table: &str) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT count(*) FROM {table}");
    Ok(
        suspense_database::with_pool!(pool, p => sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await?),
    )
}

async fn write(
    pool: &Pool,
    source: StoreLocation,
    batches: usize,
) -> Result<Duration, Box<dyn Error>> {
    match (pool, source) {
        (Pool::Postgres(pg), StoreLocation::Postgres(url)) => {
            // Per model, per batch: each table's share of the rows.
            let parts: Vec<Vec<Batch>> = postgres_rows(&url)
                .await?
                .into_iter()
                .map(|tables| {
                    (0..batches)
                        .map(|batch| {
                            tables
                                .iter()
                                .map(|(table, lines)| {
                                    let share = |k: usize| k * lines.len() / batches;
                                    (*table, lines[share(batch)..share(batch + 1)].concat())
                                })
                                .filter(|(_, rows)| !rows.is_empty())
                                .collect()
                        })
                        .collect()
                })
                .collect();
            defer_indexes(pool).await?;
            let started = Instant::now();
            futures::future::try_join_all(parts.iter().map(|model| async move {
                let mut conn = pg.acquire().await?;
                for batch in model {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    for (table, rows) in batch {
                        let mut copy = tx.copy_in_raw(&format!("COPY {table} FROM STDIN")).await?;
                        copy.send(rows.as_slice()).await?;
                        copy.finish().await?;
                    }
                    tx.commit().await?;
                }
                Ok::<_, sqlx::Error>(())
            }))
            .await?;
            bulk_load::restore(pool).await?;
            Ok(started.elapsed())
        }
        (Pool::Sqlite(sqlite), StoreLocation::Sqlite(path)) => {
            let mut conn = sqlite.acquire().await?;
            sqlx::query("ATTACH DATABASE $1 AS projected")
                .bind(path.display().to_string())
                .execute(&mut *conn)
                .await?;
            let mut ranges = Vec::new();
            for table in all_tables() {
                let (low, high): (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
                    "SELECT min(rowid), max(rowid) FROM projected.{table}"
                ))
                .fetch_one(&mut *conn)
                .await?;
                ranges.push((table, low.unwrap_or(0), high.unwrap_or(-1) + 1));
            }
            defer_indexes(pool).await?;
            let started = Instant::now();
            let batches = batches as i64;
            for batch in 0..batches {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                for (table, low, end) in &ranges {
                    let at = |k: i64| low + (end - low) * k / batches;
                    // OR FAIL, as the projector inserts (no statement journal: see
                    // register/sqlite.rs in the read models).
                    sqlx::query(&format!(
                        "INSERT OR FAIL INTO main.{table} SELECT * FROM projected.{table} WHERE rowid >= $1 AND rowid < $2"
                    ))
                    .bind(at(batch))
                    .bind(at(batch + 1))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
            bulk_load::restore(pool).await?;
            Ok(started.elapsed())
        }
        _ => Err("the projected and the fresh database are of different backends".into()),
    }
}

/// Drops the lookup indexes a projector's build from empty drops, by the projector's own
/// code; `bulk_load::restore` creates them again as the projector does when the build ends.
async fn defer_indexes(pool: &Pool) -> Result<(), sqlx::Error> {
    for &model in ReadModel::ALL {
        bulk_load::defer(pool, model.name(), model.tables()).await?;
    }
    Ok(())
}

/// One transaction's rows: each table's share, as `COPY` text.
type Batch = Vec<(&'static str, Vec<u8>)>;

/// A table and its rows, one `COPY` text line each.
type TableLines = (&'static str, Vec<Vec<u8>>);

/// Each read model's tables with their rows as `COPY` text lines, in the order they are stored.
async fn postgres_rows(url: &str) -> Result<Vec<Vec<TableLines>>, Box<dyn Error>> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
    let mut models = Vec::new();
    for &model in ReadModel::ALL {
        let mut tables = Vec::new();
        for table in model.tables() {
            let text: Vec<u8> = conn
                .copy_out_raw(&format!("COPY {table} TO STDOUT"))
                .await?
                .map_ok(|chunk| chunk.to_vec())
                .try_concat()
                .await?;
            // One row per line: COPY's text format escapes newlines inside values.
            let lines = text
                .split_inclusive(|b| *b == b'\n')
                .map(<[u8]>::to_vec)
                .collect();
            tables.push((*table, lines));
        }
        models.push(tables);
    }
    Ok(models)
}
