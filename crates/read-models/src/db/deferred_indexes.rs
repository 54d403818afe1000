//! SQLite: a read model built from empty is loaded without its secondary indexes, which are
//! created again, each in one pass over the finished table, when the build ends. With the
//! indexes in place every row a batch writes goes into each of them too: measured, a 1M-event
//! build took a quarter less CPU without them, and building the seven indexes afterwards
//! 0.83 s (docs/performance.md, eighth session).
//!
//! The definitions are stored (`projection_deferred_indexes`) in the transaction that drops
//! the indexes and removed in the one that creates them again, so a build cut short by a crash
//! loses nothing: the next projector to start restores them. Unique indexes are never
//! deferred: they are checks, not only lookups. PostgreSQL gained nothing measurable from the
//! same (its catch-up waits on other work), so it keeps its indexes.

use sqlx::SqlitePool;

/// Drops the non-unique secondary indexes of `tables`, storing their definitions under
/// `projection`; returns how many were dropped.
pub(crate) async fn defer(
    pool: &SqlitePool,
    projection: &str,
    tables: &[&str],
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut deferred = 0;
    for table in tables {
        // Indexes SQLite makes for PRIMARY KEY and UNIQUE constraints have no `sql`.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL
                AND upper(sql) NOT LIKE 'CREATE UNIQUE%'",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        for (name, definition) in indexes {
            sqlx::query(
                "INSERT INTO projection_deferred_indexes (name, projection, definition)
                 VALUES ($1, $2, $3)",
            )
            .bind(&name)
            .bind(projection)
            .bind(&definition)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut *tx)
                .await?;
            deferred += 1;
        }
    }
    tx.commit().await?;
    Ok(deferred)
}

/// Creates again every deferred index, removing its stored definition; returns how many were
/// created.
pub(crate) async fn restore(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use suspense_store::{EventLog, Pool, PoolSettings, StoreLocation};
    use suspense_testkit::{fixed_services, Backend, TestDatabase};

    use crate::{Projector, ReadModel, ReadModelSettings};

    async fn index_names(pool: &sqlx::SqlitePool, table: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 ORDER BY name",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("indexes")
    }

    #[tokio::test]
    async fn deferring_drops_the_lookup_indexes_and_keeps_the_checks() {
        let db = TestDatabase::create(Backend::Sqlite).await;
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
        let Pool::Sqlite(pool) = log.pool() else {
            panic!("a SQLite log");
        };
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

        assert_eq!(super::restore(pool).await.ok(), Some(5));
        assert_eq!(index_names(pool, "item_register").await, before);
        assert_eq!(super::restore(pool).await.ok(), Some(0), "nothing left");
    }
}
