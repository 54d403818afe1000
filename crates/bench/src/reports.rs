//! Report-query latency: each report the bench knows, timed over the read models of a log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use suspense_domain::plan::{
    Comparison, DraftPlan, MeasureSpec, Metric, MetricFilter, Month, MonthSpan, Phase, PlanAction,
    PlanEntryId, PlanName, PlanReference, PlanScope, Target, TargetValue,
};
use suspense_domain::{
    InvalidInput, Note, PlanState, RemediationPlan, RootCauseCategory, TeamId, UserId,
};
use suspense_read_models::{
    AgingPolicy, CauseDimension, CauseSummaryQuery, PeriodKind, Projector, ReadModelSettings,
    ReportError, ReportingCalendar, Reports, RootCauseQuery,
};
use suspense_store::{EventLog, PoolSettings, StoreLocation};
use suspense_testkit::fixed_services;

/// The `reports` command: the database's read models caught up, then every report timed.
pub async fn run(
    url: &str,
    queries: usize,
    time_zone: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let location = StoreLocation::parse(url)?;
    let log =
        Arc::new(EventLog::open(&location, fixed_services(), &PoolSettings::default()).await?);
    let calendar = ReportingCalendar::parse(time_zone)?;
    let started = Instant::now();
    let head = Projector::new(Arc::clone(&log), ReadModelSettings { calendar })
        .await?
        .catch_up()
        .await?;
    println!(
        "read models at position {head} (caught up in {:.1}s)",
        started.elapsed().as_secs_f64()
    );
    time_all(&log, calendar, queries).await
}

/// Times every report kind `queries` times (after one warm-up each) and prints a table. The
/// dates are the seeded log's (see seed.rs): bookings ending December 2025.
pub async fn time_all(
    log: &EventLog,
    calendar: ReportingCalendar,
    queries: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let reports = Reports::new(log, calendar);
    // The month-end report is for the month just ended: the seeded log's busiest last month is
    // December 2025 (bookings run to its end; a few resolutions follow into 2026).
    let latest = RootCauseQuery::new(
        PeriodKind::Month,
        date(2025, 12, 1),
        date(2025, 12, 1),
        None,
    )?;
    let month = RootCauseQuery::new(PeriodKind::Month, date(2025, 6, 1), date(2025, 6, 1), None)?;
    let quarter = RootCauseQuery::new(
        PeriodKind::Quarter,
        date(2025, 4, 1),
        date(2025, 4, 1),
        None,
    )?;
    let year = RootCauseQuery::new(PeriodKind::Year, date(2025, 1, 1), date(2025, 1, 1), None)?;
    println!("\n| report | rows | p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, query) in [
        ("root causes, latest month", &latest),
        ("root causes, a month 6 months back", &month),
        ("root causes, one quarter", &quarter),
        ("root causes, one year", &year),
    ] {
        let rows = reports.root_causes(query).await?.periods[0].rows.len();
        let timings = time(queries, || async {
            reports.root_causes(query).await.map(|_| ())
        })
        .await?;
        print_row(name, rows, &timings);
    }
    // The readable summaries: the year cut by category (and the year before it, the same
    // period a year earlier, read too), and the latest month by category and code.
    for (name, query, by) in [
        (
            "summary by category, one year",
            &year,
            vec![CauseDimension::Category],
        ),
        (
            "summary by category and code, latest month",
            &latest,
            vec![CauseDimension::Category, CauseDimension::Code],
        ),
    ] {
        let query = CauseSummaryQuery::new(query.clone(), by)?;
        let rows = reports.cause_summary(&query).await?.periods[0].rows.len();
        let timings = time(queries, || async {
            reports.cause_summary(&query).await.map(|_| ())
        })
        .await?;
        print_row(name, rows, &timings);
    }
    // Today's aging (nothing dated after it: the latest month-end stock), a past month end's
    // (that month's stock) and a date mid-month (the month end before it plus the movements
    // since, about half a month's).
    for (name, as_of) in [
        ("aging as of today", date(2026, 6, 30)),
        ("aging as of a past month end", date(2025, 6, 30)),
        ("aging as of a past mid-month date", date(2025, 6, 15)),
    ] {
        let timings = time(queries.min(20), || async {
            reports
                .aging(as_of, &AgingPolicy::default())
                .await
                .map(|_| ())
        })
        .await?;
        print_row(name, 0, &timings);
    }
    let timings = time(queries, || async {
        reports.open_balance().await.map(|_| ())
    })
    .await?;
    print_row("open balance", 0, &timings);
    // A year-long plan's last phase, evaluated after it ended: eight targets (one of each
    // metric but the stock, which is the aging above, and the suspense rate) and a measure.
    let plan = bench_plan_with(None)?;
    let evaluated = reports
        .evaluate_plan(&plan, Some(4), date(2025, 12, 31))
        .await?;
    let timings = time(queries, || async {
        reports
            .evaluate_plan(&plan, Some(4), date(2025, 12, 31))
            .await
            .map(|_| ())
    })
    .await?;
    print_row(
        "plan evaluation, one phase (7 targets, 1 measure)",
        evaluated.targets.len(),
        &timings,
    );
    // A stock target: items open longer than 90 days at each month's end of the phase and at
    // the baseline's end, each an aging as of a past date.
    let with_stock = bench_plan_with(Some(Metric::OpenLongerThan { days: 90 }))?;
    let timings = time(queries.min(10), || async {
        reports
            .evaluate_plan(&with_stock, Some(4), date(2025, 12, 31))
            .await
            .map(|_| ())
    })
    .await?;
    print_row("plan evaluation with a stock target as well", 8, &timings);
    println!();
    Ok(())
}

