//! The escalation policy read against the register: the watch list (thresholds crossed soon,
//! items older than their cause usually takes) and the provisioning report as of today and
//! as of a past date, whose totals tie to the items it lists.

mod common;

use chrono::{NaiveDate, Utc};
use common::*;
use rust_decimal::Decimal;
use suspense_domain::policy::{
    EscalationPolicies, EscalationRule, PolicyVersion, PublishPolicy, RegulatoryAction,
};
use suspense_domain::{
    BranchCode, Currency, Direction, EscalationLevel, EscalationReason, ItemAction, ItemId, Note,
    RootCauseCategory,
};
use suspense_read_models::{WatchQuery, WatchReason};

fn policy(rules: Vec<EscalationRule>) -> PolicyVersion {
    let mut policies = EscalationPolicies::default();
    let event = policies
        .decide(
            PublishPolicy {
                effective_from: date("2025-01-01"),
                reason: Note::parse("board decision").expect("note"),
                rules,
                approval_bands: Vec::new(),
                reminders: Vec::new(),
            },
            user("risk"),
            Utc::now(),
        )
        .expect("published");
    policies.apply(&event);
    policies.versions.remove(0)
}

fn provide(direction: Direction, days: u32, percent: i64) -> EscalationRule {
    EscalationRule {
        direction: Some(direction),
        action: Some(RegulatoryAction::Provision {
            percent: Decimal::new(percent, 0),
        }),
        ..EscalationRule::after_days(days, EscalationLevel::Management)
    }
}

async fn book(
    h: &Harness,
    reference: &str,
    amount: &str,
    booked: &str,
    direction: Direction,
) -> ItemId {
    let mut item = booking(reference, amount);
    item.direction = direction;
    item.branch = BranchCode::parse("SH-001").expect("branch");
    item.booked_on = date(booked);
    item.value_date = date(booked);
    let id = ItemId::for_reference(&item.reference);
    h.run(
        &format!("{booked}T02:00:00Z"),
        "teller",
        id,
        ItemAction::Open(item),
    )
    .await;
    id
}

fn day(text: &str) -> NaiveDate {
    date(text)
}

