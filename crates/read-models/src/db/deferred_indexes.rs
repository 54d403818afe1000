//! A read model built from empty is loaded without its secondary indexes, which are created
//! again, each in one pass over the finished table, when the build ends. With the indexes in
//! place every row a batch writes goes into each of them too. Measured on 1M events: SQLite
//! took a quarter less CPU without them, and built the seven indexes afterwards in 0.83 s
//! (docs/performance.md, eighth session); PostgreSQL, whose register indexes are on a few
//! distinct values each (status, branch, category, team), caught up in 8.3-9.2 s instead of
//! 9.7-10.4 s, and builds them again, two at a time, in about half a second (tenth session).
//!
//! The definitions are stored (`projection_deferred_indexes`) in the transaction that drops
//! the indexes and removed in the one that creates them again, so a build cut short by a crash
//! loses nothing: the next projector to start restores them. Unique indexes are never
//! deferred: they are checks, not only lookups. Deferring and restoring are idempotent, so two
//! projectors that start the same build, or restore at the same time, leave each index once.

use futures::{StreamExt, TryStreamExt};
use sqlx::{PgPool, SqlitePool};
use suspense_store::Pool;

/// Definitions PostgreSQL builds at once when a build ends: one per core of this machine's
/// kind, where each index build is a sort of the table on one core.
const POSTGRES_PARALLEL_BUILDS: usize = 2;

/// A table's non-unique indexes, name and definition. (Indexes SQLite makes for PRIMARY KEY
/// and UNIQUE constraints have no `sql`.)
const SQLITE_LOOKUP_INDEXES: &str = "SELECT name, sql FROM sqlite_master
  WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL
    AND upper(sql) NOT LIKE 'CREATE UNIQUE%'";

/// The same on PostgreSQL, for the table the projector's unqualified name resolves to.
const POSTGRES_LOOKUP_INDEXES: &str = "SELECT i.relname::text, pg_get_indexdef(x.indexrelid)
   FROM pg_index x
   JOIN pg_class i ON i.oid = x.indexrelid
  WHERE x.indrelid = to_regclass($1) AND NOT x.indisunique";

/// SQLite: a transaction that reads before it writes takes the write lock at `BEGIN`.
/// Deferred, it would read a snapshot that another connection's commit (another projector's
/// batch, or this projector's own from a catch-up that was dropped) can make stale before the
/// first write, and SQLite refuses that write outright (`SQLITE_BUSY_SNAPSHOT`) instead of
/// waiting.
const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";

/// `defer` on one backend's pool, with that backend's catalog query: in one transaction, each
/// index's definition is stored (a second projector deferring the same index keeps the
/// first's) and the index dropped.
macro_rules! defer_in {
    ($pool:expr, $begin:expr, $catalog:expr, $projection:expr, $tables:expr) => {{
        let mut tx = $pool.begin_with($begin).await?;
        let mut deferred = 0;
        for table in $tables {
            let indexes: Vec<(String, String)> = sqlx::query_as($catalog)
                .bind(table)
                .fetch_all(&mut *tx)
                .await?;
            for (name, definition) in indexes {
                sqlx::query(
                    "INSERT INTO projection_deferred_indexes (name, projection, definition)
                     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&name)
                .bind($projection)
                .bind(&definition)
                .execute(&mut *tx)
                .await?;
                sqlx::query(&format!("DROP INDEX IF EXISTS {}", quoted(&name)))
                    .execute(&mut *tx)
                    .await?;
                deferred += 1;
            }
        }
        tx.commit().await?;
        Ok(deferred)
    }};
}

/// Drops the non-unique secondary indexes of `tables`, storing their definitions under
/// `projection`; returns how many were dropped.
pub async fn defer(pool: &Pool, projection: &str, tables: &[&str]) -> Result<usize, sqlx::Error> {
    match pool {
        Pool::Sqlite(pool) => {
            defer_in!(
                pool,
                SQLITE_BEGIN,
                SQLITE_LOOKUP_INDEXES,
                projection,
                tables
            )
        }
        Pool::Postgres(pool) => {
            defer_in!(pool, "BEGIN", POSTGRES_LOOKUP_INDEXES, projection, tables)
        }
    }
}

