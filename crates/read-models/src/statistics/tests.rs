//! The statistics' fold: what a batch adds, moves and writes.

use super::columns::COUNTERS;
use super::*;

#[test]
fn the_column_table_reaches_every_counter_once() {
    // Each counter set on its own shows up in exactly its own column.
    for (index, counter) in COUNTERS.iter().enumerate() {
        let mut counts = CellCounts::default();
        (counter.set)(&mut counts, 7);
        let values: Vec<i64> = counts.values().collect();
        let expected: Vec<i64> = (0..COUNTERS.len())
            .map(|i| if i == index { 7 } else { 0 })
            .collect();
        assert_eq!(values, expected, "{}", counter.column);
    }
    // And every field is one of them: a counts value with all fields set is all sevens.
    let all = CellCounts {
        opened_count: 7,
        opened_minor: 7,
        resolved_count: 7,
        resolved_minor: 7,
        reopened_count: 7,
        reopened_minor: 7,
        escalations: 7,
        restated_items: 7,
        customer_impacted: 7,
        fees_incurred_minor: 7,
        fees_refunded_minor: 7,
        complaints_received: 7,
        complaints_closed: 7,
        reminders_due: 7,
        reminders_sent: 7,
        reminders_failed: 7,
    };
    assert!(all.values().all(|v| v == 7));
    let mut sum = all;
    sum += all.scaled(-1);
    assert!(sum.is_zero());
}

fn key() -> HistogramKey {
    HistogramKey {
        month: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        category: "customer_cause".into(),
        code: "CUS-REFERENCE".into(),
        branch: "SH-001".into(),
        channel: "counter".into(),
        currency: "CNY".into(),
    }
}

/// An item stored by an earlier batch, loaded with its facts, and one of its later events.
fn stored_item_and(event: SuspenseItemEvent) -> (StatsBatch, RecordedEvent) {
    use suspense_domain::{ItemId, SourceReference};
    let reference = SourceReference::parse("CORE", "TXN-1").expect("reference");
    let id = ItemId::for_reference(&reference);
    let item = StatsItem {
        item_id: id.to_string(),
        branch: "SH-001".into(),
        channel: "counter".into(),
        currency: "CNY".into(),
        category: "customer_cause".into(),
        code: "CUS-REFERENCE".into(),
        reclassified: false,
        booked_on: NaiveDate::from_ymd_opt(2026, 1, 5).expect("date"),
        amount_minor: 10_000,
        team: UNASSIGNED.into(),
        counterparty: NONE.into(),
        incident: NONE.into(),
        impacted: false,
    };
    let batch = StatsBatch::new(
        Map::from_iter([(id.to_string(), item)]),
        Map::from_iter([(id.to_string(), Vec::new())]),
        0,
    );
    (batch, crate::test_events::recorded(id, 4, event))
}

fn at() -> chrono::DateTime<chrono::Utc> {
    NaiveDate::from_ymd_opt(2026, 2, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("time")
        .and_utc()
}

#[test]
fn a_stored_item_the_batch_only_reads_is_not_rewritten() {
    use suspense_domain::{Money, ResolutionMethod, ResolutionRequest, UserId};
    let resolved = SuspenseItemEvent::Resolved {
        at: at(),
        by: UserId::parse("ops").expect("user"),
        resolution: ResolutionRequest {
            method: ResolutionMethod::Refunded,
            amount: Money::parse("100.00", "CNY").expect("money"),
            posted_to: None,
            note: None,
        },
        approval: None,
    };
    let (mut batch, event) = stored_item_and(resolved);
    batch
        .apply(&event, &ReportingCalendar::default())
        .expect("applies");
    assert_eq!(batch.items_to_write().count(), 0);
    assert!(!batch.cells.is_empty(), "the resolution still counts");
}

#[test]
fn a_stored_item_whose_cause_the_batch_changes_is_rewritten() {
    use suspense_domain::{Note, RootCauseCatalogue, UserId};
    let catalogue = RootCauseCatalogue::default();
    let mut causes = catalogue.entries().iter().map(|(code, entry)| RootCause {
        category: entry.category,
        code: code.clone(),
    });
    let (from, to) = (
        causes.next().expect("a cause"),
        causes.next().expect("another"),
    );
    let reclassified = SuspenseItemEvent::Reclassified {
        at: at(),
        by: UserId::parse("lead").expect("user"),
        from,
        to: to.clone(),
        reason: Note::parse("restated").expect("note"),
    };
    let (mut batch, event) = stored_item_and(reclassified);
    batch
        .apply(&event, &ReportingCalendar::default())
        .expect("applies");
    let written: Vec<&StatsItem> = batch.items_to_write().collect();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].code, to.code.to_string());
    assert!(written[0].reclassified);
}

#[test]
fn an_assignment_moves_the_items_figures_to_the_team_and_keeps_the_histogram() {
    use suspense_domain::{Assignment, TeamId, UserId};
    let assigned = SuspenseItemEvent::Assigned {
        at: at(),
        by: UserId::parse("lead").expect("user"),
        to: Assignment {
            team: TeamId::parse("recon").expect("team"),
            assignee: None,
        },
    };
    let (mut batch, event) = stored_item_and(assigned);
    let id = event.item_id.to_string();
    let opening = StatsFact {
        item_id: id.clone(),
        sequence: 1,
        kind: FactKind::Opened,
        month: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        amount_minor: 10_000,
        duration_bucket: None,
    };
    batch.facts.insert(id, vec![opening]);
    batch
        .apply(&event, &ReportingCalendar::default())
        .expect("applies");
    let moved: Vec<(&str, i64)> = batch
        .cells
        .iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|(k, c)| (k.team.as_str(), c.opened_count))
        .collect();
    let mut moved = moved;
    moved.sort_unstable();
    assert_eq!(moved, vec![("recon", 1), (UNASSIGNED, -1)]);
    assert_eq!(batch.items_to_write().count(), 1);
    assert!(batch.histogram_changes().is_empty());
}

