//! The log's other streams on both backends: remediation plans and transaction volumes share
//! the items' table, positions, metadata, exports and chain, without getting in the items'
//! readers' way.

mod common;

use std::sync::Arc;

use common::*;
use rust_decimal::Decimal;
use suspense_domain::plan::{
    Metric, MetricFilter, Month, PlanAction, PlanCommand, PlanEntryId, PlanId, PlanReference,
};
use suspense_domain::{BranchCode, PlanError, RecordVolume, StreamKind, UserId, VolumeEvent};
use suspense_store::{verify_export, StoreError};
use suspense_testkit::{plan_draft, plan_target};

fn plan_id(reference: &str) -> PlanId {
    PlanId::for_reference(&PlanReference::parse(reference).expect("reference"))
}

fn target() -> PlanAction {
    plan_target(
        "T1",
        Metric::ItemsOpened,
        MetricFilter::default(),
        Decimal::TEN,
    )
}

async fn draft(log: &suspense_store::EventLog, reference: &str) -> PlanId {
    let id = plan_id(reference);
    log.execute_plan_all(
        id,
        &user("maker"),
        vec![PlanAction::Draft(plan_draft(reference)), target()],
        &meta(),
    )
    .await
    .expect("drafted");
    id
}

fn volume(branch: &str, month: &str, transactions: u64) -> RecordVolume {
    RecordVolume::new(
        BranchCode::parse(branch).expect("branch"),
        Month::parse("month", month).expect("month"),
        transactions,
        None,
    )
    .expect("volume")
}

async fn plan_commands_are_events_of_the_log(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = draft(&log, "plan-a").await;
    let approved = log
        .execute_plan(
            id,
            PlanCommand::new(user("checker"), PlanAction::Approve { note: None }),
            &meta(),
        )
        .await
        .expect("approved");
    assert_eq!(approved.version, 3);
    log.settle(SETTLE).await.expect("settles");
    let history = log.plan_history(id).await.expect("history");
    let names: Vec<&str> = history.iter().map(|e| e.event.name()).collect();
    assert_eq!(names, ["PlanDrafted", "PlanTargetSet", "PlanApproved"]);
    assert_eq!(history[2].metadata.actor.as_deref(), Some("checker"));
    assert_eq!(history[2].metadata.request_id.as_deref(), Some("req-1"));
    let positions: Vec<Option<u64>> = history.iter().map(|e| e.position).collect();
    assert_eq!(positions, [Some(1), Some(2), Some(3)]);
    let plans = log.plan_histories().await.expect("plans");
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[&id.to_string()].len(), 3);
}
on_both_backends!(
    plan_commands_are_events_of_the_log,
    super::plan_commands_are_events_of_the_log
);

async fn a_refused_plan_command_writes_nothing(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = draft(&log, "plan-b").await;
    let refused = log
        .execute_plan(
            id,
            PlanCommand::new(user("maker"), PlanAction::Approve { note: None }),
            &meta(),
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::PlanRejected(PlanError::SelfApproval { .. }))
    ));
    // A document with a bad part is refused whole.
    let other = plan_id("plan-c");
    let bad_target = PlanAction::SetTarget {
        target: suspense_domain::plan::Target::new(
            PlanEntryId::parse("T1").expect("id"),
            Metric::Escalations,
            MetricFilter::default(),
            suspense_domain::plan::Comparison::AtMost,
            suspense_domain::plan::TargetValue::Absolute(Decimal::ONE),
            Some(9),
        )
        .expect("target"),
    };
    let refused = log
        .execute_plan_all(
            other,
            &user("maker"),
            vec![PlanAction::Draft(plan_draft("plan-c")), bad_target],
            &meta(),
        )
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::PlanRejected(PlanError::UnknownPhase {
            phase: 9
        }))
    ));
    assert!(log.plan_history(other).await.expect("history").is_empty());
    assert_eq!(log.plan_history(id).await.expect("history").len(), 2);
}
on_both_backends!(
    a_refused_plan_command_writes_nothing,
    super::a_refused_plan_command_writes_nothing
);

/// Two logs (two processes) writing one plan at once: each write either lands or is a
/// conflict, and the plan's sequences have no gaps and no duplicates.
async fn plan_writers_racing_never_both_take_a_sequence(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let first = Arc::new(open_log(&db).await);
    let second = Arc::new(open_log(&db).await);
    let id = draft(&first, "plan-race").await;
    let mut writes = Vec::new();
    for n in 0..16 {
        let log = Arc::clone(if n % 2 == 0 { &first } else { &second });
        writes.push(tokio::spawn(async move {
            let measure = suspense_domain::plan::MeasureSpec {
                id: PlanEntryId::parse(&format!("M{n}")).expect("id"),
                title: suspense_domain::plan::PlanName::parse("a measure").expect("title"),
                category: suspense_domain::RootCauseCategory::ProcessGap,
                code: None,
                owner_team: suspense_domain::TeamId::parse("team").expect("team"),
                owner: UserId::parse("owner").expect("owner"),
                due: suspense_testkit::date("2026-06-30"),
                description: None,
            };
            log.execute_plan(
                id,
                PlanCommand::new(user("maker"), PlanAction::AddMeasure { measure }),
                &meta(),
            )
            .await
        }));
    }
    let mut landed = 0;
    for write in writes {
        match write.await.expect("task") {
            Ok(_) => landed += 1,
            Err(StoreError::StreamConflict { .. }) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert!(landed >= 1);
    let history = first.plan_history(id).await.expect("history");
    let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=2 + landed).collect::<Vec<u64>>());
}
on_both_backends!(
    plan_writers_racing_never_both_take_a_sequence,
    super::plan_writers_racing_never_both_take_a_sequence
);

