//! The projector: exactly once, poisoned events stop a projection loudly, settings are guarded.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use suspense_domain::{ItemAction, ItemId, Note, RootCauseCategory};
use suspense_read_models::{ProjectionError, Projector, ReadModel, ReadModelSnapshot};

async fn raw(db: &TestDatabase, sql: &str) {
    db.execute(sql, false).await.expect("raw sql");
}

async fn a_poisoned_event_stops_the_projection_with_a_clear_error(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let good = h
        .open(
            "2026-03-01T01:00:00Z",
            "GOOD",
            "10.00",
            "SH-001",
            "2026-03-01",
        )
        .await;
    // A Classified event for an item that was never opened: only a damaged log has one.
    let ghost = ItemId::for_reference(&booking("GHOST", "1").reference);
    let payload = r#"{"Classified":{"at":"2026-03-02T00:00:00Z","by":"x","cause":{"category":"system_failure","code":"SYS-OUTAGE"}}}"#;
    raw(
        &h.db,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('SuspenseItem', '{ghost}', 1, 'Classified', '1', '{payload}', '{{}}')"
        ),
    )
    .await;
    h.run(
        "2026-03-03T01:00:00Z",
        "ops",
        good,
        ItemAction::Comment {
            text: Note::parse("after").expect("note"),
        },
    )
    .await;

    let err = h
        .projector
        .refresh(WAIT)
        .await
        .expect_err("the ghost event poisons the projections");
    match &err {
        ProjectionError::Poisoned {
            position,
            item_id,
            reason,
            ..
        } => {
            assert_eq!(*position, 2);
            assert_eq!(item_id, &ghost.to_string());
            assert!(reason.contains("never opened"), "{reason}");
        }
        other => panic!("expected Poisoned, got {other}"),
    }
    assert!(
        h.projector
            .metrics()
            .poisoned_events
            .load(Ordering::Relaxed)
            >= 1
    );
    let status = h.projector.status().await.expect("status");
    for model in &status {
        assert_eq!(
            model.position, 1,
            "{model:?}: applied up to the event before the poison"
        );
        assert_eq!(model.head, 3);
        assert_eq!(model.lag, 2);
        assert!(
            model
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("position 2")),
            "{model:?}"
        );
    }
    // The good item's opening was applied; nothing after the poison was.
    let row = h
        .reports()
        .item(&good.to_string())
        .await
        .expect("reads")
        .expect("applied");
    assert_eq!(row.comment_count, 0);
    // It stays stopped rather than skipping ahead.
    assert!(h.projector.catch_up().await.is_err());
}
on_both_backends!(
    a_poisoned_event_stops_the_projection_with_a_clear_error,
    super::a_poisoned_event_stops_the_projection_with_a_clear_error
);

async fn a_batch_the_database_refuses_leaves_nothing_behind(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let reference = format!("REFUSED-{n}");
        ids.push(
            h.open(
                "2026-03-01T01:00:00Z",
                &reference,
                "10.00",
                "SH-001",
                "2026-03-01",
            )
            .await,
        );
    }
    // A movement already stored under the last item's booking (only a damaged database has
    // one): the batch's register rows are written before its movements collide with it.
    raw(
        &h.db,
        &format!(
            "INSERT INTO balance_movements (item_id, sequence, on_date, outstanding_delta_minor, open_delta)
             VALUES ('{}', 1, '2026-03-01', 0, 0)",
            ids[4]
        ),
    )
    .await;
    // The register's tables (rows, movements, balances). On PostgreSQL the statistics commit
    // their own transaction beside the register's, and may apply the batch.
    let register_tables = |snapshot: ReadModelSnapshot| {
        let rows: Vec<String> = snapshot
            .rows
            .into_iter()
            .filter(|r| r.starts_with("MovementRow") || r.starts_with("Balance"))
            .collect();
        (snapshot.register, rows)
    };
    let before = register_tables(ReadModelSnapshot::take(&h.log).await.expect("snapshot"));
    assert_eq!(before.1.len(), 1);

    assert!(h.projector.refresh(WAIT).await.is_err());
    assert_eq!(
        register_tables(ReadModelSnapshot::take(&h.log).await.expect("snapshot")),
        before,
        "nothing of the refused batch is stored"
    );
    let status = h.projector.status().await.expect("status");
    let register = status
        .iter()
        .find(|m| m.read_model == ReadModel::ITEM_REGISTER.name())
        .expect("register status");
    assert_eq!(register.position, 0);

    raw(&h.db, "DELETE FROM balance_movements").await;
    h.refresh().await;
    for id in &ids {
        let row = h.reports().item(&id.to_string()).await.expect("reads");
        assert!(row.is_some(), "{id} applied once the database accepts it");
    }
}
on_both_backends!(
    a_batch_the_database_refuses_leaves_nothing_behind,
    super::a_batch_the_database_refuses_leaves_nothing_behind
);

