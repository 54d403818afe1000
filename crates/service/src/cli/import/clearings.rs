//! `suspense import clearings FILE.csv`: clearings allocated across items (多挂一销, 多挂多销),
//! one row per item's share; the rows of one clearing reference make one allocation.
//!
//! The whole file is checked first, against the ledger and against the allocations before it
//! in the file (two clearings over one item must not together exceed what it owes). Then each
//! allocation is recorded, all of its shares or none. A re-run writes nothing twice: an
//! allocation already recorded with the same figures is passed over.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use suspense::store::StoreError;
use suspense::{Actor, AllocationCheck, Suspense};
use suspense_domain::allocation::ClearingAllocation;
use suspense_domain::{InvalidInput, ItemError, ItemId, SourceReference, UserId};

use super::{ImportError, RowError};
use crate::cli::{settings, Cli, CliError};
use crate::dto::{AllocationBody, ShareBody};

/// One item's share of a clearing; see docs/import.md for the columns.
#[derive(Debug, Deserialize)]
struct Row {
    clearing_reference: String,
    clearing_amount: String,
    currency: String,
    source_system: String,
    reference: String,
    amount: String,
}

/// The rows of one clearing reference, in file order.
struct Group {
    first_line: u64,
    clearing_reference: String,
    clearing_amount: String,
    currency: String,
    /// Each share's line and the item's source reference, in the order of `body.shares`.
    shares: Vec<(u64, SourceReference)>,
    body_shares: Vec<ShareBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClearingSummary {
    /// Allocations written now.
    pub allocated: usize,
    /// Item shares written now.
    pub shares: usize,
    /// Allocations recorded before with the same figures (nothing written).
    pub already_recorded: usize,
}

fn row_error(line: u64, field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        line,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Groups the rows by clearing reference; a row that cannot be read, or whose clearing
/// figures differ from its reference's first row, is an error on its line.
fn group_rows<R: std::io::Read>(input: R) -> (Vec<Group>, Vec<RowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut groups: Vec<Group> = Vec::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (index, record) in reader.deserialize::<Row>().enumerate() {
        let line = index as u64 + 2;
        let row: Row = match record {
            Ok(row) => row,
            Err(e) => {
                errors.push(row_error(line, &super::csv_field(&e), e.to_string()));
                continue;
            }
        };
        let source = match SourceReference::parse(&row.source_system, &row.reference) {
            Ok(source) => source,
            Err(e) => {
                errors.push(row_error(line, &e.field, e.reason));
                continue;
            }
        };
        let at = *by_reference
            .entry(row.clearing_reference.clone())
            .or_insert_with(|| {
                groups.push(Group {
                    first_line: line,
                    clearing_reference: row.clearing_reference.clone(),
                    clearing_amount: row.clearing_amount.clone(),
                    currency: row.currency.clone(),
                    shares: Vec::new(),
                    body_shares: Vec::new(),
                });
                groups.len() - 1
            });
        let group = &mut groups[at];
        for (field, value, first) in [
            (
                "clearing_amount",
                &row.clearing_amount,
                &group.clearing_amount,
            ),
            ("currency", &row.currency, &group.currency),
        ] {
            if value != first {
                errors.push(row_error(
                    line,
                    field,
                    format!(
                        "'{value}' differs from '{first}' on line {} for clearing {}",
                        group.first_line, group.clearing_reference
                    ),
                ));
            }
        }
        group.body_shares.push(ShareBody {
            item_id: ItemId::for_reference(&source).to_string(),
            amount: row.amount,
        });
        group.shares.push((line, source));
    }
    (groups, errors)
}

/// Where in the file a refusal of `group`'s allocation belongs: a share's own line for a
/// share's field, the clearing's first line for the clearing's figures.
fn place(group: &Group, error: InvalidInput) -> RowError {
    let share = error
        .field
        .strip_prefix("shares[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(index, field)| Some((index.parse::<usize>().ok()?, field)));
    match share.and_then(|(index, field)| Some((group.shares.get(index)?, field))) {
        Some(((line, _), "item_id")) => row_error(*line, "reference", error.reason),
        Some(((line, _), field)) => row_error(*line, field, error.reason),
        None => {
            let field = match error.field.as_str() {
                "amount" | "shares" => "clearing_amount",
                other => other,
            };
            row_error(group.first_line, field, error.reason)
        }
    }
}

/// Parses a clearings file into allocations, each with its group of lines. Pure (no I/O but
/// reading `input`).
fn parse_clearings<R: std::io::Read>(
    input: R,
) -> (Vec<(Group, ClearingAllocation)>, Vec<RowError>) {
    let (groups, mut errors) = group_rows(input);
    let mut allocations = Vec::with_capacity(groups.len());
    for mut group in groups {
        let body = AllocationBody {
            clearing_reference: group.clearing_reference.clone(),
            amount: group.clearing_amount.clone(),
            currency: group.currency.clone(),
            shares: std::mem::take(&mut group.body_shares),
        };
        match body.parse() {
            Ok(allocation) => allocations.push((group, allocation)),
            Err(e) => errors.push(place(&group, e)),
        }
    }
    (allocations, errors)
}

/// The field a ledger's refusal of one share is about.
fn refused_field(error: &StoreError) -> &'static str {
    match error {
        StoreError::Rejected(
            ItemError::ClearingExceedsOutstanding { .. } | ItemError::CurrencyMismatch { .. },
        ) => "amount",
        StoreError::Rejected(ItemError::ClearingReferenceConflict { .. }) => "clearing_reference",
        _ => "reference",
    }
}

/// Checks the whole file, against the ledger too, then records every allocation not
/// recorded before.
pub async fn import_clearings(
    ledger: &Suspense,
    path: &Path,
    actor: &Actor,
) -> Result<ClearingSummary, CliError> {
    let (allocations, mut errors) = parse_clearings(super::open_file(path)?);
    let checks = ledger
        .check_allocations(
            actor,
            &allocations
                .iter()
                .map(|(_, allocation)| allocation.clone())
                .collect::<Vec<_>>(),
        )
        .await?;
    let mut summary = ClearingSummary::default();
    let mut to_record = Vec::new();
    for ((group, allocation), check) in allocations.into_iter().zip(checks) {
        match check {
            AllocationCheck::New => to_record.push((group.first_line, allocation)),
            AllocationCheck::AlreadyRecorded => summary.already_recorded += 1,
            AllocationCheck::Refused { share, error } => {
                let refusal = match share.and_then(|index| group.shares.get(index)) {
                    Some((line, source)) => {
                        row_error(*line, refused_field(&error), format!("{source}: {error}"))
                    }
                    None => row_error(group.first_line, "clearing_reference", error.to_string()),
                };
                errors.push(refusal);
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Rows(errors).into());
    }
    for (line, allocation) in to_record {
        let actor = actor
            .clone()
            .with_request_id(format!("{}:{line}", path.display()));
        let shares = allocation.shares.len();
        match ledger.allocate_clearing(&actor, allocation).await? {
            Some(_) => {
                summary.allocated += 1;
                summary.shares += shares;
            }
            None => summary.already_recorded += 1,
        }
    }
    Ok(summary)
}

pub async fn run(cli: &Cli, file: &Path, actor: &str) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let actor = Actor::new(UserId::parse(actor)?).with_source("cli-import");
    let result = import_clearings(&ledger, file, &actor).await;
    ledger.close().await;
    let summary = result?;
    outln!(
        "allocated {} clearing(s) over {} item share(s); {} were already recorded",
        summary.allocated,
        summary.shares,
        summary.already_recorded
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "clearing_reference,clearing_amount,currency,source_system,reference,amount\n";

    fn errors(body: &str) -> Vec<(u64, String)> {
        let (_, errors) = parse_clearings(format!("{HEADER}{body}").as_bytes());
        errors.into_iter().map(|e| (e.line, e.field)).collect()
    }

    #[test]
    fn allocation_rows_group_by_clearing_reference() {
        let (allocations, errors) = parse_clearings(
            format!(
                "{HEADER}PAY-1,120.00,CNY,CORE,A,80.00\nPAY-2,5.00,CNY,CORE,A,5.00\n\
                 PAY-1,120.00,CNY,CORE,B,40.00\n"
            )
            .as_bytes(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let lines: Vec<_> = allocations
            .iter()
            .map(|(group, allocation)| {
                (
                    group
                        .shares
                        .iter()
                        .map(|(line, _)| *line)
                        .collect::<Vec<_>>(),
                    allocation.shares.len(),
                )
            })
            .collect();
        assert_eq!(lines, vec![(vec![2, 4], 2), (vec![3], 1)]);
    }

    #[test]
    fn allocation_row_errors_name_line_and_field() {
        assert_eq!(
            errors("PAY-1,120.00,CNY,CORE,A,80.00\nPAY-1,100.00,CNY,CORE,B,40.00\n"),
            vec![(3, "clearing_amount".into())]
        );
        assert_eq!(
            errors("PAY-1,120.00,CNY,CORE,A,80.00\nPAY-1,120.00,CNY,CORE,B,30.00\n"),
            vec![(2, "clearing_amount".into())],
            "shares not summing to the clearing"
        );
        assert_eq!(
            errors("PAY-1,120.00,CNY,CORE,A,80.00\nPAY-1,120.00,CNY,CORE,A,40.00\n"),
            vec![(3, "reference".into())],
            "one item twice in a clearing"
        );
        assert_eq!(
            errors("PAY-1,120.00,CNY,CORE,A,80.00\nPAY-1,120.00,CNY,CORE,B,4O.00\n"),
            vec![(3, "amount".into())]
        );
        assert_eq!(
            errors("PAY-1,10.00,CNY,CORE,,10.00\n"),
            vec![(2, "reference".into())]
        );
    }
}
