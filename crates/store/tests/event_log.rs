//! The event log on SQLite and on real PostgreSQL: round trips, idempotency, optimistic
//! concurrency, global order, and errors that surface instead of being skipped.

mod common;

use std::sync::Arc;

use common::*;
use suspense_domain::{
    ItemAction, ItemError, ItemId, ItemStatus, Note, RootCauseCategory, RootCauseCode,
};
use suspense_store::StoreError;
use tokio::sync::Barrier;

fn comment(text: &str) -> ItemAction {
    ItemAction::Comment {
        text: Note::parse(text).expect("valid note"),
    }
}

fn classify() -> ItemAction {
    ItemAction::Classify {
        category: RootCauseCategory::CustomerCause,
        code: RootCauseCode::parse("CUS-REFERENCE").expect("valid"),
        reason: None,
        attribution: Default::default(),
    }
}

async fn commands_round_trip(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = open_item(&log, "R-1").await;
    let classified = run(&log, id, "ops", classify()).await.expect("classifies");
    assert_eq!(classified.version, 2);
    assert_eq!(classified.events.len(), 1);
    run(&log, id, "ops", comment("called remitter"))
        .await
        .expect("comments");

    let loaded = log.load(id).await.expect("loads").expect("item exists");
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.state.status(), ItemStatus::Open);
    assert_eq!(loaded.state.comment_count, 1);
    assert_eq!(
        loaded.state.cause.as_ref().map(|c| c.code.as_str()),
        Some("CUS-REFERENCE")
    );

    let history = log.history(id).await.expect("history reads");
    let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, vec![1, 2, 3]);
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["Opened", "Classified", "Commented"]);
    assert_eq!(history[1].metadata.actor.as_deref(), Some("ops"));
    assert_eq!(history[1].metadata.request_id.as_deref(), Some("req-1"));
    assert_eq!(history[1].metadata.source.as_deref(), Some("store-tests"));
    assert_eq!(history[1].event.by().as_str(), "ops");
    assert!(history.iter().all(|e| e.event_version == "1"));

    log.settle(SETTLE).await.expect("settles");
    let all = log.read_after(0, 100).await.expect("log reads");
    let positions: Vec<Option<u64>> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions, vec![Some(1), Some(2), Some(3)]);
    assert_eq!(log.settle(SETTLE).await.expect("head"), 3);
    assert!(log
        .load(ItemId::parse("00000000-0000-0000-0000-000000000000").expect("uuid"))
        .await
        .expect("loads")
        .is_none());
}
on_both_backends!(commands_round_trip, super::commands_round_trip);

async fn open_is_idempotent_on_the_reference(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let item = booking("R-7", "10.00");
    let id = ItemId::for_reference(&item.reference);
    let first = run(&log, id, "teller", ItemAction::Open(item.clone()))
        .await
        .expect("opens");
    let retry = run(&log, id, "teller", ItemAction::Open(item))
        .await
        .expect("retry accepted");
    assert_eq!(first.version, 1);
    assert_eq!(retry.version, 1);
    assert!(retry.events.is_empty());
    let conflicting = run(
        &log,
        id,
        "teller",
        ItemAction::Open(booking("R-7", "11.00")),
    )
    .await;
    assert!(matches!(
        conflicting,
        Err(StoreError::Rejected(ItemError::ReferenceConflict { .. }))
    ));
    log.settle(SETTLE).await.expect("settles");
    assert_eq!(log.read_after(0, 100).await.expect("reads").len(), 1);
}
on_both_backends!(
    open_is_idempotent_on_the_reference,
    super::open_is_idempotent_on_the_reference
);

