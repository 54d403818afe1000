//! PostgreSQL only: a reader following global positions never misses an event whose
//! transaction commits after a later event became visible, and never waits on a rollback.

mod common;

use std::time::Duration;

use common::*;
use sqlx::{Connection, PgConnection};
use suspense_testkit::TestPostgres;

const SETTLE: Duration = Duration::from_secs(30);

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
