//! Given/when/then tests of the incident: every action, every refusal, every repeat.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;
use crate::classification::RootCauseCatalogue;
use crate::identity::SourceReference;
use crate::services::{ApprovalPolicy, FixedClock};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0)
        .single()
        .expect("valid instant")
}

fn services() -> ItemServices {
    ItemServices::new(
        Arc::new(FixedClock(now())),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    )
}

fn lead() -> UserId {
    UserId::parse("lead").expect("user")
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("note")
}

fn item(reference: &str) -> ItemId {
    ItemId::for_reference(&SourceReference::parse("CORE", reference).expect("reference"))
}

fn outage() -> OpenIncident {
    OpenIncident {
        reference: IncidentReference::parse("INC-2026-0412").expect("reference"),
        title: note("core banking interface down 09:10-11:40"),
        category: RootCauseCategory::SystemFailure,
        code: RootCauseCode::parse("SYS-OUTAGE").expect("code"),
        window_from: NaiveDate::from_ymd_opt(2026, 3, 30).expect("date"),
        window_to: NaiveDate::from_ymd_opt(2026, 3, 31).expect("date"),
        channels: vec![Channel::OnlineBanking, Channel::MobileBanking],
        counterparty: None,
        owner: UserId::parse("it-ops").expect("user"),
    }
}

fn opened() -> IncidentEvent {
    let incident = outage();
    IncidentEvent::IncidentOpened {
        at: now(),
        by: lead(),
        cause: RootCause {
            category: incident.category,
            code: incident.code.clone(),
        },
        incident,
    }
}

fn linked(items: &[&str]) -> IncidentEvent {
    IncidentEvent::ItemsLinked {
        at: now(),
        by: lead(),
        items: items.iter().map(|r| item(r)).collect(),
        reason: note("booked during the outage"),
    }
}

fn resolved() -> IncidentEvent {
    IncidentEvent::IncidentResolved {
        at: now(),
        by: lead(),
        note: note("interface patched"),
    }
}

/// Decides `action` on the incident the events `given` leave.
fn when(
    given: &[IncidentEvent],
    action: IncidentAction,
) -> Result<Vec<IncidentEvent>, IncidentError> {
    Incident::from_events(given).decide(&lead(), action, &services())
}

fn link(items: &[&str]) -> IncidentAction {
    IncidentAction::Link {
        items: items.iter().map(|r| item(r)).collect(),
        reason: note("booked during the outage"),
    }
}

#[test]
fn open_an_incident() {
    assert_eq!(
        when(&[], IncidentAction::Open(outage())),
        Ok(vec![opened()])
    );
}

#[test]
fn open_again_with_the_same_facts_is_a_repeat_and_with_others_a_conflict() {
    assert_eq!(
        when(&[opened()], IncidentAction::Open(outage())),
        Ok(vec![])
    );
    let other = OpenIncident {
        title: note("something else"),
        ..outage()
    };
    assert!(matches!(
        when(&[opened()], IncidentAction::Open(other)),
        Err(IncidentError::ReferenceConflict { .. })
    ));
}

#[test]
fn open_rejects_a_window_ending_before_it_starts_and_a_channel_twice() {
    let backwards = OpenIncident {
        window_to: NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"),
        ..outage()
    };
    let refused = when(&[], IncidentAction::Open(backwards)).expect_err("refused");
    assert_eq!(refused.field().as_deref(), Some("window_to"));
    let twice = OpenIncident {
        channels: vec![Channel::Atm, Channel::Atm],
        ..outage()
    };
    let refused = when(&[], IncidentAction::Open(twice)).expect_err("refused");
    assert_eq!(refused.field().as_deref(), Some("channels[1]"));
}

#[test]
fn open_rejects_a_code_of_another_category() {
    let wrong = OpenIncident {
        code: RootCauseCode::parse("OP-KEYING").expect("code"),
        ..outage()
    };
    assert!(matches!(
        when(&[], IncidentAction::Open(wrong)),
        Err(IncidentError::UnknownCause { .. })
    ));
}

#[test]
fn actions_on_an_incident_never_opened_are_refused() {
    assert_eq!(when(&[], link(&["A"])), Err(IncidentError::NotOpened));
}

#[test]
fn link_items_passing_over_those_linked_already() {
    assert_eq!(
        when(&[opened(), linked(&["A"])], link(&["A", "B", "C", "B"])),
        Ok(vec![linked(&["B", "C"])])
    );
    assert_eq!(
        when(&[opened(), linked(&["A", "B"])], link(&["B", "A"])),
        Ok(vec![]),
        "all linked already: a repeat"
    );
}

#[test]
fn link_refuses_no_items_and_more_than_a_thousand() {
    let refused = when(&[opened()], link(&[])).expect_err("refused");
    assert_eq!(refused.field().as_deref(), Some("items"));
    let many: Vec<String> = (0..=MAX_LINKED_AT_ONCE).map(|i| format!("R{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let refused = when(&[opened()], link(&many)).expect_err("refused");
    assert_eq!(refused.field().as_deref(), Some("items"));
}

#[test]
fn unlink_a_linked_item_and_refuse_one_not_linked() {
    let unlink = |reference: &str| IncidentAction::Unlink {
        item: item(reference),
        reason: note("booked before the outage began"),
    };
    assert_eq!(
        when(&[opened(), linked(&["A"])], unlink("A")),
        Ok(vec![IncidentEvent::ItemUnlinked {
            at: now(),
            by: lead(),
            item: item("A"),
            reason: note("booked before the outage began"),
        }])
    );
    assert_eq!(
        when(&[opened(), linked(&["A"])], unlink("B")),
        Err(IncidentError::NotLinked { item: item("B") })
    );
}

#[test]
fn resolve_once_and_then_refuse_links() {
    let resolve = |text: &str| IncidentAction::Resolve { note: note(text) };
    assert_eq!(
        when(&[opened()], resolve("interface patched")),
        Ok(vec![resolved()])
    );
    assert_eq!(
        when(&[opened(), resolved()], resolve("interface patched")),
        Ok(vec![]),
        "the same resolution again is a repeat"
    );
    assert_eq!(
        when(&[opened(), resolved()], resolve("another note")),
        Err(IncidentError::Resolved)
    );
    assert_eq!(
        when(&[opened(), resolved()], link(&["A"])),
        Err(IncidentError::Resolved)
    );
}

#[test]
fn the_state_follows_links_unlinks_and_the_resolution() {
    let incident = Incident::from_events(&[
        opened(),
        linked(&["A", "B"]),
        IncidentEvent::ItemUnlinked {
            at: now(),
            by: lead(),
            item: item("A"),
            reason: note("not related"),
        },
        resolved(),
    ]);
    let state = incident.state.expect("opened");
    assert_eq!(
        state.linked.into_iter().collect::<Vec<_>>(),
        vec![item("B")]
    );
    assert!(state.resolved.is_some());
}
