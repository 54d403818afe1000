//! A read model built from empty is loaded without its secondary indexes, which are created
//! again, each in one pass over the finished table, when the build ends. With the indexes in
//! place every row a batch writes goes into each of them too. Measured on 1M events: SQLite
//! took a quarter less CPU without them, and built the seven indexes afterwards in 0.83 s
//! (docs/performance.md); PostgreSQL, whose register indexes are on a few
//! distinct values each (status, branch, category, team), caught up in 8.3-9.2 s instead of
//! 9.7-10.4 s, and builds them again, two at a time, in about half a second.
//!
//! The definitions are stored (`projection_deferred_indexes`) in the transaction that drops
//! the indexes and removed in the one that creates them again, so a build cut short by a crash
//! loses nothing: the next projector to start restores them. Deferring and restoring are
//! idempotent, so two projectors that start the same build, or restore at the same time,
//! leave each index once.
//!
//! Only a table's constraints stay: its primary key, which the upserts name as their conflict
//! target and the fold's lookups use. Unique indexes of their own are deferred too (the
//! register's `item_register_reference`, and on PostgreSQL the movements'
//! `balance_movements_item_sequence`): a build from empty is the only writer of its model, and
//! creating the index again at the end checks the whole table in one pass instead of row by
//! row. Writing each row into those two random-keyed indexes was a tenth of a 1M-event
//! PostgreSQL build's time, on its critical path. If a table ever broke one
//! (the application cannot: an item's id is derived from its reference), creating the index
//! again fails with the database's own error naming it, its definition stays stored, and each
//! later catch-up tries again; the rows stay readable meanwhile.

use futures::{StreamExt, TryStreamExt};
use sqlx::{PgPool, SqlitePool};
use suspense_database::{on_tx, Pool, Tx};

/// Definitions PostgreSQL builds at once when a build ends: one per core of this machine's
/// kind, where each index build is a sort of the table on one core.
const POSTGRES_PARALLEL_BUILDS: usize = 2;

/// A table's indexes created on their own, name and definition: not those of its PRIMARY KEY
/// and UNIQUE constraints, which SQLite makes without `sql`.
const SQLITE_LOOKUP_INDEXES: &str = "SELECT name, sql FROM sqlite_master
  WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL";

/// The same on PostgreSQL, for the table the projector's unqualified name resolves to: not
/// the indexes behind a constraint (the primary keys).
const POSTGRES_LOOKUP_INDEXES: &str = "SELECT i.relname::text, pg_get_indexdef(x.indexrelid)
   FROM pg_index x
   JOIN pg_class i ON i.oid = x.indexrelid
  WHERE x.indrelid = to_regclass($1)
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)";

/// SQLite: a transaction that reads before it writes takes the write lock at `BEGIN`.
/// Deferred, it would read a snapshot that another connection's commit (another projector's
/// batch, or this projector's own from a catch-up that was dropped) can make stale before the
/// first write, and SQLite refuses that write outright (`SQLITE_BUSY_SNAPSHOT`) instead of
/// waiting.
const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";

/// Keeps a deferred index's definition; a second projector deferring the same index keeps
/// the first's.
const STORE_DEFINITION: &str =
    "INSERT INTO projection_deferred_indexes (name, projection, definition)
     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";

/// Drops every index of `tables` but those behind a constraint (the primary keys), storing
/// their definitions under `projection`, in one transaction; returns how many were dropped.
pub async fn defer(pool: &Pool, projection: &str, tables: &[&str]) -> Result<usize, sqlx::Error> {
    let (mut tx, catalog) = match pool {
        Pool::Sqlite(p) => (
            Tx::Sqlite(p.begin_with(SQLITE_BEGIN).await?),
            SQLITE_LOOKUP_INDEXES,
        ),
        Pool::Postgres(p) => (Tx::Postgres(p.begin().await?), POSTGRES_LOOKUP_INDEXES),
    };
    let mut deferred = 0;
    for table in tables {
        let indexes: Vec<(String, String)> = on_tx!(&mut tx, t => sqlx::query_as(catalog)
            .bind(table)
            .fetch_all(&mut **t)
            .await)?;
        for (name, definition) in indexes {
            on_tx!(&mut tx, t => sqlx::query(STORE_DEFINITION)
                .bind(&name)
                .bind(projection)
                .bind(&definition)
                .execute(&mut **t)
                .await
                .map(|_| ()))?;
            let drop = format!("DROP INDEX IF EXISTS {}", quoted(&name));
            on_tx!(&mut tx, t => sqlx::query(&drop).execute(&mut **t).await.map(|_| ()))?;
            deferred += 1;
        }
    }
    tx.commit().await?;
    Ok(deferred)
}

/// Creates again every deferred index, removing its stored definition; returns how many were
/// created.
pub async fn restore(pool: &Pool) -> Result<usize, sqlx::Error> {
    match pool {
        Pool::Sqlite(pool) => restore_sqlite(pool).await,
        Pool::Postgres(pool) => restore_postgres(pool).await,
    }
}