async fn watch_list_names_thresholds_and_usual_times(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    // Ten keying errors resolved 58 hours after their booking date began: their usual time
    // is 59 hours (the bucket's upper bound), three days.
    for n in 0..10 {
        let id = book(
            &h,
            &format!("QUICK-{n}"),
            "5.00",
            "2026-06-01",
            Direction::Credit,
        )
        .await;
        let category = RootCauseCategory::OperationalError;
        h.run(
            "2026-06-01T03:00:00Z",
            "clerk",
            id,
            classify(category, "OP-KEYING", None),
        )
        .await;
        h.run("2026-06-03T02:00:00Z", "clerk", id, refund("5.00"))
            .await;
    }
    let soon = book(&h, "SOON", "1000.00", "2026-06-05", Direction::Credit).await;
    book(&h, "YOUNG", "1000.00", "2026-06-20", Direction::Credit).await;
    let raised = book(&h, "RAISED", "900.00", "2026-05-01", Direction::Credit).await;
    h.run(
        "2026-06-01T02:00:00Z",
        "lead",
        raised,
        ItemAction::Escalate {
            level: EscalationLevel::Department,
            reason: EscalationReason::Manual,
            note: None,
        },
    )
    .await;
    let overdue = book(&h, "OVERDUE", "100.00", "2026-05-25", Direction::Credit).await;
    let slow = book(&h, "SLOW", "50.00", "2026-06-24", Direction::Credit).await;
    h.run(
        "2026-06-24T03:00:00Z",
        "clerk",
        slow,
        classify(RootCauseCategory::OperationalError, "OP-KEYING", None),
    )
    .await;
    h.refresh().await;
    let ages = policy(vec![
        EscalationRule::after_days(30, EscalationLevel::TeamLead),
        EscalationRule::after_days(60, EscalationLevel::Department),
    ]);
    let query = WatchQuery::new(day("2026-07-01"), 7, 50).expect("query");
    let list = h
        .reports()
        .watch_list(&query, Some(&ages))
        .await
        .expect("watch list");
    assert_eq!(list.policy_version, Some(1));
    assert_eq!(list.groups.len(), 1);
    let cny = &list.groups[0];
    let order: Vec<&str> = cny.entries.iter().map(|e| e.reference.as_str()).collect();
    // Risk: 1000 × 26/30, 100 × 37/30, 50 × 7/3.
    assert_eq!(order, ["SOON", "OVERDUE", "SLOW"], "{cny:#?}");
    let risks: Vec<String> = cny.entries.iter().map(|e| e.risk.to_string()).collect();
    assert_eq!(risks, ["866.67", "123.33", "116.67"]);
    let first = &cny.entries[0];
    assert_eq!(first.item_id, soon.to_string());
    let WatchReason::Threshold(crossing) = &first.reasons[0] else {
        panic!("{first:?}");
    };
    assert_eq!((crossing.rule, crossing.in_days), (0, 4));
    assert_eq!(crossing.on, day("2026-07-05"));
    assert_eq!(cny.entries[1].item_id, overdue.to_string());
    assert_eq!(cny.entries[1].overdue_ratio, Decimal::new(123, 2));
    let slow_entry = &cny.entries[2];
    assert_eq!(
        slow_entry.reasons,
        [WatchReason::BeyondUsualTime {
            code: Some("OP-KEYING".to_owned()),
            p90_hours: 59,
            p90_days: 3,
            resolutions: 10,
        }]
    );

    let mut top = query.clone();
    top.limit = 2;
    let limited = h
        .reports()
        .watch_list(&top, Some(&ages))
        .await
        .expect("list");
    assert_eq!(limited.groups[0].listed, 3);
    assert_eq!(limited.groups[0].entries.len(), 2);
    let mut usd = query.clone();
    usd.currency = Some(Currency::parse("USD").expect("currency"));
    let none = h
        .reports()
        .watch_list(&usd, Some(&ages))
        .await
        .expect("list");
    assert!(none.groups.is_empty());
    let mut elsewhere = query.clone();
    elsewhere.branch = Some(BranchCode::parse("BJ-001").expect("branch"));
    let none = h
        .reports()
        .watch_list(&elsewhere, Some(&ages))
        .await
        .expect("list");
    assert!(none.groups.is_empty());
    // Without a policy only the usual times list items.
    let unruled = h.reports().watch_list(&query, None).await.expect("list");
    let only: Vec<&str> = unruled.groups[0]
        .entries
        .iter()
        .map(|e| e.reference.as_str())
        .collect();
    assert_eq!(only, ["SLOW"]);
    assert!(WatchQuery::new(day("2026-07-01"), 367, 50).is_err());
    assert!(WatchQuery::new(day("2026-07-01"), 7, 0).is_err());
}
on_both_backends!(
    watch_list_names_thresholds_and_usual_times,
    super::watch_list_names_thresholds_and_usual_times
);

