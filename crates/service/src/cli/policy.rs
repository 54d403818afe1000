//! `suspense policy show|publish`: the escalation policy's versions, and publishing the next
//! one from a TOML file (docs/escalation.md).

use std::path::PathBuf;

use chrono::Utc;
use suspense::Actor;
use suspense_domain::UserId;

use super::{settings, Cli, CliError};
use crate::dto::{PolicyDocument, PolicyView};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every published version as JSON, and the one in force today.
    Show,
    /// Publish the next version from a TOML file.
    Publish {
        #[arg(long)]
        file: PathBuf,
        /// Recorded as the person who published it.
        #[arg(long = "as", default_value = "cli")]
        by: String,
    },
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let output = match command {
        Command::Show => {
            let policies = ledger.policies().await?;
            let today = settings.calendar.local_date(Utc::now());
            serde_json::to_string_pretty(&PolicyView::new(&policies, today))
                .map(|s| s + "\n")
                .map_err(|e| CliError::Other(e.to_string()))?
        }
        Command::Publish { file, by } => {
            let document: PolicyDocument = super::toml_file(file)?;
            let command = document.parse()?;
            let actor = Actor::new(UserId::parse(by)?).with_source("cli");
            let published = ledger.publish_policy(&actor, command).await?;
            format!(
                "published escalation policy version {}, in force from {} ({} rules)\n",
                published.version,
                published.effective_from,
                published.rules.len()
            )
        }
    };
    ledger.close().await;
    out!("{output}")
}
