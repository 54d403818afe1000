//! The escalation sweep through the embedding library, on both backends: it raises each due
//! item once, as `system` with the policy version in the metadata; a second sweep writes
//! nothing; a person's escalation and the sweep compose; racing sweeps never escalate twice.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use suspense::domain::policy::{EscalationRule, PublishPolicy, Trigger};
use suspense::domain::{
    Currency, Decimal, EscalationLevel, EscalationReason, FixedClock, ItemAction, ItemId, Note,
};
use suspense::{Actor, Suspense};
use suspense_testkit::{booking, date, on_both_backends, user, Backend, TestDatabase};

fn age(days: u32, raise_to: EscalationLevel) -> EscalationRule {
    EscalationRule::after_days(days, raise_to)
}

fn policy() -> PublishPolicy {
    let large = EscalationRule {
        currency: Some(Currency::parse("CNY").unwrap_or_else(|e| panic!("{e}"))),
        trigger: Trigger::AmountAtLeast {
            amount: Decimal::new(1_000_000, 0),
        },
        ..age(1, EscalationLevel::Management)
    };
    PublishPolicy {
        effective_from: date("2026-01-01"),
        reason: Note::parse("board decision").unwrap_or_else(|e| panic!("{e}")),
        rules: vec![
            age(30, EscalationLevel::TeamLead),
            age(60, EscalationLevel::Department),
            age(90, EscalationLevel::Management),
            large,
        ],
        approval_bands: Vec::new(),
        reminders: Vec::new(),
    }
}

