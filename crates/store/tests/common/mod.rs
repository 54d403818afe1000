//! Shared by the store tests: a log on a fresh database of either backend.

#![allow(dead_code, unused_imports)]

use suspense_domain::{ItemAction, ItemCommand, ItemId, ItemServices};
use suspense_store::{
    EventLog, Executed, PoolSettings, RequestMetadata, StoreError, StoreLocation,
};
pub use suspense_testkit::{
    booking, fixed_services, on_both_backends, user, Backend, TestDatabase,
};

/// How long a test lets the log position its pending events (`EventLog::settle`).
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn open_log(db: &TestDatabase) -> EventLog {
    open_log_with(db, fixed_services()).await
}

pub async fn open_log_with(db: &TestDatabase, services: ItemServices) -> EventLog {
    let location = StoreLocation::parse(&db.url()).expect("test location parses");
    EventLog::open(&location, services, &PoolSettings::default())
        .await
        .expect("test log opens")
}

pub fn meta() -> RequestMetadata {
    RequestMetadata::new("req-1", "store-tests")
}

pub async fn run(
    log: &EventLog,
    item: ItemId,
    by: &str,
    action: ItemAction,
) -> Result<Executed, StoreError> {
    log.execute(item, ItemCommand::new(user(by), action), &meta(), None)
        .await
}

/// Opens a 1000.00 CNY item under `reference` and returns its id.
pub async fn open_item(log: &EventLog, reference: &str) -> ItemId {
    let item = booking(reference, "1000.00");
    let id = ItemId::for_reference(&item.reference);
    run(log, id, "teller", ItemAction::Open(item))
        .await
        .expect("booking opens");
    id
}

/// Runs raw SQL against the test database, bypassing the log (to simulate other writers,
/// in-flight transactions, or a damaged database).
pub async fn raw_execute(db: &TestDatabase, sql: &str) -> Result<u64, sqlx::Error> {
    db.execute(sql, false).await
}

/// The stored JSON of an `Opened` event for `booking(reference, amount)`.
pub fn opened_payload(reference: &str) -> String {
    let event = suspense_domain::SuspenseItemEvent::Opened {
        at: suspense_testkit::fixed_now(),
        by: user("raw-writer"),
        item: booking(reference, "5.00"),
    };
    serde_json::to_string(&event).expect("event serialises")
}

/// Writes the opening of `booking(reference, …)` straight into `events`, as a tool other than
/// the application would: its `metadata` JSON and its `recorded_at` as the given text.
pub async fn insert_opened(db: &TestDatabase, reference: &str, metadata: &str, recorded_at: &str) {
    raw_execute(
        db,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                 payload, metadata, recorded_at)
             VALUES ('SuspenseItem', '{}', 1, 'Opened', '1', '{}', '{}', '{}')",
            item_id(reference),
            opened_payload(reference).replace('\'', "''"),
            metadata.replace('\'', "''"),
            recorded_at.replace('\'', "''"),
        ),
    )
    .await
    .expect("event written by another tool");
}

/// (position, item id, sequence) of each event the log reads after `after`: where each event
/// stands.
pub async fn read_positions(log: &EventLog, after: u64) -> Vec<(Option<u64>, String, u64)> {
    log.read_after(after, 100)
        .await
        .expect("reads")
        .into_iter()
        .map(|e| (e.position, e.item_id.to_string(), e.sequence))
        .collect()
}

pub fn item_id(reference: &str) -> ItemId {
    ItemId::for_reference(&booking(reference, "1").reference)
}

/// Runs several statements as one script (no parameters), as someone at a database prompt would.
pub async fn raw_script(db: &TestDatabase, sql: &str) {
    if let Err(e) = db.execute(sql, true).await {
        panic!("script failed: {e}\n{sql}");
    }
}
