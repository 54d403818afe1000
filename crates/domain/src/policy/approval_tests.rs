//! Approval bands: refused at publication naming the band; a resolution's band fixed when it
//! is proposed; approvals counted by authority until the band's number is reached; the
//! proposer, a second approval by the same person and (where the band says so) an approver
//! of the item's own branch refused, each naming the rule.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::classification::{RootCauseCatalogue, RootCauseCategory, RootCauseCode};
use crate::identity::{AccountNumber, BranchCode, SourceReference, UserId};
use crate::item::{
    ItemAction, ItemCommand, ItemError, OpenItem, ResolutionRequest, SuspenseItem,
    SuspenseItemEvent,
};
use crate::money::{Currency, Money};
use crate::services::{ApprovalPolicy, FixedClock, ItemServices};
use crate::vocabulary::{Channel, CustomerImpact, Direction, ResolutionMethod};

fn cny() -> Currency {
    Currency::parse("CNY").expect("currency")
}

fn band(above: i64, approvals: u8, another_branch: bool) -> ApprovalBand {
    ApprovalBand {
        currency: cny(),
        above: Decimal::new(above, 0),
        approvals,
        another_branch,
    }
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("user")
}

fn publish(bands: Vec<ApprovalBand>) -> PublishPolicy {
    PublishPolicy {
        effective_from: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        reason: Note::parse("board decision on approval limits").expect("note"),
        rules: vec![EscalationRule::after_days(
            30,
            crate::EscalationLevel::TeamLead,
        )],
        approval_bands: bands,
        reminders: Vec::new(),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 9, 0, 0)
        .single()
        .expect("instant")
}

/// One CNY approval above 100,000; two, from another branch, above 1,000,000.
fn services() -> ItemServices {
    let services = ItemServices::new(
        Arc::new(FixedClock(now())),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    );
    let mut policies = EscalationPolicies::default();
    let event = policies
        .decide(
            publish(vec![band(100_000, 1, false), band(1_000_000, 2, true)]),
            user("risk"),
            now(),
        )
        .expect("published");
    policies.apply(&event);
    services.policies.replace(policies);
    services
}

/// An item of `amount` CNY at SH-001, classified.
fn item(amount: &str) -> SuspenseItem {
    let opened = SuspenseItemEvent::Opened {
        at: now(),
        by: user("teller"),
        item: OpenItem {
            reference: SourceReference::parse("CORE", "R-1").expect("reference"),
            account: AccountNumber::parse("2241-01").expect("account"),
            branch: BranchCode::parse("SH-001").expect("branch"),
            channel: Channel::Counter,
            amount: Money::parse(amount, "CNY").expect("amount"),
            direction: Direction::Credit,
            booked_on: NaiveDate::from_ymd_opt(2026, 3, 30).expect("date"),
            value_date: NaiveDate::from_ymd_opt(2026, 3, 30).expect("date"),
            description: Note::parse("test").expect("note"),
            customer_impact: CustomerImpact::default(),
        },
    };
    let classified = SuspenseItemEvent::Classified {
        at: now(),
        by: user("clerk"),
        cause: crate::classification::RootCause {
            category: RootCauseCategory::CustomerCause,
            code: RootCauseCode::parse("CUS-REFERENCE").expect("code"),
        },
    };
    SuspenseItem::from_events([&opened, &classified])
}

fn refund(amount: &str) -> ResolutionRequest {
    ResolutionRequest {
        method: ResolutionMethod::Refunded,
        amount: Money::parse(amount, "CNY").expect("amount"),
        posted_to: None,
        note: None,
    }
}

fn run(
    item: &mut SuspenseItem,
    by: &str,
    standing: ApproverStanding,
    action: ItemAction,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    let events = item.decide(
        ItemCommand::new(user(by), action).with_standing(standing),
        &services(),
    )?;
    for event in &events {
        cqrs_es::Aggregate::apply(item, event.clone());
    }
    Ok(events)
}

fn at(branch: &str, authority: u8) -> ApproverStanding {
    ApproverStanding {
        authority,
        home_branch: Some(BranchCode::parse(branch).expect("branch")),
    }
}

/// An item of `amount` whose whole refund the clerk at SH-001 has proposed.
fn proposed_by_the_clerk(amount: &str) -> SuspenseItem {
    let mut proposed = item(amount);
    run(
        &mut proposed,
        "clerk",
        at("SH-001", 1),
        ItemAction::ProposeResolution(refund(amount)),
    )
    .expect("proposed");
    proposed
}

