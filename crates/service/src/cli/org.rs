//! `suspense org show|publish`: the organisation registry's versions, and publishing the
//! next one from a TOML file (docs/organisation.md).

use std::path::PathBuf;

use chrono::Utc;
use suspense::Actor;
use suspense_domain::UserId;

use super::{settings, Cli, CliError};
use crate::dto::{OrganisationDocument, OrganisationView};

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
            let registry = ledger.organisations().await?;
            let today = settings.calendar.local_date(Utc::now());
            serde_json::to_string_pretty(&OrganisationView::new(&registry, today))
                .map(|s| s + "\n")
                .map_err(|e| CliError::Other(e.to_string()))?
        }
        Command::Publish { file, by } => {
            let document: OrganisationDocument = super::toml_file(file)?;
            let command = document.parse()?;
            let actor = Actor::new(UserId::parse(by)?).with_source("cli");
            let published = ledger.publish_organisation(&actor, command).await?;
            format!(
                "published organisation registry version {}, in force from {} ({} branches, {} teams)\n",
                published.version,
                published.effective_from,
                published.branches.len(),
                published.teams.len()
            )
        }
    };
    ledger.close().await;
    out!("{output}")
}
