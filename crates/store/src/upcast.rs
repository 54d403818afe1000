//! Keeps old events readable: every stored payload passes through these upcasters before it
//! is deserialised, both when an item is loaded and when the log is read.
//!
//! Auditors' workpapers outlive event shapes (seven years under US rules). When a payload
//! changes shape: bump `suspense_domain::EVENT_VERSION`, add an upcaster here that turns the
//! old shape into the new one, and add a test that loads an event written in the old shape.
//! Stored events are never rewritten: the upcaster runs on every read.

use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde_json::Value;

/// The upcasters in the order they apply.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(SemanticVersionEventUpcaster::new(
        "Escalated",
        "1",
        Box::new(escalation_level_as_word),
    ))]
}

/// Version 0 (the pilot's format) wrote the escalation level as a number, 1 to 3; version 1
/// writes the level's name.
fn escalation_level_as_word(mut payload: Value) -> Value {
    if let Some(level) = payload.pointer_mut("/Escalated/level") {
        let word = match level.as_u64() {
            Some(1) => Some("team_lead"),
            Some(2) => Some("department"),
            Some(3) => Some("management"),
            _ => None,
        };
        if let Some(word) = word {
            *level = Value::String(word.to_owned());
        }
    }
    payload
}

/// Applies `upcasters` in order to one stored event.
pub(crate) fn upcast(
    mut event: SerializedEvent,
    upcasters: &[Box<dyn EventUpcaster>],
) -> SerializedEvent {
    for upcaster in upcasters {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numeric_level_becomes_its_name_and_other_payloads_pass_unchanged() {
        let old = serde_json::json!({"Escalated": {"level": 2, "reason": "aging"}});
        assert_eq!(
            escalation_level_as_word(old)["Escalated"]["level"],
            "department"
        );
        let current = serde_json::json!({"Escalated": {"level": "management"}});
        assert_eq!(escalation_level_as_word(current.clone()), current);
    }
}
