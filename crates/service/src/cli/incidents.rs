//! `suspense incidents list|show|suggest|open|link`: incidents that caused many items, the
//! items they may have caused, and linking them (docs/api.md, "incidents").

use std::path::PathBuf;

use suspense::{Actor, IncidentQueryError};
use suspense_domain::incident::{IncidentAction, IncidentReference};
use suspense_domain::{ItemId, Note, UserId};

use super::report::json;
use super::{settings, Cli, CliError};
use crate::dto::{CandidateView, IncidentView, OpenIncidentBody};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every incident, one line each.
    List,
    /// One incident with the figures of its linked items, as JSON.
    Show { reference: String },
    /// The items the incident may have caused that no incident holds yet, best first.
    Suggest {
        reference: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Open an incident from a TOML file (the fields of `POST /v1/incidents`).
    Open {
        #[arg(long)]
        file: PathBuf,
        /// Recorded as the person who opened it.
        #[arg(long = "as", default_value = "cli")]
        by: String,
    },
    /// Link items to the incident.
    Link {
        reference: String,
        /// Item ids.
        #[arg(required = true)]
        items: Vec<String>,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", default_value = "cli")]
        by: String,
    },
}

impl From<IncidentQueryError> for CliError {
    fn from(err: IncidentQueryError) -> Self {
        match err {
            IncidentQueryError::NoSuchIncident => CliError::Other(err.to_string()),
            IncidentQueryError::Report(e) => e.into(),
            IncidentQueryError::Log(e) => e.into(),
        }
    }
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let result = async {
        let reader = Actor::new(UserId::parse("cli")?);
        Ok::<String, CliError>(match command {
            Command::List => {
                let mut out = format!(
                    "{:<20} {:<9} {:<18} {:<14} {:>6}  title\n",
                    "reference", "status", "category", "code", "items"
                );
                for state in ledger.incidents().await?.values() {
                    let view = IncidentView::new(state);
                    out.push_str(&format!(
                        "{:<20} {:<9} {:<18} {:<14} {:>6}  {}\n",
                        view.reference,
                        view.status,
                        view.category,
                        view.code,
                        view.linked_items.len(),
                        view.title
                    ));
                }
                out
            }
            Command::Show { reference } => {
                ledger.refresh().await?;
                let reference = IncidentReference::parse(reference)?;
                let report = ledger.incident_report(&reader, &reference).await?;
                json(&IncidentView::from(&report))?
            }
            Command::Suggest { reference, limit } => {
                ledger.refresh().await?;
                let reference = IncidentReference::parse(reference)?;
                let mut out = format!(
                    "{:<36} {:<24} {:<10} {:<16} {:>5}  matched\n",
                    "item", "reference", "booked on", "code", "score"
                );
                for candidate in ledger
                    .incident_suggestions(&reader, &reference, *limit)
                    .await?
                    .into_iter()
                    .map(CandidateView::from)
                {
                    out.push_str(&format!(
                        "{:<36} {:<24} {:<10} {:<16} {:>5}  {}\n",
                        candidate.item_id,
                        candidate.reference,
                        candidate.booked_on,
                        candidate.code.as_deref().unwrap_or("-"),
                        candidate.score,
                        candidate.matched.join(", ")
                    ));
                }
                out
            }
            Command::Open { file, by } => {
                let body: OpenIncidentBody = super::toml_file(file)?;
                let (reference, action) = body.parse()?;
                let actor = Actor::new(UserId::parse(by)?).with_source("cli");
                ledger.execute_incident(&actor, &reference, action).await?;
                format!("incident {reference} is open\n")
            }
            Command::Link {
                reference,
                items,
                reason,
                by,
            } => {
                let reference = IncidentReference::parse(reference)?;
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        ItemId::parse(id).map_err(|e| e.for_field(format!("items[{i}]")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let action = IncidentAction::Link {
                    items,
                    reason: Note::parse(reason).map_err(|e| e.for_field("reason"))?,
                };
                let actor = Actor::new(UserId::parse(by)?).with_source("cli");
                let state = ledger.execute_incident(&actor, &reference, action).await?;
                format!(
                    "incident {reference} holds {} item(s)\n",
                    state.map_or(0, |s| s.linked.len())
                )
            }
        })
    }
    .await;
    ledger.close().await;
    out!("{}", result?)
}