#[test]
fn merged_buckets_add_changes_stay_ascending_and_drop_emptied_buckets() {
    let cell = HistogramCell::merged(&key(), &[(5, 2), (40, 1)], &[(900, 1), (40, -1), (5, 1)]);
    assert_eq!(cell.buckets, vec![(5, 3), (900, 1)]);
    assert_eq!(cell.resolved_count(), 4);
    assert_eq!(cell.buckets_json().expect("encodes"), "[[5,3],[900,1]]");
    assert_eq!(cell.key, key());
}

#[test]
fn a_new_cell_holds_only_its_changes() {
    let cell = HistogramCell::merged(&key(), &[], &[(7, 1)]);
    assert_eq!(cell.buckets, vec![(7, 1)]);
}

#[test]
fn histogram_changes_group_deltas_per_cell_and_skip_zeros() {
    let mut batch = StatsBatch::default();
    batch.histogram.insert((key(), 3), 2);
    batch.histogram.insert((key(), 9), 0);
    batch.histogram.insert((key(), 1), -1);
    let changes = batch.histogram_changes();
    assert_eq!(changes.len(), 1);
    let mut deltas = changes[&key()].clone();
    deltas.sort_unstable();
    assert_eq!(deltas, vec![(1, -1), (3, 2)]);
}

/// The month's customer counters a batch adds, summed over its cells.
fn customer_counts(batch: &StatsBatch) -> CellCounts {
    let mut sum = CellCounts::default();
    for counts in batch.cells.values() {
        sum += *counts;
    }
    sum
}

#[test]
fn customer_impact_counts_once_per_item_and_marks_it_for_rewriting() {
    use suspense_domain::{CustomerReference, UserId};
    let recorded = SuspenseItemEvent::CustomerImpactRecorded {
        at: at(),
        by: UserId::parse("ops").expect("user"),
        customer: Some(CustomerReference::parse("C-0042").expect("customer")),
        funds_held: true,
    };
    let (mut batch, event) = stored_item_and(recorded.clone());
    let calendar = ReportingCalendar::default();
    batch.apply(&event, &calendar).expect("applies");
    let again = crate::test_events::recorded(event.item_id, 5, recorded);
    batch.apply(&again, &calendar).expect("applies");
    assert_eq!(customer_counts(&batch).customer_impacted, 1);
    let written: Vec<&StatsItem> = batch.items_to_write().collect();
    assert_eq!(written.len(), 1);
    assert!(written[0].impacted);
}

#[test]
fn fees_refunds_complaints_and_reminders_count_in_their_months() {
    use suspense_domain::{
        ComplaintChannel, ComplaintReference, FeeReference, Money, ReminderChannel, UserId,
    };
    let by = UserId::parse("ops").expect("user");
    let fee_reference = FeeReference::parse("LATE-1").expect("fee");
    let complaint = ComplaintReference::parse("CMP-7").expect("complaint");
    let received_at = NaiveDate::from_ymd_opt(2026, 1, 20)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("time")
        .and_utc();
    let events = [
        SuspenseItemEvent::CustomerFeeIncurred {
            at: at(),
            by: by.clone(),
            fee_reference: fee_reference.clone(),
            amount: Money::parse("25.00", "CNY").expect("money"),
        },
        SuspenseItemEvent::CustomerFeeRefunded {
            at: at(),
            by: by.clone(),
            fee_reference,
            amount: Money::parse("10.00", "CNY").expect("money"),
        },
        SuspenseItemEvent::ComplaintReceived {
            at: at(),
            by: by.clone(),
            complaint: complaint.clone(),
            received_at,
            channel: ComplaintChannel::Phone,
        },
        SuspenseItemEvent::ComplaintClosed {
            at: at(),
            by: by.clone(),
            complaint,
            closed_at: at(),
            note: None,
        },
        SuspenseItemEvent::ReminderDue {
            at: at(),
            by: by.clone(),
            day: 3,
            due_on: NaiveDate::from_ymd_opt(2026, 1, 8).expect("date"),
        },
        SuspenseItemEvent::ReminderSent {
            at: at(),
            by: by.clone(),
            day: 3,
            channel: ReminderChannel::Sms,
        },
        SuspenseItemEvent::ReminderFailed {
            at: at(),
            by,
            day: 10,
            reason: suspense_domain::Note::parse("unreachable").expect("note"),
        },
    ];
    let (mut batch, first) = stored_item_and(events[0].clone());
    let calendar = ReportingCalendar::default();
    for (offset, event) in events.into_iter().enumerate() {
        let recorded = crate::test_events::recorded(first.item_id, 4 + offset as u64, event);
        batch.apply(&recorded, &calendar).expect("applies");
    }
    let sum = customer_counts(&batch);
    assert_eq!(
        (
            sum.customer_impacted,
            sum.fees_incurred_minor,
            sum.fees_refunded_minor
        ),
        (1, 2_500, 1_000)
    );
    assert_eq!((sum.complaints_received, sum.complaints_closed), (1, 1));
    assert_eq!(
        (sum.reminders_due, sum.reminders_sent, sum.reminders_failed),
        (1, 1, 1)
    );
    // The complaint counts in the month it was received, not the month it was recorded.
    let january = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let received_in_january: i64 = batch
        .cells
        .iter()
        .filter(|(key, _)| key.month == january)
        .map(|(_, counts)| counts.complaints_received)
        .sum();
    assert_eq!(received_in_january, 1);
}
