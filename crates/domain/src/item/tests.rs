//! Given/when/then tests: every command, every rejection, every idempotent repeat.

mod attribution;
mod customer;
mod incident;
mod resolution;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;

use super::*;
use crate::classification::{RootCauseCatalogue, RootCauseCategory, RootCauseCode};
use crate::identity::{AccountNumber, BranchCode, Note, SourceReference, TeamId};
use crate::money::Currency;
use crate::services::{ApprovalPolicy, FixedClock};
use crate::vocabulary::{Channel, CustomerImpact, Direction, EscalationReason};

type ItemTest = TestFramework<SuspenseItem>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0)
        .single()
        .expect("valid instant")
}

fn services() -> ItemServices {
    let cny = Currency::parse("CNY").expect("CNY");
    ItemServices::new(
        Arc::new(FixedClock(now())),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only().with_threshold(cny, Decimal::new(100_000, 0)),
    )
}

fn test() -> ItemTest {
    TestFramework::with(services())
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user")
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("valid note")
}

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").expect("valid CNY amount")
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).expect("valid reference")
}

fn cause(category: RootCauseCategory, code: &str) -> RootCause {
    RootCause {
        category,
        code: RootCauseCode::parse(code).expect("valid code"),
    }
}

fn booking() -> OpenItem {
    let day = NaiveDate::from_ymd_opt(2026, 3, 30).expect("valid date");
    OpenItem {
        reference: SourceReference::parse("CORE", "SH-20260330-0042").expect("valid"),
        account: AccountNumber::parse("2241-01").expect("valid"),
        branch: BranchCode::parse("SH-001").expect("valid"),
        channel: Channel::OnlineBanking,
        amount: cny("1000.00"),
        direction: Direction::Credit,
        booked_on: day,
        value_date: day,
        description: note("incoming transfer, beneficiary name does not match"),
        customer_impact: CustomerImpact {
            funds_held: true,
            fee: None,
            customer: None,
        },
    }
}

fn cmd(by: &str, action: ItemAction) -> ItemCommand {
    ItemCommand::new(user(by), action)
}

fn opened() -> SuspenseItemEvent {
    SuspenseItemEvent::Opened {
        at: now(),
        by: user("teller"),
        item: booking(),
    }
}

fn classified() -> SuspenseItemEvent {
    SuspenseItemEvent::Classified {
        at: now(),
        by: user("ops"),
        cause: cause(RootCauseCategory::CustomerCause, "CUS-REFERENCE"),
    }
}

fn resolution(method: ResolutionMethod, amount: &str) -> ResolutionRequest {
    ResolutionRequest {
        method,
        amount: cny(amount),
        posted_to: None,
        note: None,
    }
}

fn refunded(amount: &str) -> ResolutionRequest {
    resolution(ResolutionMethod::Refunded, amount)
}

fn resolved() -> SuspenseItemEvent {
    SuspenseItemEvent::Resolved {
        at: now(),
        by: user("ops"),
        resolution: refunded("1000.00"),
        approval: None,
    }
}

fn proposed(by: &str, resolution: ResolutionRequest) -> SuspenseItemEvent {
    SuspenseItemEvent::ResolutionProposed {
        at: now(),
        by: user(by),
        resolution,
        required: Some(crate::policy::ApprovalRequirement::ONE),
    }
}

fn clearing(reference_text: &str, amount: &str) -> SuspenseItemEvent {
    SuspenseItemEvent::ClearingRecorded {
        at: now(),
        by: user("ops"),
        clearing_reference: reference(reference_text),
        amount: cny(amount),
    }
}

fn classify(category: RootCauseCategory, code: &str, reason: Option<&str>) -> ItemAction {
    ItemAction::Classify {
        category,
        code: RootCauseCode::parse(code).expect("valid code"),
        reason: reason.map(note),
        attribution: Default::default(),
    }
}

fn record_clearing(reference_text: &str, amount: Money) -> ItemAction {
    ItemAction::RecordClearing {
        clearing_reference: reference(reference_text),
        amount,
    }
}

fn assignment(team: &str, assignee: Option<&str>) -> Assignment {
    Assignment {
        team: TeamId::parse(team).expect("valid team"),
        assignee: assignee.map(user),
    }
}

fn assign(team: &str, assignee: Option<&str>) -> ItemAction {
    let to = assignment(team, assignee);
    ItemAction::Assign {
        team: to.team,
        assignee: to.assignee,
        reason: None,
    }
}

