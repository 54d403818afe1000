//! Commands on several items written together, on both backends: all or none, with the
//! version check on every item.

mod common;

use common::*;
use suspense_domain::{EscalationLevel, EscalationReason, ItemAction, ItemCommand, ItemError};
use suspense_store::StoreError;

fn escalate(level: EscalationLevel) -> ItemAction {
    ItemAction::Escalate {
        level,
        reason: EscalationReason::Aging,
        note: None,
    }
}

fn by(action: ItemAction) -> ItemCommand {
    ItemCommand::new(user("system"), action)
}

async fn commands_on_several_items_are_written_all_or_none(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let a = open_item(&log, "BATCH-A").await;
    let b = open_item(&log, "BATCH-B").await;
    let head = log.settle(SETTLE).await.expect("settles");

    // One rejection (B cannot be lowered below a level it does not have… it is raised
    // first by a person) refuses the whole batch.
    run(&log, b, "lead", escalate(EscalationLevel::Department))
        .await
        .expect("raised by a person");
    let refused = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::TeamLead)), None),
                (b, by(escalate(EscalationLevel::TeamLead)), None),
            ],
            &meta(),
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Rejected(ItemError::EscalationNotRaised { .. }))
    ));
    assert_eq!(
        log.history(a).await.expect("history").len(),
        1,
        "nothing written"
    );

    // A stale version on one item refuses the whole batch.
    let stale = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::TeamLead)), Some(1)),
                (b, by(escalate(EscalationLevel::Management)), Some(1)),
            ],
            &meta(),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch { .. })));
    assert_eq!(
        log.history(a).await.expect("history").len(),
        1,
        "nothing written"
    );

    let twice = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::TeamLead)), None),
                (a, by(escalate(EscalationLevel::Department)), None),
            ],
            &meta(),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::DuplicateItem { .. })));

    // Another process writes B first: its cached version here is stale, the insert collides.
    let other = open_log(&db).await;
    let executed = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::TeamLead)), Some(1)),
                (b, by(escalate(EscalationLevel::Management)), Some(2)),
            ],
            &meta(),
        )
        .await
        .expect("both written");
    assert_eq!(executed.len(), 2);
    assert_eq!(executed[1].version, 3);
    run(
        &other,
        b,
        "lead",
        ItemAction::Comment {
            text: suspense_domain::Note::parse("called").expect("note"),
        },
    )
    .await
    .expect("commented elsewhere");
    let note = |text: &str| ItemAction::Comment {
        text: suspense_domain::Note::parse(text).expect("note"),
    };
    let collided = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::Department)), None),
                (b, by(note("swept")), None),
            ],
            &meta(),
        )
        .await;
    assert!(
        matches!(collided, Err(StoreError::Conflict { .. })),
        "{collided:?}"
    );
    assert_eq!(
        log.history(a).await.expect("history").len(),
        2,
        "A not written either"
    );
    let after = log.settle(SETTLE).await.expect("settles");
    assert_eq!(
        after,
        head + 4,
        "B raised, both escalated, B commented elsewhere"
    );
    // Decided again on what the other process wrote, the batch goes through.
    let retried = log
        .execute_all(
            vec![
                (a, by(escalate(EscalationLevel::Department)), None),
                (b, by(note("swept")), None),
            ],
            &meta(),
        )
        .await
        .expect("written");
    assert_eq!(retried[1].version, 5);
}
on_both_backends!(
    commands_on_several_items_are_written_all_or_none,
    super::commands_on_several_items_are_written_all_or_none
);
