//! `suspense report root-causes|accountability|counterparties|aging|provisioning`

use chrono::Utc;
use clap::ValueEnum;
use suspense::Actor;
use suspense_domain::{BranchCode, UserId};
use suspense_read_models::{
    AgingReport, AttributedTo, AttributionQuery, CauseDimension, CauseSummaryQuery, PeriodKind,
    RootCauseQuery, RootCauseReport,
};

use super::{settings, Cli, CliError};
use crate::dto::{
    attribution_csv, cause_summary_csv, date, provisioning_csv, AttributionReportView,
    CauseSummaryView, ProvisioningView, SummaryRowView,
};
use crate::routes::reports::root_causes_csv;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Period {
    Month,
    Quarter,
    Year,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Periodic root-cause statistics.
    RootCauses {
        #[arg(long, value_enum, default_value = "month")]
        period: Period,
        /// First day covered (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last day covered (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        #[arg(long)]
        branch: Option<String>,
        /// Sum over these dimensions, ranked with shares and subtotals: any of category,
        /// code, branch, channel, currency, team, counterparty, incident (default for the
        /// table: category,code).
        #[arg(long)]
        by: Option<String>,
        /// Every row of the cube (category × code × branch × channel × currency), as CSV and
        /// JSON give without --by.
        #[arg(long, conflicts_with = "by")]
        full: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Operational errors per responsible staff member, items booked from --from to --to
    /// (for supervisors: the assessment of staff, 考核).
    Accountability {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// External causes per counterparty, items booked from --from to --to.
    Counterparties {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Open items by age as of a date (default today).
    Aging {
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Provisions and regulatory actions the escalation policy asks for, as of a date
    /// (default today).
    Provisioning {
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    ledger.refresh().await?;
    let output = match command {
        Command::RootCauses {
            period,
            from,
            to,
            branch,
            by,
            full,
            format,
        } => {
            let kind = match period {
                Period::Month => PeriodKind::Month,
                Period::Quarter => PeriodKind::Quarter,
                Period::Year => PeriodKind::Year,
            };
            let branch = branch.as_deref().map(BranchCode::parse).transpose()?;
            let query = RootCauseQuery::new(kind, date("from", from)?, date("to", to)?, branch)?;
            let by = match (by, full, format) {
                (Some(by), _, _) => Some(CauseDimension::parse_list(by)?),
                (None, false, Format::Table) => {
                    Some(vec![CauseDimension::Category, CauseDimension::Code])
                }
                (None, _, _) => None,
            };
            if let Some(by) = by {
                let query = CauseSummaryQuery::new(query, by)?;
                let summary =
                    CauseSummaryView::from(&ledger.reports().cause_summary(&query).await?);
                let output = render(*format, &summary, cause_summary_csv, cause_summary_table)?;
                ledger.close().await;
                out!("{output}")?;
                return Ok(());
            }
            let report = ledger.reports().root_causes(&query).await?;
            render(*format, &report, root_causes_csv, root_causes_table)?
        }
        Command::Accountability { from, to, format }
        | Command::Counterparties { from, to, format } => {
            let attributed_to = match command {
                Command::Accountability { .. } => AttributedTo::Responsible,
                _ => AttributedTo::Counterparty,
            };
            let query = AttributionQuery::new(attributed_to, date("from", from)?, date("to", to)?)?;
            let report = AttributionReportView::from(&ledger.reports().attribution(&query).await?);
            render(*format, &report, attribution_csv, attribution_table)?
        }
        Command::Aging { as_of, format } => {
            let as_of = match as_of {
                Some(d) => date("as_of", d)?,
                None => settings.calendar.local_date(Utc::now()),
            };
            let report = ledger.reports().aging(as_of, &settings.aging).await?;
            render(*format, &report, aging_csv, aging_table)?
        }
        Command::Provisioning { as_of, format } => {
            let as_of = match as_of {
                Some(d) => date("as_of", d)?,
                None => settings.calendar.local_date(Utc::now()),
            };
            let report = ProvisioningView::from(
                &ledger
                    .provisioning(&Actor::new(UserId::parse("cli")?), as_of)
                    .await?,
            );
            render(*format, &report, provisioning_csv, provisioning_table)?
        }
    };
    ledger.close().await;
    out!("{output}")?;
    Ok(())
}

/// A report in the format asked for: JSON, CSV, or the table a person reads.
fn render<T: serde::Serialize>(
    format: Format,
    report: &T,
    csv: fn(&T) -> Result<String, csv::Error>,
    table: fn(&T) -> String,
) -> Result<String, CliError> {
    match format {
        Format::Json => json(report),
        Format::Csv => csv(report).map_err(|e| CliError::Other(e.to_string())),
        Format::Table => Ok(table(report)),
    }
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Other(e.to_string()))
}

pub fn root_causes_table(report: &RootCauseReport) -> String {
    let mut out = String::new();
    for period in &report.periods {
        out.push_str(&format!(
            "{} ({}), restated items: {}\n",
            period.period, report.time_zone, period.restated_items
        ));
        out.push_str(&format!(
            "  {:<18} {:<20} {:<8} {:<20} {:<4} {:>7} {:>16} {:>8} {:>9} {:>6} {:>8}\n",
            "category",
            "code",
            "branch",
            "channel",
            "ccy",
            "opened",
            "opened amount",
            "resolved",
            "open@end",
            "p50 h",
            "Δopened"
        ));
        for row in &period.rows {
            out.push_str(&format!(
                "  {:<18} {:<20} {:<8} {:<20} {:<4} {:>7} {:>16} {:>8} {:>9} {:>6} {:>+8}\n",
                row.key.category,
                row.key.code,
                row.key.branch,
                row.key.channel,
                row.key.currency,
                row.opened.count,
                row.opened.amount,
                row.resolved.count,
                row.open_at_end.count,
                row.median_hours_to_resolve
                    .map_or_else(|| "-".to_owned(), |h| h.to_string()),
                row.change.opened
            ));
        }
        for rate in &period.suspense_rates {
            out.push_str(&format!(
                "  suspense rate {}: {} items / {} transactions = {} per 10,000\n",
                rate.branch,
                rate.items_opened,
                rate.transactions,
                rate.per_10000.as_deref().unwrap_or("n/a")
            ));
        }
    }
    out
}

/// The summary a manager reads at a glance: per period the ranked rows with their share,
/// the vital few marked, the comparison counts, subtotals and the total.
pub fn cause_summary_table(summary: &CauseSummaryView) -> String {
    let mut out = String::new();
    let widths: Vec<usize> = summary
        .by
        .iter()
        .map(|d| {
            summary
                .periods
                .iter()
                .flat_map(|p| p.rows.iter().filter_map(|r| r.key.get(d)))
                .map(|v| v.chars().count())
                .chain([d.len(), 5])
                .max()
                .unwrap_or(5)
        })
        .collect();
    let key = |row: &SummaryRowView| -> String {
        summary
            .by
            .iter()
            .zip(&widths)
            .map(|(d, w)| format!("{:<w$}", row.key.get(d).map_or("", String::as_str)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let amounts = |row: &SummaryRowView| -> String {
        row.amounts
            .iter()
            .map(|a| format!("{} {}", a.currency, a.opened.amount))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = |mark: &str, key: String, row: &SummaryRowView| -> String {
        format!(
            "{mark} {key} {:>7} {:>6}% {:>6}% {:>7} {:>7} {:>8} {:>8}  {}\n",
            row.opened,
            row.share_percent,
            row.cumulative_percent,
            row.previous_opened,
            row.year_earlier_opened,
            row.resolved,
            row.open_at_end,
            amounts(row)
        )
    };
    for period in &summary.periods {
        out.push_str(&format!(
            "{} ({}) by {}: {} items opened; the first {} of {} rows make 80 % (marked *)\n",
            period.period,
            summary.time_zone,
            summary.by.join(", "),
            period.items_opened,
            period.vital_few,
            period.rows.len()
        ));
        let header: Vec<String> = summary
            .by
            .iter()
            .zip(&widths)
            .map(|(d, w)| format!("{d:<w$}"))
            .collect();
        out.push_str(&format!(
            "  {} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8}  opened amount\n",
            header.join(" "),
            "opened",
            "share",
            "cum.",
            "before",
            "yr ago",
            "resolved",
            "open@end"
        ));
        for (i, row) in period.rows.iter().enumerate() {
            let mark = if i < period.vital_few { "*" } else { " " };
            out.push_str(&line(mark, key(row), row));
        }
        if !period.subtotals.is_empty() {
            out.push_str(&format!("  subtotals by {}\n", summary.by[0]));
            for row in &period.subtotals {
                out.push_str(&line(" ", key(row), row));
            }
        }
        let width = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
        out.push_str(&line(" ", format!("{:<width$}", "total"), &period.total));
    }
    out
}

fn attribution_table(report: &AttributionReportView) -> String {
    let mut out = format!(
        "items booked {} to {} by {}\n  {:<24} {:>6} {:>6}  {:<32} amounts\n",
        report.from,
        report.to,
        report.attributed_to,
        report.attributed_to,
        "items",
        "open",
        "codes"
    );
    for row in &report.rows {
        let codes = row
            .codes
            .iter()
            .map(|c| format!("{} {}", c.code, c.items))
            .collect::<Vec<_>>()
            .join(", ");
        let amounts = row
            .amounts
            .iter()
            .map(|a| {
                format!(
                    "{} {} ({} outstanding)",
                    a.currency, a.amount, a.outstanding
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "  {:<24} {:>6} {:>6}  {:<32} {}\n",
            row.name, row.items, row.open_items, codes, amounts
        ));
    }
    out
}

fn aging_table(report: &AgingReport) -> String {
    let mut out = format!("open items as of {} by {:?}\n", report.as_of, report.basis);
    out.push_str(&format!(
        "  {:<8} {:<18} {:<4} {:<8} {:>6} {:>16}\n",
        "branch", "category", "ccy", "age", "items", "outstanding"
    ));
    for row in &report.rows {
        out.push_str(&format!(
            "  {:<8} {:<18} {:<4} {:<8} {:>6} {:>16}\n",
            row.branch, row.category, row.currency, row.bucket, row.count, row.amount
        ));
    }
    out
}

fn aging_csv(report: &AgingReport) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "as_of",
        "branch",
        "category",
        "currency",
        "age_bucket",
        "items",
        "outstanding",
    ])?;
    for row in &report.rows {
        out.write_record([
            report.as_of.to_string(),
            row.branch.clone(),
            row.category.clone(),
            row.currency.clone(),
            row.bucket.clone(),
            row.count.to_string(),
            row.amount.clone(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn provisioning_table(report: &ProvisioningView) -> String {
    let mut out = format!(
        "provisioning as of {} (policy version {})\n{:<4}  {:<20}  {:<8}  {:<6}  {:>5}  {:>14}  {:>5}  {:>14}  actions\n",
        report.as_of,
        report
            .policy_version
            .map_or_else(|| "none".to_owned(), |v| v.to_string()),
        "ccy",
        "reference",
        "branch",
        "dir",
        "age",
        "outstanding",
        "%",
        "provision",
    );
    for i in &report.items {
        let kinds: Vec<&str> = i.actions.iter().map(|a| a.kind).collect();
        out.push_str(&format!(
            "{:<4}  {:<20}  {:<8}  {:<6}  {:>5}  {:>14}  {:>5}  {:>14}  {}\n",
            i.currency,
            i.reference,
            i.branch,
            i.direction,
            i.age_days,
            i.outstanding,
            i.provision_percent.as_deref().unwrap_or("-"),
            i.provision.as_deref().unwrap_or("-"),
            kinds.join(", ")
        ));
    }
    for t in &report.totals {
        out.push_str(&format!(
            "{:<4}  {} items, outstanding {}, provision {}, {} to the blocked account, {} to review\n",
            t.currency, t.items, t.outstanding, t.provision, t.to_blocked_account, t.to_review
        ));
    }
    out
}
