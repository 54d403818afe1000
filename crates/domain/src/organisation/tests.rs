//! Publishing the registry (every refusal names the place in the document), the hierarchy
//! access is scoped by, and the item commands it refuses: a booking to an unknown branch,
//! an assignment to an unknown team.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::classification::RootCauseCatalogue;
use crate::identity::{AccountNumber, SourceReference};
use crate::item::{ItemAction, ItemCommand, ItemError, OpenItem, SuspenseItem};
use crate::money::Money;
use crate::services::{ApprovalPolicy, FixedClock, ItemServices};
use crate::vocabulary::{Channel, CustomerImpact, Direction};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn code(text: &str) -> BranchCode {
    BranchCode::parse(text).expect("branch")
}

fn branch(text: &str, parent: Option<&str>) -> Branch {
    Branch {
        code: code(text),
        name: None,
        parent: parent.map(code),
        region: None,
        jurisdiction: Some(Jurisdiction::parse("CN").expect("jurisdiction")),
    }
}

fn team(id: &str, branch: &str) -> Team {
    Team {
        id: TeamId::parse(id).expect("team"),
        branch: code(branch),
    }
}

/// Head office, Shanghai under it, a Pudong sub-branch under Shanghai, and Beijing.
fn bank() -> (Vec<Branch>, Vec<Team>) {
    (
        vec![
            branch("HO", None),
            branch("SH-001", Some("HO")),
            branch("SH-PD", Some("SH-001")),
            branch("BJ-001", Some("HO")),
        ],
        vec![team("sh-suspense", "SH-001"), team("bj-suspense", "BJ-001")],
    )
}

fn publish(
    effective_from: &str,
    (branches, teams): (Vec<Branch>, Vec<Team>),
) -> PublishOrganisation {
    PublishOrganisation {
        effective_from: day(effective_from),
        reason: Note::parse("head office circular").expect("note"),
        branches,
        teams,
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 9, 0, 0)
        .single()
        .expect("instant")
}

fn by() -> UserId {
    UserId::parse("org.admin").expect("user")
}

fn published(steps: Vec<PublishOrganisation>) -> Organisations {
    let mut registry = Organisations::default();
    for step in steps {
        let event = registry.decide(step, by(), now()).expect("published");
        registry.apply(&event);
    }
    registry
}

#[test]
fn organisation_versions_are_numbered_and_in_force_by_date() {
    let mut later = bank();
    later.0.push(branch("GZ-001", Some("HO")));
    let registry = published(vec![
        publish("2026-01-01", bank()),
        publish("2026-07-01", later),
    ]);
    assert_eq!(registry.versions.len(), 2);
    assert_eq!(
        registry.in_force(day("2026-06-30")).map(|v| v.version),
        Some(1)
    );
    assert_eq!(
        registry.in_force(day("2026-07-01")).map(|v| v.version),
        Some(2)
    );
    // Before the first version's date, the first version describes the bank.
    assert_eq!(
        registry.in_force(day("2025-01-01")).map(|v| v.version),
        Some(1)
    );
    let event = registry
        .decide(publish("2026-06-01", bank()), by(), now())
        .expect_err("earlier than the latest");
    assert_eq!(event.field, "effective_from");
    let mut latest = bank();
    latest.0.push(branch("GZ-001", Some("HO")));
    let repeat = registry
        .decide(publish("2026-07-01", latest), by(), now())
        .expect_err("the same registry again");
    assert_eq!(repeat.field, "branches");
}

#[test]
fn organisation_refusals_name_the_place_and_the_reason() {
    let refused = |(branches, teams): (Vec<Branch>, Vec<Team>)| {
        Organisations::default()
            .decide(publish("2026-01-01", (branches, teams)), by(), now())
            .expect_err("refused")
    };
    assert_eq!(refused((vec![], vec![])).field, "branches");
    let (mut branches, teams) = bank();
    branches.push(branch("SH-001", Some("HO")));
    let duplicate = refused((branches, teams.clone()));
    assert_eq!(duplicate.field, "branches[4].code");
    assert!(duplicate.reason.contains("branches[1]"), "{duplicate}");
    let (mut branches, _) = bank();
    branches[2].parent = Some(code("NOWHERE"));
    assert_eq!(
        refused((branches, teams.clone())).field,
        "branches[2].parent"
    );
    let (mut branches, _) = bank();
    branches[0].parent = Some(code("SH-PD"));
    let cycle = refused((branches, teams.clone()));
    assert_eq!(cycle.field, "branches[0].parent");
    assert!(cycle.reason.contains("under itself"), "{cycle}");
    let (branches, mut teams) = bank();
    teams.push(team("sh-suspense", "SH-001"));
    assert_eq!(refused((branches.clone(), teams)).field, "teams[2].id");
    let lost = vec![team("gz-suspense", "GZ-001")];
    assert_eq!(refused((branches, lost)).field, "teams[0].branch");
}

