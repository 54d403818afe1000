//! The message a subscriber receives: a CloudEvents 1.0 JSON document (structured mode) of
//! one event of the log.

use serde_json::{json, Value};
use suspense_store::RecordedEvent;

/// The media type of a CloudEvent in structured mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// The CloudEvents `source` of every event this product hands over.
pub const SOURCE: &str = "urn:suspense:items";

/// `bank.suspense.item.` and the event's name in snake case: `Escalated` is
/// `bank.suspense.item.escalated`, `ClearingRecorded` `bank.suspense.item.clearing_recorded`.
pub fn event_type(name: &str) -> String {
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
    format!("bank.suspense.item.{snake}")
}

/// The event's stable id: its item and its place in the item's stream, which never change
/// (a position is known only once the log has numbered the event).
pub fn event_id(event: &RecordedEvent) -> String {
    format!("{}:{}", event.item_id, event.sequence)
}

/// The document for `event`: `data` is the event as stored (type, version, payload) with its
/// position in the log and its metadata (actor, request id, source).
pub fn document(event: &RecordedEvent) -> Result<Value, serde_json::Error> {
    Ok(json!({
        "specversion": "1.0",
        "id": event_id(event),
        "source": SOURCE,
        "type": event_type(&event.event_type),
        "time": event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "subject": event.item_id.to_string(),
        "datacontenttype": "application/json",
        "data": {
            "position": event.position,
            "item_id": event.item_id.to_string(),
            "sequence": event.sequence,
            "event_type": event.event_type,
            "event_version": event.event_version,
            "event": serde_json::to_value(&event.event)?,
            "metadata": serde_json::to_value(&event.metadata)?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_the_event_names_in_snake_case() {
        assert_eq!(event_type("Escalated"), "bank.suspense.item.escalated");
        assert_eq!(
            event_type("ResolutionApprovalRecorded"),
            "bank.suspense.item.resolution_approval_recorded"
        );
    }
}
