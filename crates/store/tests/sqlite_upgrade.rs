//! A SQLite log written before events carried their own positions (migration 0004) keeps
//! every event at the position `event_log` gave it when it is upgraded, and is read by those
//! positions afterwards; a log edited by hand loses nothing either.

mod common;

use std::str::FromStr;

use common::*;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use suspense_database::Pool;
use suspense_domain::{ItemAction, Note};
use suspense_store::EventLog;

/// Creates the database at the schema before migration 0004 (versions 1 to 3).
async fn schema_before_positions(db: &TestDatabase) {
    let options = SqliteConnectOptions::from_str(&db.url())
        .expect("test url parses")
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("connects");
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 4)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator.run(&mut conn).await.expect("old schema");
    conn.close().await.expect("closes");
}

/// An event as the old schema stored it; its trigger gives it the next position.
fn insert(reference: &str, sequence: u32) -> String {
    let id = item_id(reference);
    let payload = if sequence == 1 {
        opened_payload(reference)
    } else {
        format!(
            r#"{{"Commented":{{"at":"2026-10-01T08:00:00Z","by":"ops","text":"note {sequence}"}}}}"#
        )
    };
    format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('SuspenseItem', '{id}', {sequence}, '{}', '1', '{}', '{{}}');",
        if sequence == 1 { "Opened" } else { "Commented" },
        payload.replace('\'', "''"),
    )
}

/// Items interleaved as a bank's log has them: B opened (1), A opened (2), B commented (3),
/// C opened (4), A commented (5).
async fn old_log(db: &TestDatabase) {
    schema_before_positions(db).await;
    let script: String = [("B", 1), ("A", 1), ("B", 2), ("C", 1), ("A", 2)]
        .iter()
        .map(|(reference, sequence)| insert(reference, *sequence))
        .collect();
    raw_script(db, &script).await;
}

fn sqlite(log: &EventLog) -> &sqlx::SqlitePool {
    match log.pool() {
        Pool::Sqlite(pool) => pool,
        Pool::Postgres(_) => panic!("a SQLite log"),
    }
}

fn expected(events: &[(&str, u64)]) -> Vec<(Option<u64>, String, u64)> {
    (1..)
        .zip(events)
        .map(|(position, (reference, sequence))| {
            (Some(position), item_id(reference).to_string(), *sequence)
        })
        .collect()
}

#[tokio::test]
async fn an_upgraded_log_keeps_every_position_and_is_read_by_them() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    old_log(&db).await;
    let log = open_log(&db).await;
    let before = [("B", 1), ("A", 1), ("B", 2), ("C", 1), ("A", 2)];
    assert_eq!(read_positions(&log, 0).await, expected(&before));
    // Appended after the upgrade: the next position, in both tables.
    run(
        &log,
        item_id("C"),
        "ops",
        ItemAction::Comment {
            text: Note::parse("after the upgrade").expect("note"),
        },
    )
    .await
    .expect("comments");
    let mut after = before.to_vec();
    after.push(("C", 2));
    assert_eq!(read_positions(&log, 0).await, expected(&after));
    // Every page came from the events' own positions, none through `event_log`.
    assert_eq!(log.pages_read_by_position(), 0);
    let log_order: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT e.position, e.aggregate_id, e.sequence
           FROM events e JOIN event_log l USING (position, aggregate_type, aggregate_id, sequence)
          ORDER BY e.position",
    )
    .fetch_all(sqlite(&log))
    .await
    .expect("reads");
    assert_eq!(log_order.len(), after.len(), "{log_order:?}");
}

#[tokio::test]
async fn an_upgraded_log_edited_by_hand_loses_no_event() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    old_log(&db).await;
    // Someone removed position 3 from `event_log`: B's comment has no position any more.
    raw_script(&db, "DELETE FROM event_log WHERE position = 3;").await;
    let log = open_log(&db).await;
    // The log reads as `event_log` defines it, as before the upgrade.
    let positions_now = read_positions(&log, 0).await;
    let ids: Vec<(Option<u64>, String, u64)> = [(1, "B", 1), (2, "A", 1), (4, "C", 1), (5, "A", 2)]
        .iter()
        .map(|(p, r, s)| (Some(*p), item_id(r).to_string(), *s))
        .collect();
    assert_eq!(positions_now, ids);
    assert!(log.pages_read_by_position() > 0);
    // The unpositioned event is still stored, after the others.
    let orphan: (i64, String, i64) = sqlx::query_as(
        "SELECT position, aggregate_id, sequence FROM events ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(sqlite(&log))
    .await
    .expect("reads");
    assert_eq!(orphan, (6, item_id("B").to_string(), 2));
}
