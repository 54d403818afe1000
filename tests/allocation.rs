//! A clearing allocated across items (多挂一销, 多挂多销) through the embedding library, on
//! both backends: all or none, a re-send writes nothing, other figures under the reference
//! are refused, racing allocations write once, and the open balance ties to the register.

use std::sync::Arc;

use suspense::domain::allocation::{AllocatedShare, ClearingAllocation};
use suspense::domain::{ItemError, ItemId, Money, Reference};
use suspense::{Actor, Error, Suspense};
use suspense_testkit::{booking, on_both_backends, user, Backend, TestDatabase};

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").unwrap_or_else(|e| panic!("{e}"))
}

fn allocation(reference: &str, amount: &str, shares: &[(ItemId, &str)]) -> ClearingAllocation {
    ClearingAllocation::new(
        Reference::parse(reference).unwrap_or_else(|e| panic!("{e}")),
        cny(amount),
        shares
            .iter()
            .map(|(item_id, amount)| AllocatedShare {
                item_id: *item_id,
                amount: cny(amount),
            })
            .collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn outstanding(ledger: &Suspense, id: ItemId) -> Money {
    ledger
        .item(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|item| item.state.outstanding())
        .unwrap_or_else(|| panic!("no item"))
}

async fn allocation_clears_several_items_all_or_none(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let ledger = Arc::new(
        Suspense::open(&db.url())
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let ops = Actor::new(user("ops"));
    let mut ids = Vec::new();
    for (reference, amount) in [("A", "100.00"), ("B", "50.00"), ("C", "10.00")] {
        let opened = ledger
            .open_item(&ops, booking(reference, amount))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(opened.item_id);
    }
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    let pay = allocation("PAY-1", "120.00", &[(a, "80.00"), (b, "40.00")]);
    let written = ledger
        .allocate_clearing(&ops, pay.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_default();
    assert_eq!(written.len(), 2);
    assert_eq!(outstanding(&ledger, a).await, cny("20.00"));
    assert_eq!(outstanding(&ledger, b).await, cny("10.00"));
    let head = ledger
        .log()
        .settle(std::time::Duration::from_secs(30))
        .await;
    let again = ledger.allocate_clearing(&ops, pay.clone()).await;
    assert!(
        matches!(again, Ok(None)),
        "the same allocation writes nothing"
    );
    assert_eq!(
        ledger
            .log()
            .settle(std::time::Duration::from_secs(30))
            .await
            .ok(),
        head.ok()
    );
    let other = allocation("PAY-1", "120.00", &[(a, "70.00"), (b, "50.00")]);
    assert!(matches!(
        ledger.allocate_clearing(&ops, other).await,
        Err(Error::Rejected(ItemError::ClearingReferenceConflict { .. }))
    ));
    assert_eq!(
        ledger
            .clearing_allocation(&pay.clearing_reference)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(pay)
    );

    // A's share is more than it owes: C's share is not written either.
    let too_much = allocation("PAY-2", "35.00", &[(a, "30.00"), (c, "5.00")]);
    assert!(matches!(
        ledger.allocate_clearing(&ops, too_much).await,
        Err(Error::ShareRejected {
            index: 0,
            error: ItemError::ClearingExceedsOutstanding { .. },
            ..
        })
    ));
    assert_eq!(outstanding(&ledger, c).await, cny("10.00"));
    assert_eq!(ledger.history(c).await.map(|h| h.len()).ok(), Some(1));

    // Many-to-many: a second clearing over the same items.
    let second = allocation("PAY-3", "20.00", &[(a, "10.00"), (b, "10.00")]);
    assert!(ledger
        .allocate_clearing(&ops, second)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_some());
    assert_eq!(outstanding(&ledger, b).await, cny("0.00"));

    // Two identical allocations racing: one writes, the other finds it written.
    let race = allocation("PAY-4", "2.00", &[(a, "1.00"), (c, "1.00")]);
    let (first, second) = tokio::join!(
        ledger.allocate_clearing(&ops, race.clone()),
        ledger.allocate_clearing(&ops, race.clone())
    );
    let outcomes = [first, second];
    assert_eq!(
        outcomes.iter().filter(|o| matches!(o, Ok(Some(_)))).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| matches!(o, Ok(None))).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outstanding(&ledger, c).await, cny("9.00"));

    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let balance = ledger
        .reports()
        .open_balance()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let register = ledger
        .reports()
        .register_balance()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(balance, register, "the open balance ties to the register");
    assert_eq!(balance[0].outstanding, "18.00", "A 9.00 and C 9.00");
}
on_both_backends!(
    allocation_clears_several_items_all_or_none,
    super::allocation_clears_several_items_all_or_none
);

/// `POST /v1/clearings`: operators allocate a clearing; a re-send answers 200 and writes
/// nothing; bad figures are named; other figures under the reference are a conflict.
#[tokio::test]
async fn allocation_over_http() {
    use serde_json::{json, Value};
    let app = suspense_tests::app::spawn_app(Backend::Sqlite).await;
    let a = app.open_item("HTTP-A", "100.00").await;
    let b = app.open_item("HTTP-B", "50.00").await;
    let body = json!({
        "clearing_reference": "PAY-HTTP",
        "amount": "120.00",
        "currency": "CNY",
        "shares": [{"item_id": a, "amount": "80.00"}, {"item_id": b, "amount": "40.00"}]
    });
    assert_eq!(
        app.post("/v1/clearings", "rita", body.clone())
            .await
            .status(),
        403
    );
    let mut unbalanced = body.clone();
    unbalanced["shares"][1]["amount"] = json!("30.00");
    let refused: Value = app
        .post("/v1/clearings", "olivia", unbalanced)
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(refused["error"]["field"], "shares");
    let mut bad_id = body.clone();
    bad_id["shares"][1]["item_id"] = json!("not-a-uuid");
    let mut too_many = body.clone();
    too_many["amount"] = json!("10.01");
    too_many["shares"] = (0..1001)
        .map(|i| json!({"item_id": format!("00000000-0000-4000-8000-{i:012}"), "amount": "0.01"}))
        .collect();
    let mut mixed = body.clone();
    mixed["currency"] = json!("USD");
    let usd = app
        .post(
            "/v1/items",
            "olivia",
            json!({
                "source_system": "CORE", "reference": "HTTP-USD", "account": "2241-01",
                "branch": "SH-001", "channel": "online_banking", "amount": "40.00",
                "currency": "USD", "direction": "credit", "booked_on": "2026-03-02",
                "description": "a dollar item"
            }),
        )
        .await;
    let usd: Value = usd.json().await.unwrap_or_default();
    let mut other_currency = body.clone();
    other_currency["shares"][1]["item_id"] = usd["id"].clone();
    let head = app.log_head().await;
    for (bad, status, field) in [
        (bad_id, 422, "shares[1].item_id"),
        (too_many, 422, "shares"),
        (mixed, 422, "shares[0].amount"),
        (other_currency, 422, "shares[1].amount"),
    ] {
        let response = app.post("/v1/clearings", "olivia", bad).await;
        assert_eq!(response.status(), status);
        let refused: Value = response.json().await.unwrap_or_default();
        assert_eq!(refused["error"]["field"], field, "{refused}");
    }
    assert_eq!(app.log_head().await, head, "bad allocations write nothing");
    let written = app.post("/v1/clearings", "olivia", body.clone()).await;
    assert_eq!(written.status(), 201);
    let written: Value = written.json().await.unwrap_or_default();
    assert_eq!(written["recorded"], true);
    let head = app.log_head().await;
    let again = app.post("/v1/clearings", "oscar", body.clone()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.log_head().await, head, "nothing written");
    let mut other = body;
    other["shares"][0]["amount"] = json!("70.00");
    other["shares"][1]["amount"] = json!("50.00");
    let conflict = app.post("/v1/clearings", "olivia", other).await;
    assert_eq!(conflict.status(), 422);
    let conflict: Value = conflict.json().await.unwrap_or_default();
    assert_eq!(conflict["error"]["code"], "clearing_reference_conflict");
    let item: Value = app
        .get(&format!("/v1/items/{a}"), "olivia")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(item["outstanding"]["amount"], "20.00");
}

fn clearings_file(rows: &[&str]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    writeln!(
        file,
        "clearing_reference,clearing_amount,currency,source_system,reference,amount"
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for row in rows {
        writeln!(file, "{row}").unwrap_or_else(|e| panic!("{e}"));
    }
    file
}

/// `suspense import clearings FILE`: the whole file is checked first, against the ledger and
/// the clearings before it in the file; bad rows are named and nothing is written; a re-run
/// writes nothing twice; each item's history shows its siblings.
async fn allocation_import_from_csv(backend: Backend) {
    use serde_json::Value;
    let app = suspense_tests::app::spawn_app(backend).await;
    let a = app.open_item("CSV-A", "100.00").await;
    let b = app.open_item("CSV-B", "50.00").await;
    app.open_item("CSV-C", "10.00").await;
    let head = app.log_head().await;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    // Two clearings over A that together exceed what it owes, an unknown item, figures that
    // differ within one clearing: every bad row is named and nothing is written.
    let bad = clearings_file(&[
        "PAY-1,120.00,CNY,CORE,CSV-A,80.00",
        "PAY-1,120.00,CNY,CORE,CSV-B,40.00",
        "PAY-2,30.00,CNY,CORE,CSV-A,25.00",
        "PAY-2,30.00,CNY,CORE,CSV-C,5.00",
        "PAY-3,7.00,CNY,CORE,CSV-NONE,7.00",
        "PAY-4,9.00,CNY,CORE,CSV-C,4.00",
        "PAY-4,9.00,USD,CORE,CSV-B,5.00",
    ]);
    let output = app.cli(&["import", "clearings", &bad.path().display().to_string()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "3 bad row(s); nothing was imported",
        "line 4: amount: CORE/CSV-A: ",
        "line 6: reference: CORE/CSV-NONE: ",
        "line 8: currency: 'USD' differs from 'CNY' on line 7",
    ] {
        assert!(
            stderr.contains(expected),
            "missing «{expected}» in:\n{stderr}"
        );
    }
    assert_eq!(app.log_head().await, head, "nothing written");

    let good = clearings_file(&[
        "PAY-1,120.00,CNY,CORE,CSV-A,80.00",
        "PAY-1,120.00,CNY,CORE,CSV-B,40.00",
        "PAY-2,25.00,CNY,CORE,CSV-A,20.00",
        "PAY-2,25.00,CNY,CORE,CSV-C,5.00",
    ]);
    let path = good.path().display().to_string();
    let output = app.cli(&["import", "clearings", &path]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout)
            .contains("allocated 2 clearing(s) over 4 item share(s); 0 were already recorded"),
        "{}",
        text(&output.stdout)
    );
    let head = app.log_head().await;
    let again = app.cli(&["import", "clearings", &path]);
    assert!(
        text(&again.stdout).contains("allocated 0 clearing(s) over 0 item share(s); 2 were"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(app.log_head().await, head, "a re-run writes nothing");

    let item: Value = app
        .get(&format!("/v1/items/{a}"), "olivia")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(item["outstanding"]["amount"], "0.00");
    let history: Value = app
        .get(&format!("/v1/items/{b}/events"), "sam")
        .await
        .json()
        .await
        .unwrap_or_default();
    let clearing = history
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .find(|e| e["event_type"] == "ClearingRecorded")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(clearing["allocation"]["clearing_reference"], "PAY-1");
    assert_eq!(clearing["allocation"]["amount"], "120.00");
    assert_eq!(clearing["allocation"]["shares"][0]["item_id"], a.as_str());
    assert_eq!(clearing["allocation"]["shares"][1]["item_id"], b.as_str());
    let shown = app.cli(&["items", "show", &b]);
    assert!(
        text(&shown.stdout).contains("allocation PAY-1 of 120.00 CNY across 2 item(s)"),
        "{}",
        text(&shown.stdout)
    );
}
on_both_backends!(
    allocation_import_from_csv,
    super::allocation_import_from_csv
);

/// Random allocations over a handful of items, some more than an item owes, some re-sent.
#[derive(Debug, Clone)]
struct AllocationCase {
    /// Each item's booked amount, in fen.
    items: Vec<i64>,
    /// Each allocation's shares: (item index, share in fen); `true` re-sends the one before.
    allocations: Vec<(Vec<(usize, i64)>, bool)>,
}

fn allocation_case() -> impl proptest::strategy::Strategy<Value = AllocationCase> {
    use proptest::prelude::*;
    (2usize..6)
        .prop_flat_map(|count| {
            let items = proptest::collection::vec(1i64..100_000, count);
            let shares = proptest::collection::vec((0..count, 1i64..60_000), 1..4);
            let allocations = proptest::collection::vec((shares, any::<bool>()), 1..6);
            (items, allocations)
        })
        .prop_map(|(items, allocations)| AllocationCase { items, allocations })
}

fn fen(minor: i64) -> Money {
    Money::from_minor_units(minor, cny("0").currency()).unwrap_or_else(|e| panic!("{e}"))
}

/// One case: the register, a fold of each item's log and a model of the figures agree after
/// every allocation; a refused allocation changes nothing on any item.
async fn check_allocation_case(ledger: &Suspense, case_number: usize, case: &AllocationCase) {
    use std::collections::BTreeMap;
    let ops = Actor::new(user("ops"));
    let mut ids = Vec::new();
    let mut owed: Vec<i64> = case.items.clone();
    for (i, minor) in case.items.iter().enumerate() {
        let amount = fen(*minor).amount().to_string();
        let opened = ledger
            .open_item(&ops, booking(&format!("P{case_number}-{i}"), &amount))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(opened.item_id);
    }
    let mut previous: Option<ClearingAllocation> = None;
    for (n, (shares, resend)) in case.allocations.iter().enumerate() {
        // Merge one item's shares within an allocation: an item appears once per allocation.
        let mut merged: BTreeMap<usize, i64> = BTreeMap::new();
        for (item, minor) in shares {
            *merged.entry(*item).or_default() += minor;
        }
        let pay = match (&previous, resend) {
            (Some(previous), true) => previous.clone(),
            _ => {
                let total: i64 = merged.values().sum();
                ClearingAllocation::new(
                    Reference::parse(&format!("PAY-P{case_number}-{n}"))
                        .unwrap_or_else(|e| panic!("{e}")),
                    fen(total),
                    merged
                        .iter()
                        .map(|(item, minor)| AllocatedShare {
                            item_id: ids[*item],
                            amount: fen(*minor),
                        })
                        .collect(),
                )
                .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        let lengths = histories(ledger, &ids).await;
        let fits = pay.shares.iter().all(|share| {
            let index = ids.iter().position(|id| *id == share.item_id).unwrap_or(0);
            share.amount.minor_units() <= owed[index]
        });
        let outcome = ledger.allocate_clearing(&ops, pay.clone()).await;
        match outcome {
            Ok(Some(written)) => {
                assert!(fits, "recorded although a share exceeds what its item owes");
                assert_eq!(written.len(), pay.shares.len());
                for share in &pay.shares {
                    let index = ids.iter().position(|id| *id == share.item_id).unwrap_or(0);
                    owed[index] -= share.amount.minor_units();
                }
                previous = Some(pay);
            }
            Ok(None) => {
                assert_eq!(
                    previous.as_ref(),
                    Some(&pay),
                    "only a re-send writes nothing"
                );
                assert_eq!(histories(ledger, &ids).await, lengths);
            }
            Err(Error::ShareRejected {
                error: ItemError::ClearingExceedsOutstanding { .. },
                ..
            }) => {
                assert!(!fits, "refused although every share fits");
                assert_eq!(
                    histories(ledger, &ids).await,
                    lengths,
                    "refused writes nothing"
                );
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    for (index, id) in ids.iter().enumerate() {
        let folded = outstanding(ledger, *id).await.minor_units();
        let row = ledger
            .reports()
            .item(&id.to_string())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{id} is not in the register"));
        assert_eq!(
            (row.outstanding_minor, folded),
            (owed[index], owed[index]),
            "item {index}: register, fold of the log, model"
        );
    }
    assert_eq!(
        ledger.reports().open_balance().await.ok(),
        ledger.reports().register_balance().await.ok(),
        "the open balance ties to the register"
    );
}

async fn histories(ledger: &Suspense, ids: &[ItemId]) -> Vec<usize> {
    let mut lengths = Vec::with_capacity(ids.len());
    for id in ids {
        lengths.push(ledger.history(*id).await.map(|h| h.len()).unwrap_or(0));
    }
    lengths
}

fn allocation_property(backend: Backend, cases: u32) {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let db = runtime.block_on(TestDatabase::create(backend));
    let ledger = runtime
        .block_on(Suspense::open(&db.url()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut runner = TestRunner::new(Config::with_cases(cases));
    // Each case works on its own items, so cases share one database.
    let case_number = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&allocation_case(), |case| {
            let number = case_number.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(check_allocation_case(&ledger, number, &case));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(ledger.close());
}

#[test]
fn allocation_property_register_and_log_agree_sqlite() {
    allocation_property(Backend::Sqlite, 24);
}

#[test]
fn allocation_property_register_and_log_agree_postgres() {
    allocation_property(Backend::Postgres, 12);
}

/// On PostgreSQL, allocations race single-item clearings on the same items: every allocation
/// is written whole or not at all, and the figures tie afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn allocation_races_single_item_commands_postgres() {
    use suspense::domain::ItemAction;
    let db = TestDatabase::create(Backend::Postgres).await;
    let ledger = Arc::new(
        Suspense::open(&db.url())
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let ops = Actor::new(user("ops"));
    let mut ids = Vec::new();
    for i in 0..8 {
        let opened = ledger
            .open_item(&ops, booking(&format!("RACE-{i}"), "100.00"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(opened.item_id);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..12usize {
        // Each allocation takes 1.00 from five of the eight items.
        let shares: Vec<(ItemId, &str)> = (0..5).map(|k| (ids[(n + k * 3) % 8], "1.00")).collect();
        let pay = allocation(&format!("PAY-RACE-{n}"), "5.00", &shares);
        let (ledger, ops) = (ledger.clone(), ops.clone());
        tasks.spawn(async move {
            (
                Some(pay.clone()),
                ledger.allocate_clearing(&ops, pay).await.map(|_| ()),
            )
        });
    }
    for n in 0..24usize {
        let action = ItemAction::RecordClearing {
            clearing_reference: Reference::parse(&format!("ONE-{n}"))
                .unwrap_or_else(|e| panic!("{e}")),
            amount: cny("2.00"),
        };
        let (ledger, ops, id) = (ledger.clone(), ops.clone(), ids[n % 8]);
        tasks.spawn(async move { (None, ledger.execute(&ops, id, action).await.map(|_| ())) });
    }
    let mut recorded = Vec::new();
    let mut refused = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap_or_else(|e| panic!("{e}")) {
            (Some(pay), Ok(())) => recorded.push(pay),
            (Some(pay), Err(Error::Conflict { .. })) => refused.push(pay),
            (None, Ok(())) | (None, Err(Error::Conflict { .. })) => {}
            (_, Err(other)) => panic!("unexpected {other}"),
        }
    }
    assert!(!recorded.is_empty(), "some allocations were recorded");
    for pay in &refused {
        assert_eq!(
            ledger
                .clearing_allocation(&pay.clearing_reference)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            None
        );
    }
    // Every item's clearings are exactly its shares of the recorded allocations and its own.
    for id in &ids {
        let history = ledger.history(*id).await.unwrap_or_else(|e| panic!("{e}"));
        let mine: Vec<String> = history
            .iter()
            .filter_map(|e| match &e.event {
                suspense::domain::SuspenseItemEvent::ClearingRecorded {
                    clearing_reference,
                    ..
                } => Some(clearing_reference.to_string()),
                _ => None,
            })
            .filter(|reference| reference.starts_with("PAY-"))
            .collect();
        let mut expected: Vec<String> = recorded
            .iter()
            .filter(|pay| pay.shares.iter().any(|share| share.item_id == *id))
            .map(|pay| pay.clearing_reference.to_string())
            .collect();
        let mut mine = mine;
        mine.sort();
        expected.sort();
        assert_eq!(mine, expected, "item {id}");
    }
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ledger.reports().open_balance().await.ok(),
        ledger.reports().register_balance().await.ok()
    );
    for id in &ids {
        let row = ledger
            .reports()
            .item(&id.to_string())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{id} is not in the register"));
        assert_eq!(
            row.outstanding_minor,
            outstanding(&ledger, *id).await.minor_units()
        );
    }
}
