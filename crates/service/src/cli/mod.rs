//! Command-line commands, one file each; `run` dispatches and `CliError` maps every failure
//! to one exit code. Commands print their output with `out!` / `outln!`, never `println!`
//! (see `write_out`).

/// `print!` for a command's output, returning `Result<(), CliError>` (see `write_out`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))
    };
}

/// `println!` for a command's output, returning `Result<(), CliError>` (see `write_out`).
macro_rules! outln {
    () => {
        $crate::cli::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod audit;
mod demo;
mod import;
mod incidents;
mod items;
mod migrate;
mod org;
pub(crate) mod plan;
mod policy;
mod rebuild;
mod report;
mod serve;
mod sweep;
mod users;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use suspense::store::StoreError;
use suspense::ProjectionError;
use suspense_domain::InvalidInput;
use suspense_read_models::ReportError;

use crate::config::{ConfigError, ConfigFile, Settings};

pub use import::{
    import_clearings, import_file, parse_extract, ClearingSummary, ImportError, ImportSummary,
    RowError,
};

#[derive(Parser)]
#[command(
    name = "suspense",
    version,
    about = "Track bank suspense items (掛賬) from booking to clearing"
)]
pub struct Cli {
    /// The event store: an SQLite file path (default ./suspense.db) or a postgres:// URL.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// A PostgreSQL streaming replica of the database for reports to read from
    /// (`read_database_url` in the configuration).
    #[arg(long = "read-url", global = true, env = "READ_DATABASE_URL")]
    pub read_url: Option<String>,
    /// Configuration file (TOML): time zone, aging, approval, root-cause catalogue, users.
    #[arg(
        long,
        global = true,
        env = "SUSPENSE_CONFIG",
        default_value = "suspense.toml"
    )]
    pub config: PathBuf,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service with the projector in-process.
    Serve(serve::Args),
    /// Load a realistic synthetic year of items, print its reports, and serve it.
    Demo(demo::Args),
    /// Bulk-open items from a CSV extract (see docs/import.md).
    Import(import::Args),
    /// Print a report.
    #[command(subcommand)]
    Report(report::Command),
    /// List or show items.
    #[command(subcommand)]
    Items(items::Command),
    /// Incidents that caused many items: list, show, suggest items, open, link.
    #[command(subcommand)]
    Incidents(incidents::Command),
    /// Remediation plans: draft, approve, evaluate.
    #[command(subcommand)]
    Plan(plan::Command),
    /// The organisation registry: show its versions, publish the next.
    #[command(subcommand)]
    Org(org::Command),
    /// The escalation policy: show its versions, publish the next.
    #[command(subcommand)]
    Policy(policy::Command),
    /// Run the escalation sweep once.
    Sweep(sweep::Args),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Drop and rebuild a read model from the log.
    Rebuild(rebuild::Args),
    /// Auditors' tools: export the log, verify its hash chain, replay reports as of a date.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Manage the users in the configuration file.
    #[command(subcommand)]
    Users(users::Command),
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The log does not match its hash chain.
    #[error(transparent)]
    Evaluation(#[from] suspense::EvaluationError),
    #[error(transparent)]
    Sweep(#[from] suspense::SweepError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Tampered(String),
    /// Whoever read the command's output stopped reading (`suspense report … | head`): the
    /// command ends early, quietly and successfully (see `main`).
    #[error("standard output was closed")]
    OutputClosed,
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// 2: the input or a rule refused it; 3: the database is unavailable; 4: the log was
    /// tampered with; 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tampered(_) => 4,
            Self::Invalid(_) | Self::Config(_) | Self::Import(ImportError::Rows(_)) => 2,
            Self::Store(
                StoreError::Rejected(_)
                | StoreError::ShareRejected { .. }
                | StoreError::IncidentRejected(_)
                | StoreError::PlanRejected(_)
                | StoreError::PolicyRejected(_)
                | StoreError::OrganisationRejected(_),
            ) => 2,
            Self::Evaluation(suspense::EvaluationError::Report(ReportError::Invalid(_))) => 2,
            Self::NotFound(_) | Self::Evaluation(suspense::EvaluationError::NoSuchPlan) => 2,
            Self::Store(StoreError::Unavailable(_))
            | Self::Projection(ProjectionError::Store(StoreError::Unavailable(_))) => 3,
            _ => 1,
        }
    }
}

/// Writes a command's output to standard output. A reader that closed it is
/// `CliError::OutputClosed`, which ends the command without a word: `println!` panicked
/// there, with a backtrace and exit status 101, whenever a reporting job piped a report into
/// `head`.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    match std::io::stdout().lock().write_fmt(args) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::OutputClosed),
        Err(err) => Err(CliError::Io(err)),
    }
}

/// Settings from the config file (optional unless named explicitly) and flags.
/// A document (a plan, a policy, a registry) read from a TOML file; a bad one is named by
/// the file and what is wrong with it.
pub fn toml_file<T: serde::de::DeserializeOwned>(file: &std::path::Path) -> Result<T, CliError> {
    let text = std::fs::read_to_string(file)?;
    toml::from_str(&text)
        .map_err(|e| CliError::Other(format!("{}: {}", file.display(), e.message())))
}

pub fn settings(cli: &Cli, listen: Option<String>) -> Result<Settings, CliError> {
    let named =
        std::env::var_os("SUSPENSE_CONFIG").is_some() || cli.config.as_os_str() != "suspense.toml";
    let file = ConfigFile::load(&cli.config, named)?;
    let mut settings = Settings::resolve(file, listen, cli.database_url.clone())?;
    if let Some(url) = &cli.read_url {
        settings.read_database_url = Some(url.clone());
    }
    Ok(settings)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Serve(args) => serve::run(&cli, args).await,
        Command::Demo(args) => demo::run(&cli, args).await,
        Command::Import(args) => import::run(&cli, args).await,
        Command::Report(command) => report::run(&cli, command).await,
        Command::Plan(command) => plan::run(&cli, command).await,
        Command::Org(command) => org::run(&cli, command).await,
        Command::Policy(command) => policy::run(&cli, command).await,
        Command::Sweep(args) => sweep::run(&cli, args).await,
        Command::Items(command) => items::run(&cli, command).await,
        Command::Incidents(command) => incidents::run(&cli, command).await,
        Command::Migrate => migrate::run(&cli).await,
        Command::Rebuild(args) => rebuild::run(&cli, args).await,
        Command::Users(command) => users::run(&cli, command),
        Command::Audit(command) => audit::run(&cli, command).await,
    }
}