async fn provisioning_ties_to_its_items_today_and_on_a_past_date(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let old = book(&h, "OLD", "100.01", "2025-01-01", Direction::Debit).await;
    book(&h, "HALF", "200.00", "2025-12-01", Direction::Debit).await;
    book(&h, "CREDIT", "80.00", "2026-01-10", Direction::Credit).await;
    book(&h, "YOUNG", "70.00", "2026-06-01", Direction::Debit).await;
    let gone = book(&h, "GONE", "10.00", "2025-01-01", Direction::Debit).await;
    let category = RootCauseCategory::CustomerCause;
    h.run(
        "2026-06-15T01:00:00Z",
        "clerk",
        gone,
        classify(category, "CUS-REFERENCE", None),
    )
    .await;
    h.run("2026-06-15T02:00:00Z", "clerk", gone, refund("10.00"))
        .await;
    h.run("2026-06-20T02:00:00Z", "clerk", old, clear("CLR-1", "0.01"))
        .await;
    h.refresh().await;
    let review = EscalationRule {
        direction: Some(Direction::Credit),
        action: Some(RegulatoryAction::Review {
            note: Note::parse("reconcile with the payer's bank").expect("note"),
        }),
        ..EscalationRule::after_days(90, EscalationLevel::Department)
    };
    let rules = policy(vec![
        provide(Direction::Debit, 180, 50),
        provide(Direction::Debit, 365, 100),
        review,
    ]);

    let today = h
        .reports()
        .provisioning(day("2026-07-01"), Some(&rules))
        .await
        .expect("report");
    let provisions: Vec<Decimal> = today
        .items
        .iter()
        .map(|i| {
            i.provision
                .as_ref()
                .map_or(Decimal::ZERO, |p| p.amount.amount())
        })
        .collect();
    assert!(provisions.windows(2).all(|w| w[0] >= w[1]), "largest first");
    let mut listed: Vec<(&str, String, Option<String>)> = today
        .items
        .iter()
        .map(|i| {
            (
                i.reference.as_str(),
                i.outstanding.to_string(),
                i.provision.as_ref().map(|p| p.amount.to_string()),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("CREDIT", "80.00 CNY".to_owned(), None),
            (
                "HALF",
                "200.00 CNY".to_owned(),
                Some("100.00 CNY".to_owned())
            ),
            (
                "OLD",
                "100.00 CNY".to_owned(),
                Some("100.00 CNY".to_owned())
            ),
        ]
    );
    assert_eq!(today.totals.len(), 1);
    let total = &today.totals[0];
    assert_eq!(
        (
            total.items,
            total.outstanding,
            total.provision,
            total.to_review
        ),
        (3, Decimal::new(38000, 2), Decimal::new(20000, 2), 1)
    );

    // A month earlier: GONE was still open and OLD owed its last cent.
    let then = h
        .reports()
        .provisioning(day("2026-06-01"), Some(&rules))
        .await
        .expect("report");
    let total = &then.totals[0];
    assert_eq!(
        (total.items, total.outstanding, total.provision),
        (4, Decimal::new(39001, 2), Decimal::new(21001, 2))
    );
    for report in [&today, &then] {
        let outstanding: Decimal = report.items.iter().map(|i| i.outstanding.amount()).sum();
        let provided: Decimal = report
            .items
            .iter()
            .filter_map(|i| i.provision.as_ref())
            .map(|p| p.amount.amount())
            .sum();
        assert_eq!(
            report.totals[0].outstanding, outstanding,
            "ties to its items"
        );
        assert_eq!(report.totals[0].provision, provided, "ties to its items");
    }
    let unregulated = h
        .reports()
        .provisioning(day("2026-07-01"), None)
        .await
        .expect("report");
    assert!(unregulated.items.is_empty() && unregulated.policy_version.is_none());
}
on_both_backends!(
    provisioning_ties_to_its_items_today_and_on_a_past_date,
    super::provisioning_ties_to_its_items_today_and_on_a_past_date
);

/// Reports within some branches show their rows only, every report the same way.
async fn reports_within_branches_show_only_their_rows(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    for (reference, branch) in [("SH-A", "SH-001"), ("SH-B", "SH-002"), ("BJ-A", "BJ-001")] {
        let mut item = booking(reference, "100.00");
        item.branch = BranchCode::parse(branch).expect("branch");
        item.direction = Direction::Debit;
        item.booked_on = day("2025-01-02");
        item.value_date = item.booked_on;
        let id = ItemId::for_reference(&item.reference);
        h.run("2025-01-02T02:00:00Z", "teller", id, ItemAction::Open(item))
            .await;
    }
    h.refresh().await;
    let shanghai = || {
        h.reports()
            .within(Some(vec!["SH-001".to_owned(), "SH-002".to_owned()]))
    };
    let branches_of = |rows: Vec<String>| {
        let mut rows = rows;
        rows.sort();
        rows.dedup();
        rows
    };
    let filter = suspense_read_models::ItemFilter {
        limit: 50,
        ..Default::default()
    };
    let items = shanghai().items(&filter).await.expect("items");
    assert_eq!(
        branches_of(items.into_iter().map(|r| r.branch).collect()),
        ["SH-001", "SH-002"]
    );
    let everywhere = h.reports().items(&filter).await.expect("items");
    assert_eq!(everywhere.len(), 3);
    let bj = everywhere
        .iter()
        .find(|r| r.branch == "BJ-001")
        .map(|r| r.item_id.clone())
        .unwrap_or_default();
    assert!(shanghai().item(&bj).await.expect("item").is_none());
    let aging = shanghai()
        .aging(day("2026-07-01"), &Default::default())
        .await
        .expect("aging");
    assert_eq!(
        branches_of(aging.rows.into_iter().map(|r| r.branch).collect()),
        ["SH-001", "SH-002"]
    );
    let balance = shanghai().open_balance().await.expect("balance");
    assert_eq!(balance[0].open_items, 2);
    assert_eq!(balance[0].outstanding, "200.00");
    let query = suspense_read_models::RootCauseQuery::new(
        suspense_read_models::PeriodKind::Year,
        day("2025-01-01"),
        day("2025-12-31"),
        None,
    )
    .expect("query");
    let report = shanghai().root_causes(&query).await.expect("report");
    assert_eq!(
        branches_of(
            report.periods[0]
                .rows
                .iter()
                .map(|r| r.key.branch.clone())
                .collect()
        ),
        ["SH-001", "SH-002"]
    );
    let beijing_only = suspense_read_models::RootCauseQuery::new(
        suspense_read_models::PeriodKind::Year,
        day("2025-01-01"),
        day("2025-12-31"),
        Some(BranchCode::parse("BJ-001").expect("branch")),
    )
    .expect("query");
    let outside = shanghai().root_causes(&beijing_only).await.expect("report");
    assert!(
        outside.periods[0].rows.is_empty(),
        "another branch asked for"
    );
    let rules = policy(vec![provide(Direction::Debit, 180, 50)]);
    let provisioned = shanghai()
        .provisioning(day("2026-07-01"), Some(&rules))
        .await
        .expect("report");
    assert_eq!(provisioned.items.len(), 2);
    let watched = shanghai()
        .watch_list(
            &WatchQuery::new(day("2026-07-01"), 7, 50).expect("query"),
            Some(&rules),
        )
        .await
        .expect("list");
    assert_eq!(watched.groups[0].entries.len(), 2);
    let nowhere = h.reports().within(Some(Vec::new()));
    assert!(nowhere.items(&filter).await.expect("items").is_empty());
}
on_both_backends!(
    reports_within_branches_show_only_their_rows,
    super::reports_within_branches_show_only_their_rows
);

/// The worklist in order of risk: the highest escalation level first, then the oldest, in
/// pages that follow one another without gaps or repeats; the escalated open items counted
/// per level, of one branch when asked.
async fn register_pages_in_order_of_risk_and_counts_escalated_items(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let mut ids = Vec::new();
    for n in 0..12u32 {
        let mut item = booking(&format!("RISK-{n:02}"), "100.00");
        item.branch =
            BranchCode::parse(if n % 3 == 0 { "BJ-001" } else { "SH-001" }).expect("branch");
        item.booked_on = day(&format!("2026-03-{:02}", 1 + (n * 7) % 28));
        item.value_date = item.booked_on;
        let id = ItemId::for_reference(&item.reference);
        h.run("2026-03-29T02:00:00Z", "teller", id, ItemAction::Open(item))
            .await;
        ids.push(id);
    }
    for (n, level) in [
        (4, EscalationLevel::TeamLead),
        (6, EscalationLevel::Management),
        (9, EscalationLevel::TeamLead),
    ] {
        h.run(
            "2026-03-30T02:00:00Z",
            "lead",
            ids[n],
            ItemAction::Escalate {
                level,
                reason: EscalationReason::Aging,
                note: None,
            },
        )
        .await;
    }
    h.refresh().await;
    let mut filter = suspense_read_models::ItemFilter {
        status: Some("open".to_owned()),
        order: suspense_read_models::ItemOrder::RiskFirst,
        limit: 5,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = h.reports().items(&filter).await.expect("page");
        let Some(last) = page.last() else { break };
        filter.after = Some(last.item_id.clone());
        filter.after_booked_on = Some(last.booked_on);
        filter.after_escalation_level = Some(last.escalation_level);
        seen.extend(
            page.into_iter()
                .map(|r| (r.escalation_level, r.booked_on, r.item_id)),
        );
    }
    assert_eq!(seen.len(), 12, "each item once: {seen:?}");
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    assert_eq!(seen, expected);
    assert_eq!(seen[0].2, ids[6].to_string(), "management first");

    assert_eq!(
        h.reports().escalated_open_items(None).await.expect("count"),
        vec![(3, 1), (1, 2)]
    );
    // Items 6 and 9 are Beijing's.
    assert_eq!(
        h.reports()
            .escalated_open_items(Some("BJ-001"))
            .await
            .expect("count"),
        vec![(3, 1), (1, 1)]
    );
}
on_both_backends!(
    register_pages_in_order_of_risk_and_counts_escalated_items,
    super::register_pages_in_order_of_risk_and_counts_escalated_items
);
