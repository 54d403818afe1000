//! Tamper evidence: edits made straight in the database, past the application and its
//! triggers, are found by recomputing the hash chain, which names the first bad position.

mod common;

use std::time::Duration;

use common::*;
use suspense_domain::{ItemAction, Note};
use suspense_store::{verify_export, EventLog, Tampering};

/// Five events at positions 1..=5, chained: A opened (1), B opened (2), A commented (3),
/// B commented (4), A commented (5).
async fn chained_log(backend: Backend) -> (TestDatabase, EventLog) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let a = open_item(&log, "CHAIN-A").await;
    let b = open_item(&log, "CHAIN-B").await;
    for (id, text) in [(a, "first"), (b, "second"), (a, "third")] {
        run(
            &log,
            id,
            "ops",
            ItemAction::Comment {
                text: Note::parse(text).expect("note"),
            },
        )
        .await
        .expect("comments");
    }
    log.settle(SETTLE).await.expect("settles");
    assert_eq!(log.extend_chain().await.expect("chains"), 5);
    let verdict = log.verify_chain().await.expect("verifies");
    assert!(verdict.is_intact(), "{verdict:?}");
    assert_eq!(verdict.verified_up_to, 5);
    assert!(verdict.head_link.as_deref().is_some_and(|l| l.len() == 64));
    (db, log)
}

/// What an attacker with database access would switch off first.
fn disable_guards(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "DROP TRIGGER events_are_immutable_update; DROP TRIGGER events_are_immutable_delete;
             DROP TRIGGER events_get_a_position;"
        }
        Backend::Postgres => "ALTER TABLE events DISABLE TRIGGER USER;",
    }
}

/// What verification finds: verified up to, events not chained yet, the first problem.
async fn chain_state(log: &EventLog) -> (u64, u64, Option<(u64, Tampering)>) {
    let verdict = log.verify_chain().await.expect("verifies");
    (
        verdict.verified_up_to,
        verdict.unchained,
        verdict.first_problem,
    )
}

async fn first_problem(log: &EventLog) -> Option<(u64, Tampering)> {
    log.verify_chain()
        .await
        .expect("verification runs")
        .first_problem
}

async fn an_altered_event_is_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    let b = item_id("CHAIN-B");
    let cast = if backend == Backend::Postgres {
        "::json"
    } else {
        ""
    };
    raw_script(
        &db,
        &format!(
            "{} UPDATE events SET payload = REPLACE(CAST(payload AS TEXT), 'second', 'SECOND'){cast}
              WHERE aggregate_id = '{b}' AND sequence = 2;",
            disable_guards(backend)
        ),
    )
    .await;
    assert_eq!(first_problem(&log).await, Some((4, Tampering::Altered)));
}
on_both_backends!(an_altered_event_is_found, super::an_altered_event_is_found);

async fn a_deleted_event_is_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    let a = item_id("CHAIN-A");
    raw_script(
        &db,
        &format!(
            "{} DELETE FROM events WHERE aggregate_id = '{a}' AND sequence = 2;
             DELETE FROM event_log WHERE position = 3;",
            disable_guards(backend)
        ),
    )
    .await;
    assert_eq!(first_problem(&log).await, Some((3, Tampering::Deleted)));
}
on_both_backends!(a_deleted_event_is_found, super::a_deleted_event_is_found);

async fn an_inserted_event_is_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    let forged = item_id("FORGED");
    let payload = opened_payload("FORGED").replace('\'', "''");
    // Make room at position 3, then put a forged event there.
    let mut script = format!(
        "{}
         INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('SuspenseItem', '{forged}', 1, 'Opened', '1', '{payload}', '{{}}');
         UPDATE event_log SET position = position + 1000000 WHERE position >= 3;
         UPDATE event_log SET position = position - 1000000 + 1 WHERE position >= 1000000;
         INSERT INTO event_log (position, aggregate_type, aggregate_id, sequence)
         VALUES (3, 'SuspenseItem', '{forged}', 1);",
        disable_guards(backend)
    );
    if backend == Backend::Postgres {
        // Keep the sequencer from positioning the forged row a second time.
        script.push_str(&format!(
            "UPDATE event_log_head SET last_position = 6,
                 last_txid = (SELECT txid FROM events WHERE aggregate_id = '{forged}'),
                 last_event_id = (SELECT event_id FROM events WHERE aggregate_id = '{forged}');"
        ));
    }
    raw_script(&db, &script).await;
    assert_eq!(first_problem(&log).await, Some((3, Tampering::Inserted)));
}
on_both_backends!(
    an_inserted_event_is_found,
    super::an_inserted_event_is_found
);

async fn reordered_events_are_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    raw_script(
        &db,
        "UPDATE event_log SET position = 1000002 WHERE position = 2;
         UPDATE event_log SET position = 2 WHERE position = 4;
         UPDATE event_log SET position = 4 WHERE position = 1000002;",
    )
    .await;
    assert_eq!(first_problem(&log).await, Some((2, Tampering::Reordered)));
    // The edited positions disagree with the events' own order (PostgreSQL: their commit
    // order; SQLite: the position each event carries): the log was read through `event_log`.
    assert!(log.pages_read_by_position() > 0);
}
on_both_backends!(
    reordered_events_are_found,
    super::reordered_events_are_found
);

