//! The organisation registry's stream on both backends: a version published by one process
//! is enforced there at once and, in another process, the first time that process meets a
//! branch it does not know; a refused version writes nothing.

mod common;

use common::*;
use suspense_domain::organisation::{Branch, PublishOrganisation, Team};
use suspense_domain::{BranchCode, ItemAction, ItemError, ItemId, Note, StreamKind, TeamId};
use suspense_store::StoreError;

fn branch(code: &str, parent: Option<&str>) -> Branch {
    Branch {
        code: BranchCode::parse(code).expect("branch"),
        name: None,
        parent: parent.map(|p| BranchCode::parse(p).expect("branch")),
        region: None,
        jurisdiction: None,
    }
}

fn registry(branches: &[&str]) -> PublishOrganisation {
    PublishOrganisation {
        effective_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        reason: Note::parse("circular").expect("note"),
        branches: std::iter::once(branch("HO", None))
            .chain(branches.iter().map(|b| branch(b, Some("HO"))))
            .collect(),
        teams: vec![Team {
            id: TeamId::parse("desk").expect("team"),
            branch: BranchCode::parse("HO").expect("branch"),
        }],
    }
}

async fn open_at(
    log: &suspense_store::EventLog,
    reference: &str,
    branch: &str,
) -> Result<ItemId, StoreError> {
    let mut item = booking(reference, "10.00");
    item.branch = BranchCode::parse(branch).expect("branch");
    let id = ItemId::for_reference(&item.reference);
    run(log, id, "teller", ItemAction::Open(item)).await?;
    Ok(id)
}

async fn organisation_versions_are_enforced_across_processes(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let here = open_log(&db).await;
    let there = open_log(&db).await;
    // Nothing published: any branch.
    open_at(&there, "R-0", "TYPO-BRANCH")
        .await
        .expect("accepted");
    let first = here
        .publish_organisation(registry(&["SH-001"]), user("admin"), &meta())
        .await
        .expect("published");
    assert_eq!(first.version, 1);
    let refused = open_at(&here, "R-1", "SH-0O1").await.expect_err("refused");
    assert!(
        matches!(
            &refused,
            StoreError::Rejected(ItemError::UnknownBranch { .. })
        ),
        "{refused:?}"
    );
    // The other process reads the registry when it follows the log (its background task).
    assert!(there.reload_organisation().await.expect("reads"));
    let refused = open_at(&there, "R-2", "SH-0O1").await.expect_err("refused");
    assert!(matches!(
        refused,
        StoreError::Rejected(ItemError::UnknownBranch { .. })
    ));
    open_at(&there, "R-3", "SH-001").await.expect("known");
    // A branch added by a new version here is accepted there at once.
    here.publish_organisation(registry(&["SH-001", "GZ-001"]), user("admin"), &meta())
        .await
        .expect("published");
    open_at(&there, "R-4", "GZ-001")
        .await
        .expect("read again on a miss");

    let head = here.settle(SETTLE).await.expect("settles");
    let refused_head = {
        let mut cyclic = registry(&["SH-001"]);
        cyclic.branches[0].parent = Some(BranchCode::parse("SH-001").expect("branch"));
        let refused = here
            .publish_organisation(cyclic, user("admin"), &meta())
            .await
            .expect_err("a cycle");
        let StoreError::OrganisationRejected(refusal) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(refusal.field, "branches[0].parent");
        here.settle(SETTLE).await.expect("settles")
    };
    assert_eq!(head, refused_head, "a refused version writes nothing");
    let history = here.organisation_history().await.expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].metadata.actor.as_deref(), Some("admin"));
    let export = here.export_after(0, 100).await.expect("export");
    assert!(export
        .iter()
        .any(|e| StreamKind::of_event_type(&e.event_type) == StreamKind::Organisation));
    // A process opened now reads the registry when the log opens.
    let late = open_log(&db).await;
    assert_eq!(late.services().organisation.versions(), 2);
}
on_both_backends!(
    organisation_versions_are_enforced_across_processes,
    super::organisation_versions_are_enforced_across_processes
);
