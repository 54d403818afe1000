//! Publishing the policy (every refusal names the rule), and the sweep's decision, including
//! property tests: it never lowers a level, a later date never un-escalates, and the same
//! inputs give the same answer; the watch list's crossings agree with the sweep, and a
//! provision is a rounded share of what is outstanding.

use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::classification::{RootCause, RootCauseCategory, RootCauseCode};
use crate::identity::{AccountNumber, BranchCode, SourceReference};
use crate::item::{OpenItem, SuspenseItem, SuspenseItemEvent};
use crate::money::{Currency, Money};
use crate::vocabulary::{Channel, CustomerImpact, Direction, EscalationLevel, EscalationReason};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("user")
}

fn age(days: u32, raise_to: EscalationLevel) -> EscalationRule {
    EscalationRule::after_days(days, raise_to)
}

fn cny() -> Currency {
    Currency::parse("CNY").expect("currency")
}

fn large(amount: i64, raise_to: EscalationLevel) -> EscalationRule {
    EscalationRule {
        currency: Some(cny()),
        trigger: Trigger::AmountAtLeast {
            amount: Decimal::new(amount, 0),
        },
        ..age(1, raise_to)
    }
}

/// The bank-neutral default: 30 / 60 / 90 days, and large CNY amounts to management.
fn default_rules() -> Vec<EscalationRule> {
    vec![
        age(30, EscalationLevel::TeamLead),
        age(60, EscalationLevel::Department),
        age(90, EscalationLevel::Management),
        large(1_000_000, EscalationLevel::Management),
    ]
}

