//! The demo's incident: an outage four months ago, opened by the team lead, who links the
//! suggested items classified under the outage's own code and leaves the rest (the same
//! category, or only an affected channel) to judge, so a new user sees one cause counted once
//! with its items.

use chrono::{Duration, NaiveDate};
use suspense::{Actor, Suspense};
use suspense_domain::incident::{IncidentAction, IncidentReference, OpenIncident};
use suspense_domain::{Channel, ItemId, Note, RootCauseCategory, RootCauseCode, UserId};

use crate::cli::CliError;

/// The demo incident's reference.
pub const REFERENCE: &str = "INC-DEMO-OUTAGE";

/// Opens the incident and links the suggestions that share its code.
pub async fn seed(ledger: &Suspense, today: NaiveDate) -> Result<(), CliError> {
    let lead = Actor::new(UserId::parse("lead-demo")?).with_source("demo");
    let reference = IncidentReference::parse(REFERENCE)?;
    let start = today - Duration::days(120);
    let incident = OpenIncident {
        reference: reference.clone(),
        title: Note::parse("online and mobile banking interface outage")?,
        category: RootCauseCategory::SystemFailure,
        code: RootCauseCode::parse("SYS-OUTAGE")?,
        window_from: start,
        window_to: start + Duration::days(13),
        channels: vec![Channel::OnlineBanking, Channel::MobileBanking],
        counterparty: None,
        owner: UserId::parse("it-ops-demo")?,
    };
    ledger
        .execute_incident(&lead, &reference, IncidentAction::Open(incident))
        .await?;
    ledger.refresh().await?;
    let confirmed: Vec<ItemId> = ledger
        .incident_suggestions(&lead, &reference, 1_000)
        .await?
        .into_iter()
        .filter(|c| c.matched.contains(&"code"))
        .filter_map(|c| ItemId::parse(&c.item_id).ok())
        .collect();
    if !confirmed.is_empty() {
        ledger
            .execute_incident(
                &lead,
                &reference,
                IncidentAction::Link {
                    items: confirmed,
                    reason: Note::parse("booked on an affected channel during the outage")?,
                },
            )
            .await?;
    }
    Ok(())
}

/// One line on the incident: its items and what they amount to.
pub async fn print(ledger: &Suspense) -> Result<(), CliError> {
    let reader = Actor::new(UserId::parse("demo")?);
    let reference = IncidentReference::parse(REFERENCE)?;
    let Ok(report) = ledger.incident_report(&reader, &reference).await else {
        return Ok(());
    };
    let amounts: Vec<String> = report
        .figures
        .amounts
        .iter()
        .map(|(currency, _, amount, _)| format!("{currency} {amount}"))
        .collect();
    outln!(
        "incident {REFERENCE} \"{}\": {} items linked ({} still open), {}; \
         `suspense incidents suggest {REFERENCE}` lists what else it may have caused",
        report.state.incident.title,
        report.figures.items,
        report.figures.open_items,
        amounts.join(", ")
    )?;
    Ok(())
}