#[test]
fn organisation_scopes_a_branch_and_everything_under_it() {
    let registry = published(vec![publish("2026-01-01", bank())]);
    let version = registry.latest().expect("published");
    assert!(version.is_within(&code("SH-PD"), &code("SH-001")));
    assert!(version.is_within(&code("SH-PD"), &code("HO")));
    assert!(version.is_within(&code("SH-001"), &code("SH-001")));
    assert!(!version.is_within(&code("BJ-001"), &code("SH-001")));
    assert!(!version.is_within(&code("NOWHERE"), &code("HO")));
    let shanghai: Vec<String> = version
        .subtree(&code("SH-001"))
        .into_iter()
        .map(|b| b.to_string())
        .collect();
    assert_eq!(shanghai, ["SH-001", "SH-PD"]);
    assert_eq!(
        version
            .in_jurisdiction(&Jurisdiction::parse("CN").expect("jurisdiction"))
            .len(),
        4
    );
}

fn services(directory: OrganisationDirectory) -> ItemServices {
    let mut services = ItemServices::new(
        Arc::new(FixedClock(now())),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    );
    services.organisation = directory;
    services
}

fn booking(branch: &str) -> OpenItem {
    OpenItem {
        reference: SourceReference::parse("CORE", "R-1").expect("reference"),
        account: AccountNumber::parse("2241-01").expect("account"),
        branch: code(branch),
        channel: Channel::Counter,
        amount: Money::parse("10.00", "CNY").expect("amount"),
        direction: Direction::Credit,
        booked_on: day("2026-03-30"),
        value_date: day("2026-03-30"),
        description: Note::parse("test").expect("note"),
        customer_impact: CustomerImpact::default(),
    }
}

fn open(services: &ItemServices, branch: &str) -> Result<SuspenseItem, ItemError> {
    let events = SuspenseItem::default().decide(
        ItemCommand::new(by(), ItemAction::Open(booking(branch))),
        services,
    )?;
    Ok(SuspenseItem::from_events(events.iter()))
}

fn assign(item: &SuspenseItem, services: &ItemServices, team: &str) -> Result<usize, ItemError> {
    let action = ItemAction::Assign {
        team: TeamId::parse(team).expect("team"),
        assignee: None,
        reason: None,
    };
    item.decide(ItemCommand::new(by(), action), services)
        .map(|events| events.len())
}

#[test]
fn organisation_refuses_bookings_to_unknown_branches_and_unknown_teams() {
    // Nothing published: every branch and team is accepted.
    let open_bank = services(OrganisationDirectory::default());
    let item = open(&open_bank, "ANY-BRANCH").expect("accepted");
    assert_eq!(assign(&item, &open_bank, "any-team"), Ok(1));

    let directory = OrganisationDirectory::default();
    let registered = services(directory.clone());
    directory.replace(published(vec![publish("2026-01-01", bank())]));
    let refused = open(&registered, "SH-0O1").expect_err("a typo is not a branch");
    assert_eq!(refused.code(), "unknown_branch");
    assert_eq!(refused.field(), Some("branch"));
    assert!(refused.to_string().contains("SH-0O1"), "{refused}");
    let item = open(&registered, "SH-PD").expect("a known branch");
    assert_eq!(assign(&item, &registered, "sh-suspense"), Ok(1));
    let refused = assign(&item, &registered, "sh-suspence").expect_err("unknown team");
    assert_eq!(
        (refused.code(), refused.field()),
        ("unknown_team", Some("team"))
    );
}

#[test]
fn organisation_in_force_on_the_booking_date_decides_the_branch() {
    let mut reorganised = bank();
    reorganised.0.retain(|b| b.code.as_str() != "SH-PD");
    let directory = OrganisationDirectory::new(published(vec![
        publish("2026-01-01", bank()),
        publish("2026-03-31", reorganised),
    ]));
    let registered = services(directory);
    // Booked on 2026-03-30, when the sub-branch still existed.
    assert!(open(&registered, "SH-PD").is_ok());
    let mut late = booking("SH-PD");
    late.booked_on = day("2026-03-31");
    late.value_date = late.booked_on;
    let refused = SuspenseItem::default()
        .decide(ItemCommand::new(by(), ItemAction::Open(late)), &registered)
        .expect_err("closed by then");
    assert_eq!(refused.code(), "unknown_branch");
}

#[test]
fn organisation_scope_admits_a_home_branch_and_what_lies_under_it() {
    let registry = published(vec![publish("2026-01-01", bank())]);
    let version = registry.latest();
    let shanghai = AccessScope::Branch(code("SH-001"));
    assert!(shanghai.admits(&code("SH-PD"), version));
    assert!(!shanghai.admits(&code("BJ-001"), version));
    assert!(AccessScope::Everywhere.admits(&code("BJ-001"), version));
    assert_eq!(AccessScope::Everywhere.branches(version), None);
    assert_eq!(
        shanghai.branches(version).map(|b| b.len()),
        Some(2),
        "SH-001 and SH-PD"
    );
    // Without a registry a home branch admits itself only.
    assert!(shanghai.admits(&code("SH-001"), None));
    assert!(!shanghai.admits(&code("SH-PD"), None));
    assert_eq!(
        shanghai.branches(None),
        Some(BTreeSet::from([code("SH-001")]))
    );
}
