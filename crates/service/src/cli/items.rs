//! `suspense items list|show|watch`

use chrono::Utc;
use suspense::Actor;
use suspense_domain::{ItemId, SuspenseItemEvent, UserId};
use suspense_read_models::ItemFilter;

use super::report::{json, Format};
use super::{settings, Cli, CliError};
use crate::dto::{watch_list_csv, ItemView, WatchListView, WatchParams, WatchReasonView};

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
    /// The watch list: open items crossing a policy threshold within the horizon, or older
    /// than their cause usually takes, ranked per currency by risk.
    Watch {
        /// The date to look from (default today in the bank's time zone).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, default_value_t = 7)]
        horizon_days: u32,
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        /// Entries per currency.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
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
                limit: (*limit).clamp(1, 10_000),
                ..ItemFilter::default()
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
            let history = ledger.history(id).await?;
            let allocations = ledger.allocations_in(&history).await?;
            for event in history {
                outln!(
                    "{:>3}  {}  {:<12}  {}",
                    event.sequence,
                    event.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                    event.event.by().as_str(),
                    event.event_type
                )?;
                if let SuspenseItemEvent::ClearingRecorded {
                    clearing_reference, ..
                } = &event.event
                {
                    if let Some(allocation) = allocations.get(clearing_reference) {
                        outln!(
                            "     allocation {} of {} across {} item(s):",
                            clearing_reference,
                            allocation.amount,
                            allocation.shares.len()
                        )?;
                        for share in &allocation.shares {
                            let mark = if share.item_id == id { "*" } else { " " };
                            outln!("      {mark} {}  {}", share.item_id, share.amount)?;
                        }
                    }
                }
            }
        }
        Command::Watch {
            as_of,
            horizon_days,
            branch,
            currency,
            limit,
            format,
        } => {
            let params = WatchParams {
                as_of: as_of.clone(),
                horizon_days: Some(horizon_days.to_string()),
                branch: branch.clone(),
                currency: currency.clone(),
                limit: Some(limit.to_string()),
                fresh: None,
                format: None,
            };
            let request = params.parse(settings.calendar.local_date(Utc::now()))?;
            ledger.refresh().await?;
            let list = WatchListView::from(
                &ledger
                    .watch_list(&Actor::new(UserId::parse("cli")?), &request.query)
                    .await?,
            );
            let output = match format {
                Format::Json => json(&list)?,
                Format::Csv => watch_list_csv(&list).map_err(|e| CliError::Other(e.to_string()))?,
                Format::Table => watch_table(&list),
            };
            out!("{output}")?;
        }
    }
    ledger.close().await;
    Ok(())
}

fn watch_table(list: &WatchListView) -> String {
    let mut out = format!(
        "watch list as of {} for {} days ahead (policy version {})\n",
        list.as_of,
        list.horizon_days,
        list.policy_version
            .map_or_else(|| "none".to_owned(), |v| v.to_string())
    );
    for group in &list.currencies {
        out.push_str(&format!(
            "\n{}: {} listed\n{:>4}  {:<20}  {:<8}  {:>5}  {:<10}  {:>14}  {:>6}  {:>14}  why\n",
            group.currency,
            group.listed,
            "#",
            "reference",
            "branch",
            "age",
            "level",
            "outstanding",
            "ratio",
            "risk"
        ));
        for (rank, e) in group.entries.iter().enumerate() {
            let why: Vec<&str> = e
                .reasons
                .iter()
                .map(|r| match r {
                    WatchReasonView::Threshold { why, .. }
                    | WatchReasonView::BeyondUsualTime { why, .. } => why.as_str(),
                })
                .collect();
            out.push_str(&format!(
                "{:>4}  {:<20}  {:<8}  {:>5}  {:<10}  {:>14}  {:>6}  {:>14}  {}\n",
                rank + 1,
                e.reference,
                e.branch,
                e.age_days,
                e.escalation_level.unwrap_or("-"),
                e.outstanding,
                e.overdue_ratio,
                e.risk,
                why.join("; ")
            ));
        }
    }
    out
}