fn escalate(level: EscalationLevel) -> ItemAction {
    ItemAction::Escalate {
        level,
        reason: EscalationReason::Aging,
        note: None,
    }
}

fn escalated(level: EscalationLevel) -> SuspenseItemEvent {
    SuspenseItemEvent::Escalated {
        at: now(),
        by: user("lead"),
        level,
        reason: EscalationReason::Aging,
        note: None,
    }
}

// --- open -------------------------------------------------------------------------------

#[test]
fn open_books_a_new_item() {
    test()
        .given_no_previous_events()
        .when(cmd("teller", ItemAction::Open(booking())))
        .then_expect_events(vec![opened()]);
}

#[test]
fn open_with_the_same_facts_again_is_an_idempotent_retry() {
    test()
        .given(vec![opened()])
        .when(cmd("someone-else", ItemAction::Open(booking())))
        .then_expect_events(vec![]);
}

#[test]
fn open_with_the_same_reference_but_other_facts_is_a_conflict() {
    let mut other = booking();
    other.amount = cny("999.99");
    test()
        .given(vec![opened()])
        .when(cmd("teller", ItemAction::Open(other)))
        .then_expect_error(ItemError::ReferenceConflict {
            reference: booking().reference,
        });
}

#[test]
fn open_with_a_zero_amount_is_rejected() {
    let mut zero = booking();
    zero.amount = cny("0");
    test()
        .given_no_previous_events()
        .when(cmd("teller", ItemAction::Open(zero)))
        .then_expect_error(ItemError::AmountNotPositive { field: "amount" });
}

#[test]
fn any_other_command_on_an_unopened_item_is_not_found() {
    for action in [
        classify(RootCauseCategory::SystemFailure, "SYS-OUTAGE", None),
        assign("recon", None),
        ItemAction::Comment { text: note("hi") },
        ItemAction::Reopen { reason: note("x") },
    ] {
        test()
            .given_no_previous_events()
            .when(cmd("ops", action))
            .then_expect_error(ItemError::NotOpened);
    }
}

// --- classify ---------------------------------------------------------------------------

#[test]
fn classify_sets_the_root_cause() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
        ))
        .then_expect_events(vec![classified()]);
}

#[test]
fn classify_with_the_current_cause_changes_nothing() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "ops",
            classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
        ))
        .then_expect_events(vec![]);
}

#[test]
fn reclassify_with_a_reason_restates_the_cause() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "lead",
            classify(
                RootCauseCategory::SystemFailure,
                "SYS-INTERFACE",
                Some("batch file truncated"),
            ),
        ))
        .then_expect_events(vec![SuspenseItemEvent::Reclassified {
            at: now(),
            by: user("lead"),
            from: cause(RootCauseCategory::CustomerCause, "CUS-REFERENCE"),
            to: cause(RootCauseCategory::SystemFailure, "SYS-INTERFACE"),
            reason: note("batch file truncated"),
        }]);
}

#[test]
fn reclassify_without_a_reason_is_rejected() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "lead",
            classify(RootCauseCategory::SystemFailure, "SYS-INTERFACE", None),
        ))
        .then_expect_error(ItemError::Required {
            field: "reason",
            why: "changing an item's root cause restates statistics",
        });
}

#[test]
fn classify_with_an_unknown_code_is_rejected() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify(RootCauseCategory::SystemFailure, "SYS-GREMLINS", None),
        ))
        .then_expect_error(ItemError::UnknownRootCauseCode {
            code: RootCauseCode::parse("SYS-GREMLINS").expect("valid"),
        });
}

#[test]
fn classify_with_a_code_of_another_category_is_rejected() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify(RootCauseCategory::ExternalCause, "SYS-OUTAGE", None),
        ))
        .then_expect_error(ItemError::RootCauseCategoryMismatch {
            code: RootCauseCode::parse("SYS-OUTAGE").expect("valid"),
            requested: RootCauseCategory::ExternalCause,
            actual: RootCauseCategory::SystemFailure,
        });
}

// --- assign -----------------------------------------------------------------------------

#[test]
fn assign_gives_the_item_to_a_team_and_person() {
    test()
        .given(vec![opened()])
        .when(cmd("lead", assign("recon", Some("li.wei"))))
        .then_expect_events(vec![SuspenseItemEvent::Assigned {
            at: now(),
            by: user("lead"),
            to: assignment("recon", Some("li.wei")),
        }]);
}

