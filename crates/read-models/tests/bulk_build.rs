//! A read model built from empty over a big log is a bulk build: folded in large batches, and
//! loaded without its secondary indexes and month-end stocks, which are created again when
//! the build ends, or by the next projector if the build was cut short.

mod common;

use std::sync::Arc;

use common::*;
use suspense_domain::RootCauseCategory;
use suspense_read_models::{Projector, ReadModelSnapshot};

async fn some_items(h: &Harness) {
    for n in 0..6 {
        let id = h
            .open(
                "2026-03-02T01:00:00Z",
                &format!("BULK-{n}"),
                "100.00",
                "SH-001",
                "2026-03-02",
            )
            .await;
        h.run(
            "2026-03-03T01:00:00Z",
            "ops",
            id,
            classify(RootCauseCategory::SystemFailure, "SYS-OUTAGE", None),
        )
        .await;
        if n % 2 == 0 {
            h.run("2026-03-04T01:00:00Z", "ops", id, refund("100.00"))
                .await;
        }
    }
}

/// The read models of `some_items` on a database of their own, built as they were written,
/// with their indexes in place and in ordinary batches (the log is below the default bulk
/// threshold).
async fn stepwise_build(backend: Backend) -> ReadModelSnapshot {
    let reference = Harness::new(backend, "UTC").await;
    some_items(&reference).await;
    reference.refresh().await;
    ReadModelSnapshot::take(&reference.log)
        .await
        .expect("snapshot")
}

async fn a_build_from_empty_ends_with_the_indexes_it_started_with(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let indexes = index_definitions(&h.log).await;
    some_items(&h).await;
    let stepwise = stepwise_build(backend).await;

    let bulk = Projector::new(Arc::clone(&h.log), *h.projector.settings())
        .await
        .expect("projector")
        .with_bulk_build_threshold(0);
    bulk.catch_up().await.expect("catches up");
    assert_eq!(index_definitions(&h.log).await, indexes);
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        stepwise
    );
    if let suspense_database::Pool::Postgres(pool) = h.log.pool() {
        let analyzed: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT tablename::text FROM pg_stats
              WHERE schemaname = current_schema()
                AND tablename IN ('item_register', 'root_cause_monthly') ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .expect("planner statistics");
        assert_eq!(
            analyzed,
            ["item_register", "root_cause_monthly"],
            "the build leaves the planner statistics of the tables it loaded"
        );
    }
}
on_both_backends!(
    a_build_from_empty_ends_with_the_indexes_it_started_with,
    super::a_build_from_empty_ends_with_the_indexes_it_started_with
);

fn batches_committed(projector: &Projector) -> u64 {
    projector
        .metrics()
        .batches_committed
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// A second projector on `h`'s log for which every build from empty is a bulk build, in
/// batches of `bulk_batch_size` events; other catch-ups fold 2 events per batch.
async fn bulk_projector(h: &Harness, bulk_batch_size: u32) -> Projector {
    Projector::new(Arc::clone(&h.log), *h.projector.settings())
        .await
        .expect("projector")
        .with_bulk_build_threshold(0)
        .with_batch_size(2)
        .with_bulk_batch_size(bulk_batch_size)
}

async fn a_bulk_build_commits_bulk_batches_and_then_small_ones(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    some_items(&h).await;
    let stepwise = stepwise_build(backend).await;

    let projector = bulk_projector(&h, 5).await;
    let head = projector.refresh(WAIT).await.expect("catches up");
    assert!(head > 10, "the build spans several bulk batches");
    assert_eq!(batches_committed(&projector), head.div_ceil(5));
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        stepwise
    );

    // Models that hold something catch up in ordinary batches, however far behind they are.
    let id = h
        .open(
            "2026-03-05T01:00:00Z",
            "AFTER-BULK",
            "7.00",
            "SH-002",
            "2026-03-05",
        )
        .await;
    for n in 0..2 {
        let reference = format!("PART-{n}");
        h.run("2026-03-05T02:00:00Z", "ops", id, clear(&reference, "1.00"))
            .await;
    }
    let before = batches_committed(&projector);
    let added = projector.refresh(WAIT).await.expect("catches up") - head;
    assert_eq!(added, 3);
    assert_eq!(batches_committed(&projector) - before, added.div_ceil(2));
}
on_both_backends!(
    a_bulk_build_commits_bulk_batches_and_then_small_ones,
    super::a_bulk_build_commits_bulk_batches_and_then_small_ones
);

/// Drops the register's index `name` and stores its definition, as a build does when it
/// defers it.
async fn defer_index(h: &Harness, backend: Backend, name: &str) {
    let sql = match backend {
        Backend::Sqlite => format!(
            "INSERT INTO projection_deferred_indexes (name, projection, definition)
             SELECT name, 'item_register', sql FROM sqlite_master WHERE name = '{name}';
             DROP INDEX {name};"
        ),
        Backend::Postgres => format!(
            "INSERT INTO projection_deferred_indexes (name, projection, definition)
             SELECT indexname, 'item_register', indexdef FROM pg_indexes
              WHERE schemaname = current_schema() AND indexname = '{name}';
             DROP INDEX {name};"
        ),
    };
    h.db.execute(&sql, true).await.expect("cut short");
}

