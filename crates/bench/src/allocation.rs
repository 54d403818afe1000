//! A clearing allocated across 100 items, beside a baseline measured in the same run: the
//! library recording the same 100 clearings one item at a time.

use std::time::{Duration, Instant};

use suspense::domain::allocation::{AllocatedShare, ClearingAllocation};
use suspense::domain::{ItemAction, ItemId, Money, Reference, UserId};
use suspense::Actor;
use suspense_testkit::{booking, Backend};

/// Items each allocation covers.
const ITEMS: usize = 100;
/// Allocations timed.
const ROUNDS: usize = 41;

fn cny(amount: &str) -> Result<Money, Box<dyn std::error::Error>> {
    Ok(Money::parse(amount, "CNY")?)
}

pub async fn run(backend: Backend, events: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (_db, ledger, written) = crate::seed::library_on_seeded_log(backend, events).await?;
    ledger.refresh().await?;
    let ops = Actor::new(UserId::parse("bench")?);
    let mut ids: Vec<ItemId> = Vec::with_capacity(ITEMS * 2);
    for i in 0..ITEMS * 2 {
        ids.push(
            ledger
                .open_item(&ops, booking(&format!("ALLOC-{i}"), "10000.00"))
                .await?
                .item_id,
        );
    }
    let (allocated, single) = ids.split_at(ITEMS);
    println!("## {backend:?}: {written} seeded events, {ITEMS} items per allocation");

    let mut allocations = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let shares = allocated
            .iter()
            .map(|id| {
                Ok(AllocatedShare {
                    item_id: *id,
                    amount: cny("1.00")?,
                })
            })
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
        let allocation = ClearingAllocation::new(
            Reference::parse(&format!("PAY-BENCH-{round}"))?,
            cny(&format!("{ITEMS}.00"))?,
            shares,
        )?;
        let started = Instant::now();
        let recorded = ledger.allocate_clearing(&ops, allocation).await?;
        allocations.push(started.elapsed());
        if recorded.is_none() {
            return Err("an allocation was not recorded".into());
        }
    }

    let mut one_by_one = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let started = Instant::now();
        for id in single {
            let action = ItemAction::RecordClearing {
                clearing_reference: Reference::parse(&format!("ONE-BENCH-{round}"))?,
                amount: cny("1.00")?,
            };
            ledger.execute(&ops, *id, action).await?;
        }
        one_by_one.push(started.elapsed());
    }

    let p50 = |mut t: Vec<Duration>| {
        t.sort();
        t[t.len() / 2].as_secs_f64() * 1000.0
    };
    let (allocation, baseline) = (p50(allocations), p50(one_by_one));
    println!("\n| measure | figure |");
    println!("|---|---:|");
    println!("| one clearing allocated across {ITEMS} items, p50 | {allocation:.2} ms |");
    println!("| {ITEMS} clearings one item at a time, p50 (baseline) | {baseline:.2} ms |");
    println!(
        "| allocation / baseline | {:.2} |\n",
        allocation / baseline.max(1e-9)
    );
    ledger.close().await;
    Ok(())
}
