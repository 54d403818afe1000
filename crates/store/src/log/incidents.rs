//! Incidents: one stream per incident reference, loaded whole (an incident has few events,
//! its links in batches) and written with the same optimistic concurrency as plans. A link
//! or an unlink also writes each item's own event (`LinkedToIncident`,
//! `UnlinkedFromIncident`) in the same statement, all or none, so the statistics can count an
//! item under its incident and no item counts under two.

use std::collections::BTreeMap;

use suspense_domain::incident::{
    Incident, IncidentAction, IncidentEvent, IncidentReference, IncidentState,
    INCIDENT_EVENT_VERSION,
};
use suspense_domain::{ItemAction, ItemCommand, StreamKind, UserId};

use super::batch::ItemBatchCommand;
use super::EventLog;
use crate::append::{encode_error, stream_rows_of, Stream, StreamWrite};
use crate::error::StoreError;
use crate::metadata::RequestMetadata;
use crate::record::RecordedIncidentEvent;

impl EventLog {
    /// Runs one action against one incident: load, decide, append. Returns the events
    /// written (none for a repeat) and the incident as they leave it. A concurrent writer
    /// that got there first makes this a [`StoreError::StreamConflict`], nothing written.
    pub async fn execute_incident(
        &self,
        reference: &IncidentReference,
        by: &UserId,
        action: IncidentAction,
        metadata: &RequestMetadata,
    ) -> Result<(Vec<IncidentEvent>, Option<IncidentState>), StoreError> {
        let history = self.incident_history(reference).await?;
        let version = history.last().map_or(0, |e| e.sequence);
        let mut incident = Incident::from_events(history.iter().map(|e| &e.event));
        let events = incident.decide(by, action, &self.services)?;
        if events.is_empty() {
            return Ok((events, incident.state));
        }
        let rows = stream_rows_of(&events, IncidentEvent::name, INCIDENT_EVENT_VERSION)?;
        let items = item_links(reference, by, &events);
        if items.is_empty() {
            self.append_to(
                StreamKind::Incident,
                reference.as_str(),
                version,
                &rows,
                &metadata.to_map(by),
            )
            .await?;
        } else {
            let stream_metadata =
                serde_json::to_string(&metadata.to_map(by)).map_err(encode_error)?;
            let incident_write = StreamWrite {
                stream: Stream {
                    aggregate_type: IncidentEvent::TYPE,
                    aggregate_id: reference.as_str(),
                },
                version,
                rows: &rows,
                metadata: &stream_metadata,
            };
            self.run_batch(items, metadata, Some(incident_write), None)
                .await?;
        }
        events.iter().for_each(|e| incident.apply(e.clone()));
        Ok((events, incident.state))
    }

    /// Every event of one incident, oldest first.
    pub async fn incident_history(
        &self,
        reference: &IncidentReference,
    ) -> Result<Vec<RecordedIncidentEvent>, StoreError> {
        self.stream_rows(StreamKind::Incident, Some(reference.as_str()))
            .await?
            .iter()
            .map(|row| row.decode_as(IncidentEvent::name))
            .collect()
    }

    /// Every incident as its events leave it, by reference.
    pub async fn incidents(&self) -> Result<BTreeMap<String, IncidentState>, StoreError> {
        let mut streams: BTreeMap<String, Incident> = BTreeMap::new();
        for row in self.stream_rows(StreamKind::Incident, None).await? {
            let recorded: RecordedIncidentEvent = row.decode_as(IncidentEvent::name)?;
            streams
                .entry(recorded.stream)
                .or_default()
                .apply(recorded.event);
        }
        Ok(streams
            .into_iter()
            .filter_map(|(reference, incident)| Some((reference, incident.state?)))
            .collect())
    }
}

/// The item commands that go with an incident's `events`: each item linked or unlinked.
fn item_links(
    reference: &IncidentReference,
    by: &UserId,
    events: &[IncidentEvent],
) -> Vec<ItemBatchCommand> {
    let command = |item, action| (item, ItemCommand::new(by.clone(), action), None);
    events
        .iter()
        .flat_map(|event| match event {
            IncidentEvent::ItemsLinked { items, reason, .. } => items
                .iter()
                .map(|item| {
                    let action = ItemAction::LinkIncident {
                        incident: reference.clone(),
                        reason: reason.clone(),
                    };
                    command(*item, action)
                })
                .collect(),
            IncidentEvent::ItemUnlinked { item, reason, .. } => {
                let action = ItemAction::UnlinkIncident {
                    incident: reference.clone(),
                    reason: reason.clone(),
                };
                vec![command(*item, action)]
            }
            IncidentEvent::IncidentOpened { .. } | IncidentEvent::IncidentResolved { .. } => {
                Vec::new()
            }
        })
        .collect()
}
