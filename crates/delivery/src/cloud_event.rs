//! The message a subscriber receives: a CloudEvents 1.0 JSON document (structured mode) of
//! one event of the log, an item's or one of the other streams' (plans, volumes, the policy,
//! the organisation registry, allocations, incidents).

use serde_json::{json, Value};
use suspense_domain::StreamKind;
use suspense_store::{RecordedEvent, StoredEvent};

/// The media type of a CloudEvent in structured mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// The CloudEvents `source` of the items' events; the other streams' are
/// `urn:suspense:<kind>` (`urn:suspense:plan`, `urn:suspense:incident`, …).
pub const SOURCE: &str = "urn:suspense:items";

/// `bank.suspense.`, the kind of stream, and the event's name in snake case: `Escalated` is
/// `bank.suspense.item.escalated`, `TargetSet` `bank.suspense.plan.target_set`.
pub fn event_type(kind: StreamKind, name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    format!("bank.suspense.{}.{snake}", kind.as_str())
}

/// One event of the log on its way out.
#[derive(Debug, Clone, Copy)]
pub enum Outgoing<'a> {
    Item(&'a RecordedEvent),
    Other(&'a StoredEvent),
}

impl Outgoing<'_> {
    /// Its place in the log.
    pub fn position(&self) -> u64 {
        match self {
            Self::Item(event) => event.position.unwrap_or(0),
            Self::Other(event) => event.position,
        }
    }

    pub fn event_type(&self) -> &str {
        match self {
            Self::Item(event) => &event.event_type,
            Self::Other(event) => &event.event_type,
        }
    }

    /// The event's stable id, which never changes: an item's event is its item and its place
    /// in the item's stream; another stream's adds the kind in front, as their ids (an
    /// incident's or an allocation's reference) are the bank's own and may coincide.
    pub fn id(&self) -> String {
        match self {
            Self::Item(event) => format!("{}:{}", event.item_id, event.sequence),
            Self::Other(event) => {
                format!(
                    "{}:{}:{}",
                    event.kind.as_str(),
                    event.stream,
                    event.sequence
                )
            }
        }
    }

    /// The document: `data` is the event as stored (type, version, payload) with its position
    /// in the log and its metadata (actor, request id, source).
    pub fn document(&self) -> Result<Value, serde_json::Error> {
        let (kind, source, subject, time, data) = match self {
            Self::Item(event) => (
                StreamKind::Item,
                SOURCE.to_owned(),
                event.item_id.to_string(),
                event.recorded_at,
                json!({
                    "position": event.position,
                    "item_id": event.item_id.to_string(),
                    "sequence": event.sequence,
                    "event_type": event.event_type,
                    "event_version": event.event_version,
                    "event": serde_json::to_value(&event.event)?,
                    "metadata": serde_json::to_value(&event.metadata)?,
                }),
            ),
            Self::Other(event) => (
                event.kind,
                format!("urn:suspense:{}", event.kind.as_str()),
                event.stream.clone(),
                event.recorded_at,
                json!({
                    "position": event.position,
                    "stream": event.stream,
                    "sequence": event.sequence,
                    "event_type": event.event_type,
                    "event_version": event.event_version,
                    "event": event.payload,
                    "metadata": event.metadata,
                }),
            ),
        };
        Ok(json!({
            "specversion": "1.0",
            "id": self.id(),
            "source": source,
            "type": event_type(kind, self.event_type()),
            "time": time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "subject": subject,
            "datacontenttype": "application/json",
            "data": data,
        }))
    }
}

/// A page's events of every stream, in log order.
pub fn in_log_order<'a>(
    items: &'a [RecordedEvent],
    others: &'a [StoredEvent],
) -> Vec<Outgoing<'a>> {
    let mut all: Vec<Outgoing<'a>> = items
        .iter()
        .map(Outgoing::Item)
        .chain(others.iter().map(Outgoing::Other))
        .collect();
    // Each part is in log order already; a stable sort of two runs is a merge.
    all.sort_by_key(Outgoing::position);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_the_kind_and_the_event_names_in_snake_case() {
        assert_eq!(
            event_type(StreamKind::Item, "Escalated"),
            "bank.suspense.item.escalated"
        );
        assert_eq!(
            event_type(StreamKind::Item, "ResolutionApprovalRecorded"),
            "bank.suspense.item.resolution_approval_recorded"
        );
        assert_eq!(
            event_type(StreamKind::Incident, "IncidentOpened"),
            "bank.suspense.incident.incident_opened"
        );
    }
}