async fn ledger(db: &TestDatabase) -> Suspense {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 30, 9, 0, 0)
        .single()
        .unwrap_or_default();
    Suspense::builder(&db.url())
        .clock(Arc::new(FixedClock(now)))
        .conflict_attempts(64)
        .open()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn open(ledger: &Suspense, reference: &str, amount: &str, booked: &str) -> ItemId {
    let mut item = booking(reference, amount);
    item.booked_on = date(booked);
    item.value_date = item.booked_on;
    ledger
        .open_item(&Actor::new(user("teller")), item)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .item_id
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

async fn escalations(
    ledger: &Suspense,
    id: ItemId,
) -> Vec<(EscalationLevel, EscalationReason, String, Option<String>)> {
    ledger
        .history(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|e| match e.event {
            suspense::domain::SuspenseItemEvent::Escalated {
                level, reason, by, ..
            } => Some((level, reason, by.to_string(), e.metadata.policy_version)),
            _ => None,
        })
        .collect()
}

async fn sweep_escalates_each_due_item_once(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let ledger = ledger(&db).await;
    // Nothing happens before a policy is published.
    let nothing = ledger.sweep(at()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nothing.policy_version, None);
    let young = open(&ledger, "S-YOUNG", "10.00", "2026-06-20").await;
    let month = open(&ledger, "S-40", "10.00", "2026-05-21").await;
    let quarter = open(&ledger, "S-100", "10.00", "2026-03-22").await;
    let large = open(&ledger, "S-LARGE", "2000000.00", "2026-06-29").await;
    let published = ledger
        .publish_policy(&Actor::new(user("risk-officer")), policy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(published.version, 1);

    let first = ledger.sweep(at()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.policy_version, Some(1));
    assert_eq!(first.escalated.len(), 3, "{first:?}");
    assert!(escalations(&ledger, young).await.is_empty());
    assert_eq!(
        escalations(&ledger, month).await,
        [(
            EscalationLevel::TeamLead,
            EscalationReason::Aging,
            "system".to_owned(),
            Some("1".to_owned())
        )]
    );
    assert_eq!(
        escalations(&ledger, quarter).await[0].0,
        EscalationLevel::Management
    );
    assert_eq!(
        escalations(&ledger, large).await[0].1,
        EscalationReason::LargeAmount
    );

    // The same instant again: nothing more.
    let count = || async {
        let mut n = 0;
        for id in [young, month, quarter, large] {
            n += ledger
                .history(id)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .len();
        }
        n
    };
    let before = count().await;
    let again = ledger.sweep(at()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(again.escalated.is_empty(), "{again:?}");
    assert_eq!(count().await, before, "nothing written");

    // A person raises the young item to management; later sweeps never lower it, and the
    // forty-day item rises once more when it passes sixty days.
    ledger
        .execute(
            &Actor::new(user("lead")),
            young,
            ItemAction::Escalate {
                level: EscalationLevel::Management,
                reason: EscalationReason::Manual,
                note: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let later = Utc
        .with_ymd_and_hms(2026, 7, 25, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let next = ledger.sweep(later).await.unwrap_or_else(|e| panic!("{e}"));
    let raised: Vec<ItemId> = next.escalated.iter().map(|(id, _)| *id).collect();
    assert_eq!(raised, [month]);
    assert_eq!(escalations(&ledger, young).await.len(), 1);
    assert_eq!(
        escalations(&ledger, month).await[1].0,
        EscalationLevel::Department
    );
}
on_both_backends!(
    sweep_escalates_each_due_item_once,
    super::sweep_escalates_each_due_item_once
);

/// Two ledgers (two service instances) sweeping one database at once write each escalation
/// once.
async fn sweeps_racing_never_escalate_twice(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let first = Arc::new(ledger(&db).await);
    let second = Arc::new(ledger(&db).await);
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(open(&first, &format!("R-{n}"), "10.00", "2026-03-01").await);
    }
    first
        .publish_policy(&Actor::new(user("risk-officer")), policy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = tokio::join!(first.sweep(at()), second.sweep(at()));
    let written = a.unwrap_or_else(|e| panic!("{e}")).escalated.len()
        + b.unwrap_or_else(|e| panic!("{e}")).escalated.len();
    assert_eq!(
        written,
        ids.len(),
        "each item escalated by one of the sweeps"
    );
    for id in ids {
        assert_eq!(escalations(&first, id).await.len(), 1);
    }
}
on_both_backends!(
    sweeps_racing_never_escalate_twice,
    super::sweeps_racing_never_escalate_twice
);

async fn sweep_policy_refused_at_publication_writes_nothing(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let ledger = ledger(&db).await;
    let mut bad = policy();
    bad.rules.push(age(60, EscalationLevel::TeamLead));
    let refused = ledger
        .publish_policy(&Actor::new(user("risk-officer")), bad)
        .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().starts_with("rules[4]")),
        "{refused:?}"
    );
    assert_eq!(
        ledger.log().head().await.unwrap_or_else(|e| panic!("{e}")),
        0
    );
    assert!(ledger
        .policies()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .versions
        .is_empty());
}
on_both_backends!(
    sweep_policy_refused_at_publication_writes_nothing,
    super::sweep_policy_refused_at_publication_writes_nothing
);

fn examples(name: &str) -> String {
    format!("{}/../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The CLI publishes the shipped example policies and sweeps on chosen dates; each date is
/// judged by the version in force then.
#[tokio::test]
async fn sweep_cli_publishes_the_example_policies_and_sweeps_by_date() {
    let app = suspense_tests::app::spawn_app(Backend::Sqlite).await;
    // Booked 2026-03-02 (the app's booking), 10.00 CNY.
    let id = app.open_item("CLI-SWEEP", "10.00").await;
    let none = app.cli(&["sweep", "--as-of", "2026-06-30"]);
    assert!(
        text(&none.stdout).starts_with("no escalation policy in force"),
        "{none:?}"
    );
    let published = app.cli(&[
        "policy",
        "publish",
        "--file",
        &examples("policy.toml"),
        "--as",
        "sam",
    ]);
    assert!(published.status.success(), "{published:?}");
    assert!(text(&published.stdout).starts_with("published escalation policy version 1"));
    let early = app.cli(&["sweep", "--as-of", "2026-03-20"]);
    assert!(text(&early.stdout).contains("0 escalated"), "{early:?}");
    let later = app.cli(&["sweep", "--as-of", "2026-06-30"]);
    let later = text(&later.stdout);
    assert!(later.contains("1 escalated"), "{later}");
    assert!(
        later.contains(&format!("escalated {id} to management (aging, rule 2)")),
        "{later}"
    );
    let rbi = app.cli(&[
        "policy",
        "publish",
        "--file",
        &examples("policy-rbi.toml"),
        "--as",
        "sam",
    ]);
    assert!(rbi.status.success(), "{rbi:?}");
    let shown: serde_json::Value =
        serde_json::from_slice(&app.cli(&["policy", "show"]).stdout).unwrap_or_default();
    assert_eq!(shown["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(shown["in_force"], 2);
    assert_eq!(
        shown["versions"][1]["rules"][3]["action"]["kind"],
        "provision"
    );
    // A version in force earlier than the latest is refused, naming the field.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad = dir.path().join("bad.toml");
    let backwards = std::fs::read_to_string(examples("policy.toml"))
        .unwrap_or_default()
        .replace("age_days = 60", "age_days = 20");
    std::fs::write(&bad, backwards).unwrap_or_else(|e| panic!("{e}"));
    let refused = app.cli(&["policy", "publish", "--file", &bad.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("rules[1]"), "{refused:?}");
}

/// Over HTTP: supervisors publish and sweep, reporters and auditors read, a bad rule is named.
#[tokio::test]
async fn sweep_and_policy_over_http() {
    use serde_json::json;
    let app = suspense_tests::app::spawn_app(Backend::Postgres).await;
    let id = app.open_item("HTTP-SWEEP", "10.00").await;
    let policy = json!({
        "effective_from": "2026-01-01",
        "reason": "default clocks",
        "rules": [
            {"age_days": 30, "raise_to": "team_lead"},
            {"age_days": 60, "raise_to": "department"}
        ]
    });
    assert_eq!(
        app.post("/v1/policy", "rita", policy.clone())
            .await
            .status(),
        403
    );
    let mut bad = policy.clone();
    bad["rules"][1]["raise_to"] = json!("board");
    let refused = app.post("/v1/policy", "sam", bad).await;
    assert_eq!(refused.status(), 422);
    let refused: serde_json::Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["field"], "rules[1].raise_to");
    let mut contradictory = policy.clone();
    contradictory["rules"][1]["age_days"] = json!(30);
    let refused: serde_json::Value = app
        .post("/v1/policy", "sam", contradictory)
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(refused["error"]["field"], "rules[1]");
    assert_eq!(app.post("/v1/policy", "sam", policy).await.status(), 201);
    let shown: serde_json::Value = app
        .get("/v1/policy", "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(shown["in_force"], 1);

    assert_eq!(app.post("/v1/sweep", "rita", json!({})).await.status(), 403);
    let swept = app
        .post("/v1/sweep", "sam", json!({"as_of": "2026-04-15"}))
        .await;
    assert_eq!(swept.status(), 200);
    let swept: serde_json::Value = swept.json().await.unwrap_or_default();
    assert_eq!(swept["policy_version"], 1);
    assert_eq!(swept["escalated"][0]["item_id"], id);
    assert_eq!(swept["escalated"][0]["level"], "team_lead");
    let again: serde_json::Value = app
        .post("/v1/sweep", "sam", json!({"as_of": "2026-04-15"}))
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(again["escalated"].as_array().map(Vec::len), Some(0));
    let events: serde_json::Value = app
        .get(&format!("/v1/items/{id}/events"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    let escalated = events
        .as_array()
        .and_then(|e| e.iter().find(|e| e["event_type"] == "Escalated"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(escalated["metadata"]["actor"], "system");
    assert_eq!(escalated["metadata"]["policy_version"], "1");
    let bad_date = app
        .post("/v1/sweep", "sam", json!({"as_of": "someday"}))
        .await;
    assert_eq!(bad_date.status(), 422);
}

/// The service sweeps on its own schedule, as the business clock moves.
#[tokio::test]
async fn sweep_runs_on_the_service_schedule() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let app = suspense_tests::app::spawn_app_configured(db, "sweep_interval_secs = 1").await;
    let id = app.open_item("SCHEDULED", "10.00").await;
    let published = app.cli(&["policy", "publish", "--file", &examples("policy.toml")]);
    assert!(published.status.success(), "{published:?}");
    let mut escalated = false;
    // Up to a minute: a machine busy with other tests may be slow to start the first sweep.
    for _ in 0..240 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let events: serde_json::Value = app
            .get(&format!("/v1/items/{id}/events"), "ada")
            .await
            .json()
            .await
            .unwrap_or_default();
        escalated = events
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["event_type"] == "Escalated"));
        if escalated {
            break;
        }
    }
    assert!(
        escalated,
        "the scheduled sweep escalated the item booked months ago"
    );
}

/// The scheduled sweep follows the business clock it is given: nothing while no rule is due,
/// the escalation once the clock passes the threshold.
async fn sweep_schedule_follows_an_injected_clock(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let clock = suspense_testkit::TestClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    let ledger = Arc::new(
        Suspense::builder(&db.url())
            .clock(clock.clone())
            .open()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let id = open(&ledger, "CLOCKED", "10.00", "2026-03-01").await;
    ledger
        .publish_policy(&Actor::new(user("risk")), policy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let background = ledger
        .spawn_background(std::time::Duration::from_millis(50))
        .sweeping(Arc::clone(&ledger), std::time::Duration::from_millis(50));
    // Several sweeps run on 2026-03-10, nine days after booking: nothing is due.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(escalations(&ledger, id).await.is_empty());
    clock.set(
        Utc.with_ymd_and_hms(2026, 4, 2, 9, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    let mut raised = Vec::new();
    for _ in 0..240 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        raised = escalations(&ledger, id).await;
        if !raised.is_empty() {
            break;
        }
    }
    background.stop();
    assert_eq!(
        raised,
        [(
            EscalationLevel::TeamLead,
            EscalationReason::Aging,
            "system".to_owned(),
            Some("1".to_owned())
        )],
        "raised once, at 32 days, by the sweep"
    );
}
on_both_backends!(
    sweep_schedule_follows_an_injected_clock,
    super::sweep_schedule_follows_an_injected_clock
);

/// The sweep reminds customers as the policy's reminder rules say: only items with a customer
/// and a matching cause, once per reminder, the latest of several overdue only, and never a
/// resolved item; as `system`, with the policy version in the metadata.
async fn sweep_reminds_customers_once_per_reminder(backend: Backend) {
    use suspense::domain::policy::ReminderRule;
    use suspense::domain::{CustomerReference, RootCauseCategory, RootCauseCode};
    let db = TestDatabase::create(backend).await;
    let ledger = ledger(&db).await;
    let mut command = policy();
    command.reminders = vec![ReminderRule {
        category: Some(RootCauseCategory::CustomerCause),
        branches: Vec::new(),
        days_after_booking: vec![3, 10],
    }];
    ledger
        .publish_policy(&Actor::new(user("risk")), command)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = Actor::new(user("ops"));
    let customer = |reference: &str, booked: &str| {
        let mut item = booking(reference, "100.00");
        item.booked_on = date(booked);
        item.value_date = item.booked_on;
        item.customer_impact.customer =
            Some(CustomerReference::parse("C-0042").unwrap_or_else(|e| panic!("{e}")));
        item
    };
    let classify = ItemAction::Classify {
        category: RootCauseCategory::CustomerCause,
        code: RootCauseCode::parse("CUS-REFERENCE").unwrap_or_else(|e| panic!("{e}")),
        reason: None,
        attribution: Default::default(),
    };
    let mut ids = Vec::new();
    for (reference, booked) in [("REM-1", "2026-06-25"), ("REM-OLD", "2026-05-01")] {
        let id = ledger
            .open_item(&ops, customer(reference, booked))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .item_id;
        ledger
            .execute(&ops, id, classify.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(id);
    }
    // No customer, or another cause: never reminded.
    open(&ledger, "REM-ANON", "100.00", "2026-05-01").await;
    let other = ledger
        .open_item(&ops, customer("REM-OTHER", "2026-05-01"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .item_id;

    let swept = ledger.sweep(at()).await.unwrap_or_else(|e| panic!("{e}"));
    let reminded: Vec<(ItemId, u32)> = swept.reminded.iter().map(|(id, d)| (*id, d.day)).collect();
    let mut expected = vec![(ids[0], 3), (ids[1], 10)];
    expected.sort();
    assert_eq!(reminded, expected, "the latest overdue reminder only");
    assert!(!reminded.iter().any(|(id, _)| *id == other));
    let again = ledger.sweep(at()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(again.reminded.is_empty(), "{again:?}");

    let history = ledger
        .history(ids[0])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let due = history
        .iter()
        .find(|e| e.event.name() == "ReminderDue")
        .unwrap_or_else(|| panic!("a ReminderDue event"));
    assert_eq!(due.event.by().as_str(), "system");
    assert_eq!(due.metadata.policy_version, Some("1".to_owned()));

    // Resolved before day 10: not reminded again.
    let outstanding = ledger
        .item(ids[0])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the item"))
        .state
        .outstanding();
    ledger
        .execute(
            &ops,
            ids[0],
            ItemAction::Resolve(suspense::domain::ResolutionRequest {
                method: suspense::domain::ResolutionMethod::Refunded,
                amount: outstanding,
                posted_to: None,
                note: None,
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let later = Utc
        .with_ymd_and_hms(2026, 7, 20, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let later = ledger.sweep(later).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(later.reminded.is_empty(), "{later:?}");
}
on_both_backends!(
    sweep_reminds_customers_once_per_reminder,
    super::sweep_reminds_customers_once_per_reminder
);