async fn a_rejected_command_writes_nothing(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = open_item(&log, "R-2").await;
    let err = run(
        &log,
        id,
        "ops",
        ItemAction::Reopen {
            reason: Note::parse("x").expect("valid"),
        },
    )
    .await;
    assert!(matches!(
        err,
        Err(StoreError::Rejected(ItemError::NotResolved))
    ));
    let missing = ItemId::for_reference(&booking("never-opened", "1").reference);
    let err = run(&log, missing, "ops", comment("hello")).await;
    assert!(matches!(
        err,
        Err(StoreError::Rejected(ItemError::NotOpened))
    ));
    log.settle(SETTLE).await.expect("settles");
    assert_eq!(log.read_after(0, 100).await.expect("reads").len(), 1);
}
on_both_backends!(
    a_rejected_command_writes_nothing,
    super::a_rejected_command_writes_nothing
);

async fn a_stale_expected_version_writes_nothing(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = open_item(&log, "R-3").await;
    let command = || suspense_domain::ItemCommand::new(user("ops"), comment("first"));
    let ok = log
        .execute(id, command(), &meta(), Some(1))
        .await
        .expect("version 1 matches");
    assert_eq!(ok.version, 2);
    let stale = log.execute(id, command(), &meta(), Some(1)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    ));
    assert_eq!(log.history(id).await.expect("reads").len(), 2);
}
on_both_backends!(
    a_stale_expected_version_writes_nothing,
    super::a_stale_expected_version_writes_nothing
);

/// Many tasks in several processes (one `EventLog` each) write to one item at the same
/// instant: each command is either written once or refused as a conflict; the item's sequence
/// stays gapless and the log holds exactly the accepted events.
async fn concurrent_commands_on_one_item_never_lose_or_duplicate(backend: Backend) {
    const WRITERS: usize = 16;
    const PROCESSES: usize = 4;
    let db = TestDatabase::create(backend).await;
    let mut processes = Vec::new();
    for _ in 0..PROCESSES {
        processes.push(Arc::new(open_log(&db).await));
    }
    let log = Arc::clone(&processes[0]);
    let id = open_item(&log, "HOT-1").await;
    let mut accepted = 0usize;
    let mut conflicts = 0usize;
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let log = Arc::clone(&processes[writer % PROCESSES]);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    run(
                        &log,
                        id,
                        "ops",
                        comment(&format!("round {round} writer {writer}")),
                    )
                    .await
                })
            })
            .collect();
        for task in tasks {
            match task.await.expect("task completes") {
                Ok(executed) => {
                    assert_eq!(executed.events.len(), 1);
                    accepted += 1;
                }
                Err(StoreError::Conflict { item_id }) => {
                    assert_eq!(item_id, id);
                    conflicts += 1;
                }
                Err(other) => panic!("unexpected error under contention: {other}"),
            }
        }
        if conflicts > 0 && round >= 2 {
            break;
        }
    }
    assert!(
        conflicts > 0,
        "concurrent writers never collided; the test proved nothing"
    );
    let history = log.history(id).await.expect("history reads");
    let sequences: Vec<u64> = history.iter().map(|e| e.sequence).collect();
    let expected: Vec<u64> = (1..=(1 + accepted as u64)).collect();
    assert_eq!(
        sequences, expected,
        "sequence must be gapless and hold every accepted command"
    );
    let loaded = log.load(id).await.expect("loads").expect("exists");
    assert_eq!(loaded.state.comment_count as usize, accepted);
    log.settle(SETTLE).await.expect("settles");
    let log_events = log.read_after(0, 10_000).await.expect("log reads");
    assert_eq!(log_events.len(), 1 + accepted);
}
on_both_backends!(
    concurrent_commands_on_one_item_never_lose_or_duplicate,
    super::concurrent_commands_on_one_item_never_lose_or_duplicate
);

