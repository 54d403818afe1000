//! Keeps old events readable: every stored payload passes through these upcasters before it
//! is deserialised, both when an item is loaded and when the log is read.
//!
//! Auditors' workpapers outlive event shapes. When a payload changes shape, bump
//! `suspense_domain::EVENT_VERSION` and add an upcaster here that turns the old shape into the
//! new one; never rewrite stored events.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};

/// The upcasters in the order they apply. Empty while every event is at version 1.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
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
