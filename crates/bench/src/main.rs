//! `suspense-bench`: measures the suspense log and read models on this machine, each figure
//! beside a baseline measured in the same run. See docs/performance.md.

mod catch_up;
mod seed;

use clap::{Parser, Subcommand, ValueEnum};

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
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Report queries timed per report kind.
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Args::parse().command {
        Command::CatchUp {
            backend,
            events,
            queries,
        } => {
            let backends = match backend {
                BackendArg::Sqlite => vec![suspense_testkit::Backend::Sqlite],
                BackendArg::Postgres => vec![suspense_testkit::Backend::Postgres],
                BackendArg::Both => vec![
                    suspense_testkit::Backend::Sqlite,
                    suspense_testkit::Backend::Postgres,
                ],
            };
            for backend in backends {
                catch_up::run(backend, events, queries).await?;
            }
        }
    }
    Ok(())
}
