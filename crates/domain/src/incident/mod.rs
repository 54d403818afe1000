//! An incident (problem record): one cause behind many items, such as a system outage or a
//! partner's bad batch. Its own stream, keyed by the bank's incident reference: what happened
//! (title, root cause, window, channels and counterparty affected), who owns it, the items
//! linked to it with the reason, and its resolution. Root-cause analysis (找出問題根源) counts
//! an outage once, with the items it caused, rather than as hundreds of unrelated items.
//!
//! Linking is always a person's decision: suggestions are computed by the reports, never
//! linked on their own.

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::attribution::CounterpartyCode;
use crate::classification::{RootCause, RootCauseCategory, RootCauseCode};
use crate::identity::{ItemId, Note, UserId};
use crate::input::{text_newtype, InvalidInput};
use crate::services::ItemServices;
use crate::vocabulary::Channel;

/// The most items one command links.
pub const MAX_LINKED_AT_ONCE: usize = 1_000;

/// The current version of the incident event payloads.
pub const INCIDENT_EVENT_VERSION: &str = "1";

text_newtype!(
    /// The bank's own reference for an incident (`INC-2026-0412`); the stream's id.
    IncidentReference, field = "reference", max = 64, multiline = false
);

/// What an incident is opened with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIncident {
    pub reference: IncidentReference,
    pub title: Note,
    pub category: RootCauseCategory,
    pub code: RootCauseCode,
    /// The days the incident booked items, both included.
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    /// Channels it affected; empty for any.
    pub channels: Vec<Channel>,
    pub counterparty: Option<CounterpartyCode>,
    /// Who answers for the incident's handling.
    pub owner: UserId,
}

