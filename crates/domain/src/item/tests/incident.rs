//! An item counts under one incident at a time: linked and unlinked only through the
//! incident's own commands, whatever the item's status.

use super::*;

fn incident(reference: &str) -> IncidentReference {
    IncidentReference::parse(reference).expect("valid reference")
}

fn link(reference: &str) -> ItemAction {
    ItemAction::LinkIncident {
        incident: incident(reference),
        reason: note("same outage"),
    }
}

fn unlink(reference: &str) -> ItemAction {
    ItemAction::UnlinkIncident {
        incident: incident(reference),
        reason: note("another cause"),
    }
}

fn linked(reference: &str) -> SuspenseItemEvent {
    SuspenseItemEvent::LinkedToIncident {
        at: now(),
        by: user("lead"),
        incident: incident(reference),
        reason: note("same outage"),
    }
}

#[test]
fn link_counts_the_item_under_the_incident() {
    test()
        .given(vec![opened()])
        .when(cmd("lead", link("INC-1")))
        .then_expect_events(vec![linked("INC-1")]);
}

#[test]
fn link_of_a_resolved_item_counts_it_too() {
    test()
        .given(vec![opened(), classified(), resolved()])
        .when(cmd("lead", link("INC-1")))
        .then_expect_events(vec![linked("INC-1")]);
}

#[test]
fn link_to_the_same_incident_again_changes_nothing() {
    test()
        .given(vec![opened(), linked("INC-1")])
        .when(cmd("lead", link("INC-1")))
        .then_expect_events(vec![]);
}

#[test]
fn link_to_another_incident_is_refused_until_unlinked() {
    test()
        .given(vec![opened(), linked("INC-1")])
        .when(cmd("lead", link("INC-2")))
        .then_expect_error(ItemError::InAnotherIncident {
            incident: incident("INC-1"),
        });
}

#[test]
fn unlink_takes_the_item_out_and_it_may_be_linked_elsewhere() {
    let unlinked = SuspenseItemEvent::UnlinkedFromIncident {
        at: now(),
        by: user("lead"),
        incident: incident("INC-1"),
        reason: note("another cause"),
    };
    test()
        .given(vec![opened(), linked("INC-1")])
        .when(cmd("lead", unlink("INC-1")))
        .then_expect_events(vec![unlinked.clone()]);
    test()
        .given(vec![opened(), linked("INC-1"), unlinked])
        .when(cmd("lead", link("INC-2")))
        .then_expect_events(vec![linked("INC-2")]);
}

#[test]
fn unlink_from_an_incident_the_item_is_not_under_is_refused() {
    for given in [vec![opened()], vec![opened(), linked("INC-2")]] {
        test()
            .given(given)
            .when(cmd("lead", unlink("INC-1")))
            .then_expect_error(ItemError::NotInIncident {
                incident: incident("INC-1"),
            });
    }
}

#[test]
fn the_state_names_the_incident_the_item_counts_under() {
    let item = SuspenseItem::from_events(&[opened(), linked("INC-1")]);
    let state = item.state().expect("opened");
    assert_eq!(state.incident, Some(incident("INC-1")));
    assert!(link("INC-1").is_incident_link() && unlink("INC-1").is_incident_link());
    assert!(!ItemAction::Comment { text: note("x") }.is_incident_link());
}
