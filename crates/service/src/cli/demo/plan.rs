//! The demo's remediation plan: a year of four quarterly phases after a three-month baseline
//! over the synthetic items, with measures whose effect shows (teller training in the plan's
//! second month lowers operational errors after it) and targets that are met and missed.

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use suspense::{Actor, Suspense};
use suspense_domain::plan::{
    Comparison, DraftPlan, MeasureSpec, Metric, MetricFilter, Month, MonthSpan, Phase, PlanAction,
    PlanEntryId, PlanId, PlanName, PlanReference, PlanScope, Target, TargetValue,
};
use suspense_domain::{Note, RootCauseCategory, TeamId, UserId};

use super::DemoClock;
use crate::cli::CliError;

/// The demo plan's reference.
pub const REFERENCE: &str = "demo-remediation";

/// The demo's calendar: the first month of the synthetic year (partly covered) is `start`.
pub struct DemoCalendar {
    pub start: Month,
}

impl DemoCalendar {
    fn month(&self, n: u32) -> Result<Month, CliError> {
        self.start
            .plus(n)
            .ok_or_else(|| CliError::Other("the demo year is past the calendar's end".into()))
    }

    /// The day the teller training took effect: mid-way through the plan's second month.
    pub fn training_done(&self) -> Result<NaiveDate, CliError> {
        let month = self.month(5)?.first_day();
        Ok(month.with_day(15).unwrap_or(month))
    }

    fn span(&self, from: u32, to: u32) -> Result<MonthSpan, CliError> {
        Ok(MonthSpan::new(self.month(from)?, self.month(to)?)?)
    }
}

fn id(text: &str) -> Result<PlanEntryId, CliError> {
    Ok(PlanEntryId::parse(text)?)
}

fn target(
    name: &str,
    metric: Metric,
    filter: MetricFilter,
    value: TargetValue,
) -> Result<PlanAction, CliError> {
    Ok(PlanAction::SetTarget {
        target: Target::new(id(name)?, metric, filter, Comparison::AtMost, value, None)?,
    })
}

fn measure(
    name: &str,
    title: &str,
    category: RootCauseCategory,
    due: NaiveDate,
) -> Result<PlanAction, CliError> {
    Ok(PlanAction::AddMeasure {
        measure: MeasureSpec {
            id: id(name)?,
            title: PlanName::parse(title)?,
            category,
            code: None,
            owner_team: TeamId::parse("remediation")?,
            owner: UserId::parse("lead-demo")?,
            due,
            description: None,
        },
    })
}

