//! Given/when/then tests: every plan command, every rejection, every idempotent repeat.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::classification::{RootCauseCatalogue, RootCauseCategory, RootCauseCode};
use crate::identity::{BranchCode, TeamId};
use crate::services::{ApprovalPolicy, FixedClock};

fn services() -> ItemServices {
    let now = Utc
        .with_ymd_and_hms(2027, 1, 5, 9, 0, 0)
        .single()
        .expect("valid");
    ItemServices::new(
        Arc::new(FixedClock(now)),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    )
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user")
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("valid note")
}

fn id(text: &str) -> PlanEntryId {
    PlanEntryId::parse(text).expect("valid id")
}

fn month(text: &str) -> Month {
    Month::parse("month", text).expect("valid month")
}

fn span(from: &str, to: &str) -> MonthSpan {
    MonthSpan::new(month(from), month(to)).expect("valid span")
}

fn phase(number: u32, from: &str, to: &str) -> Phase {
    Phase {
        number,
        name: PlanName::parse(&format!("phase {number}")).expect("valid"),
        months: span(from, to),
    }
}

fn quarters() -> Vec<Phase> {
    vec![
        phase(1, "2027-01", "2027-03"),
        phase(2, "2027-04", "2027-06"),
        phase(3, "2027-07", "2027-09"),
        phase(4, "2027-10", "2027-12"),
    ]
}

fn draft() -> DraftPlan {
    DraftPlan {
        reference: PlanReference::parse("2027-remediation").expect("valid"),
        name: PlanName::parse("掛賬整改方案 2027").expect("valid"),
        owner: user("head-of-ops"),
        scope: PlanScope::default(),
        baseline: span("2026-01", "2026-12"),
        phases: quarters(),
    }
}

fn target(name: &str, metric: Metric, value: TargetValue, phase: Option<u32>) -> Target {
    Target::new(
        id(name),
        metric,
        MetricFilter::default(),
        Comparison::AtMost,
        value,
        phase,
    )
    .expect("valid target")
}

fn system_items_down_30() -> Target {
    let mut t = target(
        "T1",
        Metric::ItemsOpened,
        TargetValue::ChangeFromBaseline(Decimal::new(-30, 0)),
        None,
    );
    t.filter.category = Some(RootCauseCategory::SystemFailure);
    t
}

fn training() -> MeasureSpec {
    MeasureSpec {
        id: id("M1"),
        title: PlanName::parse("teller training on keying").expect("valid"),
        category: RootCauseCategory::OperationalError,
        code: Some(RootCauseCode::parse("OP-KEYING").expect("valid")),
        owner_team: TeamId::parse("training").expect("valid"),
        owner: user("trainer"),
        due: NaiveDate::from_ymd_opt(2027, 3, 31).expect("valid"),
        description: None,
    }
}

/// Given the events of `given`, when `by` asks `action`, the plan decides.
fn when(given: &[PlanEvent], by: &str, action: PlanAction) -> Result<Vec<PlanEvent>, PlanError> {
    RemediationPlan::from_events(given).decide(PlanCommand::new(user(by), action), &services())
}

/// The events of everything in `steps`, each decided on what the ones before wrote.
fn given(steps: Vec<(&str, PlanAction)>) -> Vec<PlanEvent> {
    let mut events = Vec::new();
    for (by, action) in steps {
        events.extend(when(&events, by, action).expect("a valid step"));
    }
    events
}

fn drafted() -> Vec<PlanEvent> {
    given(vec![
        ("maker", PlanAction::Draft(draft())),
        (
            "maker",
            PlanAction::SetTarget {
                target: system_items_down_30(),
            },
        ),
    ])
}

fn approved() -> Vec<PlanEvent> {
    let mut events = drafted();
    events.extend(when(&events, "checker", PlanAction::Approve { note: None }).expect("approve"));
    events
}

