//! A remediation plan through the embedding facade: drafted with a target and a measure,
//! approved by a second person, a month's transaction volume recorded, and its first phase
//! evaluated.
//!
//! ```text
//! cargo run -p suspense --example plan                 # ./suspense-plan-example.db
//! ```

use chrono::{Datelike, Utc};
use suspense::domain::plan::{
    Comparison, DraftPlan, MeasureSpec, Metric, MetricFilter, Month, MonthSpan, Phase, PlanAction,
    PlanEntryId, PlanName, PlanReference, PlanScope, Target, TargetValue,
};
use suspense::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let location = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./suspense-plan-example.db".to_owned());
    let ledger = Suspense::open(&location).await?;
    let lead = Actor::new(UserId::parse("zhang.min")?).with_source("plan-example");
    let head = Actor::new(UserId::parse("wang.fang")?).with_source("plan-example");

    // A plan starting this month: the three months before it are the baseline.
    let today = Utc::now().date_naive();
    let this_month = Month::of(today);
    let month = |n: u32| this_month.plus(n).ok_or("past the calendar's end");
    let baseline_from = this_month.minus(3).ok_or("before the calendar's start")?;
    let baseline_to = this_month.minus(1).ok_or("before the calendar's start")?;
    let draft = DraftPlan {
        reference: PlanReference::parse(&format!("example-{}", today.format("%Y%m%d")))?,
        name: PlanName::parse("掛賬整改方案 (example)")?,
        owner: head.user.clone(),
        scope: PlanScope::default(),
        baseline: MonthSpan::new(baseline_from, baseline_to)?,
        phases: vec![
            Phase {
                number: 1,
                name: PlanName::parse("months 1-3")?,
                months: MonthSpan::new(month(0)?, month(2)?)?,
            },
            Phase {
                number: 2,
                name: PlanName::parse("months 4-6")?,
                months: MonthSpan::new(month(3)?, month(5)?)?,
            },
        ],
    };
    let operational_errors = MetricFilter {
        category: Some(RootCauseCategory::OperationalError),
        ..MetricFilter::default()
    };
    let then = vec![
        PlanAction::SetTarget {
            target: Target::new(
                PlanEntryId::parse("T1")?,
                Metric::ItemsOpened,
                operational_errors,
                Comparison::AtMost,
                TargetValue::ChangeFromBaseline(Decimal::new(-30, 0)),
                None,
            )?,
        },
        PlanAction::AddMeasure {
            measure: MeasureSpec {
                id: PlanEntryId::parse("M1")?,
                title: PlanName::parse("teller training")?,
                category: RootCauseCategory::OperationalError,
                code: None,
                owner_team: TeamId::parse("training")?,
                owner: UserId::parse("li.wei")?,
                due: month(2)?.first_day(),
                description: None,
            },
        },
    ];
    let drafted = ledger.draft_plan(&lead, draft, then).await?;
    // Maker-checker: the drafter cannot approve; the plan's owner does.
    ledger
        .execute_plan(&head, drafted.plan_id, PlanAction::Approve { note: None })
        .await?;
    println!("plan {} drafted and approved", drafted.plan_id);

    // The suspense rate's denominator is an event too.
    ledger
        .record_volume(
            &head,
            RecordVolume::new(
                BranchCode::parse("SH-001")?,
                Month::of(today.with_day(1).unwrap_or(today)),
                250_000,
                None,
            )?,
        )
        .await?;

    ledger.refresh().await?;
    let evaluation = ledger
        .evaluate_plan(drafted.plan_id, Some(1), today)
        .await?;
    for target in &evaluation.targets {
        let f = &target.figures;
        println!(
            "{} {}: baseline {:?}, actual {:?}, target {:?} → {}",
            f.target, f.metric, f.baseline, f.actual, f.target_value, f.verdict
        );
    }
    ledger.close().await;
    Ok(())
}