/// A plan over the seeded log's dates: baseline 2024, four quarterly phases in 2025, a
/// target on each flow, rate and percentile metric (and `extra`, if given).
fn bench_plan_with(extra: Option<Metric>) -> Result<PlanState, Box<dyn std::error::Error>> {
    let month = |m: &str| Month::parse("month", m);
    let span = |a: &str, b: &str| -> Result<MonthSpan, InvalidInput> {
        MonthSpan::new(month(a)?, month(b)?)
    };
    let phases = [
        ("2025-01", "2025-03"),
        ("2025-04", "2025-06"),
        ("2025-07", "2025-09"),
        ("2025-10", "2025-12"),
    ]
    .iter()
    .zip(1..)
    .map(|((from, to), number)| {
        Ok(Phase {
            number,
            name: PlanName::parse(&format!("quarter {number}"))?,
            months: span(from, to)?,
        })
    })
    .collect::<Result<Vec<_>, InvalidInput>>()?;
    let draft = DraftPlan {
        reference: PlanReference::parse("bench")?,
        name: PlanName::parse("bench plan")?,
        owner: UserId::parse("bench")?,
        scope: PlanScope::default(),
        baseline: span("2024-01", "2024-12")?,
        phases,
    };
    let system = MetricFilter {
        category: Some(RootCauseCategory::SystemFailure),
        ..MetricFilter::default()
    };
    let extra = extra.map(|metric| (metric, MetricFilter::default()));
    let metrics = [
        (Metric::SuspenseRate, MetricFilter::default()),
        (Metric::ItemsOpened, system.clone()),
        (Metric::CategoryShare, system),
        (Metric::MedianHoursToResolve, MetricFilter::default()),
        (Metric::P90HoursToResolve, MetricFilter::default()),
        (Metric::Escalations, MetricFilter::default()),
        (Metric::ReopenRate, MetricFilter::default()),
    ];
    let mut actions = vec![PlanAction::Draft(draft)];
    for (n, (metric, filter)) in metrics.into_iter().chain(extra).enumerate() {
        actions.push(PlanAction::SetTarget {
            target: Target::new(
                PlanEntryId::parse(&format!("T{n}"))?,
                metric,
                filter,
                Comparison::AtMost,
                TargetValue::ChangeFromBaseline(Decimal::new(-30, 0)),
                None,
            )?,
        });
    }
    actions.push(PlanAction::AddMeasure {
        measure: MeasureSpec {
            id: PlanEntryId::parse("M1")?,
            title: PlanName::parse("training")?,
            category: RootCauseCategory::OperationalError,
            code: None,
            owner_team: TeamId::parse("training")?,
            owner: UserId::parse("bench")?,
            due: date(2025, 3, 31),
            description: None,
        },
    });
    actions.push(PlanAction::CompleteMeasure {
        measure: PlanEntryId::parse("M1")?,
        completed_on: date(2025, 3, 20),
        evidence: Note::parse("done")?,
    });
    let events = RemediationPlan::default().decide_all(
        &UserId::parse("bench")?,
        actions,
        &fixed_services(),
    )?;
    RemediationPlan::from_events(&events)
        .state
        .ok_or_else(|| "the bench plan was not drafted".into())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

async fn time<F, Fut>(runs: usize, f: F) -> Result<Vec<Duration>, ReportError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), ReportError>>,
{
    f().await?; // warm-up
    let mut timings = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        f().await?;
        timings.push(started.elapsed());
    }
    timings.sort();
    Ok(timings)
}

fn print_row(name: &str, rows: usize, timings: &[Duration]) {
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    let rows = if rows == 0 {
        "-".to_owned()
    } else {
        rows.to_string()
    };
    println!(
        "| {name} | {rows} | {:.2} | {:.2} | {:.2} |",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
