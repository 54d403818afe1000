//! PostgreSQL only: gives committed events their global positions, in an order that a reader
//! following positions can trust.
//!
//! Concurrent writers commit in any order, so a position drawn at insert time could become
//! visible after a higher one and be skipped for ever by a reader. The sequencer instead
//! numbers events in (txid, event_id) order, and only events whose transaction id is below
//! `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has ended,
//! so no event can still appear there (a rolled-back one never will, and nobody waits for it).
//! Sequencing runs under a transaction-scoped advisory lock, so positions are appended by one
//! transaction at a time and become visible in order.
//!
//! The cost: an event gets its position once every transaction that started writing before
//! it has ended. A session left idle in a transaction holding an xid delays positions (not
//! commands) until it ends.

use std::time::Duration;

use sqlx::postgres::PgPool;
use tokio::time::Instant;

/// Arbitrary, fixed: the advisory lock that serialises sequencing within one database.
pub(crate) const SEQUENCER_LOCK: i64 = 0x5355_5350_454e_5345; // "SUSPENSE"

const NEXT_BATCH: &str = "
WITH batch AS (
    SELECT aggregate_type, aggregate_id, sequence, txid, event_id,
           row_number() OVER (ORDER BY txid, event_id) AS n
      FROM events
     WHERE (txid, event_id) > ($1::text::xid8, $2)
       AND txid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY txid, event_id
     LIMIT $3
), logged AS (
    INSERT INTO event_log (position, aggregate_type, aggregate_id, sequence)
    SELECT $4 + n, aggregate_type, aggregate_id, sequence FROM batch
)
UPDATE event_log_head
   SET last_position = $4 + last.n, last_txid = last.txid, last_event_id = last.event_id
  FROM (SELECT n, txid, event_id FROM batch ORDER BY n DESC LIMIT 1) AS last
RETURNING last_position";

/// Sequences up to `max` finished events; returns the new head position if it advanced.
pub(crate) async fn sequence_pending(pool: &PgPool, max: i64) -> Result<Option<u64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEQUENCER_LOCK)
        .execute(&mut *tx)
        .await?;
    // Read after the lock: the previous holder's work is committed and visible now.
    let (last_position, last_txid, last_event_id): (i64, String, i64) =
        sqlx::query_as("SELECT last_position, last_txid::text, last_event_id FROM event_log_head")
            .fetch_one(&mut *tx)
            .await?;
    let advanced: Option<i64> = sqlx::query_scalar(NEXT_BATCH)
        .bind(&last_txid)
        .bind(last_event_id)
        .bind(max)
        .bind(last_position)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(advanced.and_then(|head| u64::try_from(head).ok()))
}

/// Waits until every transaction that had started when this was called has ended, then
/// sequences until nothing is left: afterwards every event committed before the call has its
/// position. Returns false if `deadline` passed first.
pub(crate) async fn settle(
    pool: &PgPool,
    max: i64,
    deadline: Instant,
) -> Result<bool, sqlx::Error> {
    // Every xid below this was assigned before the call; once the horizon reaches it, each of
    // those transactions has committed or rolled back.
    let horizon: String =
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
            .fetch_one(pool)
            .await?;
    let mut pause = Duration::from_millis(1);
    loop {
        let passed: bool =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8")
                .bind(&horizon)
                .fetch_one(pool)
                .await?;
        if passed {
            break;
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    while sequence_pending(pool, max).await?.is_some() {}
    Ok(true)
}
