//! Remediation plans over the read models: the projector passes the plans' and volumes'
//! events, the evaluation's arithmetic equals independent sums over the monthly root-cause
//! report, and the volumes recorded before they were events move into the log.

mod common;

use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};
use suspense_domain::plan::{
    Metric, MetricFilter, Month, PhaseProgress, PlanAction, PlanId, PlanReference, Verdict,
};
use suspense_domain::{
    BranchCode, EscalationLevel, EscalationReason, ItemAction, Note, RecordVolume, RemediationPlan,
    RootCauseCatalogue, RootCauseCategory,
};
use suspense_read_models::{PeriodKind, Projector, RootCauseQuery};
use suspense_store::RequestMetadata;
use suspense_testkit::{plan_draft, plan_target};

const BRANCHES: [&str; 2] = ["SH-001", "BJ-001"];

async fn record_volume(h: &Harness, branch: &str, month: &str, transactions: u64) {
    let volume = RecordVolume::new(
        BranchCode::parse(branch).expect("branch"),
        Month::parse("month", month).expect("month"),
        transactions,
        None,
    )
    .expect("volume");
    h.log
        .record_volume(volume, user("reporter"), &RequestMetadata::default())
        .await
        .expect("recorded");
}

async fn draft_plan(h: &Harness, actions: Vec<PlanAction>) -> RemediationPlan {
    let id = PlanId::for_reference(&PlanReference::parse("plan").expect("reference"));
    let actions = std::iter::once(PlanAction::Draft(plan_draft("plan")))
        .chain(actions)
        .collect();
    h.log
        .execute_plan_all(id, &user("maker"), actions, &RequestMetadata::default())
        .await
        .expect("drafted");
    let history = h.log.plan_history(id).await.expect("history");
    RemediationPlan::from_events(history.iter().map(|e| &e.event))
}

async fn plan_and_volume_events_do_not_hold_the_projector_back(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    h.open(
        "2026-04-02T02:00:00Z",
        "R-1",
        "10.00",
        "SH-001",
        "2026-04-02",
    )
    .await;
    draft_plan(&h, Vec::new()).await;
    record_volume(&h, "SH-001", "2026-04", 1_000).await;
    let head = h.log.settle(WAIT).await.expect("settles");
    assert_eq!(head, 3);
    let reached = h.projector.refresh(WAIT).await.expect("catches up");
    assert_eq!(reached, head, "the read models stand at the log's head");
    let status = h.projector.status().await.expect("status");
    assert!(status.iter().all(|s| s.position == head), "{status:?}");
}
on_both_backends!(
    plan_and_volume_events_do_not_hold_the_projector_back,
    super::plan_and_volume_events_do_not_hold_the_projector_back
);

/// One item of a random history: booked in month `month` (0 = 2026-01) on `day`, with a
/// cause, a branch, and what happens to it.
#[derive(Debug, Clone)]
struct Item {
    month: u32,
    day: u32,
    category: usize,
    branch: usize,
    resolved_after_days: Option<u32>,
    escalated: bool,
    reopened: bool,
}

fn item() -> impl Strategy<Value = Item> {
    (
        0u32..9,
        1u32..28,
        0usize..5,
        0usize..2,
        proptest::option::of(0u32..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(month, day, category, branch, resolved_after_days, escalated, reopened)| Item {
                month,
                day,
                category,
                branch,
                resolved_after_days,
                escalated,
                reopened,
            },
        )
}

fn day(month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1 + month, day).expect("date")
}

fn at(date: chrono::NaiveDate, hour: u32) -> String {
    format!("{date}T{hour:02}:00:00Z")
}