/// Creates again every deferred index, removing its stored definition; returns how many were
/// created.
pub async fn restore(pool: &Pool) -> Result<usize, sqlx::Error> {
    match pool {
        Pool::Sqlite(pool) => restore_sqlite(pool).await,
        Pool::Postgres(pool) => restore_postgres(pool).await,
    }
}

async fn restore_sqlite(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    // SQLite has one writer: one transaction creates them all.
    let mut tx = pool.begin_with(SQLITE_BEGIN).await?;
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT name, definition FROM projection_deferred_indexes ORDER BY name")
            .fetch_all(&mut *tx)
            .await?;
    for (name, definition) in &stored {
        sqlx::query(definition).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM projection_deferred_indexes WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(stored.len())
}

async fn restore_postgres(pool: &PgPool) -> Result<usize, sqlx::Error> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM projection_deferred_indexes ORDER BY name")
            .fetch_all(pool)
            .await?;
    let created: Vec<bool> = futures::stream::iter(names)
        .map(|name| restore_one_postgres(pool, name))
        .buffer_unordered(POSTGRES_PARALLEL_BUILDS)
        .try_collect()
        .await?;
    Ok(created.into_iter().filter(|created| *created).count())
}

/// Creates one deferred index in a transaction of its own, so that several build at once;
/// false if another projector created it first (its definition is gone once the row lock
/// is ours).
async fn restore_one_postgres(pool: &PgPool, name: String) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let definition: Option<String> = sqlx::query_scalar(
        "SELECT definition FROM projection_deferred_indexes WHERE name = $1 FOR UPDATE",
    )
    .bind(&name)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(definition) = definition else {
        return Ok(false);
    };
    sqlx::query(&definition).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM projection_deferred_indexes WHERE name = $1")
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// `name` as a quoted SQL identifier (both backends quote alike).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use suspense_store::{EventLog, Pool, PoolSettings, StoreLocation};
    use suspense_testkit::{fixed_services, Backend, TestDatabase};

    use crate::{Projector, ReadModel, ReadModelSettings};

    async fn index_names(pool: &Pool, table: &str) -> Vec<String> {
        let names = match pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1
                      ORDER BY name",
                )
                .bind(table)
                .fetch_all(p)
                .await
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT indexname::text FROM pg_indexes
                      WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname",
                )
                .bind(table)
                .fetch_all(p)
                .await
            }
        };
        names.expect("indexes")
    }

    async fn deferring_drops_the_lookup_indexes_and_keeps_the_checks(backend: Backend) {
        let db = TestDatabase::create(backend).await;
        let location = StoreLocation::parse(&db.url()).expect("location");
        let log = Arc::new(
            EventLog::open(&location, fixed_services(), &PoolSettings::default())
                .await
                .expect("log"),
        );
        // Creates the read-model tables.
        Projector::new(Arc::clone(&log), ReadModelSettings::default())
            .await
            .expect("projector");
        let pool = log.pool();
        let model = ReadModel::ItemRegister;
        let before = index_names(pool, "item_register").await;

        let deferred = super::defer(pool, model.name(), model.tables())
            .await
            .expect("defers");
        assert_eq!(
            deferred, 5,
            "four lookup indexes of the register, one of the movements"
        );
        let kept = index_names(pool, "item_register").await;
        assert!(
            kept.contains(&"item_register_reference".to_owned()),
            "{kept:?}"
        );
        assert!(
            !kept.contains(&"item_register_status".to_owned()),
            "{kept:?}"
        );
        assert!(index_names(pool, "balance_movements")
            .await
            .iter()
            .all(|name| name != "balance_movements_on_date"));
        assert_eq!(
            super::defer(pool, model.name(), model.tables()).await.ok(),
            Some(0),
            "deferring again finds nothing to defer"
        );

        assert_eq!(super::restore(pool).await.ok(), Some(5));
        assert_eq!(index_names(pool, "item_register").await, before);
        assert_eq!(super::restore(pool).await.ok(), Some(0), "nothing left");
    }
    suspense_testkit::on_both_backends!(
        deferring_drops_the_lookup_indexes_and_keeps_the_checks,
        super::deferring_drops_the_lookup_indexes_and_keeps_the_checks
    );
}
