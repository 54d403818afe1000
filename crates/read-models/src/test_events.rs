//! Recorded events for the folds' unit tests.

use suspense_domain::{ItemId, SuspenseItemEvent};
use suspense_store::RecordedEvent;
use suspense_testkit::fixed_now;

/// `event` as the log hands it to a fold: the item's `sequence`-th event, at that position.
pub(crate) fn recorded(item_id: ItemId, sequence: u64, event: SuspenseItemEvent) -> RecordedEvent {
    RecordedEvent {
        position: Some(sequence),
        item_id,
        sequence,
        event_type: event.name().to_owned(),
        event_version: "1".into(),
        event,
        metadata: Default::default(),
        recorded_at: fixed_now(),
    }
}
