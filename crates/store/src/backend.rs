//! The two databases behind one log: connection pools, migrations, and the cqrs-es stores.

use std::time::Duration;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use suspense_domain::{ItemError, SuspenseItem};

use crate::error::StoreError;
use crate::location::StoreLocation;
use crate::upcast::upcasters;

/// Tuning of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a command waits for a connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The connection pool of the log's database. Read models live in the same database, so that
/// a projection can write its rows and its checkpoint in one transaction.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool the log uses: the code is written once and
/// compiled for each backend, so SQL shared by both cannot drift apart.
#[macro_export]
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

impl Pool {
    pub(crate) async fn connect(
        location: &StoreLocation,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        match location {
            StoreLocation::Sqlite(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: an acknowledged command survives a power cut, not just a crash.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // 64 MiB of page cache per connection (the default is 2 MiB): item ids are
                    // random UUIDs, so index pages are touched all over the file.
                    .pragma("cache_size", "-65536")
                    // Reads the first 2 GiB of the file through a memory map instead of a
                    // copy per page into the page cache: a 1M-event catch-up in time order
                    // took 8% less time so (docs/performance.md, tenth session), when it
                    // still looked each event up by key; the read models' lookups by item
                    // id are all over the file too. Writes still go through the WAL.
                    // The cost: an I/O error while reading the mapped file stops the process
                    // (SIGBUS) instead of failing the one query.
                    .pragma("mmap_size", "2147418112");
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections)
                    .test_before_acquire(false)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await?;
                Ok(Self::Sqlite(pool))
            }
            StoreLocation::Postgres(url) => {
                // sqlx pings a connection before lending it by default: a round trip on every
                // command. It already pings each one when it comes back to the pool, and a
                // connection that broke in between fails its query as `Unavailable` and is
                // dropped, so the command's retry gets a fresh one.
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .test_before_acquire(false)
                    .acquire_timeout(settings.acquire_timeout)
                    .connect(url)
                    .await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// Creates or upgrades the schema. Versioned: each migration runs once per database.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        // Read models keep their own migrations (versions 1000 and up) in the same table, so
        // each migrator ignores the other's.
        let mut migrator = match self {
            Self::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Self::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        with_pool!(self, p => migrator.run(p).await?);
        Ok(())
    }

    pub(crate) fn item_store(&self) -> ItemStore {
        match self {
            Self::Sqlite(pool) => ItemStore::Sqlite(
                PersistedEventStore::new_event_store(SqliteEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters()),
            ),
            Self::Postgres(pool) => ItemStore::Postgres(
                PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters()),
            ),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub(crate) async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }
}

/// The cqrs-es event store of either backend: loads items (new events go in through `append`).
pub(crate) enum ItemStore {
    Sqlite(PersistedEventStore<SqliteEventRepository, SuspenseItem>),
    Postgres(PersistedEventStore<PostgresEventRepository, SuspenseItem>),
}

pub(crate) type ItemContext = EventStoreAggregateContext<SuspenseItem>;

impl ItemStore {
    pub(crate) async fn load(&self, id: &str) -> Result<ItemContext, AggregateError<ItemError>> {
        match self {
            Self::Sqlite(store) => store.load_aggregate(id).await,
            Self::Postgres(store) => store.load_aggregate(id).await,
        }
    }
}