async fn play(h: &Harness, items: &[Item], volumes: &[u64]) {
    let catalogue = RootCauseCatalogue::default();
    let code_of = |category: RootCauseCategory| {
        catalogue
            .entries()
            .iter()
            .find(|(_, e)| e.category == category)
            .map(|(code, _)| code.to_string())
            .expect("a code per category")
    };
    // Events in time order, as the log would have them.
    let mut steps: Vec<(String, usize, ItemAction)> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let booked = day(item.month, item.day);
        let category = RootCauseCategory::ALL[item.category];
        steps.push((
            at(booked, 3),
            n,
            classify(category, &code_of(category), None),
        ));
        if item.escalated {
            steps.push((
                at(booked, 4),
                n,
                ItemAction::Escalate {
                    level: EscalationLevel::TeamLead,
                    reason: EscalationReason::Aging,
                    note: None,
                },
            ));
        }
        if let Some(after) = item.resolved_after_days {
            let resolved = booked + chrono::Days::new(u64::from(after));
            steps.push((at(resolved, 5), n, refund("10.00")));
            if item.reopened {
                steps.push((
                    at(resolved, 6),
                    n,
                    ItemAction::Reopen {
                        reason: Note::parse("disputed").expect("note"),
                    },
                ));
            }
        }
    }
    let mut ids = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let booked = day(item.month, item.day);
        ids.push(
            h.open(
                &at(booked, 2),
                &format!("P-{n}"),
                "10.00",
                BRANCHES[item.branch],
                &booked.to_string(),
            )
            .await,
        );
    }
    steps.sort_by(|a, b| a.0.cmp(&b.0));
    for (when, n, action) in steps {
        h.run(&when, "ops", ids[n], action).await;
    }
    for (m, transactions) in volumes.iter().enumerate() {
        for branch in BRANCHES {
            record_volume(h, branch, &format!("2026-{:02}", m + 1), *transactions).await;
        }
    }
}

fn two_places(value: Decimal) -> Decimal {
    let mut value = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(2);
    value
}

/// Per month of 2026-01..2026-09 (index 0..9): opened, opened of `category`, resolved,
/// reopened, escalations, summed over the root-cause report's rows.
async fn monthly_sums(h: &Harness, category: &str) -> Vec<[i64; 5]> {
    let query = RootCauseQuery::new(PeriodKind::Month, day(0, 1), day(8, 30), None).expect("query");
    let report = h.reports().root_causes(&query).await.expect("report");
    report
        .periods
        .iter()
        .map(|period| {
            let mut sums = [0i64; 5];
            for row in &period.rows {
                sums[0] += row.opened.count;
                if row.key.category == category {
                    sums[1] += row.opened.count;
                }
                sums[2] += row.resolved.count;
                sums[3] += row.reopened.count;
                sums[4] += row.escalations;
            }
            sums
        })
        .collect()
}

fn plan_evaluation_equals_independent_sums_over_the_monthly_statistics() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let strategy = (
        proptest::collection::vec(item(), 1..25),
        proptest::collection::vec(1_000u64..50_000, 9),
        0usize..5,
    );
    TestRunner::new(Config::with_cases(10))
        .run(&strategy, |(items, volumes, share_of)| {
            runtime.block_on(async {
                let h = Harness::new(Backend::Sqlite, "UTC").await;
                play(&h, &items, &volumes).await;
                h.refresh().await;
                let category = RootCauseCategory::ALL[share_of];
                let of_category = MetricFilter {
                    category: Some(category),
                    ..MetricFilter::default()
                };
                let all = MetricFilter::default();
                let plan = draft_plan(
                    &h,
                    vec![
                        plan_target("OPENED", Metric::ItemsOpened, all.clone(), Decimal::TEN),
                        plan_target(
                            "OF-CAT",
                            Metric::ItemsOpened,
                            of_category.clone(),
                            Decimal::ONE,
                        ),
                        plan_target(
                            "SHARE",
                            Metric::CategoryShare,
                            of_category,
                            Decimal::ONE_HUNDRED,
                        ),
                        plan_target("ESC", Metric::Escalations, all.clone(), Decimal::ONE),
                        plan_target("REOPEN", Metric::ReopenRate, all.clone(), Decimal::TEN),
                        plan_target("RATE", Metric::SuspenseRate, all, Decimal::ONE),
                    ],
                )
                .await;
                let state = plan.state.expect("drafted");
                let sums = monthly_sums(&h, category.as_str()).await;
                let window = |months: std::ops::Range<usize>| {
                    let mut total = [0i64; 5];
                    for m in months {
                        for (t, s) in total
                            .iter_mut()
                            .zip(sums.get(m).copied().unwrap_or_default())
                        {
                            *t += s;
                        }
                    }
                    total
                };
                let per_month = |n: i64| Some(two_places(Decimal::from(n) / Decimal::from(3)));
                let ratio = |a: i64, b: i64, scale: i64| {
                    (b > 0).then(|| two_places(Decimal::from(a * scale) / Decimal::from(b)))
                };
                for (phase, months) in [(1u32, 3..6), (2, 6..9)] {
                    let evaluation = h
                        .reports()
                        .evaluate_plan(&state, Some(phase), day(11, 31))
                        .await
                        .expect("evaluates");
                    prop_assert_eq!(evaluation.progress, PhaseProgress::Ended);
                    let baseline = window(0..3);
                    let actual = window(months.clone());
                    let transactions = |range: std::ops::Range<usize>| -> i64 {
                        range.map(|m| 2 * volumes[m] as i64).sum()
                    };
                    let expected = [
                        ("OPENED", per_month(baseline[0]), per_month(actual[0])),
                        ("OF-CAT", per_month(baseline[1]), per_month(actual[1])),
                        (
                            "SHARE",
                            ratio(baseline[1], baseline[0], 100),
                            ratio(actual[1], actual[0], 100),
                        ),
                        ("ESC", per_month(baseline[4]), per_month(actual[4])),
                        (
                            "REOPEN",
                            ratio(baseline[3], baseline[2], 100),
                            ratio(actual[3], actual[2], 100),
                        ),
                        (
                            "RATE",
                            ratio(baseline[0], transactions(0..3), 10_000),
                            ratio(actual[0], transactions(months.clone()), 10_000),
                        ),
                    ];
                    for (target, (name, baseline, actual)) in
                        evaluation.targets.iter().zip(expected)
                    {
                        let f = &target.figures;
                        prop_assert_eq!(f.target.as_str(), name);
                        prop_assert_eq!(f.baseline, baseline, "{} baseline", name);
                        prop_assert_eq!(f.actual, actual, "{} actual", name);
                        let verdict = Verdict::judge(
                            PhaseProgress::Ended,
                            f.comparison,
                            f.actual,
                            f.target_value,
                        );
                        prop_assert_eq!(f.verdict, verdict);
                        prop_assert_eq!(target.trend.len(), 3);
                    }
                }
                Ok(())
            })
        })
        .expect("the evaluation adds up for every history");
}

