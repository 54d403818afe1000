//! Any bytes as any request body: parsing never panics, and whatever parses is decided by the
//! aggregate (against a fresh and an opened item) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use suspense_domain::{ItemAction, ItemCommand, SuspenseItem, UserId};
use suspense_service::dto::*;

fuzz_target!(|data: &[u8]| {
    let services = suspense_testkit::fixed_services();
    let Ok(by) = UserId::parse("fuzz") else { return };
    let mut actions: Vec<ItemAction> = Vec::new();
    if let Ok(body) = serde_json::from_slice::<OpenItemBody>(data) {
        if let Ok(item) = body.parse() {
            actions.push(ItemAction::Open(item));
        }
    }
    if let Ok(Ok(action)) = serde_json::from_slice::<ClassifyBody>(data).map(ClassifyBody::parse) {
        actions.push(action);
    }
    if let Ok(Ok(action)) = serde_json::from_slice::<AssignBody>(data).map(AssignBody::parse) {
        actions.push(action);
    }
    if let Ok(Ok(action)) = serde_json::from_slice::<EscalateBody>(data).map(EscalateBody::parse) {
        actions.push(action);
    }
    if let Ok(Ok(action)) = serde_json::from_slice::<ClearingBody>(data).map(ClearingBody::parse) {
        actions.push(action);
    }
    if let Ok(Ok(resolution)) = serde_json::from_slice::<ResolveBody>(data).map(ResolveBody::parse) {
        actions.push(ItemAction::Resolve(resolution));
    }
    if let Ok(action) = serde_json::from_slice::<ItemAction>(data) {
        actions.push(action);
    }
    let opened = SuspenseItem::from_events(
        &SuspenseItem::default()
            .decide(ItemCommand::new(by.clone(), ItemAction::Open(suspense_testkit::booking("FUZZ-1", "100.00"))), &services)
            .unwrap_or_default(),
    );
    for action in actions {
        for item in [SuspenseItem::default(), opened.clone()] {
            if let Ok(events) = item.decide(ItemCommand::new(by.clone(), action.clone()), &services) {
                let _ = SuspenseItem::from_events(&events);
            }
        }
    }
});