#[test]
fn assign_to_the_current_assignment_changes_nothing() {
    test()
        .given(vec![
            opened(),
            SuspenseItemEvent::Assigned {
                at: now(),
                by: user("lead"),
                to: assignment("recon", Some("li.wei")),
            },
        ])
        .when(cmd("lead", assign("recon", Some("li.wei"))))
        .then_expect_events(vec![]);
}

#[test]
fn assign_again_is_a_reassignment() {
    test()
        .given(vec![
            opened(),
            SuspenseItemEvent::Assigned {
                at: now(),
                by: user("lead"),
                to: assignment("recon", None),
            },
        ])
        .when(cmd("lead", assign("recon", Some("wang.fang"))))
        .then_expect_events(vec![SuspenseItemEvent::Reassigned {
            at: now(),
            by: user("lead"),
            from: assignment("recon", None),
            to: assignment("recon", Some("wang.fang")),
            reason: None,
        }]);
}

// --- escalate ---------------------------------------------------------------------------

#[test]
fn escalate_raises_the_level() {
    test()
        .given(vec![opened(), escalated(EscalationLevel::TeamLead)])
        .when(cmd("lead", escalate(EscalationLevel::Management)))
        .then_expect_events(vec![escalated(EscalationLevel::Management)]);
}

#[test]
fn escalate_to_the_current_level_changes_nothing() {
    test()
        .given(vec![opened(), escalated(EscalationLevel::Department)])
        .when(cmd("lead", escalate(EscalationLevel::Department)))
        .then_expect_events(vec![]);
}

#[test]
fn escalate_to_a_lower_level_is_rejected() {
    test()
        .given(vec![opened(), escalated(EscalationLevel::Department)])
        .when(cmd("lead", escalate(EscalationLevel::TeamLead)))
        .then_expect_error(ItemError::EscalationNotRaised {
            current: EscalationLevel::Department,
            requested: EscalationLevel::TeamLead,
        });
}

// --- partial clearings --------------------------------------------------------------------

#[test]
fn record_clearing_reduces_the_outstanding_amount() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_clearing("CLR-1", cny("400"))))
        .then_expect_events(vec![clearing("CLR-1", "400.00")]);
}

#[test]
fn record_clearing_again_with_the_same_reference_and_amount_changes_nothing() {
    test()
        .given(vec![opened(), clearing("CLR-1", "400")])
        .when(cmd("ops", record_clearing("CLR-1", cny("400"))))
        .then_expect_events(vec![]);
}

#[test]
fn record_clearing_with_a_used_reference_and_another_amount_is_rejected() {
    test()
        .given(vec![opened(), clearing("CLR-1", "400")])
        .when(cmd("ops", record_clearing("CLR-1", cny("500"))))
        .then_expect_error(ItemError::ClearingReferenceConflict {
            clearing_reference: reference("CLR-1"),
        });
}

#[test]
fn record_clearing_above_the_outstanding_amount_is_rejected() {
    test()
        .given(vec![opened(), clearing("CLR-1", "400")])
        .when(cmd("ops", record_clearing("CLR-2", cny("600.01"))))
        .then_expect_error(ItemError::ClearingExceedsOutstanding {
            outstanding: cny("600"),
            requested: cny("600.01"),
        });
}

#[test]
fn record_clearing_of_zero_is_rejected() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_clearing("CLR-1", cny("0"))))
        .then_expect_error(ItemError::AmountNotPositive { field: "amount" });
}

#[test]
fn record_clearing_in_another_currency_is_rejected() {
    let usd = Money::parse("10", "USD").expect("valid");
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_clearing("CLR-1", usd)))
        .then_expect_error(ItemError::CurrencyMismatch {
            field: "amount",
            expected: Currency::parse("CNY").expect("CNY"),
            got: Currency::parse("USD").expect("USD"),
        });
}

#[test]
fn record_clearing_while_a_proposal_is_pending_is_rejected() {
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("ops", refunded("1000")),
        ])
        .when(cmd("ops", record_clearing("CLR-1", cny("1"))))
        .then_expect_error(ItemError::ProposalPending);
}

// --- reopen and comment -------------------------------------------------------------------

#[test]
fn reopen_reverses_the_resolution() {
    test()
        .given(vec![opened(), classified(), resolved()])
        .when(cmd(
            "lead",
            ItemAction::Reopen {
                reason: note("refund bounced"),
            },
        ))
        .then_expect_events(vec![SuspenseItemEvent::Reopened {
            at: now(),
            by: user("lead"),
            reason: note("refund bounced"),
            reversed: cny("1000"),
        }]);
}