/// `chained_log`'s events at positions 2 to 5 (position, item, sequence): B opened, A's
/// first comment, B's, A's second.
fn chained_log_after_its_first_event() -> Vec<(Option<u64>, String, u64)> {
    let (a, b) = (
        item_id("CHAIN-A").to_string(),
        item_id("CHAIN-B").to_string(),
    );
    vec![
        (Some(2), b.clone(), 1),
        (Some(3), a.clone(), 2),
        (Some(4), b, 2),
        (Some(5), a, 3),
    ]
}

/// A reader past position 1 finds A's opening where an edit moved it, at 6: every event on
/// the page still sits where `event_log` says, and only the page's length shows the one that
/// moved past its own position.
async fn an_event_moved_up_the_log_is_read_where_event_log_puts_it(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    raw_script(&db, "UPDATE event_log SET position = 6 WHERE position = 1;").await;
    let mut expected = chained_log_after_its_first_event();
    expected.push((Some(6), item_id("CHAIN-A").to_string(), 1));
    assert_eq!(read_positions(&log, 1).await, expected);
}
on_both_backends!(
    an_event_moved_up_the_log_is_read_where_event_log_puts_it,
    super::an_event_moved_up_the_log_is_read_where_event_log_puts_it
);

/// PostgreSQL reads a page in commit order and numbers it: an edit that gives the last event
/// a key past the head's leaves the page one event short while every event on it sits where
/// `event_log` says. Only the log's length shows the event missing, and the page is read
/// through `event_log` instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_moved_past_the_head_in_commit_order_is_read_where_event_log_puts_it() {
    let (db, log) = chained_log(Backend::Postgres).await;
    raw_script(
        &db,
        &format!(
            "{}
             UPDATE events SET txid = ((txid::text)::numeric + 1000000)::text::xid8
              WHERE (aggregate_type, aggregate_id, sequence) =
                    (SELECT aggregate_type, aggregate_id, sequence FROM event_log WHERE position = 5);",
            disable_guards(Backend::Postgres)
        ),
    )
    .await;
    assert_eq!(
        read_positions(&log, 1).await,
        chained_log_after_its_first_event()
    );
    assert_eq!(log.pages_read_by_position(), 1);
}

/// The five events were chained as one segment (positions 1..=5), whose stored link is the
/// link at 5.
async fn a_rewritten_chain_link_is_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    raw_script(
        &db,
        &format!(
            "UPDATE event_chain_segments SET link = '{}' WHERE last_position = 5;",
            "0".repeat(64)
        ),
    )
    .await;
    assert_eq!(
        first_problem(&log).await,
        Some((5, Tampering::ChainAltered))
    );
}
on_both_backends!(
    a_rewritten_chain_link_is_found,
    super::a_rewritten_chain_link_is_found
);

/// A content hash rewritten inside a segment no longer matches the event at its position
/// (nor does the segment's stored link follow any more).
async fn a_rewritten_content_hash_is_found_at_its_position(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    // Position 3's hash is bytes 64..96 of the segment's hashes.
    let zeros = "00".repeat(32);
    let rewrite = match backend {
        Backend::Postgres => format!(
            "UPDATE event_chain_segments
                SET content_hashes = overlay(content_hashes placing '\\x{zeros}'::bytea from 65 for 32)"
        ),
        Backend::Sqlite => format!(
            "UPDATE event_chain_segments
                SET content_hashes = unhex(hex(substr(content_hashes, 1, 64)) || '{zeros}'
                                           || hex(substr(content_hashes, 97)))"
        ),
    };
    raw_script(&db, &rewrite).await;
    assert_eq!(first_problem(&log).await, Some((3, Tampering::Altered)));
}
on_both_backends!(
    a_rewritten_content_hash_is_found_at_its_position,
    super::a_rewritten_content_hash_is_found_at_its_position
);

/// A segment whose hashes were cut short does not cover its positions: the chain itself was
/// altered, from the segment's first position.
async fn a_segment_cut_short_is_found(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    raw_script(
        &db,
        "UPDATE event_chain_segments SET content_hashes = substr(content_hashes, 1, 64);",
    )
    .await;
    assert_eq!(
        first_problem(&log).await,
        Some((1, Tampering::ChainAltered))
    );
}
on_both_backends!(
    a_segment_cut_short_is_found,
    super::a_segment_cut_short_is_found
);

