//! Catch-up rate of the projector and report latency, against reading the same log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use suspense_read_models::{
    AgingPolicy, PeriodKind, Projector, ReadModelSettings, ReportingCalendar, Reports,
    RootCauseQuery,
};
use suspense_store::{EventLog, PoolSettings, StoreLocation};
use suspense_testkit::{fixed_services, Backend, TestDatabase};

use crate::seed::LogOrder;

pub async fn run(
    backend: Backend,
    events: usize,
    queries: usize,
    batch_size: Option<u32>,
    order: LogOrder,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = TestDatabase::create(backend).await;
    let location = StoreLocation::parse(&db.url())?;
    let log =
        Arc::new(EventLog::open(&location, fixed_services(), &PoolSettings::default()).await?);
    let settings = ReadModelSettings {
        calendar: ReportingCalendar::parse("Asia/Shanghai")?,
    };
    let mut projector = Projector::new(Arc::clone(&log), settings).await?;
    if let Some(size) = batch_size {
        projector = projector.with_batch_size(size);
    }

    let started = Instant::now();
    let written = crate::seed::seed(log.pool(), events, order).await?;
    let seeded = started.elapsed();
    let started = Instant::now();
    let head = log.settle(Duration::from_secs(600)).await?;
    let sequenced = started.elapsed();
    println!(
        "## {backend:?}: {written} events seeded ({order:?} order) in {:.1}s, positioned in {:.1}s (head {head})",
        seeded.as_secs_f64(),
        sequenced.as_secs_f64()
    );

    // Baseline: the same log read through the same reader, without projecting it.
    let started = Instant::now();
    let mut after = 0;
    loop {
        let page = log.read_after(after, 2_000).await?;
        let Some(last) = page.last().and_then(|e| e.position) else {
            break;
        };
        after = last;
    }
    let read_rate = written as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let reached = projector.catch_up().await?;
    let elapsed = started.elapsed();
    let catch_up_rate = written as f64 / elapsed.as_secs_f64();

    // Baseline: the rows the projector wrote, written again into fresh tables with nothing
    // to read, fold or update (see same_writes.rs).
    let batches = written.div_ceil(projector.batch_size() as usize);
    let floor = crate::same_writes::time(&log, settings, batches).await?;
    let floor_rate = written as f64 / floor.as_secs_f64();
    println!(
        "| backend | events | read log (events/s) | same writes (events/s) | catch-up (events/s) | catch-up / read | catch-up / same writes |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backend:?} | {reached} | {read_rate:.0} | {floor_rate:.0} | {catch_up_rate:.0} | {:.2} | {:.2} |",
        catch_up_rate / read_rate,
        catch_up_rate / floor_rate
    );

    let reports = Reports::new(&log, settings.calendar);
    // The month-end report is for the month just ended: the seeded log's busiest last month is
    // December 2025 (bookings run to its end; a few resolutions follow into 2026).
    let latest = RootCauseQuery::new(
        PeriodKind::Month,
        date(2025, 12, 1),
        date(2025, 12, 1),
        None,
    )?;
    let month = RootCauseQuery::new(PeriodKind::Month, date(2025, 6, 1), date(2025, 6, 1), None)?;
    let quarter = RootCauseQuery::new(
        PeriodKind::Quarter,
        date(2025, 4, 1),
        date(2025, 4, 1),
        None,
    )?;
    let year = RootCauseQuery::new(PeriodKind::Year, date(2025, 1, 1), date(2025, 1, 1), None)?;
    let rows = reports.root_causes(&month).await?.periods[0].rows.len();
    println!("\n| report | rows | p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, query) in [
        ("root causes, latest month", &latest),
        ("root causes, a month 6 months back", &month),
        ("root causes, one quarter", &quarter),
        ("root causes, one year", &year),
    ] {
        let timings = time(queries, || async {
            reports.root_causes(query).await.map(|_| ())
        })
        .await?;
        print_row(name, rows, &timings);
    }
    // Today's aging (nothing dated after it: read from the register) and a past date's (the
    // balance movements up to it, summed per item).
    for (name, as_of) in [
        ("aging as of today", date(2026, 6, 30)),
        ("aging as of a past date", date(2025, 6, 30)),
    ] {
        let timings = time(queries.min(20), || async {
            reports
                .aging(as_of, &AgingPolicy::default())
                .await
                .map(|_| ())
        })
        .await?;
        print_row(name, 0, &timings);
    }
    let timings = time(queries, || async {
        reports.open_balance().await.map(|_| ())
    })
    .await?;
    print_row("open balance", 0, &timings);
    println!();
    Ok(())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

async fn time<F, Fut, E>(runs: usize, f: F) -> Result<Vec<Duration>, E>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
{
    f().await?; // warm-up
    let mut timings = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        f().await?;
        timings.push(started.elapsed());
    }
    timings.sort();
    Ok(timings)
}

fn print_row(name: &str, rows: usize, timings: &[Duration]) {
    let at = |q: f64| timings[((timings.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    let rows = if rows == 0 {
        "-".to_owned()
    } else {
        rows.to_string()
    };
    println!(
        "| {name} | {rows} | {:.2} | {:.2} | {:.2} |",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