/// Within one process, commands on one item take turns: none collides, every one is applied
/// in some order, and each is decided on the state its predecessor wrote.
async fn commands_on_one_item_in_one_process_take_turns(backend: Backend) {
    const WRITERS: u64 = 16;
    let db = TestDatabase::create(backend).await;
    let log = Arc::new(open_log(&db).await);
    let id = open_item(&log, "HOT-2").await;
    let barrier = Arc::new(Barrier::new(WRITERS as usize));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let log = Arc::clone(&log);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                run(&log, id, "ops", comment(&format!("writer {writer}"))).await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        let executed = task
            .await
            .expect("task completes")
            .expect("no command on one item collides within one process");
        versions.push(executed.version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=WRITERS + 1).collect::<Vec<_>>());
    let loaded = log.load(id).await.expect("loads").expect("exists");
    assert_eq!(loaded.version, WRITERS + 1);
    assert_eq!(u64::from(loaded.state.comment_count), WRITERS);
}
on_both_backends!(
    commands_on_one_item_in_one_process_take_turns,
    super::commands_on_one_item_in_one_process_take_turns
);

/// Concurrent writers on many items: global positions are 1..=n without gaps or repeats,
/// and paging through the log by position visits every event once.
async fn global_positions_are_gapless_under_concurrent_writers(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = Arc::new(open_log(&db).await);
    let tasks: Vec<_> = (0..8)
        .map(|writer| {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let id = open_item(&log, &format!("W{writer}")).await;
                for n in 0..5 {
                    run(&log, id, "ops", comment(&format!("note {n}")))
                        .await
                        .expect("own item, no conflict");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer finishes");
    }
    log.settle(SETTLE).await.expect("settles");
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = log.read_after(after, 7).await.expect("page reads");
        let Some(last) = page.last() else { break };
        after = last.position.expect("log events have positions");
        seen.extend(
            page.into_iter()
                .map(|e| (e.position, e.item_id, e.sequence)),
        );
    }
    let positions: Vec<u64> = seen.iter().filter_map(|(p, _, _)| *p).collect();
    assert_eq!(positions, (1..=48).collect::<Vec<u64>>());
    let mut keys: Vec<_> = seen.iter().map(|(_, id, seq)| (*id, *seq)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 48, "no event appears twice");
}
on_both_backends!(
    global_positions_are_gapless_under_concurrent_writers,
    super::global_positions_are_gapless_under_concurrent_writers
);

async fn reopening_a_store_keeps_the_log_and_does_not_remigrate(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let id = {
        let log = open_log(&db).await;
        let id = open_item(&log, "R-9").await;
        log.close().await;
        id
    };
    let log = open_log(&db).await;
    assert_eq!(
        log.load(id).await.expect("loads").map(|i| i.version),
        Some(1)
    );
    run(&log, id, "ops", comment("still here"))
        .await
        .expect("writes after reopen");
    assert_eq!(log.settle(SETTLE).await.expect("settles"), 2);
}
on_both_backends!(
    reopening_a_store_keeps_the_log_and_does_not_remigrate,
    super::reopening_a_store_keeps_the_log_and_does_not_remigrate
);

/// Two processes on one database: the one whose cached state is stale must decide again on the
/// current state, never write on top of a state it did not see.
async fn a_stale_cache_never_decides_a_command(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let first = open_log(&db).await;
    let second = open_log(&db).await;
    let id = open_item(&first, "CACHE-1").await; // `first` now caches version 1
    run(&second, id, "ops", classify())
        .await
        .expect("classifies");
    let resolve = suspense_domain::ItemAction::Resolve(suspense_domain::ResolutionRequest {
        method: suspense_domain::ResolutionMethod::Refunded,
        amount: suspense_domain::Money::parse("1000.00", "CNY").expect("valid"),
        posted_to: None,
        note: None,
    });
    run(&second, id, "ops", resolve).await.expect("resolves");
    // On its cached (open, unclassified) state, `first` would accept a clearing; on the real
    // state the item is resolved.
    let clearing = suspense_domain::ItemAction::RecordClearing {
        clearing_reference: suspense_domain::Reference::parse("LATE").expect("valid"),
        amount: suspense_domain::Money::parse("1.00", "CNY").expect("valid"),
    };
    let late = run(&first, id, "ops", clearing).await;
    assert!(
        matches!(late, Err(StoreError::Rejected(ItemError::AlreadyResolved))),
        "{late:?}"
    );
    let comment = run(&first, id, "ops", self::comment("after"))
        .await
        .expect("comments");
    assert_eq!(
        comment.version, 4,
        "written after the other process's events"
    );
    assert_eq!(first.history(id).await.expect("history").len(), 4);
}
on_both_backends!(
    a_stale_cache_never_decides_a_command,
    super::a_stale_cache_never_decides_a_command
);

/// `recent` answers from the cache without reading, and may be stale; a command pinned to its
/// version applies only if the item is still at that version.
async fn a_recent_state_is_only_acted_on_at_its_version(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let first = open_log(&db).await;
    let second = open_log(&db).await;
    let id = open_item(&first, "RECENT-1").await;
    let recent = first.recent(id).expect("cached after writing");
    assert_eq!(recent.version, 1);
    async fn pinned(
        log: &suspense_store::EventLog,
        id: ItemId,
        version: u64,
    ) -> Result<suspense_store::Executed, StoreError> {
        let command = suspense_domain::ItemCommand::new(
            suspense_domain::UserId::parse("ops").expect("valid"),
            comment("pinned"),
        );
        log.execute(id, command, &meta(), Some(version)).await
    }
    // At its version, the cached state is acted on.
    let applied = pinned(&first, id, recent.version).await.expect("applies");
    assert_eq!(applied.version, 2);
    // Another process writes: the cache is now stale, and a command pinned to it is refused.
    run(&second, id, "ops", classify())
        .await
        .expect("classifies");
    let stale = first.recent(id).expect("still cached");
    assert_eq!(stale.version, 2, "the cache has not seen the other process");
    // Unchanged since this process wrote it, `load` answers from the cache, and equals a
    // full read by another process.
    assert_eq!(second.recent(id).map(|r| r.version), Some(3));
    let from_cache = second.load(id).await.expect("loads");
    let third = open_log(&db).await;
    assert!(third.recent(id).is_none());
    assert_eq!(from_cache, third.load(id).await.expect("loads"));
    // `load` notices the other process's write and reads the item again.
    let loaded = first.load(id).await.expect("loads").expect("exists");
    assert_eq!(loaded.version, 3);
    assert!(
        loaded.state.cause.is_some(),
        "classified by the other process"
    );
    let refused = pinned(&first, id, stale.version).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::VersionMismatch {
                expected: 2,
                actual: 3
            })
        ),
        "{refused:?}"
    );
    assert_eq!(first.history(id).await.expect("history").len(), 3);
    assert!(first
        .recent(ItemId::for_reference(
            &suspense_domain::SourceReference::parse("CORE", "NEVER").expect("valid")
        ))
        .is_none());
}
on_both_backends!(
    a_recent_state_is_only_acted_on_at_its_version,
    super::a_recent_state_is_only_acted_on_at_its_version
);