fn with_measure() -> Vec<PlanEvent> {
    let mut events = approved();
    events.extend(
        when(
            &events,
            "maker",
            PlanAction::AddMeasure {
                measure: training(),
            },
        )
        .expect("add"),
    );
    events
}

fn field_of(result: Result<Vec<PlanEvent>, PlanError>) -> Option<&'static str> {
    result.expect_err("refused").field()
}

#[test]
fn plan_drafting_writes_the_plan_and_a_repeat_writes_nothing() {
    let events = when(&[], "maker", PlanAction::Draft(draft())).expect("drafted");
    assert!(matches!(events.as_slice(), [PlanEvent::PlanDrafted { .. }]));
    assert_eq!(events[0].by().as_str(), "maker");
    assert!(when(&events, "maker", PlanAction::Draft(draft()))
        .expect("repeat")
        .is_empty());
}

#[test]
fn plan_drafting_again_with_other_content_is_a_conflict() {
    let events = drafted();
    let mut other = draft();
    other.name = PlanName::parse("another").expect("valid");
    assert!(matches!(
        when(&events, "maker", PlanAction::Draft(other)),
        Err(PlanError::ReferenceConflict { .. })
    ));
}

#[test]
fn plan_commands_before_drafting_are_refused() {
    assert_eq!(
        when(&[], "maker", PlanAction::Approve { note: None }),
        Err(PlanError::NotDrafted)
    );
}

#[test]
fn plan_with_overlapping_phases_is_refused_naming_phases() {
    let mut plan = draft();
    plan.phases = vec![
        phase(1, "2027-01", "2027-04"),
        phase(2, "2027-04", "2027-06"),
    ];
    assert_eq!(
        field_of(when(&[], "maker", PlanAction::Draft(plan))),
        Some("phases")
    );
}

#[test]
fn plan_with_phases_out_of_order_or_misnumbered_is_refused() {
    let mut plan = draft();
    plan.phases = vec![
        phase(1, "2027-04", "2027-06"),
        phase(2, "2027-01", "2027-03"),
    ];
    assert_eq!(
        field_of(when(&[], "maker", PlanAction::Draft(plan))),
        Some("phases")
    );
    let mut plan = draft();
    plan.phases = vec![phase(2, "2027-01", "2027-03")];
    assert_eq!(
        field_of(when(&[], "maker", PlanAction::Draft(plan))),
        Some("phases")
    );
}

#[test]
fn plan_with_a_baseline_after_its_start_is_refused_naming_baseline() {
    let mut plan = draft();
    plan.baseline = span("2026-06", "2027-01");
    assert_eq!(
        field_of(when(&[], "maker", PlanAction::Draft(plan))),
        Some("baseline")
    );
}

#[test]
fn plan_phases_can_be_replaced_while_drafted_only() {
    let events = drafted();
    let halves = vec![
        phase(1, "2027-01", "2027-06"),
        phase(2, "2027-07", "2027-12"),
    ];
    let set = when(
        &events,
        "maker",
        PlanAction::SetPhases {
            phases: halves.clone(),
        },
    )
    .expect("set");
    assert!(matches!(set.as_slice(), [PlanEvent::PlanPhasesSet { .. }]));
    let approved = approved();
    assert!(matches!(
        when(&approved, "maker", PlanAction::SetPhases { phases: halves }),
        Err(PlanError::WrongStatus { .. })
    ));
}

#[test]
fn plan_phases_cannot_drop_a_phase_a_target_applies_to() {
    let mut events = drafted();
    let mut t = target(
        "T2",
        Metric::Escalations,
        TargetValue::Absolute(Decimal::TEN),
        Some(4),
    );
    t.filter.branch = Some(BranchCode::parse("SH-001").expect("valid"));
    events.extend(when(&events, "maker", PlanAction::SetTarget { target: t }).expect("set"));
    let halves = vec![
        phase(1, "2027-01", "2027-06"),
        phase(2, "2027-07", "2027-12"),
    ];
    assert_eq!(
        field_of(when(
            &events,
            "maker",
            PlanAction::SetPhases { phases: halves }
        )),
        Some("phases")
    );
}

