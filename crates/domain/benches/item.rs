//! The pure domain: deciding a command, and folding an item's history into its state.
//! `cargo bench -p suspense-domain`

use std::hint::black_box;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use suspense_domain::*;

fn services() -> ItemServices {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 31, 9, 0, 0)
        .single()
        .unwrap_or_default();
    ItemServices::new(
        Arc::new(FixedClock(now)),
        RootCauseCatalogue::default(),
        ApprovalPolicy::write_offs_only(),
    )
}

fn booking() -> OpenItem {
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
    OpenItem {
        reference: SourceReference::parse("CORE", "BENCH-1").unwrap_or_else(|e| panic!("{e}")),
        account: AccountNumber::parse("2241-01").unwrap_or_else(|e| panic!("{e}")),
        branch: BranchCode::parse("SH-001").unwrap_or_else(|e| panic!("{e}")),
        channel: Channel::OnlineBanking,
        amount: Money::parse("100000.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
        direction: Direction::Credit,
        booked_on: day,
        value_date: day,
        description: Note::parse("bench").unwrap_or_else(|e| panic!("{e}")),
        customer_impact: CustomerImpact::default(),
    }
}

/// An item with `clearings` partial clearings recorded.
fn history(clearings: usize) -> Vec<SuspenseItemEvent> {
    let services = services();
    let by = UserId::parse("ops").unwrap_or_else(|e| panic!("{e}"));
    let mut item = SuspenseItem::default();
    let mut events = Vec::new();
    let mut run = |item: &mut SuspenseItem, action: ItemAction| {
        for event in item
            .decide(ItemCommand::new(by.clone(), action), &services)
            .unwrap_or_default()
        {
            cqrs_es::Aggregate::apply(item, event.clone());
            events.push(event);
        }
    };
    run(&mut item, ItemAction::Open(booking()));
    for n in 0..clearings {
        run(
            &mut item,
            ItemAction::RecordClearing {
                clearing_reference: Reference::parse(&format!("C-{n}"))
                    .unwrap_or_else(|e| panic!("{e}")),
                amount: Money::parse("1.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
            },
        );
    }
    events
}

fn bench(c: &mut Criterion) {
    let services = services();
    let by = UserId::parse("ops").unwrap_or_else(|e| panic!("{e}"));
    let fresh = SuspenseItem::default();
    c.bench_function("decide open", |b| {
        b.iter(|| {
            black_box(&fresh).decide(
                ItemCommand::new(by.clone(), ItemAction::Open(booking())),
                &services,
            )
        })
    });
    let opened = SuspenseItem::from_events(&history(10));
    let clearing = ItemAction::RecordClearing {
        clearing_reference: Reference::parse("C-NEW").unwrap_or_else(|e| panic!("{e}")),
        amount: Money::parse("1.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
    };
    c.bench_function("decide clearing", |b| {
        b.iter(|| {
            black_box(&opened).decide(ItemCommand::new(by.clone(), clearing.clone()), &services)
        })
    });
    for size in [10, 100, 1_000] {
        let events = history(size);
        c.bench_function(&format!("fold {} events", events.len()), |b| {
            b.iter(|| SuspenseItem::from_events(black_box(&events)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
