//! Where each subscription stands: `delivery_checkpoints`, one row per subscription. The
//! deliverer moves a row only from the position it read (`advance`), so an operator's replay
//! or resume that changed the row meanwhile is never overwritten by a delivery in flight.

use chrono::{DateTime, Utc};
use suspense_database::{with_pool, Pool};

use crate::subscription::SubscriptionName;

/// A subscription's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub subscription: String,
    pub position: i64,
    pub delivered: i64,
    pub failures: i32,
    pub last_error: Option<String>,
    pub parked_at: Option<DateTime<Utc>>,
}

impl CheckpointRow {
    /// The log position handed over up to.
    pub fn reached(&self) -> u64 {
        u64::try_from(self.position).unwrap_or(0)
    }
}

const SELECT: &str = "SELECT subscription, position, delivered, failures, last_error, parked_at
  FROM delivery_checkpoints";

/// Creates the table if needed.
pub async fn migrate(pool: &Pool) -> Result<(), sqlx::migrate::MigrateError> {
    // The log's and the read models' migrations share the version table (versions below
    // 2000); each migrator ignores the others'.
    let mut migrator = match pool {
        Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    with_pool!(pool, p => migrator.run(p).await)
}

/// The row of `name`, made at `start` if the subscription is new.
pub async fn ensure(
    pool: &Pool,
    name: &SubscriptionName,
    start: u64,
) -> Result<CheckpointRow, sqlx::Error> {
    let start = i64::try_from(start).unwrap_or(i64::MAX);
    with_pool!(pool, p => sqlx::query(
        "INSERT INTO delivery_checkpoints (subscription, position, updated_at)
         VALUES ($1, $2, $3) ON CONFLICT (subscription) DO NOTHING",
    )
    .bind(name.as_str())
    .bind(start)
    .bind(Utc::now())
    .execute(p)
    .await
    .map(|done| done.rows_affected()))?;
    read(pool, name).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn read(
    pool: &Pool,
    name: &SubscriptionName,
) -> Result<Option<CheckpointRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE subscription = $1");
    with_pool!(pool, p => sqlx::query_as(&sql).bind(name.as_str()).fetch_optional(p).await)
}

pub async fn all(pool: &Pool) -> Result<Vec<CheckpointRow>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY subscription");
    with_pool!(pool, p => sqlx::query_as(&sql).fetch_all(p).await)
}

/// Moves `name` from `from` to `to`, counting `delivered` more; false when the row was not at
/// `from` (an operator moved it).
pub async fn advance(
    pool: &Pool,
    name: &SubscriptionName,
    from: u64,
    to: u64,
    delivered: u64,
) -> Result<bool, sqlx::Error> {
    let [from, to, delivered] = [from, to, delivered].map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let done = with_pool!(pool, p => sqlx::query(
        "UPDATE delivery_checkpoints
            SET position = $1, delivered = delivered + $2, failures = 0, last_error = NULL,
                updated_at = $3
          WHERE subscription = $4 AND position = $5",
    )
    .bind(to)
    .bind(delivered)
    .bind(Utc::now())
    .bind(name.as_str())
    .bind(from)
    .execute(p)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}

/// Records a failed attempt at the event after `at`, and parks the subscription if `park`.
pub async fn record_failure(
    pool: &Pool,
    name: &SubscriptionName,
    at: u64,
    failures: u32,
    error: &str,
    park: bool,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_pool!(pool, p => sqlx::query(
        "UPDATE delivery_checkpoints
            SET failures = $1, last_error = $2, parked_at = $3, updated_at = $4
          WHERE subscription = $5 AND position = $6",
    )
    .bind(i32::try_from(failures).unwrap_or(i32::MAX))
    .bind(error)
    .bind(park.then_some(now))
    .bind(now)
    .bind(name.as_str())
    .bind(i64::try_from(at).unwrap_or(i64::MAX))
    .execute(p)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Un-parks `name`, from `position` if given (a replay from there), else where it stopped;
/// false when there is no such subscription.
pub async fn resume(
    pool: &Pool,
    name: &SubscriptionName,
    position: Option<u64>,
) -> Result<bool, sqlx::Error> {
    let position = position.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let done = with_pool!(pool, p => sqlx::query(
        "UPDATE delivery_checkpoints
            SET position = COALESCE($1, position), failures = 0, last_error = NULL,
                parked_at = NULL, updated_at = $2
          WHERE subscription = $3",
    )
    .bind(position)
    .bind(Utc::now())
    .bind(name.as_str())
    .execute(p)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}

/// Puts `name` at `start` afresh, whatever a subscription of that name left behind.
pub async fn restart(pool: &Pool, name: &SubscriptionName, start: u64) -> Result<(), sqlx::Error> {
    let start = i64::try_from(start).unwrap_or(i64::MAX);
    with_pool!(pool, p => sqlx::query(
        "INSERT INTO delivery_checkpoints (subscription, position, updated_at)
         VALUES ($1, $2, $3)
         ON CONFLICT (subscription) DO UPDATE
            SET position = $2, delivered = 0, failures = 0, last_error = NULL,
                parked_at = NULL, updated_at = $3",
    )
    .bind(name.as_str())
    .bind(start)
    .bind(Utc::now())
    .execute(p)
    .await
    .map(|_| ()))
}

/// Forgets where `name` stood.
pub async fn remove(pool: &Pool, name: &str) -> Result<(), sqlx::Error> {
    with_pool!(pool, p => sqlx::query("DELETE FROM delivery_checkpoints WHERE subscription = $1")
        .bind(name)
        .execute(p)
        .await
        .map(|_| ()))
}