impl OpenIncident {
    /// Checks what an incident is opened with: a window that does not end before it starts,
    /// each channel once.
    pub fn check(&self) -> Result<(), InvalidInput> {
        if self.window_to < self.window_from {
            return Err(InvalidInput::in_context(
                "window_to",
                "must not be before window_from",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, channel) in self.channels.iter().enumerate() {
            if !seen.insert(channel.as_str()) {
                return Err(InvalidInput::in_context(
                    format!("channels[{i}]"),
                    format!("{} is named twice", channel.as_str()),
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentAction {
    Open(OpenIncident),
    /// Links items (up to `MAX_LINKED_AT_ONCE`); those linked already are passed over.
    Link {
        items: Vec<ItemId>,
        reason: Note,
    },
    Unlink {
        item: ItemId,
        reason: Note,
    },
    Resolve {
        note: Note,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentEvent {
    IncidentOpened {
        at: DateTime<Utc>,
        by: UserId,
        incident: OpenIncident,
        cause: RootCause,
    },
    ItemsLinked {
        at: DateTime<Utc>,
        by: UserId,
        items: Vec<ItemId>,
        reason: Note,
    },
    ItemUnlinked {
        at: DateTime<Utc>,
        by: UserId,
        item: ItemId,
        reason: Note,
    },
    IncidentResolved {
        at: DateTime<Utc>,
        by: UserId,
        note: Note,
    },
}

impl IncidentEvent {
    pub const NAMES: [&'static str; 4] = [
        "IncidentOpened",
        "ItemsLinked",
        "ItemUnlinked",
        "IncidentResolved",
    ];
    /// The aggregate type incidents are stored under (the stream id is the reference).
    pub const TYPE: &'static str = "Incident";

    pub fn name(&self) -> &'static str {
        match self {
            Self::IncidentOpened { .. } => "IncidentOpened",
            Self::ItemsLinked { .. } => "ItemsLinked",
            Self::ItemUnlinked { .. } => "ItemUnlinked",
            Self::IncidentResolved { .. } => "IncidentResolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("no incident has been opened under this reference")]
    NotOpened,
    #[error("incident {reference} is already open with other facts")]
    ReferenceConflict { reference: IncidentReference },
    #[error("the incident is resolved: items are no longer linked to or unlinked from it")]
    Resolved,
    #[error("item {item} is not linked to the incident")]
    NotLinked { item: ItemId },
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("code {code}: {reason}")]
    UnknownCause { code: RootCauseCode, reason: String },
    /// A linked item that does not exist (or lies outside the caller's branches).
    #[error("items[{index}]: no item {item}")]
    UnknownItem { index: usize, item: ItemId },
    /// An item counts under one incident at a time.
    #[error("items[{index}]: item {item} counts under incident {incident}: unlink it there first")]
    ItemInAnotherIncident {
        index: usize,
        item: ItemId,
        incident: IncidentReference,
    },
}

impl IncidentError {
    /// A stable machine-readable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotOpened => "incident_not_found",
            Self::ReferenceConflict { .. } => "incident_reference_conflict",
            Self::Resolved => "incident_resolved",
            Self::NotLinked { .. } => "item_not_linked",
            Self::Invalid(_) => "invalid_field",
            Self::UnknownCause { .. } => "unknown_root_cause_code",
            Self::UnknownItem { .. } => "item_not_found",
            Self::ItemInAnotherIncident { .. } => "item_in_another_incident",
        }
    }

    /// The field a refusal is about, if one.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Invalid(invalid) => Some(invalid.field.clone()),
            Self::NotLinked { .. } => Some("item_id".into()),
            Self::UnknownCause { .. } => Some("code".into()),
            Self::ReferenceConflict { .. } => Some("reference".into()),
            Self::UnknownItem { index, .. } | Self::ItemInAnotherIncident { index, .. } => {
                Some(format!("items[{index}]"))
            }
            _ => None,
        }
    }
}

/// An incident as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentState {
    pub incident: OpenIncident,
    pub opened_at: DateTime<Utc>,
    pub opened_by: UserId,
    pub linked: BTreeSet<ItemId>,
    pub resolved: Option<(DateTime<Utc>, Note)>,
}

/// One incident's stream. `Default` is the not-yet-opened incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incident {
    pub state: Option<IncidentState>,
}

impl Incident {
    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e IncidentEvent>) -> Self {
        let mut incident = Self::default();
        for event in events {
            incident.apply(event.clone());
        }
        incident
    }

    /// The events `action` by `by` produces, or the rule it breaks. Empty for a repeat.
    pub fn decide(
        &self,
        by: &UserId,
        action: IncidentAction,
        services: &ItemServices,
    ) -> Result<Vec<IncidentEvent>, IncidentError> {
        let at = services.clock.now();
        let by = by.clone();
        let Some(state) = &self.state else {
            let IncidentAction::Open(incident) = action else {
                return Err(IncidentError::NotOpened);
            };
            incident.check()?;
            let cause = services
                .catalogue
                .resolve(incident.category, &incident.code)
                .map_err(|e| IncidentError::UnknownCause {
                    code: incident.code.clone(),
                    reason: e.to_string(),
                })?;
            return Ok(vec![IncidentEvent::IncidentOpened {
                at,
                by,
                incident,
                cause,
            }]);
        };
        match action {
            IncidentAction::Open(incident) if state.incident == incident => Ok(vec![]),
            IncidentAction::Open(incident) => Err(IncidentError::ReferenceConflict {
                reference: incident.reference,
            }),
            IncidentAction::Resolve { note } => match &state.resolved {
                Some((_, earlier)) if *earlier == note => Ok(vec![]),
                Some(_) => Err(IncidentError::Resolved),
                None => Ok(vec![IncidentEvent::IncidentResolved { at, by, note }]),
            },
            _ if state.resolved.is_some() => Err(IncidentError::Resolved),
            IncidentAction::Link { items, reason } => {
                if items.is_empty() || items.len() > MAX_LINKED_AT_ONCE {
                    return Err(InvalidInput::new(
                        "items",
                        format!(
                            "link 1 to {MAX_LINKED_AT_ONCE} items at once, got {}",
                            items.len()
                        ),
                    )
                    .into());
                }
                let mut seen = BTreeSet::new();
                let new: Vec<ItemId> = items
                    .into_iter()
                    .filter(|item| !state.linked.contains(item) && seen.insert(*item))
                    .collect();
                if new.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![IncidentEvent::ItemsLinked {
                    at,
                    by,
                    items: new,
                    reason,
                }])
            }
            IncidentAction::Unlink { item, reason } => {
                if !state.linked.contains(&item) {
                    return Err(IncidentError::NotLinked { item });
                }
                Ok(vec![IncidentEvent::ItemUnlinked {
                    at,
                    by,
                    item,
                    reason,
                }])
            }
        }
    }

    pub fn apply(&mut self, event: IncidentEvent) {
        if let IncidentEvent::IncidentOpened {
            at, by, incident, ..
        } = event
        {
            self.state = Some(IncidentState {
                incident,
                opened_at: at,
                opened_by: by,
                linked: BTreeSet::new(),
                resolved: None,
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            IncidentEvent::IncidentOpened { .. } => {}
            IncidentEvent::ItemsLinked { items, .. } => state.linked.extend(items),
            IncidentEvent::ItemUnlinked { item, .. } => {
                state.linked.remove(&item);
            }
            IncidentEvent::IncidentResolved { at, note, .. } => state.resolved = Some((at, note)),
        }
    }
}