fn publish(effective_from: &str, rules: Vec<EscalationRule>) -> PublishPolicy {
    PublishPolicy {
        effective_from: day(effective_from),
        reason: Note::parse("board decision").expect("note"),
        rules,
        approval_bands: Vec::new(),
        reminders: Vec::new(),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("instant")
}

fn published(steps: Vec<PublishPolicy>) -> EscalationPolicies {
    let mut policies = EscalationPolicies::default();
    for step in steps {
        let event = policies
            .decide(step, user("risk"), now())
            .expect("published");
        policies.apply(&event);
    }
    policies
}

fn item(amount: &str, booked: &str, level: Option<EscalationLevel>) -> crate::item::ItemState {
    let mut aggregate = SuspenseItem::default();
    aggregate.apply(SuspenseItemEvent::Opened {
        at: now(),
        by: user("teller"),
        item: OpenItem {
            reference: SourceReference::parse("CORE", "R-1").expect("reference"),
            account: AccountNumber::parse("2241-01").expect("account"),
            branch: BranchCode::parse("SH-001").expect("branch"),
            channel: Channel::Counter,
            amount: Money::parse(amount, "CNY").expect("amount"),
            direction: Direction::Debit,
            booked_on: day(booked),
            value_date: day(booked),
            description: Note::parse("test").expect("note"),
            customer_impact: CustomerImpact::default(),
        },
    });
    if let Some(level) = level {
        aggregate.apply(SuspenseItemEvent::Escalated {
            at: now(),
            by: user("lead"),
            level,
            reason: EscalationReason::Manual,
            note: None,
        });
    }
    aggregate.state().cloned().expect("opened")
}

#[test]
fn sweep_policy_versions_are_numbered_and_the_one_in_force_is_by_date() {
    let policies = published(vec![
        publish("2026-01-01", default_rules()),
        publish("2026-07-01", vec![age(45, EscalationLevel::TeamLead)]),
    ]);
    assert_eq!(policies.versions.len(), 2);
    assert_eq!(policies.in_force(day("2025-12-31")), None);
    assert_eq!(
        policies.in_force(day("2026-06-30")).map(|v| v.version),
        Some(1)
    );
    assert_eq!(
        policies.in_force(day("2026-07-01")).map(|v| v.version),
        Some(2)
    );
}

#[test]
fn sweep_policy_refusals_name_the_rule_and_the_reason() {
    let policies = EscalationPolicies::default();
    let refused = |rules: Vec<EscalationRule>| {
        policies
            .decide(publish("2026-01-01", rules), user("risk"), now())
            .expect_err("refused")
    };
    let field = |e: PolicyError| e.field();
    assert_eq!(field(refused(vec![])), "rules[0]");
    assert_eq!(
        field(refused(vec![
            age(30, EscalationLevel::TeamLead),
            age(0, EscalationLevel::Department)
        ])),
        "rules[1]"
    );
    let no_currency = EscalationRule {
        currency: None,
        ..large(10, EscalationLevel::Department)
    };
    assert_eq!(field(refused(vec![no_currency])), "rules[0]");
    let negative = large(-5, EscalationLevel::Department);
    assert!(refused(vec![negative])
        .to_string()
        .contains("greater than zero"));
    let duplicate = refused(vec![
        age(30, EscalationLevel::TeamLead),
        age(30, EscalationLevel::TeamLead),
    ]);
    assert!(
        duplicate.to_string().contains("repeats rules[0]"),
        "{duplicate}"
    );
    let contradiction = refused(vec![
        age(30, EscalationLevel::TeamLead),
        age(30, EscalationLevel::Management),
    ]);
    assert!(contradiction.to_string().contains("contradicts rules[0]"));
    let backwards = refused(vec![
        age(30, EscalationLevel::Department),
        age(60, EscalationLevel::TeamLead),
    ]);
    assert_eq!(field(backwards), "rules[1]");
    let band = EscalationRule {
        min_amount: Some(Decimal::new(500, 0)),
        max_amount: Some(Decimal::new(100, 0)),
        ..large(10, EscalationLevel::Department)
    };
    assert!(refused(vec![band]).to_string().contains("below max_amount"));
    let provision = EscalationRule {
        action: Some(RegulatoryAction::Provision {
            percent: Decimal::new(150, 0),
        }),
        ..age(180, EscalationLevel::Management)
    };
    assert!(refused(vec![provision]).to_string().contains("100 percent"));
}

#[test]
fn sweep_policy_versions_take_effect_in_order_and_a_repeat_is_refused() {
    let policies = published(vec![publish("2026-07-01", default_rules())]);
    let earlier = policies.decide(publish("2026-01-01", default_rules()), user("risk"), now());
    assert_eq!(earlier.expect_err("refused").field(), "effective_from");
    let same = policies.decide(publish("2026-07-01", default_rules()), user("risk"), now());
    assert!(matches!(same, Err(PolicyError::Unchanged { version: 1 })));
}

#[test]
fn sweep_escalates_by_age_and_amount_to_the_highest_level_due() {
    let policies = published(vec![publish("2026-01-01", default_rules())]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let young = item("100.00", "2026-05-20", None);
    assert_eq!(due(policy, &young, day("2026-06-01")), SweepDue::default());
    let old = item("100.00", "2026-03-01", None);
    let decision = due(policy, &old, day("2026-05-05"))
        .escalation
        .expect("due");
    assert_eq!(
        (
            decision.level,
            decision.reason,
            decision.rule,
            decision.policy_version
        ),
        (EscalationLevel::Department, EscalationReason::Aging, 1, 1)
    );
    let big = item("2000000.00", "2026-05-30", None);
    let decision = due(policy, &big, day("2026-06-01"))
        .escalation
        .expect("due");
    assert_eq!(
        (decision.level, decision.reason),
        (EscalationLevel::Management, EscalationReason::LargeAmount)
    );
    // Already at the level due: nothing.
    let raised = item("100.00", "2026-03-01", Some(EscalationLevel::Department));
    assert_eq!(due(policy, &raised, day("2026-05-05")).escalation, None);
}

#[test]
fn sweep_rules_match_on_category_direction_branch_and_band() {
    let mut rule = age(10, EscalationLevel::TeamLead);
    rule.category = Some(RootCauseCategory::SystemFailure);
    rule.direction = Some(Direction::Debit);
    rule.branches = vec![BranchCode::parse("SH-001").expect("branch")];
    rule.currency = Some(cny());
    rule.min_amount = Some(Decimal::new(50, 0));
    rule.action = Some(RegulatoryAction::Provision {
        percent: Decimal::ONE_HUNDRED,
    });
    let policies = published(vec![publish("2026-01-01", vec![rule])]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let mut state = item("100.00", "2026-05-01", None);
    assert_eq!(
        due(policy, &state, day("2026-06-01")),
        SweepDue::default(),
        "unclassified"
    );
    state.cause = Some(RootCause {
        category: RootCauseCategory::SystemFailure,
        code: RootCauseCode::parse("SYS-OUTAGE").expect("code"),
    });
    let decision = due(policy, &state, day("2026-06-01"));
    assert_eq!(
        decision.escalation.map(|d| d.level),
        Some(EscalationLevel::TeamLead)
    );
    assert_eq!(decision.actions.len(), 1);
    let small = item("10.00", "2026-05-01", None);
    assert_eq!(due(policy, &small, day("2026-06-01")).escalation, None);
}

fn level() -> impl Strategy<Value = Option<EscalationLevel>> {
    proptest::option::of(proptest::sample::select(EscalationLevel::ALL.to_vec()))
}

proptest! {
    #[test]
    fn sweep_never_lowers_a_level_and_later_never_un_escalates(
        booked_days_ago in 0u32..400,
        later_by in 0u32..400,
        current in level(),
        cents in 1i64..300_000_000,
    ) {
        let policies = published(vec![publish("2026-01-01", default_rules())]);
        let as_of = day("2027-06-30");
        let policy = policies.in_force(as_of).expect("in force");
        let booked = as_of - chrono::Days::new(u64::from(booked_days_ago));
        let amount = Decimal::new(cents, 2).to_string();
        let state = item(&amount, &booked.to_string(), current);
        let now_due = due(policy, &state, as_of);
        if let (Some(d), Some(current)) = (&now_due.escalation, current) {
            prop_assert!(d.level > current, "never lowers");
        }
        prop_assert_eq!(&now_due, &due(policy, &state, as_of), "the same inputs, the same answer");
        let later = as_of + chrono::Days::new(u64::from(later_by));
        let later_due = due(policy, &state, later);
        let effective = |d: &SweepDue| d.escalation.as_ref().map(|e| e.level).or(current);
        prop_assert!(effective(&later_due) >= effective(&now_due), "a later date never un-escalates");
    }
}

fn provisioning_rules() -> Vec<EscalationRule> {
    let provide = |days, percent: i64| EscalationRule {
        direction: Some(Direction::Debit),
        action: Some(RegulatoryAction::Provision {
            percent: Decimal::new(percent, 0),
        }),
        ..age(days, EscalationLevel::Management)
    };
    let mut rules = default_rules();
    rules.push(provide(180, 50));
    rules.push(provide(365, 100));
    rules
}

fn facts(amount: &str, booked: &str, level: Option<EscalationLevel>) -> ItemFacts {
    ItemFacts::of(&item(amount, booked, level))
}

#[test]
fn watch_lists_the_age_rules_crossed_within_the_horizon() {
    let policies = published(vec![publish("2026-01-01", default_rules())]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let as_of = day("2026-06-26");
    // Booked 25 days before: the 30-day rule fires in 5 days.
    let young = facts("10.00", "2026-06-01", None);
    let soon = crossings(policy, &young, as_of, 7);
    assert_eq!(soon.len(), 1);
    assert_eq!(soon[0].rule, 0);
    assert_eq!(soon[0].on, day("2026-07-01"));
    assert_eq!(soon[0].in_days, 5);
    assert_eq!(soon[0].threshold_days, 30);
    assert_eq!(soon[0].raise_to, EscalationLevel::TeamLead);
    assert!(
        crossings(policy, &young, as_of, 4).is_empty(),
        "beyond 4 days"
    );
    // Already at the level the rule raises to: nothing to watch for.
    let raised = facts("10.00", "2026-06-01", Some(EscalationLevel::TeamLead));
    assert!(crossings(policy, &raised, as_of, 7).is_empty());
    // Past a threshold and not raised (no sweep ran): due now.
    let overdue = facts("10.00", "2026-05-01", None);
    let now_due = crossings(policy, &overdue, as_of, 0);
    assert_eq!(now_due.len(), 1);
    assert_eq!((now_due[0].on, now_due[0].in_days), (day("2026-05-31"), 0));
}

#[test]
fn watch_lists_an_upcoming_regulatory_action_at_any_level() {
    let policies = published(vec![publish("2026-01-01", provisioning_rules())]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let booked = day("2026-01-01");
    let at_top = facts("10.00", "2026-01-01", Some(EscalationLevel::Management));
    let before = booked + chrono::Days::new(175);
    let listed = crossings(policy, &at_top, before, 10);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].rule, 4);
    assert_eq!(
        listed[0].action,
        Some(RegulatoryAction::Provision {
            percent: Decimal::new(50, 0)
        })
    );
    let after = booked + chrono::Days::new(181);
    assert!(
        crossings(policy, &at_top, after, 10).is_empty(),
        "fired and at its level: the provisioning report has it now"
    );
}

#[test]
fn provision_takes_the_highest_percentage_that_fires_rounded_to_the_currency() {
    let policies = published(vec![publish("2026-01-01", provisioning_rules())]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let debit = facts("100.01", "2025-01-01", None);
    let outstanding = Money::parse("100.01", "CNY").expect("money");
    let at_200 = day("2025-01-01") + chrono::Days::new(200);
    let half = provision(policy, &debit, outstanding, at_200).expect("provision due");
    assert_eq!((half.rule, half.percent), (4, Decimal::new(50, 0)));
    assert_eq!(half.amount, Money::parse("50.01", "CNY").expect("money"));
    let at_400 = day("2025-01-01") + chrono::Days::new(400);
    let full = provision(policy, &debit, outstanding, at_400).expect("provision due");
    assert_eq!((full.rule, full.amount), (5, outstanding));
    let young = day("2025-01-01") + chrono::Days::new(179);
    assert_eq!(provision(policy, &debit, outstanding, young), None);
    let mut credit = debit.clone();
    credit.direction = Direction::Credit;
    assert_eq!(provision(policy, &credit, outstanding, at_400), None);
}

proptest! {
    /// The watch list and the sweep agree: an item the sweep would raise by the end of the
    /// horizon is on the list with a rule that raises it, and only then.
    #[test]
    fn sweep_and_watch_list_agree_on_what_the_horizon_brings(
        booked_days_ago in 0u32..200,
        horizon in 0u32..60,
        current in level(),
        cents in 1i64..300_000_000,
    ) {
        let ages = default_rules()[..3].to_vec();
        let policies = published(vec![publish("2026-01-01", ages)]);
        let as_of = day("2027-06-30");
        let policy = policies.in_force(as_of).expect("in force");
        let booked = as_of - chrono::Days::new(u64::from(booked_days_ago));
        let amount = Decimal::new(cents, 2).to_string();
        let state = item(&amount, &booked.to_string(), current);
        let listed = crossings(policy, &ItemFacts::of(&state), as_of, horizon);
        let horizon_end = as_of + chrono::Days::new(u64::from(horizon));
        let swept = due(policy, &state, horizon_end).escalation;
        let highest_listed = listed.iter().map(|c| c.raise_to).max();
        prop_assert_eq!(swept.map(|s| s.level), highest_listed);
        for crossing in &listed {
            prop_assert!(crossing.on <= horizon_end);
            prop_assert!(due(policy, &state, crossing.on).escalation.is_some());
        }
    }

    /// A provision is never more than what is outstanding, and is its rounded percentage.
    #[test]
    fn provision_is_a_rounded_share_of_the_outstanding(
        days in 0u32..800,
        cents in 1i64..300_000_000,
        outstanding_share in 1i64..=100,
    ) {
        let policies = published(vec![publish("2026-01-01", provisioning_rules())]);
        let booked = day("2026-01-01");
        let policy = policies.in_force(booked).expect("in force");
        let amount = Decimal::new(cents, 2);
        let state = facts(&amount.to_string(), "2026-01-01", None);
        let left = (amount * Decimal::new(outstanding_share, 2)).round_dp(2);
        let outstanding = Money::new(left, cny()).expect("money");
        let as_of = booked + chrono::Days::new(u64::from(days));
        if let Some(due) = provision(policy, &state, outstanding, as_of) {
            prop_assert!(due.amount.amount() <= outstanding.amount());
            let exact = outstanding.amount() * due.percent / Decimal::ONE_HUNDRED;
            prop_assert!((due.amount.amount() - exact).abs() <= Decimal::new(5, 3));
            prop_assert!(days >= 180);
        } else {
            prop_assert!(days < 180);
        }
    }
}

#[test]
fn sweep_rules_match_on_the_jurisdiction_of_the_items_branch() {
    use crate::organisation::{Branch, Jurisdiction, OrganisationVersion};
    let hk = Jurisdiction::parse("HK").expect("jurisdiction");
    let registry = OrganisationVersion {
        version: 1,
        effective_from: day("2026-01-01"),
        branches: vec![Branch {
            code: BranchCode::parse("SH-001").expect("branch"),
            name: None,
            parent: None,
            region: None,
            jurisdiction: Some(hk.clone()),
        }],
        teams: Vec::new(),
    };
    let rule = EscalationRule {
        jurisdictions: vec![hk],
        ..age(30, EscalationLevel::TeamLead)
    };
    let policies = published(vec![publish("2026-01-01", vec![rule.clone()])]);
    let policy = policies.in_force(day("2026-06-01")).expect("in force");
    let state = item("10.00", "2026-01-01", None);
    let as_of = day("2026-06-01");
    assert!(due_within(policy, &state, Some(&registry), as_of)
        .escalation
        .is_some());
    assert_eq!(
        due(policy, &state, as_of),
        SweepDue::default(),
        "no registry"
    );
    // The same items by jurisdiction and by branch set are different matches.
    let both = vec![rule, age(30, EscalationLevel::Department)];
    assert!(EscalationPolicies::default()
        .decide(publish("2026-01-01", both), user("risk"), now())
        .is_ok());
}

mod reminders {
    use super::*;
    use crate::customer::CustomerReference;

    fn customer_cause_at(days: Vec<u32>) -> ReminderRule {
        ReminderRule {
            category: Some(RootCauseCategory::CustomerCause),
            branches: Vec::new(),
            days_after_booking: days,
        }
    }

    fn with_reminders(rules: Vec<ReminderRule>) -> PolicyVersion {
        let mut command = publish("2026-01-01", default_rules());
        command.reminders = rules;
        published(vec![command])
            .in_force(day("2026-06-01"))
            .cloned()
            .expect("in force")
    }

    /// An open customer-cause item booked on 2026-03-02 with a customer, and its reminders.
    fn customer_item(reminded: &[u32]) -> crate::item::ItemState {
        let mut state = item("100.00", "2026-03-02", None);
        state.cause = Some(RootCause {
            category: RootCauseCategory::CustomerCause,
            code: RootCauseCode::parse("CUS-REFERENCE").expect("code"),
        });
        state.customer.customer = Some(CustomerReference::parse("C-0042").expect("customer"));
        for day_after in reminded {
            state.customer.reminders.insert(
                *day_after,
                crate::item::Reminder {
                    due_on: day("2026-03-02") + chrono::Days::new(u64::from(*day_after)),
                    outcome: None,
                },
            );
        }
        state
    }

    #[test]
    fn a_reminder_falls_due_on_its_day_after_booking() {
        let policy = with_reminders(vec![customer_cause_at(vec![3, 10])]);
        let state = customer_item(&[]);
        assert_eq!(reminder_due(&policy, &state, day("2026-03-04")), None);
        let due = reminder_due(&policy, &state, day("2026-03-05")).expect("due");
        assert_eq!((due.day, due.due_on), (3, day("2026-03-05")));
        assert_eq!(due.policy_version, 1);
    }

    #[test]
    fn only_the_latest_of_several_overdue_reminders_is_due() {
        let policy = with_reminders(vec![customer_cause_at(vec![3, 10])]);
        let due = reminder_due(&policy, &customer_item(&[]), day("2026-04-01")).expect("due");
        assert_eq!(due.day, 10);
        assert_eq!(
            reminder_due(&policy, &customer_item(&[10]), day("2026-04-01")),
            None
        );
        let after_first = reminder_due(&policy, &customer_item(&[3]), day("2026-03-12"));
        assert_eq!(after_first.map(|d| d.day), Some(10));
    }

    #[test]
    fn no_reminder_without_a_customer_a_matching_cause_or_when_resolved() {
        let policy = with_reminders(vec![customer_cause_at(vec![3])]);
        let late = day("2026-04-01");
        let mut anonymous = customer_item(&[]);
        anonymous.customer.customer = None;
        assert_eq!(reminder_due(&policy, &anonymous, late), None);
        let mut unclassified = customer_item(&[]);
        unclassified.cause = None;
        assert_eq!(reminder_due(&policy, &unclassified, late), None);
        let mut resolved = customer_item(&[]);
        resolved.resolution = Some(crate::item::ResolutionRequest {
            method: crate::vocabulary::ResolutionMethod::Refunded,
            amount: Money::parse("100.00", "CNY").expect("amount"),
            posted_to: None,
            note: None,
        });
        assert_eq!(reminder_due(&policy, &resolved, late), None);
        let elsewhere = with_reminders(vec![ReminderRule {
            branches: vec![BranchCode::parse("BJ-001").expect("branch")],
            ..customer_cause_at(vec![3])
        }]);
        assert_eq!(reminder_due(&elsewhere, &customer_item(&[]), late), None);
    }

    #[test]
    fn reminder_rules_are_checked_at_publication() {
        for (days, reason) in [
            (vec![], "names no day"),
            (vec![0], "not between 1"),
            (vec![10, 3], "ascending"),
            (vec![3, 3], "ascending"),
        ] {
            let mut command = publish("2026-01-01", default_rules());
            command.reminders = vec![customer_cause_at(vec![3]), customer_cause_at(days)];
            let err = EscalationPolicies::default()
                .decide(command, user("risk"), now())
                .expect_err("refused");
            assert_eq!(err.field(), "reminders[1]");
            assert!(err.to_string().contains(reason), "{err}");
        }
    }

    #[test]
    fn new_reminder_rules_alone_make_a_new_version() {
        let first = publish("2026-01-01", default_rules());
        let mut second = publish("2026-01-01", default_rules());
        second.reminders = vec![customer_cause_at(vec![3])];
        let policies = published(vec![first, second]);
        assert_eq!(policies.versions.len(), 2);
        // A version without reminder rules serialises as it did before they existed.
        let json = serde_json::to_string(&policies.versions[0]).expect("serialises");
        assert!(!json.contains("reminders"));
    }
}