/// What a reader that has reached a position knows of some items: their events up to it, in
/// sequence order, and nothing of other items or of later events.
async fn history_up_to_a_position_holds_only_what_the_log_had_then(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let a = open_item(&log, "UPTO-A").await; // position 1
    let b = open_item(&log, "UPTO-B").await; // 2
    for (id, text) in [(a, "first"), (b, "second"), (a, "third")] {
        // positions 3, 4, 5
        run(&log, id, "ops", comment(text)).await.expect("comments");
    }
    log.settle(SETTLE).await.expect("settles");
    let seen = |events: Vec<suspense_store::RecordedEvent>| -> Vec<(String, u64, Option<u64>)> {
        events
            .into_iter()
            .map(|e| (e.item_id.to_string(), e.sequence, e.position))
            .collect()
    };
    let (a_id, b_id) = (a.to_string(), b.to_string());
    assert_eq!(
        seen(
            log.history_up_to(std::slice::from_ref(&a_id), 4)
                .await
                .expect("reads")
        ),
        vec![(a_id.clone(), 1, Some(1)), (a_id.clone(), 2, Some(3))]
    );
    let both = seen(
        log.history_up_to(&[a_id.clone(), b_id.clone()], 5)
            .await
            .expect("reads"),
    );
    assert_eq!(both.len(), 5);
    assert!(both
        .windows(2)
        .all(|w| (&w[0].0, w[0].1) < (&w[1].0, w[1].1)));
    assert!(log
        .history_up_to(&[a_id], 0)
        .await
        .expect("reads")
        .is_empty());
    assert!(log.history_up_to(&[], 5).await.expect("reads").is_empty());
}
on_both_backends!(
    history_up_to_a_position_holds_only_what_the_log_had_then,
    super::history_up_to_a_position_holds_only_what_the_log_had_then
);

