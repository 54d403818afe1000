//! `suspense audit export|verify|replay`: what an auditor runs (docs/audit.md).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use suspense::store::{verify_export, ChainVerdict, ExportedEvent};
use suspense_read_models::{PeriodKind, Replica, RootCauseQuery};

use super::report::root_causes_table;
use super::{settings, Cli, CliError};
use crate::dto::date;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the log as JSON Lines, one event a line, in global order, to stdout.
    Export {
        /// Start after this log position.
        #[arg(long, default_value_t = 0)]
        from_position: u64,
        /// Only events recorded at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only events recorded at or before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
    },
    /// Recompute the hash chain of the database (or of an export file, with no database) and
    /// name the first position that does not match. Exits 4 if the log was tampered with.
    Verify {
        /// An export to check instead of the database.
        #[arg(long)]
        file: Option<PathBuf>,
        /// With --file: also recompute the root-cause report for this range from the file.
        #[arg(long, requires = "to")]
        from: Option<String>,
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[arg(long, default_value = "month")]
        period: String,
    },
    /// Print the root-cause report exactly as it stood at a past recorded time.
    Replay {
        /// RFC 3339, e.g. 2026-04-01T00:00:00Z.
        #[arg(long)]
        as_of: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "month")]
        period: String,
        /// json (default: byte-for-byte comparable) or table.
        #[arg(long, default_value = "json")]
        format: String,
    },
}

fn instant(field: &str, value: &str) -> Result<DateTime<Utc>, CliError> {
    Ok(crate::dto::instant(field, value)?)
}

fn print_verdict(verdict: &ChainVerdict) -> Result<(), CliError> {
    match verdict.first_problem {
        None => {
            outln!(
                "intact: positions 1..={} match the chain; head link {}; {} event(s) not chained yet",
                verdict.verified_up_to,
                verdict.head_link.as_deref().unwrap_or("(none)"),
                verdict.unchained
            )?;
            Ok(())
        }
        Some((position, kind)) => Err(CliError::Tampered(format!(
            "the log does not match its hash chain at position {position}: event {kind} (positions 1..={} are intact)",
            verdict.verified_up_to
        ))),
    }
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    match command {
        Command::Export {
            from_position,
            since,
            until,
        } => {
            let since = since.as_deref().map(|s| instant("since", s)).transpose()?;
            let until = until.as_deref().map(|s| instant("until", s)).transpose()?;
            let ledger = crate::app::open_ledger(&settings).await?;
            ledger.refresh().await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut after = *from_position;
            loop {
                let page = ledger.log().export_after(after, 5_000).await?;
                let Some(last) = page.last() else { break };
                after = last.position;
                for event in page {
                    let at = DateTime::parse_from_rfc3339(&event.recorded_at)
                        .map(|t| t.with_timezone(&Utc))
                        .ok();
                    if since.is_some_and(|s| at.is_some_and(|a| a < s))
                        || until.is_some_and(|u| at.is_some_and(|a| a > u))
                    {
                        continue;
                    }
                    serde_json::to_writer(&mut out, &event)
                        .map_err(|e| CliError::Other(e.to_string()))?;
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
            ledger.close().await;
            Ok(())
        }
        Command::Verify { file: None, .. } => {
            let ledger = crate::app::open_ledger(&settings).await?;
            ledger.refresh().await?;
            let verdict = ledger.log().verify_chain().await?;
            ledger.close().await;
            print_verdict(&verdict)
        }
        Command::Verify {
            file: Some(path),
            from,
            to,
            period,
        } => {
            let file = std::fs::File::open(path)?;
            let mut events = Vec::new();
            for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let event: ExportedEvent = serde_json::from_str(&line).map_err(|e| {
                    suspense_domain::InvalidInput::new(
                        format!("line {}", index + 1),
                        format!("not an exported event: {e}"),
                    )
                })?;
                events.push(event);
            }
            let verdict = verify_export(&events);
            print_verdict(&verdict)?;
            if let (Some(from), Some(to)) = (from, to) {
                let query = RootCauseQuery::new(
                    PeriodKind::parse(period)?,
                    date("from", from)?,
                    date("to", to)?,
                    None,
                )?;
                let settings = suspense_read_models::ReadModelSettings {
                    calendar: settings.calendar,
                };
                let replica = Replica::from_export(events, settings).await?;
                let report = replica.reports().root_causes(&query).await?;
                outln!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| CliError::Other(e.to_string()))?
                )?;
            }
            Ok(())
        }
        Command::Replay {
            as_of,
            from,
            to,
            period,
            format,
        } => {
            let at = instant("as_of", as_of)?;
            let query = RootCauseQuery::new(
                PeriodKind::parse(period)?,
                date("from", from)?,
                date("to", to)?,
                None,
            )?;
            let ledger = crate::app::open_ledger(&settings).await?;
            let replica =
                Replica::as_known_at(ledger.log(), *ledger.projector().settings(), at).await?;
            let report = replica.reports().root_causes(&query).await?;
            ledger.close().await;
            match format.as_str() {
                "table" => out!("{}", root_causes_table(&report))?,
                _ => outln!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| CliError::Other(e.to_string()))?
                )?,
            }
            Ok(())
        }
    }
}
