//! PostgreSQL only: a reader following global positions never misses an event whose
//! transaction commits after a later event became visible, and never waits on a rollback.

mod common;

use std::time::Duration;

use common::*;
use sqlx::{Connection, PgConnection};
use suspense_testkit::TestPostgres;

fn insert_opened(reference: &str) -> String {
    format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('SuspenseItem', '{}', 1, 'Opened', '1', '{}', '{{\"actor\":\"raw-writer\"}}')",
        item_id(reference),
        opened_payload(reference).replace('\'', "''")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_transaction_is_positioned_before_later_commits_and_a_rollback_leaves_no_gap() {
    let pg = TestPostgres::create().await;
    let db = TestDatabase::Postgres(pg);
    let log = open_log(&db).await;
    let TestDatabase::Postgres(pg) = &db else {
        unreachable!()
    };

    // A starts writing first and stays open.
    let mut slow = PgConnection::connect(pg.url()).await.expect("connects");
    sqlx::query("BEGIN")
        .execute(&mut slow)
        .await
        .expect("begin");
    sqlx::query(&insert_opened("SLOW-A"))
        .execute(&mut slow)
        .await
        .expect("insert A");

    // B is written through the log and commits while A is still open.
    let b = open_item(&log, "FAST-B").await;

    // C writes and rolls back.
    let mut doomed = PgConnection::connect(pg.url()).await.expect("connects");
    sqlx::query("BEGIN")
        .execute(&mut doomed)
        .await
        .expect("begin");
    sqlx::query(&insert_opened("DOOMED-C"))
        .execute(&mut doomed)
        .await
        .expect("insert C");
    sqlx::query("ROLLBACK")
        .execute(&mut doomed)
        .await
        .expect("rollback");

    // B is committed and visible in `events`, but must not get a position ahead of A.
    let early = log.read_after(0, 100).await.expect("reads");
    assert!(
        early.is_empty(),
        "B was positioned while A, which started first, was in flight"
    );
    assert!(matches!(
        log.settle(Duration::from_millis(200)).await,
        Err(suspense_store::StoreError::SettleTimeout { .. })
    ));

    sqlx::query("COMMIT")
        .execute(&mut slow)
        .await
        .expect("commit A");

    assert_eq!(log.settle(SETTLE).await.expect("settles"), 2);
    let all = log.read_after(0, 100).await.expect("reads");
    let order: Vec<_> = all.iter().map(|e| (e.position, e.item_id)).collect();
    assert_eq!(order, vec![(Some(1), item_id("SLOW-A")), (Some(2), b)]);
    assert_eq!(all[0].metadata.actor.as_deref(), Some("raw-writer"));
}

/// Writers commit in random order with random delays, some roll back, while a reader follows
/// positions. The reader's sequence must equal the final log: nothing skipped, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_sees_every_committed_event_exactly_once_under_racing_writers() {
    use std::sync::Arc;
    let pg = TestPostgres::create().await;
    let url = pg.url().to_owned();
    let db = TestDatabase::Postgres(pg);
    let log = Arc::new(open_log(&db).await);

    let writers: Vec<_> = (0..12)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await.expect("connects");
                let mut committed = Vec::new();
                for n in 0..6 {
                    let reference = format!("RACE-{w}-{n}");
                    sqlx::query("BEGIN")
                        .execute(&mut conn)
                        .await
                        .expect("begin");
                    sqlx::query(&insert_opened(&reference))
                        .execute(&mut conn)
                        .await
                        .expect("insert");
                    // Deterministic pseudo-random delay and fate per (writer, n).
                    let spin = (w * 7 + n * 13) % 11;
                    tokio::time::sleep(Duration::from_millis(spin as u64 * 3)).await;
                    if (w + n) % 4 == 0 {
                        sqlx::query("ROLLBACK")
                            .execute(&mut conn)
                            .await
                            .expect("rollback");
                    } else {
                        sqlx::query("COMMIT")
                            .execute(&mut conn)
                            .await
                            .expect("commit");
                        committed.push(item_id(&reference));
                    }
                }
                committed
            })
        })
        .collect();

    let follower = {
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            // Follow until the writers are done (signalled by the expected count below).
            for _ in 0..2_000 {
                let page = log.read_after(after, 5).await.expect("reads");
                for event in page {
                    let position = event.position.expect("positioned");
                    assert_eq!(
                        position,
                        after + 1,
                        "positions arrive in order without gaps"
                    );
                    after = position;
                    seen.push(event.item_id);
                }
                if seen.len() >= 54 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        })
    };

    let mut committed = Vec::new();
    for writer in writers {
        committed.extend(writer.await.expect("writer finishes"));
    }
    assert_eq!(committed.len(), 54);
    let seen = follower.await.expect("follower finishes");
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    seen_sorted.dedup();
    assert_eq!(seen_sorted.len(), seen.len(), "no event seen twice");
    committed.sort();
    assert_eq!(
        seen_sorted, committed,
        "every committed event seen, no rolled-back one"
    );
}

/// Pages are read in the order transactions committed, their positions counted from the
/// page's start (`PAGE_POSTGRES_IN_COMMIT_ORDER`): they must be exactly the sequencer's, for
/// transactions of several events committing out of order or rolling back, wherever a page
/// starts and whatever its size, without falling back to the read by position.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_read_in_commit_order_carry_the_sequencers_positions() {
    let pg = TestPostgres::create().await;
    let url = pg.url().to_owned();
    let db = TestDatabase::Postgres(pg);
    let log = open_log(&db).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await.expect("connects");
                for n in 0..4 {
                    sqlx::query("BEGIN")
                        .execute(&mut conn)
                        .await
                        .expect("begin");
                    for k in 0..1 + (w + n) % 3 {
                        sqlx::query(&insert_opened(&format!("PAGE-{w}-{n}-{k}")))
                            .execute(&mut conn)
                            .await
                            .expect("insert");
                    }
                    let spin = (w * 5 + n * 3) % 7;
                    tokio::time::sleep(Duration::from_millis(spin as u64 * 2)).await;
                    let end = if (w + n) % 5 == 0 {
                        "ROLLBACK"
                    } else {
                        "COMMIT"
                    };
                    sqlx::query(end).execute(&mut conn).await.expect("ends");
                }
            })
        })
        .collect();
    // Pages are also read while transactions are still open.
    for _ in 0..10 {
        log.read_after(0, 3).await.expect("reads");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    for writer in writers {
        writer.await.expect("writer finishes");
    }
    let head = log.settle(SETTLE).await.expect("settles");
    let by_position: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT position, aggregate_id, sequence FROM event_log ORDER BY position")
            .fetch_all(&mut PgConnection::connect(&url).await.expect("connects"))
            .await
            .expect("reads event_log");
    assert_eq!(by_position.len() as u64, head);
    assert!(head > 30, "most transactions committed: {head}");
    for size in [1, 2, 5, 1_000] {
        let mut read = Vec::new();
        let mut after = 0;
        loop {
            let page = log.read_after(after, size).await.expect("reads");
            let Some(last) = page.last().and_then(|e| e.position) else {
                break;
            };
            read.extend(page.iter().map(|e| {
                (
                    e.position.unwrap_or(0) as i64,
                    e.item_id.to_string(),
                    e.sequence as i64,
                )
            }));
            after = last;
        }
        assert_eq!(read, by_position, "pages of {size}");
    }
    assert_eq!(log.pages_read_by_position(), 0);
}
