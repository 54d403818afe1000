//! `suspense`: the service and the operators' command-line tool. Thin: each command lives in
//! `suspense_service::cli`, one file each.

use std::process::ExitCode;

use clap::Parser;
use suspense_service::cli::{self, Cli};

/// mimalloc rather than the system's allocator: a catch-up allocates and frees every page of
/// events it reads, and glibc's malloc hands much of that memory back to the kernel and takes
/// it again zeroed, page by page (a tenth of the CPU of a 1M-event catch-up went on clearing
/// pages). With mimalloc the same catch-up took 12-20% less time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    suspense_service::memory::prefer_small_pages();
    let cli = Cli::parse();
    // Before the runtime: the traces' exporter blocks on a thread of its own.
    let telemetry = suspense_service::telemetry::init(cli.verbose);
    let outcome = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(cli::run(cli)),
        Err(err) => Err(cli::CliError::Io(err)),
    };
    telemetry.shutdown();
    match outcome {
        // The reader of the output asked for no more of it (`| head`), as `head` itself ends.
        Ok(()) | Err(cli::CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
