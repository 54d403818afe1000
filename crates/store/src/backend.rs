//! The log's database: connecting with the log's tuning, its migrations, and the cqrs-es
//! stores that load items.

use std::time::Duration;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use suspense_database::{with_pool, Pool, PoolSettings};
use suspense_domain::{ItemError, SuspenseItem};

use crate::error::StoreError;
use crate::location::StoreLocation;
use crate::upcast::upcasters;

/// Settings of every PostgreSQL session of the log. Its statements are keyed reads and
/// writes of a few rows and reports over small tables; PostgreSQL plans a prepared statement
/// generically after its fifth run, and there its estimates come from the whole of a table the
/// items fill: at ten million events reading a stream of a few dozen events (plans, volumes)
/// was planned as a parallel hash join compiled by JIT, 25-50 ms for no rows, and the
/// root-cause report that reads the volumes took 30 ms instead of 5 (docs/performance.md).
/// Without workers and JIT the same plans take a fraction of a millisecond; nothing the log
/// runs is long enough to gain from either.
const POSTGRES_SESSION: [(&str, &str); 2] =
    [("jit", "off"), ("max_parallel_workers_per_gather", "0")];

/// Connects to `location`, creating the SQLite file if needed, with the log's tuning.
pub(crate) async fn connect(
    location: &StoreLocation,
    settings: &PoolSettings,
) -> Result<Pool, StoreError> {
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
                // took 8% less time so (docs/performance.md), when it
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
            Ok(Pool::Sqlite(pool))
        }
        StoreLocation::Postgres(url) => {
            // sqlx pings a connection before lending it by default: a round trip on every
            // command. It already pings each one when it comes back to the pool, and a
            // connection that broke in between fails its query as `Unavailable` and is
            // dropped, so the command's retry gets a fresh one.
            let options: PgConnectOptions = url.parse()?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options.options(POSTGRES_SESSION))
                .await?;
            Ok(Pool::Postgres(pool))
        }
    }
}

/// Creates or upgrades the log's schema. Versioned: each migration runs once per database.
pub(crate) async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    // Read models keep their own migrations (versions 1000 and up) in the same table, so
    // each migrator ignores the other's.
    let mut migrator = match pool {
        Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    with_pool!(pool, p => migrator.run(p).await?);
    Ok(())
}

/// The cqrs-es store that loads items from `pool`.
pub(crate) fn item_store(pool: &Pool) -> ItemStore {
    match pool {
        Pool::Sqlite(pool) => ItemStore::Sqlite(
            PersistedEventStore::new_event_store(SqliteEventRepository::new(pool.clone()))
                .with_upcasters(upcasters()),
        ),
        Pool::Postgres(pool) => ItemStore::Postgres(
            PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                .with_upcasters(upcasters()),
        ),
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
