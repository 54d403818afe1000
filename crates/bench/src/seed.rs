//! A realistic synthetic log, written straight into the events table for speed (the same rows
//! the store would write, without running a command per event).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sqlx::QueryBuilder;
use suspense::Suspense;
use suspense_database::{with_pool, Pool};
use suspense_domain::incident::IncidentReference;
use suspense_domain::{
    AccountNumber, Assignment, Attribution, BranchCode, Channel, CounterpartyCode, CustomerImpact,
    Direction, ItemId, Money, Note, OpenItem, Reference, ResolutionMethod, ResolutionRequest,
    RootCause, RootCauseCatalogue, RootCauseCategory, SourceReference, SuspenseItemEvent, TeamId,
    UserId,
};
use suspense_testkit::{Backend, TestDatabase};

/// The counterparties external causes are attributed to.
const COUNTERPARTIES: [&str; 4] = ["ALIPAY", "WECHATPAY", "UNIONPAY", "PARTNER-BANK-07"];

/// Rows of (item id, sequence, event).
pub type Row = (String, i64, SuspenseItemEvent);

/// The bank's reporting time zone every bench builds its read models in.
pub const TIME_ZONE: &str = "Asia/Shanghai";

/// Years of bookings the seed spreads its items over, ending with December 2025 (the reports'
/// dates, see reports.rs): at the default, a million events are 213,000 items.
pub const DEFAULT_YEARS: u32 = 2;

/// The days of the last `DEFAULT_YEARS` years: the window every seed books as the 1M seed
/// always did, a longer history adding its years before it.
const RECENT_DAYS: usize = 365 * DEFAULT_YEARS as usize;

/// The events of item `i`: opened on one of the `years` years' days, classified (external
/// causes attributed to one of four counterparties), assigned to one of five teams, half
/// partly cleared, 70% resolved within three months (and, if booked before the last two
/// years, the rest later), some reclassified, some reopened, and one in fifty counted under its month's
/// incident (the item's half of the link: read models fold items' events only).
pub fn item_events(i: usize, years: u32) -> Vec<Row> {
    let catalogue: Vec<RootCause> = RootCauseCatalogue::default()
        .entries()
        .iter()
        .map(|(code, entry)| RootCause {
            category: entry.category,
            code: code.clone(),
        })
        .collect();
    let user = |name: &str| UserId::parse(name).unwrap_or_else(|e| panic!("{e}"));
    // The last two years' days as they always were; each further year adds 365 days before
    // them, so a longer history keeps the same bookings per month.
    let days = 365 * years.max(1) as usize;
    // Days before the recent window (negative for a single year, which starts within it).
    let earlier = days as i64 - RECENT_DAYS as i64;
    let day = (i % days) as i64;
    let booked =
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() + Duration::days(day - earlier);
    let opened_at = Utc.from_utc_datetime(&booked.and_hms_opt(1, 0, 0).unwrap_or_default());
    let currency = if i.is_multiple_of(10) { "USD" } else { "CNY" };
    let minor = ((i * 7919) % 1_000_000 + 100) as i64;
    let amount = Money::parse(&format!("{}.{:02}", minor / 100, minor % 100), currency)
        .unwrap_or_else(|e| panic!("{e}"));
    let reference =
        SourceReference::parse("CORE", &format!("BENCH-{i}")).unwrap_or_else(|e| panic!("{e}"));
    let id = ItemId::for_reference(&reference).to_string();
    let mut events = vec![SuspenseItemEvent::Opened {
        at: opened_at,
        by: user("teller"),
        item: OpenItem {
            reference,
            account: AccountNumber::parse("2241-01").unwrap_or_else(|e| panic!("{e}")),
            branch: BranchCode::parse(&format!("BR-{:02}", i % 20))
                .unwrap_or_else(|e| panic!("{e}")),
            channel: Channel::ALL[i % Channel::ALL.len()],
            amount,
            direction: if i.is_multiple_of(3) {
                Direction::Debit
            } else {
                Direction::Credit
            },
            booked_on: booked,
            value_date: booked,
            description: Note::parse("synthetic benchmark item").unwrap_or_else(|e| panic!("{e}")),
            customer_impact: CustomerImpact::default(),
        },
    }];
    let cause = catalogue[i % catalogue.len()].clone();
    events.push(SuspenseItemEvent::Classified {
        at: opened_at + Duration::hours(20),
        by: user("ops"),
        cause: cause.clone(),
    });
    if cause.category == RootCauseCategory::ExternalCause {
        let counterparty = CounterpartyCode::parse(COUNTERPARTIES[i % COUNTERPARTIES.len()])
            .unwrap_or_else(|e| panic!("{e}"));
        events.push(SuspenseItemEvent::Attributed {
            at: opened_at + Duration::hours(20),
            by: user("ops"),
            attribution: Attribution {
                responsible: None,
                counterparty: Some(counterparty),
            },
        });
    }
    events.push(SuspenseItemEvent::Assigned {
        at: opened_at + Duration::hours(21),
        by: user("lead"),
        to: Assignment {
            team: TeamId::parse(&format!("recon-{}", (i % 20) / 4))
                .unwrap_or_else(|e| panic!("{e}")),
            assignee: Some(user("ops")),
        },
    });
    if i % 50 == 7 {
        events.push(SuspenseItemEvent::LinkedToIncident {
            at: opened_at + Duration::days(2),
            by: user("lead"),
            incident: IncidentReference::parse(&format!("INC-{}", booked.format("%Y-%m")))
                .unwrap_or_else(|e| panic!("{e}")),
            reason: Note::parse("booked in the outage").unwrap_or_else(|e| panic!("{e}")),
        });
    }
    let mut outstanding = amount;
    if i.is_multiple_of(2) {
        let part =
            Money::from_minor_units(amount.minor_units() / 2, amount.currency()).unwrap_or(amount);
        outstanding = amount.checked_sub(&part).unwrap_or(amount);
        events.push(SuspenseItemEvent::ClearingRecorded {
            at: opened_at + Duration::days(3),
            by: user("ops"),
            clearing_reference: Reference::parse("CLR-1").unwrap_or_else(|e| panic!("{e}")),
            amount: part,
        });
    }
    if i % 20 == 1 {
        let to = catalogue[(i + 3) % catalogue.len()].clone();
        events.push(SuspenseItemEvent::Reclassified {
            at: opened_at + Duration::days(4),
            by: user("lead"),
            from: cause,
            to,
            reason: Note::parse("restated").unwrap_or_else(|e| panic!("{e}")),
        });
    }
    // Items booked before the last two years all end cleared, the ones left open too: a
    // bank's open stock is its recent items, not everything it ever booked (at two years the
    // seed is as it always was).
    let long_ago = day < earlier;
    let resolved = |after: Duration| SuspenseItemEvent::Resolved {
        at: opened_at + after,
        by: user("ops"),
        resolution: ResolutionRequest {
            method: ResolutionMethod::Refunded,
            amount: outstanding,
            posted_to: None,
            note: None,
        },
        approval: None,
    };
    let late = Duration::days(400 + (i % 300) as i64);
    if i % 10 < 7 {
        events.push(resolved(Duration::days(5 + (i % 90) as i64)));
        if i.is_multiple_of(33) {
            events.push(SuspenseItemEvent::Reopened {
                at: opened_at + Duration::days(100),
                by: user("lead"),
                reason: Note::parse("bounced").unwrap_or_else(|e| panic!("{e}")),
                reversed: outstanding,
            });
            if long_ago {
                events.push(resolved(late));
            }
        }
    } else if long_ago {
        events.push(resolved(late));
    }
    events
        .into_iter()
        .enumerate()
        .map(|(n, e)| (id.clone(), n as i64 + 1, e))
        .collect()
}