/// Drafts, approves and works the demo plan, moving the demo clock through its months.
pub async fn seed(
    ledger: &Suspense,
    clock: &DemoClock,
    calendar: &DemoCalendar,
) -> Result<PlanId, CliError> {
    let who = |name: &str| UserId::parse(name).map(|u| Actor::new(u).with_source("demo"));
    let (maker, checker) = (who("lead-demo")?, who("head-demo")?);
    let at = |day: NaiveDate| {
        clock.set(Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap_or_default()))
    };
    let phase = |number: u32, name: &str, from: u32| -> Result<Phase, CliError> {
        Ok(Phase {
            number,
            name: PlanName::parse(name)?,
            months: calendar.span(from, from + 2)?,
        })
    };
    let draft = DraftPlan {
        reference: PlanReference::parse(REFERENCE)?,
        name: PlanName::parse("掛賬整改方案 (demo)")?,
        owner: UserId::parse("head-demo")?,
        scope: PlanScope::default(),
        baseline: calendar.span(1, 3)?,
        phases: vec![
            phase(1, "months 1-3", 4)?,
            phase(2, "months 4-6", 7)?,
            phase(3, "months 7-9", 10)?,
            phase(4, "months 10-12", 13)?,
        ],
    };
    let operational = MetricFilter {
        category: Some(RootCauseCategory::OperationalError),
        ..MetricFilter::default()
    };
    let system = MetricFilter {
        category: Some(RootCauseCategory::SystemFailure),
        ..MetricFilter::default()
    };
    let plan_start = calendar.month(4)?.first_day();
    let then = vec![
        target(
            "T1",
            Metric::ItemsOpened,
            operational,
            TargetValue::ChangeFromBaseline(Decimal::new(-30, 0)),
        )?,
        target(
            "T2",
            Metric::SuspenseRate,
            MetricFilter::default(),
            TargetValue::Absolute(Decimal::new(50, 2)),
        )?,
        target(
            "T3",
            Metric::ItemsOpened,
            system,
            TargetValue::ChangeFromBaseline(Decimal::new(-20, 0)),
        )?,
        target(
            "T4",
            Metric::MedianHoursToResolve,
            MetricFilter::default(),
            TargetValue::Absolute(Decimal::new(600, 0)),
        )?,
        target(
            "T5",
            Metric::OpenLongerThan { days: 90 },
            MetricFilter::default(),
            TargetValue::Absolute(Decimal::new(60, 0)),
        )?,
        measure(
            "M1",
            "teller training on keying and review",
            RootCauseCategory::OperationalError,
            calendar.training_done()?,
        )?,
        measure(
            "M2",
            "core banking interface patch",
            RootCauseCategory::SystemFailure,
            calendar.month(9)?.first_day(),
        )?,
        measure(
            "M3",
            "repayment-date SMS reminders",
            RootCauseCategory::CustomerCause,
            calendar.month(14)?.first_day(),
        )?,
    ];
    at(plan_start);
    let plan_id = ledger.draft_plan(&maker, draft, then).await?.plan_id;
    at(plan_start.succ_opt().unwrap_or(plan_start));
    ledger
        .execute_plan(&checker, plan_id, PlanAction::Approve { note: None })
        .await?;
    let started = |measure: &str| -> Result<PlanAction, CliError> {
        Ok(PlanAction::StartMeasure {
            measure: id(measure)?,
            note: None,
        })
    };
    ledger.execute_plan(&maker, plan_id, started("M1")?).await?;
    let done = calendar.training_done()?;
    at(done);
    ledger
        .execute_plan(
            &maker,
            plan_id,
            PlanAction::CompleteMeasure {
                measure: id("M1")?,
                completed_on: done,
                evidence: Note::parse("every teller trained; attendance sheets filed")?,
            },
        )
        .await?;
    at(calendar.month(8)?.first_day());
    ledger.execute_plan(&maker, plan_id, started("M2")?).await?;
    Ok(plan_id)
}

fn demo_plan() -> Result<PlanId, CliError> {
    Ok(PlanId::for_reference(&PlanReference::parse(REFERENCE)?))
}

/// Records the evaluation of the last phase that has ended, as its owner signs it.
pub async fn sign_last_ended_phase(ledger: &Suspense, today: NaiveDate) -> Result<(), CliError> {
    let Some(plan) = ledger.plan(demo_plan()?).await? else {
        return Ok(());
    };
    let ended = plan
        .state
        .draft
        .phases
        .iter()
        .rev()
        .find(|p| p.months.end() <= today);
    if let Some(phase) = ended {
        let owner = Actor::new(UserId::parse("head-demo")?).with_source("demo");
        ledger
            .record_plan_evaluation(&owner, plan.plan_id, Some(phase.number), today)
            .await?;
    }
    Ok(())
}

/// Prints the evaluation of the last ended phase and of the running one.
pub async fn print_evaluations(ledger: &Suspense, today: NaiveDate) -> Result<(), CliError> {
    let Some(plan) = ledger.plan(demo_plan()?).await? else {
        return Ok(());
    };
    let started: Vec<u32> = plan
        .state
        .draft
        .phases
        .iter()
        .filter(|p| p.months.from.first_day() <= today)
        .map(|p| p.number)
        .collect();
    outln!(
        "\nremediation plan \"{}\" ({}); `suspense plan evaluate {REFERENCE} --phase N` shows any phase:",
        plan.state.draft.name,
        plan.state.status.as_str()
    )?;
    for phase in started.iter().rev().take(2).rev() {
        let evaluation = ledger
            .evaluate_plan(plan.plan_id, Some(*phase), today)
            .await?;
        out!("{}", crate::cli::plan::evaluation_table(&evaluation))?;
    }
    Ok(())
}