/// Refreshes the planner's statistics of `tables` after a bulk build wrote them: `ANALYZE` on
/// PostgreSQL. Autovacuum gets there in its own time; until it did, the reports right after a
/// build were planned without statistics (the month's root-cause report of a 1M-event log
/// took 6.8 ms at p50 before and 4.4 ms after). Nothing on SQLite: its planner picks these
/// tables' indexes without statistics, and its `ANALYZE` reads every index whole.
///
/// One table per statement, as many at once as index builds (one `ANALYZE` of them all took
/// 0.8 s on one core after a 1M-event build).
pub async fn analyze(pool: &Pool, tables: &[&str]) -> Result<(), sqlx::Error> {
    if let Pool::Postgres(pool) = pool {
        let statements: Vec<String> = tables
            .iter()
            .map(|table| format!("ANALYZE {}", quoted(table)))
            .collect();
        futures::stream::iter(statements)
            .map(|statement| execute_postgres(pool, statement))
            .buffer_unordered(POSTGRES_PARALLEL_BUILDS)
            .try_collect::<Vec<_>>()
            .await?;
    }
    Ok(())
}

async fn execute_postgres(pool: &PgPool, statement: String) -> Result<(), sqlx::Error> {
    sqlx::query(&statement).execute(pool).await.map(|_| ())
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

    use suspense_database::Pool;
    use suspense_store::{EventLog, PoolSettings, StoreLocation};
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

    /// A fresh database with the log's and the read models' tables.
    async fn with_read_model_tables(backend: Backend) -> (TestDatabase, Arc<EventLog>) {
        let db = TestDatabase::create(backend).await;
        let location = StoreLocation::parse(&db.url()).expect("location");
        let log = Arc::new(
            EventLog::open(&location, fixed_services(), &PoolSettings::default())
                .await
                .expect("log"),
        );
        Projector::new(Arc::clone(&log), ReadModelSettings::default())
            .await
            .expect("projector");
        (db, log)
    }

    async fn deferring_drops_every_index_but_the_primary_keys(backend: Backend) {
        let (_db, log) = with_read_model_tables(backend).await;
        let pool = log.pool();
        let model = ReadModel::ITEM_REGISTER;
        let before = index_names(pool, "item_register").await;
        let movements_before = index_names(pool, "balance_movements").await;

        let deferred = super::defer(pool, model.name(), model.tables())
            .await
            .expect("defers");
        // SQLite's movements keep their uniqueness in the table's primary key.
        let (deferred_movements, kept_movements) = match backend {
            Backend::Sqlite => (1, vec!["sqlite_autoindex_balance_movements_1".to_owned()]),
            Backend::Postgres => (2, vec![]),
        };
        assert_eq!(
            deferred,
            10 + deferred_movements,
            "nine lookup indexes of the register and its unique reference, the movements' own"
        );
        let kept = index_names(pool, "item_register").await;
        assert_eq!(kept.len(), 1, "only the primary key's: {kept:?}");
        assert!(
            !kept.contains(&"item_register_reference".to_owned()),
            "{kept:?}"
        );
        assert_eq!(index_names(pool, "balance_movements").await, kept_movements);
        assert_eq!(
            super::defer(pool, model.name(), model.tables()).await.ok(),
            Some(0),
            "deferring again finds nothing to defer"
        );

        assert_eq!(
            super::restore(pool).await.ok(),
            Some(10 + deferred_movements)
        );
        assert_eq!(index_names(pool, "item_register").await, before);
        assert_eq!(
            index_names(pool, "balance_movements").await,
            movements_before
        );
        assert_eq!(super::restore(pool).await.ok(), Some(0), "nothing left");
    }

    /// A table that breaks a deferred unique index (never the application's doing) keeps its
    /// rows; creating the index fails with PostgreSQL's error naming it, and its definition
    /// stays stored for the next try.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unique_index_the_rows_break_is_reported_and_kept_for_later() {
        let (_db, log) = with_read_model_tables(Backend::Postgres).await;
        let pool = log.pool();
        let model = ReadModel::ITEM_REGISTER;
        super::defer(pool, model.name(), model.tables())
            .await
            .expect("defers");
        let Pool::Postgres(pg) = pool else {
            unreachable!("a PostgreSQL database")
        };
        sqlx::query(
            "INSERT INTO balance_movements (item_id, sequence, on_date, outstanding_delta_minor, open_delta)
             VALUES ('x', 1, '2026-01-01', 100, 1), ('x', 1, '2026-01-01', 100, 1)",
        )
        .execute(pg)
        .await
        .expect("rows go in while the index is deferred");

        let err = super::restore(pool)
            .await
            .expect_err("the duplicate is found");
        assert!(
            err.to_string().contains("balance_movements_item_sequence"),
            "{err}"
        );
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT name FROM projection_deferred_indexes")
                .fetch_all(pg)
                .await
                .expect("reads");
        assert!(
            stored.contains(&"balance_movements_item_sequence".to_owned()),
            "{stored:?}"
        );
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM balance_movements")
            .fetch_one(pg)
            .await
            .expect("reads");
        assert_eq!(rows, 2);
    }

    suspense_testkit::on_both_backends!(
        deferring_drops_every_index_but_the_primary_keys,
        super::deferring_drops_every_index_but_the_primary_keys
    );
}