/// A page larger than the piece SQLite reads at once (1,000 events) still holds every event
/// once, in order, whatever the page's bounds.
async fn a_long_page_holds_every_event_once_in_order(backend: Backend) {
    const EVENTS: u64 = 2_345;
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = item_id("LONG-1");
    let payload = opened_payload("LONG-1");
    // Events straight into the table, as another writer would leave them: the log positions
    // them when it settles.
    raw_execute(
        &db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EVENTS})
             INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'SuspenseItem', '{id}', i, 'Opened', '1', '{payload}', '{{}}' FROM n"
        ),
    )
    .await
    .expect("raw insert");
    log.settle(SETTLE).await.expect("settles");

    let whole = log.read_after(0, 10_000).await.expect("page reads");
    let positions: Vec<u64> = whole.iter().filter_map(|e| e.position).collect();
    assert_eq!(positions, (1..=EVENTS).collect::<Vec<u64>>());
    let sequences: Vec<u64> = whole.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=EVENTS).collect::<Vec<u64>>());

    for (after, size) in [
        (0, 1_000),
        (999, 1_001),
        (1_000, 2_000),
        (1_500, 845),
        (2_344, 5),
    ] {
        let page = log.read_after(after, size).await.expect("page reads");
        let positions: Vec<u64> = page.iter().filter_map(|e| e.position).collect();
        let end = (after + u64::from(size)).min(EVENTS);
        assert_eq!(
            positions,
            (after + 1..=end).collect::<Vec<u64>>(),
            "{size} events after {after}"
        );
    }
}
on_both_backends!(
    a_long_page_holds_every_event_once_in_order,
    super::a_long_page_holds_every_event_once_in_order
);

/// A page of the log (on PostgreSQL, a binary COPY stream read field by field) holds each
/// event exactly as the per-row read of its item's history does: text beyond ASCII, quotes
/// and line breaks, and times before PostgreSQL's epoch and far after it, to the microsecond.
async fn a_page_reads_each_event_as_its_history_does(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = open_log(&db).await;
    let id = open_item(&log, "PAGE-1").await;
    run(
        &log,
        id,
        "teller",
        comment("Kunde: \"Überweisung\" — 掛賬 ✓\nzweite Zeile \\ tab\t"),
    )
    .await
    .expect("comment recorded");
    for (reference, recorded_at) in [
        ("PAGE-OLD", "1999-12-31T23:59:59.999999Z"),
        ("PAGE-FAR", "2200-06-01T12:00:00.000001Z"),
    ] {
        insert_opened(&db, reference, r#"{"actor":"Zoë «import»"}"#, recorded_at).await;
    }
    log.settle(SETTLE).await.expect("settles");

    let page = log.read_after(0, 100).await.expect("page reads");
    assert_eq!(page.len(), 4);
    for event in &page {
        let history = log.history(event.item_id).await.expect("history");
        let same = history.iter().find(|h| h.sequence == event.sequence);
        assert_eq!(same, Some(event), "the page and the history differ");
    }
    let at = |text: &str| {
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .expect("instant")
    };
    assert_eq!(page[2].recorded_at, at("1999-12-31T23:59:59.999999Z"));
    assert_eq!(page[3].recorded_at, at("2200-06-01T12:00:00.000001Z"));
    assert_eq!(page[2].metadata.actor.as_deref(), Some("Zoë «import»"));
}
on_both_backends!(
    a_page_reads_each_event_as_its_history_does,
    super::a_page_reads_each_event_as_its_history_does
);
