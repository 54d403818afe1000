//! `suspense items list|show`

use suspense_domain::ItemId;
use suspense_read_models::ItemFilter;

use super::{settings, Cli, CliError};
use crate::dto::ItemView;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Items from the register, filtered.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One item's current state and its history.
    Show { id: String },
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    match command {
        Command::List {
            status,
            branch,
            category,
            team,
            assignee,
            limit,
        } => {
            ledger.refresh().await?;
            let filter = ItemFilter {
                status: status.clone(),
                branch: branch.clone(),
                category: category.clone(),
                team: team.clone(),
                assignee: assignee.clone(),
                booked_on_or_before: None,
                after: None,
                limit: (*limit).clamp(1, 10_000),
            };
            outln!(
                "{:<36}  {:<16}  {:<8}  {:<10}  {:>14}  {:<4}  {:<18}",
                "id",
                "status",
                "branch",
                "booked on",
                "outstanding",
                "ccy",
                "category"
            )?;
            for row in ledger.reports().items(&filter).await? {
                let outstanding =
                    suspense_read_models::format_minor_units(row.outstanding_minor, &row.currency);
                outln!(
                    "{:<36}  {:<16}  {:<8}  {:<10}  {:>14}  {:<4}  {:<18}",
                    row.item_id,
                    row.status,
                    row.branch,
                    row.booked_on,
                    outstanding,
                    row.currency,
                    row.category.as_deref().unwrap_or("-")
                )?;
            }
        }
        Command::Show { id } => {
            let id = ItemId::parse(id)?;
            let item = ledger
                .item(id)
                .await?
                .ok_or_else(|| CliError::Other(format!("no item {id}")))?;
            let view = ItemView::from(item);
            outln!(
                "{}",
                serde_json::to_string_pretty(&view).map_err(|e| CliError::Other(e.to_string()))?
            )?;
            for event in ledger.history(id).await? {
                outln!(
                    "{:>3}  {}  {:<12}  {}",
                    event.sequence,
                    event.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                    event.event.by().as_str(),
                    event.event_type
                )?;
            }
        }
    }
    ledger.close().await;
    Ok(())
}
