//! Catch-up rate of the projector and report latency, against reading the same log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use suspense_read_models::{Projector, ReadModelSettings, ReportingCalendar};
use suspense_store::{EventLog, PoolSettings, StoreLocation};
use suspense_testkit::{fixed_services, Backend, TestDatabase};

use crate::cpu::CpuTime;
use crate::seed::LogOrder;
use crate::wal::WalWritten;

/// What `catch-up` seeds and measures.
#[derive(clap::Args)]
pub struct Options {
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Report queries timed per report kind.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Events the projector folds per transaction (default: the projector's own).
    #[arg(long)]
    batch_size: Option<u32>,
    /// Events the projector folds per transaction while it builds the read models from
    /// empty, as here (default: the projector's own).
    #[arg(long)]
    bulk_batch_size: Option<u32>,
    /// The seeded log's order: item by item (each item's life at once) or as events
    /// happened.
    #[arg(long, value_enum, default_value = "item")]
    order: LogOrder,
    /// Years the seeded bookings span, ending December 2025: more years at the same events
    /// make a quieter bank, more events over more years a longer history of the same bank.
    #[arg(long, default_value_t = crate::seed::DEFAULT_YEARS)]
    years: u32,
    /// Leave the database in place afterwards and print its URL (for `reports`, or to
    /// look into it).
    #[arg(long)]
    keep: bool,
}

pub async fn run(backend: Backend, options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let Options {
        events,
        queries,
        batch_size,
        bulk_batch_size,
        order,
        years,
        keep,
    } = *options;
    let db = TestDatabase::create(backend).await;
    let location = StoreLocation::parse(&db.url())?;
    let log =
        Arc::new(EventLog::open(&location, fixed_services(), &PoolSettings::default()).await?);
    let settings = ReadModelSettings {
        calendar: ReportingCalendar::parse(crate::seed::TIME_ZONE)?,
    };
    let mut projector = Projector::new(Arc::clone(&log), settings).await?;
    if let Some(size) = batch_size {
        projector = projector.with_batch_size(size);
    }
    if let Some(size) = bulk_batch_size {
        projector = projector.with_bulk_batch_size(size);
    }

    let started = Instant::now();
    let written = crate::seed::seed(log.pool(), events, order, years).await?;
    let seeded = started.elapsed();
    let started = Instant::now();
    let head = log.settle(Duration::from_secs(600)).await?;
    let sequenced = started.elapsed();
    println!(
        "## {backend:?}: {written} events over {years} years seeded ({order:?} order) in {:.1}s, positioned in {:.1}s (head {head})",
        seeded.as_secs_f64(),
        sequenced.as_secs_f64()
    );
    let log_bytes = database_bytes(log.pool()).await?;

    // Baseline: the same log read through the same reader, without projecting it.
    let started = Instant::now();
    let cpu = CpuTime::now();
    let mut after = 0;
    loop {
        let page = log.read_after(after, 2_000).await?;
        let Some(last) = page.last().and_then(|e| e.position) else {
            break;
        };
        after = last;
    }
    let read_rate = written as f64 / started.elapsed().as_secs_f64();
    let read_cpu = CpuTime::now().since(&cpu);

    let started = Instant::now();
    let cpu = CpuTime::now();
    let wal = WalWritten::now(log.pool()).await?;
    let reached = projector.catch_up().await?;
    let elapsed = started.elapsed();
    let catch_up_cpu = CpuTime::now().since(&cpu);
    let catch_up_wal = WalWritten::now(log.pool()).await?.since(&wal);
    let catch_up_rate = written as f64 / elapsed.as_secs_f64();

    // The hash chain follows the log on its own (`EventLog::follow_chain`): its first pass
    // over the whole log, timed separately from the read models.
    let started = Instant::now();
    let cpu = CpuTime::now();
    log.extend_chain().await?;
    let chain_rate = written as f64 / started.elapsed().as_secs_f64();
    let chain_cpu = CpuTime::now().since(&cpu);

    // Baseline: the rows the projector wrote, written again into fresh tables with nothing
    // to read, fold or update (see same_writes.rs).
    let batches = projector
        .metrics()
        .batches_committed
        .load(std::sync::atomic::Ordering::Relaxed) as usize;
    let cpu = CpuTime::now();
    let wal = WalWritten::now(log.pool()).await?;
    let floor = crate::same_writes::time(&log, settings, batches).await?;
    let floor_cpu = CpuTime::now().since(&cpu);
    let floor_wal = WalWritten::now(log.pool()).await?.since(&wal);
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
    println!(
        "\nHash chain over the whole log: {chain_rate:.0} events/s ({:.2} of the read)",
        chain_rate / read_rate
    );
    println!(
        "\nCPU seconds, whole machine (this process): read log {read_cpu}, same writes {floor_cpu}, catch-up {catch_up_cpu}, hash chain {chain_cpu}"
    );
    println!("\nWAL written: same writes {floor_wal}, catch-up {catch_up_wal}");

    let all_bytes = database_bytes(log.pool()).await?;
    let per_million = |bytes: u64| bytes as f64 / 1e6 / (written as f64 / 1e6);
    println!(
        "\nThe read models built from empty (a rebuild of all) in {:.1}s. Disk: the log {:.0} MB ({:.0} MB per million events); with read models and hash chain {:.0} MB ({:.0} MB per million)",
        elapsed.as_secs_f64(),
        log_bytes as f64 / 1e6,
        per_million(log_bytes),
        all_bytes as f64 / 1e6,
        per_million(all_bytes)
    );

    crate::reports::time_all(&log, settings.calendar, queries).await?;
    if keep {
        println!("kept the database: {}", db.keep());
    }
    Ok(())
}

/// The database's size on disk: PostgreSQL's own count, or SQLite's pages.
async fn database_bytes(pool: &suspense_database::Pool) -> Result<u64, sqlx::Error> {
    let bytes: i64 = match pool {
        suspense_database::Pool::Postgres(pg) => {
            sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(pg)
                .await?
        }
        suspense_database::Pool::Sqlite(lite) => {
            sqlx::query_scalar(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )
            .fetch_one(lite)
            .await?
        }
    };
    Ok(u64::try_from(bytes).unwrap_or(0))
}