async fn indexes_a_cut_short_build_left_deferred_are_restored_by_the_next_projector(
    backend: Backend,
) {
    let h = Harness::new(backend, "UTC").await;
    let indexes = index_definitions(&h.log).await;
    // What a build cut short between dropping an index and creating it again leaves behind.
    defer_index(&h, backend, "item_register_status").await;
    assert_ne!(index_definitions(&h.log).await, indexes);

    Projector::new(Arc::clone(&h.log), *h.projector.settings())
        .await
        .expect("projector starts");
    assert_eq!(index_definitions(&h.log).await, indexes);
    assert_eq!(
        h.db.execute("DELETE FROM projection_deferred_indexes", false)
            .await
            .expect("reads"),
        0,
        "no definition left behind"
    );
}
on_both_backends!(
    indexes_a_cut_short_build_left_deferred_are_restored_by_the_next_projector,
    super::indexes_a_cut_short_build_left_deferred_are_restored_by_the_next_projector
);

/// A build cut short while its aging month ends were deferred leaves batches written without
/// them; the next projector to start builds them from the register and the movements.
async fn stocks_a_cut_short_build_left_deferred_are_built_by_the_next_projector(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    some_items(&h).await;
    let stepwise = stepwise_build(backend).await;
    h.refresh().await;
    // What such a build leaves: the table named as deferred, the register's batches written
    // without adding to it.
    h.db.execute(
        "INSERT INTO projection_deferred_stocks (name, projection)
         VALUES ('aging_month_end', 'item_register');
         DELETE FROM aging_month_end;",
        true,
    )
    .await
    .expect("cut short");
    assert_ne!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        stepwise
    );

    Projector::new(Arc::clone(&h.log), *h.projector.settings())
        .await
        .expect("projector starts");
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        stepwise
    );
    assert_eq!(
        h.db.execute("DELETE FROM projection_deferred_stocks", false)
            .await
            .expect("reads"),
        0,
        "nothing left deferred"
    );
}
on_both_backends!(
    stocks_a_cut_short_build_left_deferred_are_built_by_the_next_projector,
    super::stocks_a_cut_short_build_left_deferred_are_built_by_the_next_projector
);

/// A catch-up can be dropped at any moment (a caller's timeout, a dropped request): its work
/// goes on to the end on the projector's own task, so nothing is cut off between two
/// statements, and the checkpoints' guard keeps every batch applied once. Whatever the moment,
/// the next catch-up leaves the rows an uninterrupted build leaves, and every connection it
/// takes from the pool is out of any transaction.
async fn a_catch_up_dropped_at_any_moment_loses_and_repeats_nothing(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    some_items(&h).await;
    let stepwise = stepwise_build(backend).await;

    let projector = bulk_projector(&h, 2).await;
    let mut dropped = 0;
    for micros in (0..).map(|n| 50 * n) {
        let limit = std::time::Duration::from_micros(micros);
        match tokio::time::timeout(limit, projector.catch_up()).await {
            Ok(caught_up) => {
                caught_up.expect("catches up");
                break;
            }
            Err(_) => dropped += 1,
        }
    }
    assert!(dropped > 0, "some catch-ups were dropped partway");
    projector.refresh(WAIT).await.expect("catches up");
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        stepwise
    );
}
on_both_backends!(
    a_catch_up_dropped_at_any_moment_loses_and_repeats_nothing,
    super::a_catch_up_dropped_at_any_moment_loses_and_repeats_nothing
);

/// An instance that takes over the background work after another died mid-build started its
/// projector before that build deferred anything: starting the background work finishes what
/// the build left deferred, without waiting for a restart.
async fn a_projector_taking_over_the_background_work_finishes_a_build_left_deferred(
    backend: Backend,
) {
    let h = Harness::new(backend, "UTC").await;
    some_items(&h).await;
    let stepwise = stepwise_build(backend).await;
    h.refresh().await;
    let indexes = index_definitions(&h.log).await;
    let follower = Arc::new(
        Projector::new(Arc::clone(&h.log), *h.projector.settings())
            .await
            .expect("projector starts"),
    );
    // The other instance's build, cut short after this projector started.
    defer_index(&h, backend, "item_register_risk").await;
    h.db.execute(
        "INSERT INTO projection_deferred_stocks (name, projection)
         VALUES ('aging_month_end', 'item_register');
         DELETE FROM aging_month_end;",
        true,
    )
    .await
    .expect("cut short");

    let background = follower.spawn(std::time::Duration::from_millis(20));
    let mut finished = false;
    for _ in 0..250 {
        if index_definitions(&h.log).await == indexes
            && ReadModelSnapshot::take(&h.log).await.expect("snapshot") == stepwise
        {
            finished = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    background.abort();
    assert!(finished, "the indexes and stocks are back");
}
on_both_backends!(
    a_projector_taking_over_the_background_work_finishes_a_build_left_deferred,
    super::a_projector_taking_over_the_background_work_finishes_a_build_left_deferred
);
