//! `suspense-bench load`: N concurrent clients for T seconds on a realistic mix, against the
//! library, the HTTP service, a raw-SQL baseline and the plain cqrs-es framework, in one run.
//!
//! The mix per client, repeated: open a new item, classify it, assign it, record a partial
//! clearing, resolve the rest (five commands), read the item; every tenth cycle also read the
//! open balance. The raw baseline issues what a command needs at the database (read the item's
//! events, insert one event, in one transaction) straight through sqlx.

mod http;
mod library;
mod plain;
mod raw;

pub use http::Service;
pub use library::Library;
pub use plain::PlainCqrs;
pub use raw::RawSql;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use suspense_domain::{
    AccountNumber, BranchCode, Channel, CustomerImpact, Direction, ItemAction, ItemId, Money, Note,
    OpenItem, Reference, ResolutionMethod, ResolutionRequest, RootCauseCategory, RootCauseCode,
    SourceReference, TeamId,
};
use suspense_store::StoreError;
use suspense_testkit::{Backend, TestDatabase};

#[derive(Default)]
pub struct Tally {
    pub latencies: Vec<Duration>,
    pub reads: u64,
    pub errors: u64,
    pub conflicts: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.reads += other.reads;
        self.errors += other.errors;
        self.conflicts += other.conflicts;
    }
}

pub enum Outcome {
    Done,
    Conflict,
    Error,
}

/// One system under test: runs the five commands of a cycle and the reads.
#[async_trait::async_trait]
pub trait Target: Send + Sync {
    async fn command(&self, item: &str, step: usize, action: ItemAction) -> Outcome;
    async fn read_item(&self, item: &str) -> bool;
    async fn read_balance(&self) -> bool;
}

fn money(amount: &str) -> Money {
    Money::parse(amount, "CNY").unwrap_or_else(|e| panic!("{e}"))
}

/// The five commands of one item's life; `reference` makes the item unique.
pub fn cycle(reference: &str) -> (String, Vec<ItemAction>) {
    let item = OpenItem {
        reference: SourceReference::parse("LOAD", reference).unwrap_or_else(|e| panic!("{e}")),
        account: AccountNumber::parse("2241-01").unwrap_or_else(|e| panic!("{e}")),
        branch: BranchCode::parse("SH-001").unwrap_or_else(|e| panic!("{e}")),
        channel: Channel::OnlineBanking,
        amount: money("1000.00"),
        direction: Direction::Credit,
        booked_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
        value_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
        description: Note::parse("load test booking").unwrap_or_else(|e| panic!("{e}")),
        customer_impact: CustomerImpact::default(),
    };
    let id = ItemId::for_reference(&item.reference).to_string();
    let actions = vec![
        ItemAction::Open(item),
        ItemAction::Classify {
            category: RootCauseCategory::CustomerCause,
            code: RootCauseCode::parse("CUS-REFERENCE").unwrap_or_else(|e| panic!("{e}")),
            reason: None,
            attribution: Default::default(),
        },
        ItemAction::Assign {
            team: TeamId::parse("recon").unwrap_or_else(|e| panic!("{e}")),
            assignee: None,
            reason: None,
        },
        ItemAction::RecordClearing {
            clearing_reference: Reference::parse("CLR-1").unwrap_or_else(|e| panic!("{e}")),
            amount: money("400.00"),
        },
        ItemAction::Resolve(ResolutionRequest {
            method: ResolutionMethod::Refunded,
            amount: money("600.00"),
            posted_to: None,
            note: None,
        }),
    ];
    (id, actions)
}

/// Runs `clients` clients for `seconds` against `target`. With `hot`, every client comments on
/// one shared item instead of running the mix.
pub async fn drive(
    target: Arc<dyn Target>,
    clients: usize,
    seconds: u64,
    hot: Option<String>,
    run: &str,
) -> (Tally, Duration) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let target = Arc::clone(&target);
        let hot = hot.clone();
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                if let Some(item) = &hot {
                    let action = ItemAction::Comment {
                        text: Note::parse(&format!("{c}/{n}")).unwrap_or_else(|e| panic!("{e}")),
                    };
                    let t = Instant::now();
                    match target.command(item, 5, action).await {
                        Outcome::Done => tally.latencies.push(t.elapsed()),
                        Outcome::Conflict => tally.conflicts += 1,
                        Outcome::Error => tally.errors += 1,
                    }
                    continue;
                }
                let (id, actions) = cycle(&format!("{run}-{c}-{n}"));
                for (step, action) in actions.into_iter().enumerate() {
                    let t = Instant::now();
                    match target.command(&id, step, action).await {
                        Outcome::Done => tally.latencies.push(t.elapsed()),
                        Outcome::Conflict => tally.conflicts += 1,
                        Outcome::Error => tally.errors += 1,
                    }
                }
                if target.read_item(&id).await {
                    tally.reads += 1;
                }
                if n.is_multiple_of(10) && target.read_balance().await {
                    tally.reads += 1;
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        if let Ok(tally) = task.await {
            total.merge(tally);
        }
    }
    (total, started.elapsed())
}

