//! The item register, the open balance and aging.

mod common;

use common::*;
use suspense_domain::{
    BranchCode, Channel, CustomerImpact, CustomerReference, Direction, EscalationLevel,
    EscalationReason, ItemAction, ItemId, Money, Note, RootCauseCategory, TeamId,
};
use suspense_read_models::{AgingBasis, AgingPolicy, OpenBalance, RegisterRow};

async fn the_register_follows_an_item_and_the_open_balance_ties_out(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let a = h
        .open(
            "2026-03-02T01:00:00Z",
            "A",
            "1000.00",
            "SH-001",
            "2026-03-02",
        )
        .await;
    let b = h
        .open(
            "2026-03-03T01:00:00Z",
            "B",
            "250.50",
            "SH-002",
            "2026-03-03",
        )
        .await;
    h.run(
        "2026-03-04T01:00:00Z",
        "ops",
        a,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run(
        "2026-03-04T02:00:00Z",
        "lead",
        a,
        ItemAction::Assign {
            team: TeamId::parse("recon").expect("team"),
            assignee: Some(user("ops")),
            reason: None,
        },
    )
    .await;
    h.run(
        "2026-03-05T02:00:00Z",
        "lead",
        a,
        ItemAction::Escalate {
            level: EscalationLevel::Department,
            reason: EscalationReason::Aging,
            note: None,
        },
    )
    .await;
    h.run("2026-03-06T02:00:00Z", "ops", a, clear("CLR-1", "400"))
        .await;
    h.refresh().await;

    let row = h
        .reports()
        .item(&a.to_string())
        .await
        .expect("reads")
        .expect("in the register");
    assert_eq!(row.version, 5);
    assert_eq!(row.status, "open");
    assert_eq!(row.category.as_deref(), Some("customer_cause"));
    assert_eq!(row.code.as_deref(), Some("CUS-REFERENCE"));
    assert_eq!(row.team.as_deref(), Some("recon"));
    assert_eq!(row.assignee.as_deref(), Some("ops"));
    assert_eq!(row.escalation_level, 2);
    assert_eq!(
        (row.amount_minor, row.cleared_minor, row.outstanding_minor),
        (100_000, 40_000, 60_000)
    );
    assert_eq!(row.currency, "CNY");
    assert_eq!(row.minor_units, 2);
    assert!(row.classified_at.is_some());

    let expected = vec![OpenBalance {
        currency: "CNY".into(),
        open_items: 2,
        outstanding: "850.50".into(),
    }];
    assert_eq!(h.reports().open_balance().await.expect("balance"), expected);
    assert_eq!(
        h.reports().register_balance().await.expect("register sum"),
        expected
    );

    h.run("2026-03-07T02:00:00Z", "ops", a, refund("600")).await;
    h.run(
        "2026-03-08T02:00:00Z",
        "ops",
        b,
        classify(RootCauseCategory::SystemFailure, "SYS-OUTAGE", None),
    )
    .await;
    h.run("2026-03-08T03:00:00Z", "ops", b, refund("250.50"))
        .await;
    h.run("2026-03-09T03:00:00Z", "lead", b, reopen()).await;
    h.refresh().await;
    let expected = vec![OpenBalance {
        currency: "CNY".into(),
        open_items: 1,
        outstanding: "250.50".into(),
    }];
    assert_eq!(h.reports().open_balance().await.expect("balance"), expected);
    assert_eq!(
        h.reports().register_balance().await.expect("register sum"),
        expected
    );
    let row = h
        .reports()
        .item(&a.to_string())
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(row.status, "resolved");
    assert_eq!(row.resolution_method.as_deref(), Some("refunded"));
}
on_both_backends!(
    the_register_follows_an_item_and_the_open_balance_ties_out,
    super::the_register_follows_an_item_and_the_open_balance_ties_out
);

async fn stored(h: &Harness, id: ItemId) -> RegisterRow {
    h.reports()
        .item(&id.to_string())
        .await
        .expect("reads")
        .expect("in the register")
}

/// Every column as the fold leaves it, whichever way the row was written: created in the
/// batch that opens the item (PostgreSQL copies such rows in) or updated by a later batch.
async fn every_column_of_a_register_row_is_stored_as_folded(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let mut item = booking("FULL-1", "1234.56");
    item.branch = BranchCode::parse("SH-009").expect("branch");
    item.channel = Channel::Counter;
    item.direction = Direction::Debit;
    item.booked_on = date("2026-03-01");
    item.value_date = date("2026-02-27");
    // Text a text-format COPY would have to escape, and characters beyond ASCII.
    item.description = Note::parse(r#"匯款 \ back\slash, tab\t, quote ' and ""#).expect("note");
    item.customer_impact = CustomerImpact {
        funds_held: true,
        fee: Some(Money::parse("15.00", "CNY").expect("fee")),
        customer: Some(CustomerReference::parse("C-8F3A-0042").expect("customer")),
    };
    let id = ItemId::for_reference(&item.reference);
    // Microseconds: what PostgreSQL keeps of a time.
    let opened_at = "2026-03-02T01:00:00.123456Z";
    h.run(opened_at, "teller", id, ItemAction::Open(item)).await;
    h.refresh().await;

    let opened = RegisterRow {
        item_id: id.to_string(),
        version: 1,
        source_system: "CORE".into(),
        reference: "FULL-1".into(),
        account: "2241-01".into(),
        branch: "SH-009".into(),
        channel: "counter".into(),
        direction: "debit".into(),
        currency: "CNY".into(),
        minor_units: 2,
        amount_minor: 123_456,
        cleared_minor: 0,
        outstanding_minor: 123_456,
        booked_on: date("2026-03-01"),
        value_date: date("2026-02-27"),
        description: r#"匯款 \ back\slash, tab\t, quote ' and ""#.into(),
        status: "open".into(),
        category: None,
        code: None,
        reclassifications: 0,
        team: None,
        assignee: None,
        escalation_level: 0,
        funds_held: true,
        fee_minor: Some(1_500),
        fee_currency: Some("CNY".into()),
        opened_at: instant(opened_at),
        opened_by: "teller".into(),
        classified_at: None,
        resolved_at: None,
        resolution_method: None,
        reopen_count: 0,
        comment_count: 0,
        last_event_at: instant(opened_at),
        responsible: None,
        counterparty: None,
        incident: None,
        customer: Some("C-8F3A-0042".into()),
        last_reminder_day: 0,
    };
    assert_eq!(stored(&h, id).await, opened);

    let classified_at = "2026-03-03T04:05:06.000789Z";
    h.run(
        classified_at,
        "ops",
        id,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run(
        "2026-03-03T05:00:00Z",
        "lead",
        id,
        ItemAction::Assign {
            team: TeamId::parse("recon").expect("team"),
            assignee: Some(user("ops")),
            reason: None,
        },
    )
    .await;
    h.run("2026-03-04T06:00:00Z", "ops", id, refund("1234.56"))
        .await;
    // A resolved item still counts under the incident that caused it.
    h.run(
        "2026-03-05T01:00:00Z",
        "lead",
        id,
        ItemAction::LinkIncident {
            incident: suspense_domain::incident::IncidentReference::parse("INC-1")
                .expect("reference"),
            reason: Note::parse("same outage").expect("note"),
        },
    )
    .await;
    h.refresh().await;
    let resolved = RegisterRow {
        version: 5,
        cleared_minor: 123_456,
        outstanding_minor: 0,
        status: "resolved".into(),
        category: Some("customer_cause".into()),
        code: Some("CUS-REFERENCE".into()),
        team: Some("recon".into()),
        assignee: Some("ops".into()),
        classified_at: Some(instant(classified_at)),
        resolved_at: Some(instant("2026-03-04T06:00:00Z")),
        resolution_method: Some("refunded".into()),
        last_event_at: instant("2026-03-05T01:00:00Z"),
        incident: Some("INC-1".into()),
        ..opened
    };
    assert_eq!(stored(&h, id).await, resolved);
}
on_both_backends!(
    every_column_of_a_register_row_is_stored_as_folded,
    super::every_column_of_a_register_row_is_stored_as_folded
);

async fn aging_is_computed_as_of_any_date(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    // Booked long before it was recorded (a backlog import): it ages from its booking date.
    let old = h
        .open(
            "2026-06-01T01:00:00Z",
            "OLD",
            "100.00",
            "SH-001",
            "2026-01-10",
        )
        .await;
    let mid = h
        .open(
            "2026-06-01T01:00:00Z",
            "MID",
            "300.00",
            "SH-001",
            "2026-04-15",
        )
        .await;
    let new = h
        .open(
            "2026-06-01T01:00:00Z",
            "NEW",
            "50.00",
            "SH-002",
            "2026-05-25",
        )
        .await;
    h.run("2026-06-01T02:00:00Z", "ops", mid, clear("CLR-1", "100"))
        .await;
    h.run(
        "2026-06-02T02:00:00Z",
        "ops",
        new,
        classify(RootCauseCategory::ExternalCause, "EXT-PARTNER", None),
    )
    .await;
    h.run("2026-06-03T02:00:00Z", "ops", new, refund("50"))
        .await;
    h.refresh().await;
    let _ = old;

    let policy = AgingPolicy::default();
    let report = h
        .reports()
        .aging(date("2026-05-31"), &policy)
        .await
        .expect("aging");
    assert_eq!(
        report.buckets,
        vec!["0-30", "31-60", "61-90", "91-180", ">180"]
    );
    let cells: Vec<(&str, &str, &str, i64, &str)> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.branch.as_str(),
                r.category.as_str(),
                r.bucket.as_str(),
                r.count,
                r.amount.as_str(),
            )
        })
        .collect();
    // On May 31 the clearing of June 1 had not happened yet: MID still owed 300. Rows are
    // grouped by each item's current root cause.
    assert_eq!(
        cells,
        vec![
            ("SH-001", "unclassified", "31-60", 1, "300.00"),
            ("SH-001", "unclassified", "91-180", 1, "100.00"),
            ("SH-002", "external_cause", "0-30", 1, "50.00"),
        ]
    );
    let later = h
        .reports()
        .aging(date("2026-06-05"), &policy)
        .await
        .expect("aging");
    let cells: Vec<(&str, &str, i64, &str)> = later
        .rows
        .iter()
        .map(|r| {
            (
                r.branch.as_str(),
                r.bucket.as_str(),
                r.count,
                r.amount.as_str(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        vec![
            ("SH-001", "31-60", 1, "200.00"),
            ("SH-001", "91-180", 1, "100.00")
        ]
    );
    // Before anything was booked there is nothing to age.
    assert!(h
        .reports()
        .aging(date("2026-01-01"), &policy)
        .await
        .expect("aging")
        .rows
        .is_empty());

    let custom = AgingPolicy::new(vec![90], AgingBasis::ValueDate).expect("valid policy");
    let report = h
        .reports()
        .aging(date("2026-06-05"), &custom)
        .await
        .expect("aging");
    let cells: Vec<(&str, i64)> = report
        .rows
        .iter()
        .map(|r| (r.bucket.as_str(), r.count))
        .collect();
    assert_eq!(cells, vec![("0-90", 1), (">90", 1)]);
}
on_both_backends!(
    aging_is_computed_as_of_any_date,
    super::aging_is_computed_as_of_any_date
);

#[test]
fn aging_policies_are_validated() {
    assert!(AgingPolicy::new(vec![], AgingBasis::BookingDate).is_err());
    let err = AgingPolicy::new(vec![30, 30], AgingBasis::BookingDate).expect_err("not ascending");
    assert_eq!(err.field, "aging_buckets");
}

/// For any bucket bounds, either basis and any date: each open item falls in the first bucket
/// whose bound its age does not exceed (the age in days from its booking or value date, 0 if
/// that is later), whichever route the report reads.
fn aging_buckets_follow_the_policy(backend: Backend) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use std::collections::BTreeMap;

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let h = runtime.block_on(Harness::new(backend, "UTC"));
    let today = date("2026-06-30");
    // Items aged 0 to 200 days and a few far older, each valued three days before booking.
    let ages: Vec<i64> = (0..=200).chain([365, 400]).collect();
    runtime.block_on(async {
        for age in &ages {
            let mut item = booking(&format!("AGE-{age}"), "1.00");
            item.booked_on = today - chrono::Duration::days(*age);
            item.value_date = item.booked_on - chrono::Duration::days(3);
            let id = suspense_domain::ItemId::for_reference(&item.reference);
            h.run("2026-06-30T01:00:00Z", "teller", id, ItemAction::Open(item))
                .await;
        }
        h.refresh().await;
    });
    let policy = (
        proptest::collection::btree_set(0u32..250, 1..5),
        any::<bool>(),
        -20i64..20,
    );
    TestRunner::new(Config::with_cases(64))
        .run(&policy, |(bounds, by_value_date, shift)| {
            let basis = if by_value_date {
                AgingBasis::ValueDate
            } else {
                AgingBasis::BookingDate
            };
            let policy = AgingPolicy::new(bounds.iter().copied().collect(), basis)
                .expect("ascending bounds");
            let as_of = today + chrono::Duration::days(shift);
            let labels = policy.labels();
            let mut expected: BTreeMap<String, i64> = BTreeMap::new();
            for age in &ages {
                let booked_on = today - chrono::Duration::days(*age);
                if booked_on > as_of {
                    continue; // not booked yet on that date
                }
                let basis_date = if by_value_date {
                    booked_on - chrono::Duration::days(3)
                } else {
                    booked_on
                };
                let days = (as_of - basis_date).num_days().max(0);
                let bucket = bounds
                    .iter()
                    .position(|high| days <= i64::from(*high))
                    .unwrap_or(bounds.len());
                *expected.entry(labels[bucket].clone()).or_default() += 1;
            }
            let report = runtime
                .block_on(h.reports().aging(as_of, &policy))
                .expect("aging");
            let actual: BTreeMap<String, i64> = report
                .rows
                .iter()
                .map(|r| (r.bucket.clone(), r.count))
                .collect();
            prop_assert_eq!(actual, expected);
            let one_unit_each = report
                .rows
                .iter()
                .all(|r| r.amount == format!("{}.00", r.count));
            prop_assert!(one_unit_each, "each item owes 1.00: {:?}", report.rows);
            Ok(())
        })
        .expect("buckets follow the policy");
}

#[test]
fn aging_buckets_follow_the_policy_on_sqlite() {
    aging_buckets_follow_the_policy(Backend::Sqlite);
}

#[test]
fn aging_buckets_follow_the_policy_on_postgres() {
    aging_buckets_follow_the_policy(Backend::Postgres);
}
