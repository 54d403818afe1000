//! `suspense-bench`: measures the suspense log and read models on this machine, each figure
//! beside a baseline measured in the same run. See docs/performance.md.

mod allocation;
mod catch_up;
mod cpu;
mod delivery;
mod load;
mod plain_service;
mod reports;
mod same_writes;
mod seed;
mod sweep;
mod wal;

use clap::{Parser, Subcommand, ValueEnum};

/// The allocator the `suspense` binary uses (see its `main.rs`), so that the bench measures
/// the projector as the service runs it (the same goes for `prefer_small_pages` in `main`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Benchmarks of the suspense log and read models")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seeds a log of N events, then measures projector catch-up against a plain read of the
    /// same log, and report-query latency at that size.
    CatchUp {
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        #[command(flatten)]
        options: catch_up::Options,
    },
    /// Measures report-query latency on an existing database (one `catch-up --keep` left, or
    /// a copy of a real one), after catching its read models up.
    Reports {
        /// The database, as `suspense` takes it (sqlite://… or postgres://…).
        #[arg(long)]
        url: String,
        /// Report queries timed per report kind.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// The bank's reporting time zone the read models were built in.
        #[arg(long, default_value = seed::TIME_ZONE)]
        time_zone: String,
    },
    /// Concurrent clients on a realistic command mix against the library, the HTTP service,
    /// raw SQL and plain cqrs-es (build the service first: cargo build --release -p suspense-service).
    Load {
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        /// Client counts to run, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
        clients: Vec<usize>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Every client comments on one shared item instead.
        #[arg(long)]
        hot: bool,
        /// Systems to measure, comma-separated (default: all; "vs raw SQL" needs `raw`).
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = load::System::ALL)]
        systems: Vec<load::System>,
        /// Runs every system but raw SQL on this existing database (e.g. one `catch-up
        /// --keep` left) instead of a fresh one each; its items are booked beside the history
        /// there. Raw SQL's baseline still gets a fresh database.
        #[arg(long, conflicts_with = "backend")]
        url: Option<String>,
    },
    /// Seeds a log, then times the escalation sweep with nothing due and with about 10,000
    /// items due, beside the monthly report and the library's plain commands.
    Sweep {
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        /// Events to seed (1.6M gives about 100,000 open items).
        #[arg(long, default_value_t = 1_600_000)]
        events: usize,
    },
    /// Seeds a log, then times a clearing allocated across 100 items against the same
    /// clearings recorded one item at a time.
    Allocation {
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        /// Events to seed before measuring.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Seeds a log, then times one subscription handing it all over to a webhook receiver in
    /// this process and to a NATS JetStream stream, against a plain read of the log.
    Delivery {
        #[arg(long, value_enum, default_value = "both")]
        backend: BackendArg,
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// The NATS server with JetStream (a stream of the run's own is made and dropped).
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats: String,
        /// Instead: deliver while this many clients run commands, against the same load
        /// without subscriptions (lag and command throughput).
        #[arg(long)]
        under_load: Option<usize>,
        /// Seconds per run with `--under-load`.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Serves the plain cqrs-es baseline over HTTP (started by `load`).
    #[command(hide = true)]
    PlainServe {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

fn backends(arg: BackendArg) -> Vec<suspense_testkit::Backend> {
    match arg {
        BackendArg::Sqlite => vec![suspense_testkit::Backend::Sqlite],
        BackendArg::Postgres => vec![suspense_testkit::Backend::Postgres],
        BackendArg::Both => vec![
            suspense_testkit::Backend::Sqlite,
            suspense_testkit::Backend::Postgres,
        ],
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the `suspense` binary does, for the same reason.
    suspense_service::memory::prefer_small_pages();
    match Args::parse().command {
        Command::CatchUp { backend, options } => {
            for backend in backends(backend) {
                catch_up::run(backend, &options).await?;
            }
        }
        Command::Reports {
            url,
            queries,
            time_zone,
        } => reports::run(&url, queries, &time_zone).await?,
        Command::Load {
            backend,
            clients,
            seconds,
            hot,
            systems,
            url,
        } => {
            let databases = match url {
                Some(url) => vec![load::Databases::existing(url)?],
                None => backends(backend)
                    .into_iter()
                    .map(load::Databases::Fresh)
                    .collect(),
            };
            for databases in databases {
                load::run(&databases, &clients, seconds, hot, &systems).await?;
            }
        }
        Command::Sweep { backend, events } => {
            for backend in backends(backend) {
                sweep::run(backend, events).await?;
            }
        }
        Command::Allocation { backend, events } => {
            for backend in backends(backend) {
                allocation::run(backend, events).await?;
            }
        }
        Command::Delivery {
            backend,
            events,
            nats,
            under_load,
            seconds,
        } => {
            for backend in backends(backend) {
                match under_load {
                    Some(clients) => delivery::under_load(backend, clients, seconds, &nats).await?,
                    None => delivery::run(backend, events, &nats).await?,
                }
            }
        }
        Command::PlainServe { url, listen } => plain_service::serve(&url, &listen).await?,
    }
    Ok(())
}