/// A database chained before segments (one row per event in `event_chain`) keeps its chain:
/// the migration packs the rows into segments that verify, with the same head link.
async fn a_chain_stored_per_event_is_migrated_to_segments(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    let export = log.export_after(0, 100).await.expect("exports");
    let head = log.chain_head().await.expect("head");
    // The table as 0002 made it, and the migration that packs it into segments.
    let (old_table, migration, at) = match backend {
        Backend::Postgres => (
            include_str!("../migrations/postgres/0002_event_chain.sql"),
            include_str!("../migrations/postgres/0003_chain_segments.sql"),
            "now()",
        ),
        Backend::Sqlite => (
            include_str!("../migrations/sqlite/0002_event_chain.sql"),
            include_str!("../migrations/sqlite/0003_chain_segments.sql"),
            "'2026-11-29T00:00:00Z'",
        ),
    };
    let rows: Vec<String> = export
        .iter()
        .map(|e| {
            format!(
                "({}, '{}', '{}', {at})",
                e.position,
                e.content_hash,
                e.link.clone().expect("chained")
            )
        })
        .collect();
    raw_script(
        &db,
        &format!(
            "DROP TABLE event_chain_segments;
             {old_table}
             INSERT INTO event_chain (position, content_hash, link, chained_at) VALUES {};
             {migration}",
            rows.join(", ")
        ),
    )
    .await;
    assert_eq!(chain_state(&log).await, (5, 0, None));
    assert_eq!(log.chain_head().await.expect("head"), head);
    assert_eq!(log.export_after(0, 100).await.expect("exports"), export);
}
on_both_backends!(
    a_chain_stored_per_event_is_migrated_to_segments,
    super::a_chain_stored_per_event_is_migrated_to_segments
);

/// New events are reported as not yet chained, then chained by the next extension; two
/// extensions at once do not double-chain.
async fn the_chain_grows_with_the_log(backend: Backend) {
    let (_db, log) = chained_log(backend).await;
    let log = std::sync::Arc::new(log);
    open_item(&log, "CHAIN-C").await;
    log.settle(SETTLE).await.expect("settles");
    let verdict = log.verify_chain().await.expect("verifies");
    assert!(verdict.is_intact());
    assert_eq!((verdict.verified_up_to, verdict.unchained), (5, 1));
    let (x, y) = tokio::join!(log.extend_chain(), log.extend_chain());
    assert_eq!((x.expect("extends"), y.expect("extends")), (6, 6));
    let verdict = log.verify_chain().await.expect("verifies");
    assert_eq!(
        (
            verdict.verified_up_to,
            verdict.unchained,
            verdict.first_problem
        ),
        (6, 0, None)
    );
    let export = log.export_after(0, 100).await.expect("exports");
    assert_eq!(export.len(), 6);
    assert_eq!(
        export.last().and_then(|e| e.link.clone()),
        verdict.head_link
    );
    // Two segments now (1..=5 and 6): an export starting inside the first carries the same
    // links, recomputed from the segment's start.
    let part = log.export_after(2, 100).await.expect("exports");
    assert_eq!(part, export[2..]);
    let inside = log.export_after(1, 2).await.expect("exports");
    assert_eq!(inside, export[1..3]);
    assert!(export.iter().all(|e| e.link.is_some()));
    assert!(verify_export(&export).is_intact());
}
on_both_backends!(
    the_chain_grows_with_the_log,
    super::the_chain_grows_with_the_log
);

/// A backlog longer than one chain page (10,000 events) is chained page by page, each page
/// read while the one before it is written, also with two extensions racing.
async fn a_backlog_of_several_pages_is_chained_without_gaps(backend: Backend) {
    let (db, log) = chained_log(backend).await;
    let bulk = match backend {
        Backend::Postgres => {
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'SuspenseItem', 'BULK-' || n, 1, 'Commented', '1', json_build_object('n', n), '{}'::json
               FROM generate_series(1, 25000) AS n"
        }
        Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
             INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'SuspenseItem', 'BULK-' || i, 1, 'Commented', '1', json_object('n', i), '{}' FROM n"
        }
    };
    db.execute(bulk, false).await.expect("bulk events");
    log.settle(Duration::from_secs(60)).await.expect("settles");
    let log = std::sync::Arc::new(log);
    let (x, y) = tokio::join!(log.extend_chain(), log.extend_chain());
    assert_eq!((x.expect("extends"), y.expect("extends")), (25_005, 25_005));
    assert_eq!(chain_state(&log).await, (25_005, 0, None));
}
on_both_backends!(
    a_backlog_of_several_pages_is_chained_without_gaps,
    super::a_backlog_of_several_pages_is_chained_without_gaps
);

/// An export from the highest position there can be is empty, not an overflow.
async fn an_export_after_the_last_possible_position_is_empty(backend: Backend) {
    let (_db, log) = chained_log(backend).await;
    assert!(!log.export_after(0, 100).await.expect("exports").is_empty());
    for after in [i64::MAX as u64, u64::MAX] {
        assert_eq!(log.export_after(after, 100).await.expect("exports"), vec![]);
    }
}
on_both_backends!(
    an_export_after_the_last_possible_position_is_empty,
    super::an_export_after_the_last_possible_position_is_empty
);