#[test]
fn plan_target_is_set_once_and_a_repeat_writes_nothing() {
    let events = drafted();
    let again = when(
        &events,
        "maker",
        PlanAction::SetTarget {
            target: system_items_down_30(),
        },
    )
    .expect("repeat");
    assert!(again.is_empty());
    let mut other = system_items_down_30();
    other.value = TargetValue::Absolute(Decimal::ONE);
    assert!(matches!(
        when(&events, "maker", PlanAction::SetTarget { target: other }),
        Err(PlanError::DuplicateEntry { kind: "target", .. })
    ));
}

#[test]
fn plan_target_on_an_unknown_phase_or_code_is_refused_naming_the_field() {
    let events = drafted();
    let t = target(
        "T9",
        Metric::Escalations,
        TargetValue::Absolute(Decimal::TEN),
        Some(7),
    );
    assert_eq!(
        field_of(when(&events, "maker", PlanAction::SetTarget { target: t })),
        Some("phase")
    );
    let mut t = target(
        "T9",
        Metric::Escalations,
        TargetValue::Absolute(Decimal::TEN),
        None,
    );
    t.filter.code = Some(RootCauseCode::parse("NO-SUCH-CODE").expect("valid text"));
    assert_eq!(
        field_of(when(&events, "maker", PlanAction::SetTarget { target: t })),
        Some("code")
    );
    let mut t = target(
        "T9",
        Metric::Escalations,
        TargetValue::Absolute(Decimal::TEN),
        None,
    );
    t.filter.category = Some(RootCauseCategory::SystemFailure);
    t.filter.code = Some(RootCauseCode::parse("OP-KEYING").expect("valid"));
    assert_eq!(
        field_of(when(&events, "maker", PlanAction::SetTarget { target: t })),
        Some("code")
    );
}

#[test]
fn plan_target_outside_the_scope_is_refused() {
    let mut plan = draft();
    plan.scope.branches = vec![BranchCode::parse("SH-001").expect("valid")];
    let events = when(&[], "maker", PlanAction::Draft(plan)).expect("drafted");
    let mut t = target(
        "T1",
        Metric::ItemsOpened,
        TargetValue::Absolute(Decimal::TEN),
        None,
    );
    t.filter.branch = Some(BranchCode::parse("BJ-001").expect("valid"));
    assert_eq!(
        field_of(when(&events, "maker", PlanAction::SetTarget { target: t })),
        Some("branch")
    );
}

#[test]
fn plan_target_on_an_unknown_metric_or_without_its_parameters_is_refused() {
    assert_eq!(
        Metric::parse("happiness", None, None)
            .expect_err("unknown")
            .field,
        "metric"
    );
    assert_eq!(
        Metric::parse("open_longer_than", None, None)
            .expect_err("days")
            .field,
        "days"
    );
    assert_eq!(
        Metric::parse("written_off_amount", None, None)
            .expect_err("currency")
            .field,
        "currency"
    );
    let share = Target::new(
        id("T1"),
        Metric::CategoryShare,
        MetricFilter::default(),
        Comparison::AtMost,
        TargetValue::Absolute(Decimal::TEN),
        None,
    );
    assert_eq!(share.expect_err("no category").field, "category");
    let negative = Target::new(
        id("T1"),
        Metric::ItemsOpened,
        MetricFilter::default(),
        Comparison::AtMost,
        TargetValue::Absolute(Decimal::NEGATIVE_ONE),
        None,
    );
    assert_eq!(negative.expect_err("negative").field, "value");
}

