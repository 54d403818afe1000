//! Events written in an older shape stay readable: loading an item, its history and the log
//! all go through the upcasters.

mod common;

use common::*;
use suspense_domain::{EscalationLevel, SuspenseItemEvent};

async fn an_event_in_an_older_shape_is_upcast_on_read(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = open_item(&log, "OLD-1").await;
    // Version 0 wrote the escalation level as a number.
    raw_execute(
        &db,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('SuspenseItem', '{id}', 2, 'Escalated', '0',
                     '{{\"Escalated\":{{\"at\":\"2025-01-05T02:00:00Z\",\"by\":\"pilot\",\"level\":2,\"reason\":\"aging\",\"note\":null}}}}',
                     '{{\"actor\":\"pilot\"}}')"
        ),
    )
    .await
    .expect("old event written");
    let item = log.load(id).await.expect("loads").expect("exists");
    assert_eq!(item.version, 2);
    assert_eq!(item.state.escalation, Some(EscalationLevel::Department));
    let history = log.history(id).await.expect("history");
    assert_eq!(
        history[1].event_version, "0",
        "the stored version is reported as stored"
    );
    assert!(matches!(
        history[1].event,
        SuspenseItemEvent::Escalated {
            level: EscalationLevel::Department,
            ..
        }
    ));
    log.settle(SETTLE).await.expect("settles");
    assert_eq!(log.read_after(0, 10).await.expect("log reads").len(), 2);
    // And the item still takes commands on top of the old event.
    run(
        &log,
        id,
        "lead",
        suspense_domain::ItemAction::Escalate {
            level: EscalationLevel::Management,
            reason: suspense_domain::EscalationReason::Manual,
            note: None,
        },
    )
    .await
    .expect("escalates further");
}
on_both_backends!(
    an_event_in_an_older_shape_is_upcast_on_read,
    super::an_event_in_an_older_shape_is_upcast_on_read
);

/// SQLite keeps times as text, and rows written by other tools (or by sqlx's own encoders)
/// spell them differently from the column's default. The log's pages read each spelling as the
/// same instant as the per-row reads of an item's history do, and the hash chain over them
/// verifies.
#[tokio::test]
async fn times_stored_in_other_spellings_read_the_same_on_every_route() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let log = open_log(&db).await;
    let spellings = [
        ("T-DEFAULT", None),
        ("T-SPACE", Some("2025-01-05 02:00:00.5")),
        ("T-OFFSET", Some("2025-01-05T10:00:00.25+08:00")),
        ("T-MINUTES", Some("2025-01-05 02:00")),
    ];
    for (reference, spelling) in spellings {
        let Some(spelling) = spelling else {
            open_item(&log, reference).await;
            continue;
        };
        insert_opened(&db, reference, r#"{"actor":"pilot"}"#, spelling).await;
    }
    log.settle(SETTLE).await.expect("settles");
    let page = log.read_after(0, 10).await.expect("log reads");
    assert_eq!(page.len(), spellings.len());
    for event in &page {
        let history = log.history(event.item_id).await.expect("history");
        assert_eq!(history[0].recorded_at, event.recorded_at);
    }
    let at = |text: &str| {
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .expect("instant")
    };
    assert_eq!(page[1].recorded_at, at("2025-01-05T02:00:00.5Z"));
    assert_eq!(page[2].recorded_at, at("2025-01-05T02:00:00.25Z"));
    assert_eq!(page[3].recorded_at, at("2025-01-05T02:00:00Z"));
    log.extend_chain().await.expect("chains");
    let verdict = log.verify_chain().await.expect("verifies");
    assert!(verdict.is_intact(), "{verdict:?}");
}
