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
        Err(Error::Rejected(
            ItemError::ClearingExceedsOutstanding { .. }
        ))
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