/// The order the seeded log holds its events in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogOrder {
    /// Item after item, each item's whole life at once: every page of the log holds items of
    /// every month, so every batch touches every month's statistics cells.
    Item,
    /// As the events happened, items interleaved (a production log): a page holds about a
    /// week, and an item's later events land in later pages than its opening.
    Time,
}

/// A fresh database of `backend` holding `events` seeded item by item over the default years,
/// with the library open on it (read models not built yet); returns how many were written.
pub async fn library_on_seeded_log(
    backend: Backend,
    events: usize,
) -> Result<(TestDatabase, Suspense, usize), Box<dyn std::error::Error>> {
    let db = TestDatabase::create(backend).await;
    let ledger = Suspense::open(&db.url()).await?;
    let written = seed(ledger.log().pool(), events, LogOrder::Item, DEFAULT_YEARS).await?;
    Ok((db, ledger, written))
}

/// Writes the events of items 0, 1, 2, ... until at least `target` events, booked over
/// `years`, in `order`; returns how many.
pub async fn seed(
    pool: &Pool,
    target: usize,
    order: LogOrder,
    years: u32,
) -> Result<usize, sqlx::Error> {
    let mut rows: Vec<Row> = Vec::with_capacity(target + 8);
    let mut item = 0;
    while rows.len() < target {
        rows.extend(item_events(item, years));
        item += 1;
    }
    if order == LogOrder::Time {
        // Stable: an item's events keep their order where two share a time.
        rows.sort_by_key(|(_, _, event)| event.at());
    }
    for chunk in rows.chunks(20_000) {
        insert(pool, chunk).await?;
    }
    Ok(rows.len())
}

async fn insert(pool: &Pool, rows: &[Row]) -> Result<(), sqlx::Error> {
    let payloads: Vec<(String, i64, &'static str, String)> = rows
        .iter()
        .map(|(id, seq, event)| {
            (
                id.clone(),
                *seq,
                event.name(),
                serde_json::to_string(event).unwrap_or_default(),
            )
        })
        .collect();
    with_pool!(pool, p => {
        let mut tx = p.begin().await?;
        for chunk in payloads.chunks(1_000) {
            let mut q = QueryBuilder::new(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) ",
            );
            q.push_values(chunk, |mut b, (id, seq, kind, payload)| {
                b.push_bind("SuspenseItem")
                    .push_bind(id.clone())
                    .push_bind(*seq)
                    .push_bind(*kind)
                    .push_bind("1")
                    .push_bind(serde_json::from_str::<serde_json::Value>(payload).unwrap_or_default())
                    .push_bind(serde_json::json!({"actor": "bench"}));
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