#[test]
fn reopen_of_an_open_item_is_rejected() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "lead",
            ItemAction::Reopen {
                reason: note("why"),
            },
        ))
        .then_expect_error(ItemError::NotResolved);
}

#[test]
fn comment_is_accepted_in_any_opened_state() {
    for given in [
        vec![opened()],
        vec![opened(), classified(), resolved()],
        vec![opened(), classified(), proposed("maker", refunded("1000"))],
    ] {
        test()
            .given(given)
            .when(cmd(
                "ops",
                ItemAction::Comment {
                    text: note("called the remitter"),
                },
            ))
            .then_expect_events(vec![SuspenseItemEvent::Commented {
                at: now(),
                by: user("ops"),
                text: note("called the remitter"),
            }]);
    }
}

// --- state --------------------------------------------------------------------------------

#[test]
fn state_follows_the_whole_life_of_an_item() {
    let events = vec![
        opened(),
        classified(),
        clearing("CLR-1", "400"),
        proposed("maker", refunded("600")),
        SuspenseItemEvent::Resolved {
            at: now(),
            by: user("checker"),
            resolution: refunded("600"),
            approval: None,
        },
        SuspenseItemEvent::Reopened {
            at: now(),
            by: user("lead"),
            reason: note("bounced"),
            reversed: cny("600"),
        },
    ];
    let item = SuspenseItem::from_events(&events);
    let state = item.state().expect("opened");
    assert_eq!(state.status(), ItemStatus::Open);
    assert_eq!(state.cleared, cny("400"));
    assert_eq!(state.outstanding(), cny("600"));
    assert_eq!(state.reopen_count, 1);
    assert!(state.pending.is_none());
}

#[test]
fn snapshot_of_the_state_round_trips_through_json() {
    let item = SuspenseItem::from_events(&[opened(), classified(), clearing("CLR-1", "400")]);
    let json = serde_json::to_string(&item).expect("serialises");
    let back: SuspenseItem = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, item);
}

#[test]
fn events_serialise_with_their_names_and_decimal_strings() {
    let json = serde_json::to_value(clearing("CLR-1", "400")).expect("serialises");
    assert_eq!(json["ClearingRecorded"]["amount"]["amount"], "400.00");
    assert_eq!(json["ClearingRecorded"]["by"], "ops");
}

#[test]
fn a_status_parses_from_its_wire_name_and_nothing_else() {
    for status in [
        ItemStatus::Open,
        ItemStatus::PendingApproval,
        ItemStatus::Resolved,
    ] {
        assert_eq!(ItemStatus::parse(status.as_str()), Ok(status));
    }
    let refused = ItemStatus::parse("closed").expect_err("not a status");
    assert_eq!(refused.field, "status");
    assert!(refused.reason.contains("'closed'"), "{refused}");
}

#[test]
fn opening_with_an_implausible_business_date_is_refused_naming_the_field() {
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
    let cases = [
        ("booked_on", date("9999-12-31"), date("2026-03-30")),
        ("booked_on", date("0001-01-01"), date("2026-03-30")),
        ("value_date", date("2026-03-30"), date("2026-05-15")),
        ("value_date", date("2026-03-30"), date("1989-12-31")),
    ];
    for (field, booked_on, value_date) in cases {
        let mut item = booking();
        item.booked_on = booked_on;
        item.value_date = value_date;
        let refused = SuspenseItem::default()
            .decide(cmd("teller", ItemAction::Open(item)), &services())
            .expect_err("implausible");
        assert!(
            matches!(&refused, ItemError::ImplausibleDate { field: f, .. } if *f == field),
            "{refused:?}"
        );
        assert_eq!(refused.field(), Some(field));
        assert_eq!(refused.code(), "implausible_date");
    }
    // Within the window: a booking dated a few days ahead (another time zone's today) opens.
    let mut ahead = booking();
    ahead.booked_on = date("2026-04-05");
    ahead.value_date = date("2026-04-05");
    let opened = SuspenseItem::default()
        .decide(cmd("teller", ItemAction::Open(ahead.clone())), &services())
        .expect("plausible");
    assert_eq!(opened.len(), 1);
    // A bank's own window.
    let strict = services().with_business_dates(crate::services::BusinessDates {
        earliest: date("2026-01-01"),
        max_days_ahead: 1,
    });
    let refused = SuspenseItem::default()
        .decide(cmd("teller", ItemAction::Open(ahead)), &strict)
        .expect_err("outside the bank's window");
    assert_eq!(refused.field(), Some("booked_on"));
}
