//! `suspense sweep [--as-of]`: run the escalation sweep once (the service also runs it on its
//! own schedule); prints what it escalated and the regulatory actions due.

use super::{settings, Cli, CliError};
use crate::routes::policy::sweep_instant;

#[derive(clap::Args)]
pub struct Args {
    /// The instant to sweep at: an RFC 3339 time or a date (default now).
    #[arg(long)]
    pub as_of: Option<String>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let at = sweep_instant(args.as_of.as_deref(), settings.calendar)?;
    let outcome = ledger.sweep(at).await?;
    ledger.close().await;
    let Some(version) = outcome.policy_version else {
        return outln!(
            "no escalation policy in force on {}: nothing swept (suspense policy publish)",
            outcome.as_of.map(|d| d.to_string()).unwrap_or_default()
        );
    };
    outln!(
        "swept {} with policy version {version}: {} candidates, {} escalated, {} regulatory actions due, {} customers to remind",
        outcome.as_of.map(|d| d.to_string()).unwrap_or_default(),
        outcome.candidates,
        outcome.escalated.len(),
        outcome.actions_due.len(),
        outcome.reminded.len()
    )?;
    for (item, escalation) in &outcome.escalated {
        outln!(
            "  escalated {item} to {} ({}, rule {})",
            escalation.level,
            escalation.reason,
            escalation.rule
        )?;
    }
    for (item, due) in &outcome.actions_due {
        outln!("  due on {item}: rule {} {:?}", due.rule, due.action)?;
    }
    for (item, due) in &outcome.reminded {
        outln!(
            "  remind the customer of {item}: {} days after booking (due {})",
            due.day,
            due.due_on
        )?;
    }
    Ok(())
}
