//! Root-cause statistics: periods in the bank's time zone, restatement on reclassification,
//! change against the previous period, resolution times and the suspense rate.

mod common;

use common::*;
use suspense_domain::plan::Month;
use suspense_domain::{
    BranchCode, EscalationLevel, EscalationReason, ItemAction, RecordVolume, RootCauseCategory,
    VolumeEvent,
};
use suspense_read_models::{PeriodKind, PeriodReport, RootCauseQuery, RootCauseRow};
use suspense_store::RequestMetadata;

fn query(kind: PeriodKind, from: &str, to: &str) -> RootCauseQuery {
    RootCauseQuery::new(kind, date(from), date(to), None).expect("valid query")
}

fn row<'a>(period: &'a PeriodReport, code: &str) -> &'a RootCauseRow {
    period
        .rows
        .iter()
        .find(|r| r.key.code == code)
        .unwrap_or_else(|| panic!("no {code} row in {}: {:?}", period.period, period.rows))
}

/// Booked 2026-03-20 and resolved at 2026-03-31T16:30Z, which is already April 1 in Shanghai.
async fn month_boundary(backend: Backend, time_zone: &str) -> Vec<PeriodReport> {
    let h = Harness::new(backend, time_zone).await;
    let id = h
        .open(
            "2026-03-20T02:00:00Z",
            "S-1",
            "800.00",
            "SH-001",
            "2026-03-20",
        )
        .await;
    h.run(
        "2026-03-21T02:00:00Z",
        "ops",
        id,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run("2026-03-31T16:30:00Z", "ops", id, refund("800"))
        .await;
    h.refresh().await;
    let report = h
        .reports()
        .root_causes(&query(PeriodKind::Month, "2026-03-01", "2026-04-30"))
        .await
        .expect("report");
    assert_eq!(report.time_zone, time_zone);
    report.periods
}

async fn months_are_cut_in_the_bank_time_zone(backend: Backend) {
    let shanghai = month_boundary(backend, "Asia/Shanghai").await;
    assert_eq!(
        shanghai
            .iter()
            .map(|p| p.period.as_str())
            .collect::<Vec<_>>(),
        vec!["2026-03", "2026-04"]
    );
    let march = row(&shanghai[0], "CUS-REFERENCE");
    assert_eq!(
        (march.opened.count, march.opened.amount.as_str()),
        (1, "800.00")
    );
    assert_eq!((march.resolved.count, march.open_at_end.count), (0, 1));
    assert_eq!(march.open_at_end.amount, "800.00");
    let april = row(&shanghai[1], "CUS-REFERENCE");
    assert_eq!(
        (
            april.opened.count,
            april.resolved.count,
            april.open_at_end.count
        ),
        (0, 1, 0)
    );
    // From 2026-03-20 00:00 Shanghai (16:00Z the day before): 288.5 hours, in the 289-hour bucket.
    assert_eq!(april.median_hours_to_resolve, Some(289));
    assert_eq!(april.p90_hours_to_resolve, Some(289));
    assert_eq!(april.change.resolved, 1);
    assert_eq!(april.change.open_at_end, -1);

    let utc = month_boundary(backend, "UTC").await;
    let march = row(&utc[0], "CUS-REFERENCE");
    assert_eq!(
        (
            march.opened.count,
            march.resolved.count,
            march.open_at_end.count
        ),
        (1, 1, 0)
    );
    assert_eq!(march.median_hours_to_resolve, Some(281));
    assert!(utc[1].rows.iter().all(|r| r.resolved.count == 0));
}
on_both_backends!(
    months_are_cut_in_the_bank_time_zone,
    super::months_are_cut_in_the_bank_time_zone
);

async fn reclassification_restates_earlier_periods(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let r = h
        .open(
            "2026-03-10T02:00:00Z",
            "R-1",
            "1000.00",
            "SH-001",
            "2026-03-10",
        )
        .await;
    let t = h
        .open(
            "2026-03-11T02:00:00Z",
            "T-1",
            "10.00",
            "SH-001",
            "2026-03-11",
        )
        .await;
    h.run(
        "2026-03-12T02:00:00Z",
        "ops",
        r,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run(
        "2026-03-12T03:00:00Z",
        "ops",
        t,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run(
        "2026-03-20T02:00:00Z",
        "lead",
        r,
        ItemAction::Escalate {
            level: EscalationLevel::TeamLead,
            reason: EscalationReason::LargeAmount,
            note: None,
        },
    )
    .await;
    h.refresh().await;
    let before = h
        .reports()
        .root_causes(&query(PeriodKind::Month, "2026-03-01", "2026-03-31"))
        .await
        .expect("report");
    let cus = row(&before.periods[0], "CUS-REFERENCE");
    assert_eq!(
        (cus.opened.count, cus.escalations, cus.restated_items),
        (2, 1, 0)
    );

    h.run(
        "2026-04-02T02:00:00Z",
        "lead",
        r,
        classify(
            RootCauseCategory::SystemFailure,
            "SYS-INTERFACE",
            Some("batch file truncated upstream"),
        ),
    )
    .await;
    h.run("2026-05-06T02:00:00Z", "ops", r, refund("1000"))
        .await;
    h.refresh().await;

    let after = h
        .reports()
        .root_causes(&query(PeriodKind::Month, "2026-03-01", "2026-05-31"))
        .await
        .expect("report");
    let march = &after.periods[0];
    let cus = row(march, "CUS-REFERENCE");
    let sys = row(march, "SYS-INTERFACE");
    assert_eq!(
        (
            cus.opened.count,
            cus.opened.amount.as_str(),
            cus.escalations
        ),
        (1, "10.00", 0)
    );
    assert_eq!(
        (
            sys.opened.count,
            sys.opened.amount.as_str(),
            sys.escalations
        ),
        (1, "1000.00", 1)
    );
    assert_eq!(sys.key.category, "system_failure");
    assert_eq!(sys.restated_items, 1);
    assert_eq!(march.restated_items, 1);
    let may = row(&after.periods[2], "SYS-INTERFACE");
    assert_eq!(
        (
            may.resolved.count,
            may.resolved.amount.as_str(),
            may.open_at_end.count
        ),
        (1, "1000.00", 0)
    );

    let quarters = h
        .reports()
        .root_causes(&query(PeriodKind::Quarter, "2026-01-01", "2026-06-30"))
        .await
        .expect("report");
    let q1 = row(&quarters.periods[0], "SYS-INTERFACE");
    assert_eq!(
        (q1.opened.count, q1.open_at_end.count, q1.restated_items),
        (1, 1, 1)
    );
    let q2 = row(&quarters.periods[1], "SYS-INTERFACE");
    assert_eq!(
        (
            q2.resolved.count,
            q2.open_at_end.count,
            q2.change.open_at_end
        ),
        (1, 0, -1)
    );
    let year = h
        .reports()
        .root_causes(&query(PeriodKind::Year, "2026-06-01", "2026-06-01"))
        .await
        .expect("report");
    assert_eq!(year.periods[0].period, "2026");
    let total_opened: i64 = year.periods[0].rows.iter().map(|r| r.opened.count).sum();
    assert_eq!(total_opened, 2);
}
on_both_backends!(
    reclassification_restates_earlier_periods,
    super::reclassification_restates_earlier_periods
);

async fn suspense_rate_and_branch_filter(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    for n in 0..3 {
        h.open(
            "2026-03-05T02:00:00Z",
            &format!("SH-{n}"),
            "1.00",
            "SH-001",
            "2026-03-05",
        )
        .await;
    }
    h.open(
        "2026-03-05T02:00:00Z",
        "BJ-0",
        "1.00",
        "BJ-001",
        "2026-03-05",
    )
    .await;
    let sh = BranchCode::parse("SH-001").expect("branch");
    let bj = BranchCode::parse("BJ-001").expect("branch");
    let volume = |branch: &BranchCode, month: &str, transactions: u64| {
        RecordVolume::new(
            branch.clone(),
            Month::parse("month", month).expect("month"),
            transactions,
            None,
        )
        .expect("volume")
    };
    let stats = RequestMetadata::default();
    h.log
        .record_volume(volume(&sh, "2026-03", 20_000), user("stats"), &stats)
        .await
        .expect("records");
    h.log
        .record_volume(volume(&bj, "2026-03", 1), user("stats"), &stats)
        .await
        .expect("records");
    // A correction is a later event; the latest figure counts.
    let corrected = h
        .log
        .record_volume(volume(&bj, "2026-03", 40_000), user("stats"), &stats)
        .await
        .expect("records");
    assert!(matches!(
        corrected,
        Some(VolumeEvent::VolumeRecorded {
            replaces: Some(1),
            ..
        })
    ));
    h.refresh().await;
    let report = h
        .reports()
        .root_causes(&query(PeriodKind::Month, "2026-03-01", "2026-03-31"))
        .await
        .expect("report");
    let rates: Vec<(&str, i64, i64, Option<&str>)> = report.periods[0]
        .suspense_rates
        .iter()
        .map(|r| {
            (
                r.branch.as_str(),
                r.items_opened,
                r.transactions,
                r.per_10000.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rates,
        vec![
            ("BJ-001", 1, 40_000, Some("0.25")),
            ("SH-001", 3, 20_000, Some("1.50"))
        ]
    );

    let only_sh = RootCauseQuery::new(
        PeriodKind::Month,
        date("2026-03-01"),
        date("2026-03-31"),
        Some(sh),
    )
    .expect("valid");
    let report = h.reports().root_causes(&only_sh).await.expect("report");
    assert!(report.periods[0]
        .rows
        .iter()
        .all(|r| r.key.branch == "SH-001"));
    assert_eq!(
        report.periods[0]
            .rows
            .iter()
            .map(|r| r.opened.count)
            .sum::<i64>(),
        3
    );
    assert_eq!(report.periods[0].rows[0].key.category, "unclassified");
}
on_both_backends!(
    suspense_rate_and_branch_filter,
    super::suspense_rate_and_branch_filter
);

#[test]
fn report_queries_are_validated() {
    let backwards = RootCauseQuery::new(
        PeriodKind::Month,
        date("2026-03-01"),
        date("2026-01-01"),
        None,
    );
    assert_eq!(backwards.map_err(|e| e.field), Err("to".to_owned()));
    let too_long = RootCauseQuery::new(
        PeriodKind::Month,
        date("2000-01-01"),
        date("2026-01-01"),
        None,
    );
    assert!(too_long.is_err());
}
