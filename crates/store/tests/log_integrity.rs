//! The log refuses to change history, and reports unreadable events instead of skipping them.

mod common;

use common::*;
use suspense_store::StoreError;

async fn stored_events_cannot_be_updated_or_deleted(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    open_item(&log, "IMM-1").await;
    let update = raw_execute(&db, "UPDATE events SET event_version = '9'").await;
    let delete = raw_execute(&db, "DELETE FROM events").await;
    for result in [update, delete] {
        let err = result.expect_err("the database refuses to rewrite history");
        assert!(err.to_string().contains("events are immutable"), "{err}");
    }
    assert_eq!(log.settle(SETTLE).await.expect("settles"), 1);
}
on_both_backends!(
    stored_events_cannot_be_updated_or_deleted,
    super::stored_events_cannot_be_updated_or_deleted
);

async fn an_unreadable_event_is_an_error_not_a_gap(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    open_item(&log, "OK-1").await;
    let id = item_id("BAD-1");
    raw_execute(
        &db,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('SuspenseItem', '{id}', 1, 'Opened', '1', '{{\"Opened\":{{\"bogus\":true}}}}', '{{}}')"
        ),
    )
    .await
    .expect("raw insert");
    log.settle(SETTLE).await.expect("settles");
    let err = log
        .read_after(0, 100)
        .await
        .expect_err("a bad event stops the reader");
    match err {
        StoreError::CorruptEvent {
            item_id,
            sequence,
            reason,
        } => {
            assert_eq!(item_id, id.to_string());
            assert_eq!(sequence, 1);
            assert!(reason.contains("Opened"), "{reason}");
        }
        other => panic!("expected CorruptEvent, got {other}"),
    }
    // The good event before it is still readable on its own.
    assert_eq!(
        log.read_after(0, 1).await.expect("first page reads").len(),
        1
    );
    assert!(matches!(
        log.load(id).await,
        Err(StoreError::CorruptEvent { .. })
    ));
}
on_both_backends!(
    an_unreadable_event_is_an_error_not_a_gap,
    super::an_unreadable_event_is_an_error_not_a_gap
);
