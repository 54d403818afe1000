//! `suspense`: the service and the operators' command-line tool. Thin: each command lives in
//! `suspense_service::cli`, one file each.

use std::process::ExitCode;

use clap::Parser;
use suspense_service::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_tracing(cli.verbose);
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
