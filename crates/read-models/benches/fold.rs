//! The projection fold: events into register rows and statistics cells, in memory (what the
//! projector does per page before writing it). `cargo bench -p suspense-read-models`

use std::hint::black_box;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use suspense_domain::*;
use suspense_read_models::{fold_in_memory, ReportingCalendar};
use suspense_store::{EventMetadata, RecordedEvent};

/// `items` item lives (open, classify, clear, resolve), as recorded events in log order.
fn page(items: usize) -> Vec<RecordedEvent> {
    let by = UserId::parse("ops").unwrap_or_else(|e| panic!("{e}"));
    let mut events = Vec::new();
    for n in 0..items {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::hours(n as i64);
        let services = ItemServices::new(
            Arc::new(FixedClock(at)),
            RootCauseCatalogue::default(),
            ApprovalPolicy::write_offs_only(),
        );
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
            + Duration::days((n % 300) as i64);
        let reference =
            SourceReference::parse("CORE", &format!("F-{n}")).unwrap_or_else(|e| panic!("{e}"));
        let id = ItemId::for_reference(&reference);
        let actions = [
            ItemAction::Open(OpenItem {
                reference,
                account: AccountNumber::parse("2241-01").unwrap_or_else(|e| panic!("{e}")),
                branch: BranchCode::parse(["SH-001", "BJ-001"][n % 2])
                    .unwrap_or_else(|e| panic!("{e}")),
                channel: Channel::ALL[n % Channel::ALL.len()],
                amount: Money::parse("100.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
                direction: Direction::Credit,
                booked_on: day,
                value_date: day,
                description: Note::parse("bench").unwrap_or_else(|e| panic!("{e}")),
                customer_impact: CustomerImpact::default(),
            }),
            ItemAction::Classify {
                category: RootCauseCategory::SystemFailure,
                code: RootCauseCode::parse("SYS-OUTAGE").unwrap_or_else(|e| panic!("{e}")),
                reason: None,
                attribution: Default::default(),
            },
            ItemAction::RecordClearing {
                clearing_reference: Reference::parse("C-1").unwrap_or_else(|e| panic!("{e}")),
                amount: Money::parse("40.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
            },
            ItemAction::Resolve(ResolutionRequest {
                method: ResolutionMethod::Refunded,
                amount: Money::parse("60.00", "CNY").unwrap_or_else(|e| panic!("{e}")),
                posted_to: None,
                note: None,
            }),
        ];
        let mut item = SuspenseItem::default();
        for (sequence, action) in actions.into_iter().enumerate() {
            for event in item
                .decide(ItemCommand::new(by.clone(), action), &services)
                .unwrap_or_default()
            {
                cqrs_es::Aggregate::apply(&mut item, event.clone());
                events.push(RecordedEvent {
                    position: Some(events.len() as u64 + 1),
                    item_id: id,
                    sequence: sequence as u64 + 1,
                    event_type: event.name().to_owned(),
                    event_version: EVENT_VERSION.to_owned(),
                    event,
                    metadata: EventMetadata::default(),
                    recorded_at: at,
                });
            }
        }
    }
    events
}

fn bench(c: &mut Criterion) {
    let calendar = ReportingCalendar::parse("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}"));
    let events = page(2_500);
    let mut group = c.benchmark_group("projection fold");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("10,000 events", |b| {
        b.iter(|| fold_in_memory(black_box(&events), &calendar))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
