//! Incidents through the facade: opening, linking and unlinking items (each item checked to
//! exist within the actor's branches), resolving; and the reports that read an incident
//! against the register: its figures, the items it may have caused, and the share of a
//! period's items that belong to an incident.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use suspense_domain::incident::{IncidentAction, IncidentError, IncidentReference, IncidentState};
use suspense_read_models::{IncidentCandidate, IncidentFigures, IncidentShare, ReportError};
use suspense_store::StoreError;

use crate::actor::Actor;
use crate::ledger::Suspense;

/// Why an incident could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IncidentQueryError {
    #[error("no incident has been opened under this reference")]
    NoSuchIncident,
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Log(#[from] StoreError),
}

/// An incident with the figures of its linked items.
#[derive(Debug, Clone)]
pub struct IncidentReport {
    pub reference: String,
    pub state: IncidentState,
    pub figures: IncidentFigures,
}

impl Suspense {
    /// Runs `action` on the incident `reference` as `actor`. Linked items must exist within
    /// the actor's branches and count under no other incident (`items[i]` names one that
    /// does not or does). Returns the incident as the
    /// action leaves it; a repeat writes nothing. Another writer first is decided again, up
    /// to the configured attempts.
    pub async fn execute_incident(
        &self,
        actor: &Actor,
        reference: &IncidentReference,
        action: IncidentAction,
    ) -> Result<Option<IncidentState>, StoreError> {
        if let IncidentAction::Link { items, .. } = &action {
            for (index, item) in items.iter().enumerate() {
                let Some(loaded) = self.item_for(actor, *item).await? else {
                    return Err(IncidentError::UnknownItem { index, item: *item }.into());
                };
                // The item's own command refuses this too, in the write; named here by index.
                match &loaded.state.incident {
                    Some(incident) if incident != reference => {
                        return Err(IncidentError::ItemInAnotherIncident {
                            index,
                            item: *item,
                            incident: incident.clone(),
                        }
                        .into());
                    }
                    _ => {}
                }
            }
        }
        let (_, state) = self
            .retrying_conflicts(|| {
                self.log()
                    .execute_incident(reference, &actor.user, action.clone(), &actor.metadata)
            })
            .await?;
        Ok(state)
    }

    /// Every incident, by reference.
    pub async fn incidents(&self) -> Result<BTreeMap<String, IncidentState>, StoreError> {
        self.log().incidents().await
    }

    /// One incident with the figures of its linked items within `actor`'s branches.
    pub async fn incident_report(
        &self,
        actor: &Actor,
        reference: &IncidentReference,
    ) -> Result<IncidentReport, IncidentQueryError> {
        let state = self.incident_state(reference).await?;
        let figures = self
            .reports_for(actor)
            .incident_figures(reference.as_str())
            .await?;
        Ok(IncidentReport {
            reference: reference.to_string(),
            state,
            figures,
        })
    }

    /// The items incident `reference` may have caused that no incident holds yet, ranked;
    /// a supervisor confirms them by linking, nothing is linked here. None once the
    /// incident is resolved.
    pub async fn incident_suggestions(
        &self,
        actor: &Actor,
        reference: &IncidentReference,
        limit: usize,
    ) -> Result<Vec<IncidentCandidate>, IncidentQueryError> {
        let state = self.incident_state(reference).await?;
        // A resolved incident takes no more links: nothing to suggest.
        if state.resolved.is_some() {
            return Ok(Vec::new());
        }
        Ok(self
            .reports_for(actor)
            .incident_candidates(&state.incident, limit)
            .await?)
    }

    /// Per cause, the items booked from `from` to `to` and the share of them linked to an
    /// incident.
    pub async fn incident_share(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IncidentShare>, IncidentQueryError> {
        Ok(self.reports_for(actor).incident_share(from, to).await?)
    }

    async fn incident_state(
        &self,
        reference: &IncidentReference,
    ) -> Result<IncidentState, IncidentQueryError> {
        let history = self.log().incident_history(reference).await?;
        suspense_domain::incident::Incident::from_events(history.iter().map(|e| &e.event))
            .state
            .ok_or(IncidentQueryError::NoSuchIncident)
    }
}