/// Pages carry the items' events only, but count every event, so a reader moves past plans
/// and volumes.
async fn plan_and_volume_events_are_skipped_by_pages_but_counted(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    open_item(&log, "P-1").await;
    draft(&log, "plan-d").await;
    log.record_volume(
        volume("SH-001", "2026-03", 1_000),
        user("reporter"),
        &meta(),
    )
    .await
    .expect("recorded");
    open_item(&log, "P-2").await;
    log.settle(SETTLE).await.expect("settles");
    let page = log.read_page(0, 10).await.expect("page");
    assert_eq!(page.events().len(), 2);
    assert_eq!(page.rows_read(), 5);
    assert_eq!(page.last_position(), Some(5));
    let positions: Vec<Option<u64>> = page.events().iter().map(|e| e.position).collect();
    assert_eq!(positions, [Some(1), Some(5)]);
    // A page of only other streams' events is not empty to a reader.
    let middle = log.read_page(1, 3).await.expect("page");
    assert!(middle.events().is_empty());
    assert_eq!(middle.last_position(), Some(4));
    assert_eq!(log.head().await.expect("head"), 5);
}
on_both_backends!(
    plan_and_volume_events_are_skipped_by_pages_but_counted,
    super::plan_and_volume_events_are_skipped_by_pages_but_counted
);

async fn plan_volumes_are_corrected_by_later_events(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let by = user("reporter");
    let first = log
        .record_volume(volume("SH-001", "2026-03", 1_000), by.clone(), &meta())
        .await
        .expect("recorded");
    assert!(matches!(
        first,
        Some(VolumeEvent::VolumeRecorded { replaces: None, .. })
    ));
    let again = log
        .record_volume(volume("SH-001", "2026-03", 1_000), by.clone(), &meta())
        .await
        .expect("repeat");
    assert_eq!(again, None);
    let corrected = log
        .record_volume(volume("SH-001", "2026-03", 1_200), by.clone(), &meta())
        .await
        .expect("corrected");
    assert!(matches!(
        corrected,
        Some(VolumeEvent::VolumeRecorded {
            replaces: Some(1_000),
            transactions: 1_200,
            ..
        })
    ));
    log.record_volume(volume("BJ-001", "2026-03", 500), by, &meta())
        .await
        .expect("recorded");
    let events = log.volume_events().await.expect("volumes");
    let figures: Vec<(String, u64)> = events
        .iter()
        .map(|e| {
            let VolumeEvent::VolumeRecorded {
                branch,
                transactions,
                ..
            } = &e.event;
            (branch.to_string(), *transactions)
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("BJ-001".to_owned(), 500),
            ("SH-001".to_owned(), 1_000),
            ("SH-001".to_owned(), 1_200)
        ]
    );
}
on_both_backends!(
    plan_volumes_are_corrected_by_later_events,
    super::plan_volumes_are_corrected_by_later_events
);

/// An export carries the plans' and volumes' events with the items', the chain covers them,
/// and a replica built from it holds the same plan.
async fn plan_events_are_chained_exported_and_replicated(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    open_item(&log, "X-1").await;
    let id = draft(&log, "plan-e").await;
    log.record_volume(
        volume("SH-001", "2026-03", 1_000),
        user("reporter"),
        &meta(),
    )
    .await
    .expect("recorded");
    log.settle(SETTLE).await.expect("settles");
    log.extend_chain().await.expect("chains");
    assert!(log.verify_chain().await.expect("verifies").is_intact());
    let export = log.export_after(0, 100).await.expect("exports");
    assert_eq!(export.len(), 4);
    assert!(verify_export(&export).is_intact());
    assert_eq!(
        StreamKind::of_event_type(&export[1].event_type),
        StreamKind::Plan
    );

    let replica_db = TestDatabase::create(Backend::Sqlite).await;
    let replica = open_log(&replica_db).await;
    replica.replicate(&export).await.expect("replicates");
    let original: Vec<_> = log
        .plan_history(id)
        .await
        .expect("history")
        .into_iter()
        .map(|e| (e.sequence, e.event))
        .collect();
    let copied: Vec<_> = replica
        .plan_history(id)
        .await
        .expect("history")
        .into_iter()
        .map(|e| (e.sequence, e.event))
        .collect();
    assert_eq!(copied, original);
    assert_eq!(replica.volume_events().await.expect("volumes").len(), 1);
}
on_both_backends!(
    plan_events_are_chained_exported_and_replicated,
    super::plan_events_are_chained_exported_and_replicated
);