#[test]
fn plan_evaluation_adds_up_for_random_histories() {
    plan_evaluation_equals_independent_sums_over_the_monthly_statistics();
}

/// The figures of a phase that has not started, and of one running (judged on its whole
/// months so far), on both backends.
async fn plan_evaluation_follows_the_phase_progress(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let catalogue_code = "OP-KEYING";
    for (n, booked) in ["2026-02-10", "2026-04-10", "2026-05-10", "2026-05-20"]
        .into_iter()
        .enumerate()
    {
        let id = h
            .open(
                &format!("{booked}T02:00:00Z"),
                &format!("F-{n}"),
                "10.00",
                "SH-001",
                booked,
            )
            .await;
        h.run(
            &format!("{booked}T03:00:00Z"),
            "ops",
            id,
            classify(RootCauseCategory::OperationalError, catalogue_code, None),
        )
        .await;
    }
    h.refresh().await;
    let plan = draft_plan(
        &h,
        vec![
            plan_target(
                "T1",
                Metric::ItemsOpened,
                MetricFilter::default(),
                Decimal::ONE,
            ),
            plan_target(
                "T2",
                Metric::OpenLongerThan { days: 30 },
                MetricFilter::default(),
                Decimal::ONE,
            ),
        ],
    )
    .await;
    let state = plan.state.expect("drafted");
    let reports = h.reports();
    let before = reports
        .evaluate_plan(&state, Some(1), date("2026-03-15"))
        .await
        .expect("evaluates");
    assert_eq!(before.progress, PhaseProgress::NotStarted);
    assert_eq!(before.targets[0].figures.verdict, Verdict::NotStarted);
    assert_eq!(before.targets[0].figures.actual, None);
    // On 2026-05-15 the phase has one whole month (April: 1 item), at most 1 a month.
    let running = reports
        .evaluate_plan(&state, None, date("2026-05-15"))
        .await
        .expect("evaluates");
    assert_eq!(running.phase.number, 1);
    assert_eq!(running.progress, PhaseProgress::Running);
    assert_eq!(
        running.targets[0].figures.actual,
        Some(Decimal::new(100, 2))
    );
    assert_eq!(running.targets[0].figures.verdict, Verdict::OnTrack);
    // Items open longer than 30 days: one at the baseline's end (booked 02-10), one at the
    // end of April, the phase's only whole month (02-10 again), two on 05-15 (and 04-10).
    let stock = &running.targets[1];
    assert_eq!(stock.figures.baseline, Some(Decimal::ONE));
    assert_eq!(
        stock.trend,
        vec![(
            Month::parse("m", "2026-04").expect("month"),
            Some(Decimal::ONE)
        )]
    );
    assert_eq!(stock.figures.actual, Some(Decimal::TWO));
    assert_eq!(stock.figures.verdict, Verdict::AtRisk);
    // The baseline (January to March) had 1 item in three months.
    assert_eq!(
        running.targets[0].figures.baseline,
        Some(Decimal::new(33, 2))
    );
    // On the last day of May, May is whole: 3 items in two months.
    let later = reports
        .evaluate_plan(&state, None, date("2026-05-31"))
        .await
        .expect("evaluates");
    assert_eq!(later.targets[0].figures.actual, Some(Decimal::new(150, 2)));
    assert_eq!(later.targets[0].figures.verdict, Verdict::AtRisk);
    let unknown = reports
        .evaluate_plan(&state, Some(7), date("2026-05-31"))
        .await;
    assert!(unknown.is_err());
}
on_both_backends!(
    plan_evaluation_follows_the_phase_progress,
    super::plan_evaluation_follows_the_phase_progress
);

