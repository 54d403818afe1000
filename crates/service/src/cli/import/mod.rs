//! `suspense import`: bulk input from CSV files, one file per kind. Every kind checks the
//! whole file before writing anything and reports every bad row with its line, field and
//! reason; re-running a file writes nothing twice.

mod clearings;
mod items;

use std::path::PathBuf;

use super::{Cli, CliError};

pub use clearings::{import_clearings, ClearingSummary};
pub use items::{import_file, parse_extract, ImportSummary};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub kind: Option<Kind>,
    /// A suspense extract to open items from (the same as `import items FILE`).
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Recorded as the person who wrote the events.
    #[arg(long, global = true, default_value = "cli-import")]
    pub actor: String,
}

#[derive(clap::Subcommand)]
pub enum Kind {
    /// Open items from a bank's suspense extract (see docs/import.md).
    Items { file: PathBuf },
    /// Allocate clearings across items, one row per item's share (see docs/import.md).
    Clearings { file: PathBuf },
}

/// A refused row: 1-based line number in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("{} bad row(s); nothing was imported:\n{}", .0.len(), render(.0))]
    Rows(Vec<RowError>),
}

fn render(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(|e| format!("  line {}: {}: {}", e.line, e.field, e.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The field a CSV record failed to deserialise at, as the row error names it.
fn csv_field(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Deserialize { err, .. } => err
            .field()
            .map_or_else(|| "row".to_owned(), |f| format!("column {}", f + 1)),
        _ => "row".to_owned(),
    }
}

fn open_file(path: &std::path::Path) -> Result<std::io::BufReader<std::fs::File>, ImportError> {
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| ImportError::Unreadable {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    match (&args.kind, &args.file) {
        (Some(Kind::Clearings { file }), _) => clearings::run(cli, file, &args.actor).await,
        (Some(Kind::Items { file }), _) | (None, Some(file)) => {
            items::run(cli, file, &args.actor).await
        }
        (None, None) => Err(CliError::Other("import needs a FILE".into())),
    }
}