async fn changing_the_time_zone_requires_a_rebuild(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let err = Projector::new(Arc::clone(&h.log), settings("Asia/Shanghai"))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("rebuild"), "{err}");
}
on_both_backends!(
    changing_the_time_zone_requires_a_rebuild,
    super::changing_the_time_zone_requires_a_rebuild
);

/// Two projectors (two service instances) on one database apply every event exactly once.
async fn two_projectors_on_one_database_apply_each_event_once(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let other = Arc::new(
        Projector::new(Arc::clone(&h.log), settings("UTC"))
            .await
            .expect("second projector")
            .with_batch_size(3),
    );
    for n in 0..20 {
        let id = h
            .open(
                "2026-03-01T01:00:00Z",
                &format!("P-{n}"),
                "5.00",
                "SH-001",
                "2026-03-01",
            )
            .await;
        h.run(
            "2026-03-02T01:00:00Z",
            "ops",
            id,
            classify(RootCauseCategory::ProcessGap, "PRC-WORKFLOW", None),
        )
        .await;
        if n % 2 == 0 {
            h.run("2026-03-03T01:00:00Z", "ops", id, refund("5")).await;
        }
    }
    h.log.settle(WAIT).await.expect("settles");
    let racing = {
        let other = Arc::clone(&other);
        tokio::spawn(async move { other.catch_up().await })
    };
    h.projector.catch_up().await.expect("first catches up");
    racing.await.expect("joins").expect("second catches up");
    let balance = h.reports().open_balance().await.expect("balance");
    assert_eq!(balance[0].open_items, 10);
    assert_eq!(balance[0].outstanding, "50.00");
    assert_eq!(h.reports().register_balance().await.expect("sum"), balance);
    let incremental = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    for &model in suspense_read_models::ReadModel::ALL {
        h.projector.rebuild(model, |_| {}).await.expect("rebuilds");
    }
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        incremental
    );
}
on_both_backends!(
    two_projectors_on_one_database_apply_each_event_once,
    super::two_projectors_on_one_database_apply_each_event_once
);

/// After a command returns, `refresh` makes the read models include it.
async fn a_writer_reads_its_own_write(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let background = Arc::new(
        Projector::new(Arc::clone(&h.log), settings("UTC"))
            .await
            .expect("projector"),
    );
    let task = Arc::clone(&background).spawn(std::time::Duration::from_millis(20));
    for n in 0..5 {
        let id = h
            .open(
                "2026-03-01T01:00:00Z",
                &format!("RYW-{n}"),
                "1.00",
                "SH-001",
                "2026-03-01",
            )
            .await;
        let head = h.log.settle(WAIT).await.expect("settles");
        background.wait_for(head, WAIT).await.expect("catches up");
        assert!(h
            .reports()
            .item(&id.to_string())
            .await
            .expect("reads")
            .is_some());
    }
    task.abort();
}
on_both_backends!(
    a_writer_reads_its_own_write,
    super::a_writer_reads_its_own_write
);

/// Under a steady stream of commands a catch-up still ends: it applies what the log held when
/// it read its last batch and leaves what arrives meanwhile to the next catch-up, instead of
/// chasing the writers one tiny batch after another. Once they stop, nothing is missing.
async fn a_catch_up_ends_while_commands_keep_arriving(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let id = h
        .open(
            "2026-03-01T01:00:00Z",
            "BUSY",
            "1.00",
            "SH-001",
            "2026-03-01",
        )
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let log = Arc::clone(&h.log);
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut comments = 0;
            while !stop.load(Ordering::Relaxed) {
                comments += 1;
                let text = Note::parse(&format!("comment {comments}")).expect("note");
                log.execute(
                    id,
                    suspense_domain::ItemCommand::new(user("ops"), ItemAction::Comment { text }),
                    &suspense_store::RequestMetadata::default(),
                    None,
                )
                .await
                .expect("comment");
            }
            comments
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..5 {
        tokio::time::timeout(Duration::from_secs(20), h.projector.catch_up())
            .await
            .expect("a catch-up ends while commands keep arriving")
            .expect("catches up");
    }
    stop.store(true, Ordering::Relaxed);
    let comments = writer.await.expect("writer joins");
    h.refresh().await;
    let row = h
        .reports()
        .item(&id.to_string())
        .await
        .expect("reads")
        .expect("registered");
    assert_eq!(i64::from(row.comment_count), comments);
}
on_both_backends!(
    a_catch_up_ends_while_commands_keep_arriving,
    super::a_catch_up_ends_while_commands_keep_arriving
);