/// Volumes recorded before they were events (the reference table of earlier versions) become
/// the first events of their branches' streams, and the suspense rate still divides by them.
async fn plan_volumes_from_the_old_table_move_into_the_log(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    h.open(
        "2026-03-05T02:00:00Z",
        "V-1",
        "10.00",
        "SH-001",
        "2026-03-05",
    )
    .await;
    let (table, recorded_at) = match backend {
        Backend::Sqlite => (
            "CREATE TABLE transaction_volumes (branch text NOT NULL, month text NOT NULL,
                 transactions bigint NOT NULL, recorded_at text NOT NULL,
                 recorded_by text NOT NULL, PRIMARY KEY (branch, month))",
            "'2026-04-01T08:30:00.123456+00:00'",
        ),
        Backend::Postgres => (
            "CREATE TABLE transaction_volumes (branch text NOT NULL, month date NOT NULL,
                 transactions bigint NOT NULL, recorded_at timestamptz NOT NULL,
                 recorded_by text NOT NULL, PRIMARY KEY (branch, month))",
            "'2026-04-01T08:30:00.123456Z'",
        ),
    };
    h.db.execute(
        &format!(
            "{table};
             INSERT INTO transaction_volumes VALUES
                 ('SH-001', '2026-03-01', 20000, {recorded_at}, 'stats'),
                 ('SH-001', '2026-02-01', 10000, {recorded_at}, 'stats'),
                 ('BJ-001', '2026-03-01', 5000, {recorded_at}, 'stats');
             DELETE FROM _sqlx_migrations WHERE version = 1010;"
        ),
        true,
    )
    .await
    .expect("the table of earlier versions restored");
    let upgraded = Projector::new(Arc::clone(&h.log), settings("UTC"))
        .await
        .expect("migrates");
    upgraded.catch_up().await.expect("catches up");
    let events = h.log.volume_events().await.expect("volumes");
    let figures: Vec<(String, u64, u64, Option<String>)> = events
        .iter()
        .map(|e| {
            let suspense_domain::VolumeEvent::VolumeRecorded {
                branch,
                month,
                transactions,
                ..
            } = &e.event;
            (
                format!("{branch} {month}"),
                e.sequence,
                *transactions,
                e.metadata.actor.clone(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            (
                "BJ-001 2026-03".to_owned(),
                1,
                5_000,
                Some("stats".to_owned())
            ),
            (
                "SH-001 2026-02".to_owned(),
                1,
                10_000,
                Some("stats".to_owned())
            ),
            (
                "SH-001 2026-03".to_owned(),
                2,
                20_000,
                Some("stats".to_owned())
            ),
        ]
    );
    let suspense_domain::VolumeEvent::VolumeRecorded { at, .. } = &events[0].event;
    assert_eq!(at.to_rfc3339(), "2026-04-01T08:30:00.123456+00:00");
    let query = RootCauseQuery::new(
        PeriodKind::Month,
        date("2026-03-01"),
        date("2026-03-31"),
        None,
    )
    .expect("query");
    let report = h.reports().root_causes(&query).await.expect("report");
    let sh = report.periods[0]
        .suspense_rates
        .iter()
        .find(|r| r.branch == "SH-001")
        .expect("rate");
    assert_eq!((sh.items_opened, sh.transactions), (1, 20_000));
    assert!(h
        .db
        .execute("SELECT 1 FROM transaction_volumes", false)
        .await
        .is_err());
}
on_both_backends!(
    plan_volumes_from_the_old_table_move_into_the_log,
    super::plan_volumes_from_the_old_table_move_into_the_log
);
