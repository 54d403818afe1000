//! `suspense import [items] FILE.csv`: bulk-open items from a bank's suspense extract.
//!
//! The whole file is checked before anything is written: every bad row is reported with its
//! line number, field and reason, and then nothing is imported. Re-running the same file opens
//! nothing twice (opening is idempotent on source system + reference).

use std::collections::HashMap;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use suspense::{Actor, Suspense};
use suspense_domain::{ItemId, OpenItem, UserId};

use super::{ImportError, RowError};
use crate::cli::{settings, Cli, CliError};
use crate::dto::{MoneyBody, OpenItemBody};

/// One row of the extract; see docs/import.md for the columns.
#[derive(Debug, Deserialize)]
struct Row {
    source_system: String,
    reference: String,
    account: String,
    branch: String,
    channel: String,
    amount: String,
    currency: String,
    direction: String,
    booked_on: String,
    #[serde(default)]
    value_date: Option<String>,
    description: String,
    #[serde(default)]
    funds_held: Option<String>,
    #[serde(default)]
    fee_amount: Option<String>,
    #[serde(default)]
    fee_currency: Option<String>,
    #[serde(default)]
    customer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub opened: usize,
    pub already_open: usize,
}

fn flag(line: u64, value: Option<&str>) -> Result<bool, RowError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("no") | Some("0") | Some("n") => Ok(false),
        Some("true") | Some("yes") | Some("1") | Some("y") => Ok(true),
        Some(other) => Err(RowError {
            line,
            field: "funds_held".into(),
            reason: format!("'{other}' is not true or false"),
        }),
    }
}

fn parse_row(line: u64, row: Row) -> Result<OpenItem, RowError> {
    let funds_held = flag(line, row.funds_held.as_deref())?;
    let fee = match (
        row.fee_amount.filter(|a| !a.trim().is_empty()),
        row.fee_currency.filter(|c| !c.trim().is_empty()),
    ) {
        (None, None) => None,
        (Some(amount), Some(currency)) => Some(MoneyBody { amount, currency }),
        (Some(_), None) => {
            return Err(RowError {
                line,
                field: "fee_currency".into(),
                reason: "is required with fee_amount".into(),
            })
        }
        (None, Some(_)) => {
            return Err(RowError {
                line,
                field: "fee_amount".into(),
                reason: "is required with fee_currency".into(),
            })
        }
    };
    OpenItemBody {
        source_system: row.source_system,
        reference: row.reference,
        account: row.account,
        branch: row.branch,
        channel: row.channel,
        amount: row.amount,
        currency: row.currency,
        direction: row.direction,
        booked_on: row.booked_on,
        value_date: row.value_date.filter(|v| !v.trim().is_empty()),
        description: row.description,
        funds_held,
        fee,
        customer: row.customer.filter(|c| !c.trim().is_empty()),
    }
    .parse()
    .map_err(|e| RowError {
        line,
        field: e.field,
        reason: e.reason,
    })
}

/// Parses an extract: every row checked, duplicates within the file found. Pure (no I/O but
/// reading `input`), so it can be fuzzed.
pub fn parse_extract<R: std::io::Read>(input: R) -> (Vec<(u64, OpenItem)>, Vec<RowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<ItemId, (u64, OpenItem)> = HashMap::new();
    for (index, record) in reader.deserialize::<Row>().enumerate() {
        let line = index as u64 + 2;
        let row = match record {
            Ok(row) => row,
            Err(e) => {
                errors.push(RowError {
                    line,
                    field: super::csv_field(&e),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        match parse_row(line, row) {
            Ok(item) => {
                let id = ItemId::for_reference(&item.reference);
                if let Some((first, earlier)) = seen.get(&id) {
                    if *earlier != item {
                        errors.push(RowError {
                            line,
                            field: "reference".into(),
                            reason: format!(
                                "{} also appears on line {first} with different facts",
                                item.reference
                            ),
                        });
                    }
                    continue;
                }
                seen.insert(id, (line, item.clone()));
                items.push((line, item));
            }
            Err(e) => errors.push(e),
        }
    }
    (items, errors)
}

/// Reads and checks every row of `path`, including against items already in the ledger.
async fn check(ledger: &Suspense, path: &Path) -> Result<Vec<(u64, OpenItem)>, CliError> {
    let (items, mut errors) = parse_extract(super::open_file(path)?);
    for (line, item) in &items {
        let id = ItemId::for_reference(&item.reference);
        if let Some(existing) = ledger.item(id).await? {
            if existing.state.opened != *item {
                errors.push(RowError {
                    line: *line,
                    field: "reference".into(),
                    reason: format!("{} is already open with different facts", item.reference),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ImportError::Rows(errors).into())
    }
}

/// Checks the whole file, then opens every item in it.
pub async fn import_file(
    ledger: &Suspense,
    path: &Path,
    actor: &Actor,
) -> Result<ImportSummary, CliError> {
    let items = check(ledger, path).await?;
    let progress = ProgressBar::new(items.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} items {eta}") {
        progress.set_style(style);
    }
    let mut summary = ImportSummary::default();
    for (line, item) in items {
        let actor = actor
            .clone()
            .with_request_id(format!("{}:{line}", path.display()));
        let executed = ledger.open_item(&actor, item).await?;
        if executed.events.is_empty() {
            summary.already_open += 1;
        } else {
            summary.opened += 1;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(summary)
}

pub async fn run(cli: &Cli, file: &Path, actor: &str) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let actor = Actor::new(UserId::parse(actor)?).with_source("cli-import");
    let result = import_file(&ledger, file, &actor).await;
    ledger.close().await;
    let summary = result?;
    outln!(
        "opened {} item(s); {} were already open",
        summary.opened,
        summary.already_open
    )?;
    Ok(())
}