fn approve() -> ItemAction {
    ItemAction::ApproveResolution { note: None }
}

#[test]
fn approval_bands_refused_at_publication_name_the_band() {
    let refused = |bands| {
        EscalationPolicies::default()
            .decide(publish(bands), user("risk"), now())
            .expect_err("refused")
    };
    let none = refused(vec![band(100, 0, false)]);
    assert_eq!(none.field(), "approval_bands[0]");
    let twice = refused(vec![band(100, 1, false), band(100, 2, false)]);
    assert_eq!(twice.field(), "approval_bands[1]");
    let fewer = refused(vec![band(100, 2, false), band(1_000, 1, false)]);
    assert_eq!(fewer.field(), "approval_bands[1]");
    assert!(fewer.to_string().contains("fewer approvals"), "{fewer}");
    let mut fine = band(100, 1, false);
    fine.above = Decimal::new(1_001, 3);
    assert_eq!(refused(vec![fine]).field(), "approval_bands[0]");
}

#[test]
fn approval_band_decides_whether_a_resolution_needs_approval() {
    let mut small = item("50000.00");
    let resolved = run(
        &mut small,
        "clerk",
        ApproverStanding::one(),
        ItemAction::Resolve(refund("50000.00")),
    )
    .expect("below every band: resolved at once");
    assert!(matches!(resolved[0], SuspenseItemEvent::Resolved { .. }));
    let mut large = item("500000.00");
    let refused = run(
        &mut large,
        "clerk",
        ApproverStanding::one(),
        ItemAction::Resolve(refund("500000.00")),
    )
    .expect_err("band 0");
    assert_eq!(refused.code(), "approval_required");
    let proposed = run(
        &mut large,
        "clerk",
        ApproverStanding::one(),
        ItemAction::ProposeResolution(refund("500000.00")),
    )
    .expect("proposed");
    let SuspenseItemEvent::ResolutionProposed { required, .. } = &proposed[0] else {
        panic!("{proposed:?}");
    };
    assert_eq!(
        *required,
        Some(ApprovalRequirement {
            approvals: 1,
            another_branch: false,
            band: Some(0),
            policy_version: Some(1),
        })
    );
    let resolved = run(&mut large, "sup", at("SH-001", 1), approve()).expect("approved");
    assert!(matches!(resolved[0], SuspenseItemEvent::Resolved { .. }));
}

#[test]
fn approval_band_of_two_from_another_branch_counts_each_approval() {
    let mut huge = proposed_by_the_clerk("2000000.00");
    assert_eq!(
        run(&mut huge, "clerk", at("BJ-001", 1), approve()),
        Err(ItemError::SelfApproval)
    );
    let same_branch = run(&mut huge, "sh.sup", at("SH-001", 3), approve()).expect_err("refused");
    assert_eq!(same_branch.code(), "approver_of_the_items_branch");
    assert!(
        same_branch
            .to_string()
            .contains("approval_bands[1] of policy version 1"),
        "{same_branch}"
    );
    let first = run(&mut huge, "bj.sup", at("BJ-001", 1), approve()).expect("first of two");
    assert!(
        matches!(
            &first[0],
            SuspenseItemEvent::ResolutionApprovalRecorded { authority: 1, .. }
        ),
        "{first:?}"
    );
    assert_eq!(
        run(&mut huge, "bj.sup", at("BJ-001", 1), approve()),
        Err(ItemError::AlreadyApproved)
    );
    let second = run(&mut huge, "ho.sup", ApproverStanding::one(), approve()).expect("second");
    assert!(matches!(second[0], SuspenseItemEvent::Resolved { .. }));
}

#[test]
fn approval_band_of_two_is_met_by_one_approver_of_higher_authority() {
    let mut huge = proposed_by_the_clerk("2000000.00");
    let resolved = run(&mut huge, "gz.manager", at("GZ-001", 2), approve()).expect("approved");
    assert!(matches!(resolved[0], SuspenseItemEvent::Resolved { .. }));
}

#[test]
fn approval_of_a_proposal_recorded_before_bands_needs_one_approver() {
    let mut item = item("2000000.00");
    let old = SuspenseItemEvent::ResolutionProposed {
        at: now(),
        by: user("clerk"),
        resolution: refund("2000000.00"),
        required: None,
    };
    cqrs_es::Aggregate::apply(&mut item, old);
    let resolved = run(&mut item, "sup", at("SH-001", 1), approve()).expect("approved");
    assert!(matches!(resolved[0], SuspenseItemEvent::Resolved { .. }));
}
