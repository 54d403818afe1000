//! The embedding API as a bank service uses it: only `suspense`'s public surface.

use std::sync::Arc;

use suspense::prelude::*;
use suspense_tests::{booking, on_both_backends, spawn_ledger, user, Backend};

fn actor(name: &str) -> Actor {
    Actor::new(user(name))
        .with_source("embedding-test")
        .with_request_id("req-42")
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("valid note")
}

async fn an_item_lives_from_booking_to_approved_write_off(backend: Backend) {
    let (ledger, _db) = spawn_ledger(backend).await;
    let opened = ledger
        .open_item(&actor("teller"), booking("LIFE-1", "1250.00"))
        .await
        .expect("opens");
    let id = opened.item_id;
    let steps = [
        (
            "ops",
            ItemAction::Classify {
                category: RootCauseCategory::ExternalCause,
                code: RootCauseCode::parse("EXT-TPP-SETTLEMENT").expect("valid"),
                reason: None,
                attribution: Default::default(),
            },
        ),
        (
            "lead",
            ItemAction::Assign {
                team: TeamId::parse("recon").expect("valid"),
                assignee: Some(user("ops")),
                reason: None,
            },
        ),
        (
            "lead",
            ItemAction::Escalate {
                level: EscalationLevel::Department,
                reason: EscalationReason::LargeAmount,
                note: None,
            },
        ),
        (
            "ops",
            ItemAction::RecordClearing {
                clearing_reference: Reference::parse("CLR-1").expect("valid"),
                amount: Money::parse("1000", "CNY").expect("valid"),
            },
        ),
        (
            "ops",
            ItemAction::ProposeResolution(ResolutionRequest {
                method: ResolutionMethod::WrittenOff,
                amount: Money::parse("250", "CNY").expect("valid"),
                posted_to: None,
                note: None,
            }),
        ),
        (
            "lead",
            ItemAction::ApproveResolution {
                note: Some(note("approved")),
            },
        ),
    ];
    for (who, action) in steps {
        ledger
            .execute(&actor(who), id, action)
            .await
            .expect("step accepted");
    }
    let item = ledger.item(id).await.expect("loads").expect("exists");
    assert_eq!(item.version, 7);

    // The read models include the item once refreshed.
    ledger.refresh().await.expect("read models catch up");
    let row = ledger
        .reports()
        .item(&id.to_string())
        .await
        .expect("reads")
        .expect("registered");
    assert_eq!((row.status.as_str(), row.version), ("resolved", 7));
    assert!(ledger
        .reports()
        .open_balance()
        .await
        .expect("balance")
        .is_empty());
    assert_eq!(item.state.status(), ItemStatus::Resolved);
    assert!(item.state.outstanding().is_zero());
    assert_eq!(item.state.escalation, Some(EscalationLevel::Department));

    let history = ledger.history(id).await.expect("history");
    let resolved = history.last().expect("has events");
    assert_eq!(resolved.event_type, "Resolved");
    assert_eq!(resolved.metadata.actor.as_deref(), Some("lead"));
    assert_eq!(resolved.metadata.request_id.as_deref(), Some("req-42"));
    assert_eq!(resolved.metadata.source.as_deref(), Some("embedding-test"));
    match &resolved.event {
        SuspenseItemEvent::Resolved {
            approval: Some(approval),
            by,
            ..
        } => {
            assert_eq!(approval.proposed_by.as_str(), "ops");
            assert_eq!(by.as_str(), "lead");
        }
        other => panic!("expected an approved resolution, got {other:?}"),
    }
}
on_both_backends!(
    an_item_lives_from_booking_to_approved_write_off,
    super::an_item_lives_from_booking_to_approved_write_off
);

async fn a_retried_open_returns_the_same_item(backend: Backend) {
    let (ledger, _db) = spawn_ledger(backend).await;
    let first = ledger
        .open_item(&actor("teller"), booking("RETRY-1", "10"))
        .await
        .expect("opens");
    let again = ledger
        .open_item(&actor("teller"), booking("RETRY-1", "10"))
        .await
        .expect("retry");
    assert_eq!(first.item_id, again.item_id);
    assert!(again.events.is_empty());
    let clash = ledger
        .open_item(&actor("teller"), booking("RETRY-1", "11"))
        .await;
    assert!(matches!(
        clash,
        Err(Error::Rejected(ItemError::ReferenceConflict { .. }))
    ));
    assert_eq!(
        ledger.history(first.item_id).await.expect("history").len(),
        1
    );
}
on_both_backends!(
    a_retried_open_returns_the_same_item,
    super::a_retried_open_returns_the_same_item
);

/// Without a version, concurrent commands on one item are re-checked and retried on conflict:
/// nobody is bounced, nothing is lost.
async fn busy_items_do_not_bounce_writers(backend: Backend) {
    let (ledger, _db) = spawn_ledger(backend).await;
    let ledger = Arc::new(ledger);
    let id = ledger
        .open_item(&actor("teller"), booking("BUSY-1", "10"))
        .await
        .expect("opens")
        .item_id;
    let writers: Vec<_> = (0..16)
        .map(|n| {
            let ledger = Arc::clone(&ledger);
            tokio::spawn(async move {
                ledger
                    .execute(
                        &actor("ops"),
                        id,
                        ItemAction::Comment {
                            text: note(&format!("note {n}")),
                        },
                    )
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer
            .await
            .expect("task ends")
            .expect("every writer gets through");
    }
    let item = ledger.item(id).await.expect("loads").expect("exists");
    assert_eq!(item.state.comment_count, 16);
    assert_eq!(item.version, 17);
}
on_both_backends!(
    busy_items_do_not_bounce_writers,
    super::busy_items_do_not_bounce_writers
);

async fn acting_on_a_stale_version_is_refused(backend: Backend) {
    let (ledger, _db) = spawn_ledger(backend).await;
    let id = ledger
        .open_item(&actor("teller"), booking("STALE-1", "10"))
        .await
        .expect("opens")
        .item_id;
    ledger
        .execute_at_version(
            &actor("ops"),
            id,
            ItemAction::Comment { text: note("a") },
            1,
        )
        .await
        .expect("current version");
    let stale = ledger
        .execute_at_version(
            &actor("ops"),
            id,
            ItemAction::Comment { text: note("b") },
            1,
        )
        .await;
    assert!(matches!(
        stale,
        Err(Error::VersionMismatch {
            expected: 1,
            actual: 2
        })
    ));
}
on_both_backends!(
    acting_on_a_stale_version_is_refused,
    super::acting_on_a_stale_version_is_refused
);

#[tokio::test]
async fn a_bad_location_is_a_clear_error() {
    let err = Suspense::open("mysql://somewhere/db")
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("only postgres:// URLs and SQLite file paths"),
        "{err}"
    );
    let err = Suspense::open("postgres://127.0.0.1:1/nothing-listens-here")
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, ProjectionError::Store(Error::Unavailable(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_sqlite_file_is_created_on_first_use() {
    let dir = suspense_testkit::TestSqlite::create();
    assert!(!dir.path().exists());
    let ledger = Suspense::open(&dir.path().display().to_string())
        .await
        .expect("opens");
    ledger
        .open_item(&actor("teller"), booking("FILE-1", "1"))
        .await
        .expect("writes");
    ledger.close().await;
    assert!(dir.path().exists());
}