#[test]
fn plan_targets_are_set_while_drafted_and_revised_with_a_reason_afterwards() {
    let events = approved();
    let t = target(
        "T2",
        Metric::Escalations,
        TargetValue::Absolute(Decimal::TEN),
        None,
    );
    assert!(matches!(
        when(&events, "maker", PlanAction::SetTarget { target: t }),
        Err(PlanError::WrongStatus { .. })
    ));
    let revised = when(
        &events,
        "maker",
        PlanAction::ReviseTarget {
            target: id("T1"),
            comparison: Comparison::AtMost,
            value: TargetValue::ChangeFromBaseline(Decimal::new(-20, 0)),
            reason: note("the upgrade slipped a quarter"),
        },
    )
    .expect("revised");
    assert!(matches!(
        revised.as_slice(),
        [PlanEvent::PlanTargetRevised { .. }]
    ));
    let mut after = events.clone();
    after.extend(revised);
    let plan = RemediationPlan::from_events(&after);
    let state = plan.state.expect("drafted");
    assert_eq!(
        state.target(&id("T1")).expect("kept").value,
        TargetValue::ChangeFromBaseline(Decimal::new(-20, 0))
    );
    assert_eq!(state.revisions.len(), 1);
}

#[test]
fn plan_revision_of_an_unknown_target_or_to_the_same_figure_is_refused() {
    let events = approved();
    let revise = |target: &str, value: TargetValue| PlanAction::ReviseTarget {
        target: id(target),
        comparison: Comparison::AtMost,
        value,
        reason: note("why"),
    };
    assert_eq!(
        field_of(when(
            &events,
            "maker",
            revise("T7", TargetValue::Absolute(Decimal::ONE))
        )),
        Some("id")
    );
    assert_eq!(
        field_of(when(
            &events,
            "maker",
            revise("T1", TargetValue::ChangeFromBaseline(Decimal::new(-30, 0)))
        )),
        Some("value")
    );
}

#[test]
fn plan_approval_by_its_drafter_is_refused() {
    let events = drafted();
    assert!(matches!(
        when(&events, "maker", PlanAction::Approve { note: None }),
        Err(PlanError::SelfApproval { .. })
    ));
}

#[test]
fn plan_approval_needs_phases_and_targets_and_a_repeat_writes_nothing() {
    let bare = when(&[], "maker", PlanAction::Draft(draft())).expect("drafted");
    assert_eq!(
        field_of(when(&bare, "checker", PlanAction::Approve { note: None })),
        Some("targets")
    );
    let events = approved();
    assert!(matches!(
        events.last(),
        Some(PlanEvent::PlanApproved { by, .. }) if by.as_str() == "checker"
    ));
    assert!(when(&events, "checker", PlanAction::Approve { note: None })
        .expect("repeat")
        .is_empty());
}

#[test]
fn plan_measures_go_from_planned_to_done_with_evidence() {
    let mut events = with_measure();
    let started = when(
        &events,
        "trainer",
        PlanAction::StartMeasure {
            measure: id("M1"),
            note: Some(note("first class held")),
        },
    )
    .expect("started");
    events.extend(started);
    let done_on = NaiveDate::from_ymd_opt(2027, 3, 20).expect("valid");
    let done = when(
        &events,
        "trainer",
        PlanAction::CompleteMeasure {
            measure: id("M1"),
            completed_on: done_on,
            evidence: note("all tellers trained; attendance sheets filed"),
        },
    )
    .expect("done");
    events.extend(done);
    let state = RemediationPlan::from_events(&events)
        .state
        .expect("drafted");
    let measure = state.measure(&id("M1")).expect("kept");
    assert_eq!(measure.status, MeasureStatus::Done);
    assert_eq!(measure.completed_on, Some(done_on));
    assert_eq!(measure.notes.len(), 2);
    assert!(matches!(
        when(
            &events,
            "trainer",
            PlanAction::DropMeasure {
                measure: id("M1"),
                reason: note("late")
            }
        ),
        Err(PlanError::MeasureStatus { .. })
    ));
}