enum Baseline {
    Itself,
    Rate(f64),
    NotMeasured,
}

fn row(
    name: &str,
    backend: Backend,
    clients: usize,
    tally: &Tally,
    elapsed: Duration,
    baseline: Baseline,
) -> f64 {
    let mut latencies = tally.latencies.clone();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let ratio = match baseline {
        Baseline::Itself => "1.00 (baseline)".to_owned(),
        Baseline::Rate(b) => format!("{:.2}", rate / b),
        Baseline::NotMeasured => "-".to_owned(),
    };
    println!(
        "| {name} | {backend:?} | {clients} | {rate:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {} | {} |",
        at(0.5),
        at(0.99),
        at(1.0),
        tally.errors,
        tally.conflicts
    );
    rate
}

/// The systems a load run can measure, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum System {
    /// Raw SQL through sqlx: the baseline every row is compared with.
    Raw,
    /// Plain cqrs-es in-process, with a `GenericQuery` view.
    Plain,
    /// The plain cqrs-es demo-style service over HTTP.
    PlainHttp,
    /// The suspense library in-process.
    Library,
    /// The suspense HTTP service.
    Http,
}

impl System {
    pub const ALL: [System; 5] = [
        System::Raw,
        System::Plain,
        System::PlainHttp,
        System::Library,
        System::Http,
    ];

    /// The row's name in the printed table.
    fn name(self) -> &'static str {
        match self {
            System::Raw => "raw SQL (read + insert, 1 tx)",
            System::Plain => "plain cqrs-es + GenericQuery view",
            System::PlainHttp => "plain cqrs-es demo service (HTTP)",
            System::Library => "suspense library",
            System::Http => "suspense HTTP service",
        }
    }

    /// Prefix of the references its clients book.
    fn label(self) -> &'static str {
        match self {
            System::Raw => "raw",
            System::Plain => "plain",
            System::PlainHttp => "plain-http",
            System::Library => "lib",
            System::Http => "http",
        }
    }
}

/// Where the systems under load keep their logs.
pub enum Databases {
    /// A fresh database of this backend per system, dropped after its run.
    Fresh(Backend),
    /// One existing database for every system, left in place; `stamp` keeps this run's
    /// references apart from an earlier run's on the same database.
    Existing {
        url: String,
        backend: Backend,
        stamp: String,
    },
}

impl Databases {
    /// The database at `url`, its backend as the store reads the location: a location the
    /// store would refuse is refused before any run.
    pub fn existing(url: String) -> Result<Self, StoreError> {
        let backend = match suspense_store::StoreLocation::parse(&url)? {
            suspense_store::StoreLocation::Postgres(_) => Backend::Postgres,
            suspense_store::StoreLocation::Sqlite(_) => Backend::Sqlite,
        };
        let stamp = chrono::Utc::now().format("%H%M%S").to_string();
        Ok(Self::Existing {
            url,
            backend,
            stamp,
        })
    }

    fn backend(&self) -> Backend {
        match self {
            Self::Fresh(backend) | Self::Existing { backend, .. } => *backend,
        }
    }
}

pub async fn run(
    databases: &Databases,
    clients: &[usize],
    seconds: u64,
    hot: bool,
    systems: &[System],
) -> Result<(), Box<dyn std::error::Error>> {
    let backend = databases.backend();
    println!("\n| system | backend | clients | commands/s | vs raw SQL | p50 ms | p99 ms | max ms | errors | conflicts |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut peak_rss = Vec::new();
    let mut versus = Vec::new();
    for &n in clients {
        let mut round = Round {
            backend,
            clients: n,
            seconds,
            hot,
            prefix: match databases {
                Databases::Fresh(_) => String::new(),
                Databases::Existing { stamp, .. } => format!("{stamp}-{n}-"),
            },
            baseline: None,
        };
        let mut rates = HashMap::new();
        for system in System::ALL.into_iter().filter(|s| systems.contains(s)) {
            // Each system gets a fresh database, dropped before the next one runs (or the
            // one given, kept). Raw SQL's rows are not events a reader can fold (every one
            // carries the same payload), so its baseline always runs on a fresh database.
            let (url, _fresh) = match databases {
                Databases::Existing { url, .. } if system != System::Raw => (url.clone(), None),
                _ => {
                    let db = TestDatabase::create(backend).await;
                    (db.url(), Some(db))
                }
            };
            let rate = match system {
                System::Raw => {
                    let raw = Arc::new(RawSql::open(&url).await);
                    let rate = round.measure(system, raw).await;
                    round.baseline = Some(rate);
                    rate
                }
                System::Plain => {
                    let plain = Arc::new(PlainCqrs::open(&url).await);
                    round.measure(system, plain).await
                }
                System::PlainHttp => {
                    let service = Service::start_plain(&url);
                    round.measure(system, Arc::new(service.target())).await
                }
                System::Library => {
                    let library = Arc::new(Library::open(&url).await);
                    round.measure(system, library).await
                }
                System::Http => {
                    let service = Service::start(&url);
                    let rate = round.measure(system, Arc::new(service.target())).await;
                    peak_rss.push((n, service.peak_rss_kib()));
                    rate
                }
            };
            rates.insert(system, rate);
        }
        let ratio = |a: System, b: System| match (rates.get(&a), rates.get(&b)) {
            (Some(a), Some(b)) => format!("{:.2}x", a / b),
            _ => "-".to_owned(),
        };
        versus.push(format!(
            "{n} clients: library / plain in-process = {}, HTTP service / plain HTTP service = {}, HTTP service / plain in-process = {}",
            ratio(System::Library, System::Plain),
            ratio(System::Http, System::PlainHttp),
            ratio(System::Http, System::Plain),
        ));
    }
    for line in versus {
        println!("{line}");
    }
    for (n, rss) in peak_rss {
        if let Some(kib) = rss {
            println!(
                "service peak RSS with {n} clients: {:.1} MiB",
                kib as f64 / 1024.0
            );
        }
    }
    Ok(())
}

/// Starts every system from the same quiet database server: on PostgreSQL, the dirty pages
/// and WAL the previous system left are written out first (`CHECKPOINT`), or the next system
/// pays for them whenever the checkpointer happens to run during its seconds. Without this,
/// whichever system ran after the heaviest writer scattered by up to 60% between runs.
async fn quiet(backend: Backend) {
    if backend != Backend::Postgres {
        return;
    }
    let admin = suspense_testkit::postgres_admin_url();
    match sqlx::PgPool::connect(&admin).await {
        Ok(pool) => {
            if let Err(e) = sqlx::query("CHECKPOINT").execute(&pool).await {
                eprintln!("CHECKPOINT before a system's run failed: {e}");
            }
            pool.close().await;
        }
        Err(e) => eprintln!("no admin connection for CHECKPOINT: {e}"),
    }
}

/// One client count: every system under the same load and seconds, a printed row each.
struct Round {
    backend: Backend,
    clients: usize,
    seconds: u64,
    hot: bool,
    /// Put before the references this round books: empty on fresh databases, the run's
    /// stamp and client count on an existing one.
    prefix: String,
    /// The raw-SQL rate the rows are compared with, once measured.
    baseline: Option<f64>,
}

impl Round {
    /// Drives `target` (the client of `system`) and prints its row; returns its commands/s.
    async fn measure(&self, system: System, target: Arc<dyn Target>) -> f64 {
        quiet(self.backend).await;
        let label = format!("{}{}", self.prefix, system.label());
        let hot_id = prepare_hot(&*target, self.hot, &label).await;
        let (tally, elapsed) = drive(target, self.clients, self.seconds, hot_id, &label).await;
        let baseline = match (system, self.baseline) {
            (System::Raw, _) => Baseline::Itself,
            (_, Some(rate)) => Baseline::Rate(rate),
            (_, None) => Baseline::NotMeasured,
        };
        row(
            system.name(),
            self.backend,
            self.clients,
            &tally,
            elapsed,
            baseline,
        )
    }
}

/// For the hot-item scenario: opens the shared item first.
async fn prepare_hot(target: &dyn Target, hot: bool, label: &str) -> Option<String> {
    if !hot {
        return None;
    }
    let (id, mut actions) = cycle(&format!("{label}-HOT"));
    let open = actions.remove(0);
    target.command(&id, 0, open).await;
    Some(id)
}