#[test]
fn plan_measure_dropped_needs_it_unfinished_and_a_known_id() {
    let events = with_measure();
    let dropped = when(
        &events,
        "maker",
        PlanAction::DropMeasure {
            measure: id("M1"),
            reason: note("replaced by a system change"),
        },
    )
    .expect("dropped");
    assert!(matches!(
        dropped.as_slice(),
        [PlanEvent::PlanMeasureDropped { .. }]
    ));
    assert_eq!(
        field_of(when(
            &events,
            "maker",
            PlanAction::StartMeasure {
                measure: id("M9"),
                note: None
            }
        )),
        Some("id")
    );
    let mut after = events.clone();
    after.extend(dropped);
    assert!(matches!(
        when(
            &after,
            "maker",
            PlanAction::StartMeasure {
                measure: id("M1"),
                note: None
            }
        ),
        Err(PlanError::MeasureStatus { .. })
    ));
}

#[test]
fn plan_measure_with_a_code_outside_its_category_is_refused() {
    let events = approved();
    let mut measure = training();
    measure.category = RootCauseCategory::SystemFailure;
    assert_eq!(
        field_of(when(&events, "maker", PlanAction::AddMeasure { measure })),
        Some("code")
    );
}

fn evaluation(phase: u32) -> RecordedEvaluation {
    RecordedEvaluation {
        phase,
        as_of: NaiveDate::from_ymd_opt(2027, 3, 31).expect("valid"),
        log_position: 42,
        chain_head: Some("ab".repeat(32)),
        targets: vec![TargetFigures {
            target: id("T1"),
            metric: "items_opened".to_owned(),
            comparison: Comparison::AtMost,
            baseline: Some(Decimal::new(100, 0)),
            actual: Some(Decimal::new(60, 0)),
            target_value: Some(Decimal::new(70, 0)),
            verdict: Verdict::Met,
        }],
    }
}

#[test]
fn plan_evaluation_is_recorded_on_an_approved_plan_for_a_known_phase() {
    let events = approved();
    let recorded = when(
        &events,
        "manager",
        PlanAction::RecordEvaluation {
            evaluation: evaluation(1),
        },
    )
    .expect("recorded");
    let mut after = events.clone();
    after.extend(recorded);
    let state = RemediationPlan::from_events(&after).state.expect("drafted");
    assert_eq!(state.evaluations[&1], vec![evaluation(1)]);
    assert!(when(
        &after,
        "manager",
        PlanAction::RecordEvaluation {
            evaluation: evaluation(1)
        }
    )
    .expect("repeat")
    .is_empty());
    assert_eq!(
        field_of(when(
            &events,
            "manager",
            PlanAction::RecordEvaluation {
                evaluation: evaluation(9)
            }
        )),
        Some("phase")
    );
    assert!(matches!(
        when(
            &drafted(),
            "manager",
            PlanAction::RecordEvaluation {
                evaluation: evaluation(1)
            }
        ),
        Err(PlanError::WrongStatus { .. })
    ));
}

#[test]
fn plan_closed_refuses_every_change() {
    let mut events = approved();
    events.extend(
        when(
            &events,
            "maker",
            PlanAction::Close {
                note: note("targets met; remaining work moved to business as usual"),
            },
        )
        .expect("closed"),
    );
    let revise = PlanAction::ReviseTarget {
        target: id("T1"),
        comparison: Comparison::AtMost,
        value: TargetValue::Absolute(Decimal::ONE),
        reason: note("late change"),
    };
    assert!(matches!(
        when(&events, "maker", revise),
        Err(PlanError::WrongStatus {
            status: "closed",
            ..
        })
    ));
    assert_eq!(
        RemediationPlan::from_events(&events)
            .state
            .expect("drafted")
            .status,
        PlanStatus::Closed
    );
}

#[test]
fn plan_events_round_trip_through_json() {
    let events = approved();
    let json = serde_json::to_string(&events).expect("serialise");
    let back: Vec<PlanEvent> = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, events);
}
