//! The customer side: who is harmed, fees and their refunds, complaints, and reminders with
//! the messaging gateway's reports. Customer facts are recorded whatever the item's status.

use crate::customer::{
    ComplaintChannel, ComplaintReference, CustomerReference, FeeReference, ReminderChannel,
};
use crate::item::ReminderOutcome;

use super::*;

fn customer(reference: &str) -> CustomerReference {
    CustomerReference::parse(reference).expect("valid customer reference")
}

fn fee_reference(reference: &str) -> FeeReference {
    FeeReference::parse(reference).expect("valid fee reference")
}

fn complaint(reference: &str) -> ComplaintReference {
    ComplaintReference::parse(reference).expect("valid complaint reference")
}

fn hours_before_now(hours: i64) -> DateTime<Utc> {
    now() - chrono::Duration::hours(hours)
}

fn impact_recorded(reference: Option<&str>, funds_held: bool) -> SuspenseItemEvent {
    SuspenseItemEvent::CustomerImpactRecorded {
        at: now(),
        by: user("ops"),
        customer: reference.map(customer),
        funds_held,
    }
}

fn fee_incurred(reference: &str, amount: &str) -> SuspenseItemEvent {
    SuspenseItemEvent::CustomerFeeIncurred {
        at: now(),
        by: user("ops"),
        fee_reference: fee_reference(reference),
        amount: cny(amount),
    }
}

fn fee_refunded(reference: &str, amount: &str) -> SuspenseItemEvent {
    SuspenseItemEvent::CustomerFeeRefunded {
        at: now(),
        by: user("ops"),
        fee_reference: fee_reference(reference),
        amount: cny(amount),
    }
}

fn complaint_received(reference: &str, hours_ago: i64) -> SuspenseItemEvent {
    SuspenseItemEvent::ComplaintReceived {
        at: now(),
        by: user("ops"),
        complaint: complaint(reference),
        received_at: hours_before_now(hours_ago),
        channel: ComplaintChannel::Phone,
    }
}

fn reminder_due(day: u32) -> SuspenseItemEvent {
    SuspenseItemEvent::ReminderDue {
        at: now(),
        by: user("system"),
        day,
        due_on: NaiveDate::from_ymd_opt(2026, 3, 30).expect("date") + chrono::Days::new(day.into()),
    }
}

fn record_impact(reference: Option<&str>, funds_held: bool) -> ItemAction {
    ItemAction::RecordCustomerImpact {
        customer: reference.map(customer),
        funds_held,
    }
}

fn record_fee(reference: &str, amount: &str) -> ItemAction {
    ItemAction::RecordFee {
        fee_reference: fee_reference(reference),
        amount: cny(amount),
    }
}

fn refund(reference: &str, amount: &str) -> ItemAction {
    ItemAction::RefundFee {
        fee_reference: fee_reference(reference),
        amount: cny(amount),
    }
}

fn record_complaint(reference: &str, hours_ago: i64) -> ItemAction {
    ItemAction::RecordComplaint {
        complaint: complaint(reference),
        received_at: hours_before_now(hours_ago),
        channel: ComplaintChannel::Phone,
    }
}

fn close(reference: &str, hours_ago: i64) -> ItemAction {
    ItemAction::CloseComplaint {
        complaint: complaint(reference),
        closed_at: hours_before_now(hours_ago),
        note: None,
    }
}

fn due(day: u32) -> ItemAction {
    ItemAction::RecordReminderDue {
        day,
        due_on: NaiveDate::from_ymd_opt(2026, 3, 30).expect("date") + chrono::Days::new(day.into()),
    }
}

fn sent(day: u32) -> ItemAction {
    ItemAction::RecordReminderOutcome {
        day,
        outcome: ReminderOutcome::Sent {
            channel: ReminderChannel::Sms,
        },
    }
}

fn failed(day: u32) -> ItemAction {
    ItemAction::RecordReminderOutcome {
        day,
        outcome: ReminderOutcome::Failed {
            reason: note("number unreachable"),
        },
    }
}

#[test]
fn recording_the_customer_and_held_funds_is_an_event() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_impact(Some("C-0042"), true)))
        .then_expect_events(vec![impact_recorded(Some("C-0042"), true)]);
}

#[test]
fn recording_the_same_customer_again_changes_nothing() {
    test()
        .given(vec![opened(), impact_recorded(Some("C-0042"), true)])
        .when(cmd("ops", record_impact(Some("C-0042"), true)))
        .then_expect_events(vec![]);
}

#[test]
fn releasing_held_funds_keeps_the_customer() {
    test()
        .given(vec![opened(), impact_recorded(Some("C-0042"), true)])
        .when(cmd("ops", record_impact(None, false)))
        .then_expect_events(vec![impact_recorded(None, false)]);
}

#[test]
fn another_customer_is_refused() {
    test()
        .given(vec![opened(), impact_recorded(Some("C-0042"), true)])
        .when(cmd("ops", record_impact(Some("C-0043"), true)))
        .then_expect_error(ItemError::CustomerConflict {
            current: customer("C-0042"),
        });
}

#[test]
fn a_customer_can_be_recorded_after_resolution() {
    test()
        .given(vec![opened(), classified(), resolved()])
        .when(cmd("ops", record_impact(Some("C-0042"), false)))
        .then_expect_events(vec![impact_recorded(Some("C-0042"), false)]);
}

#[test]
fn customer_commands_need_an_opened_item() {
    test()
        .given_no_previous_events()
        .when(cmd("ops", record_fee("LATE-1", "25.00")))
        .then_expect_error(ItemError::NotOpened);
}

#[test]
fn a_fee_is_recorded_once_per_reference() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_fee("LATE-1", "25.00")))
        .then_expect_events(vec![fee_incurred("LATE-1", "25.00")]);
    test()
        .given(vec![opened(), fee_incurred("LATE-1", "25.00")])
        .when(cmd("ops", record_fee("LATE-1", "25.00")))
        .then_expect_events(vec![]);
}

#[test]
fn a_fee_reference_with_another_amount_is_refused() {
    test()
        .given(vec![opened(), fee_incurred("LATE-1", "25.00")])
        .when(cmd("ops", record_fee("LATE-1", "30.00")))
        .then_expect_error(ItemError::FeeReferenceConflict {
            fee_reference: fee_reference("LATE-1"),
        });
}

#[test]
fn a_zero_fee_is_refused() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_fee("LATE-1", "0.00")))
        .then_expect_error(ItemError::AmountNotPositive { field: "amount" });
}

#[test]
fn refunds_add_up_to_the_fee_and_no_further() {
    test()
        .given(vec![opened(), fee_incurred("LATE-1", "25.00")])
        .when(cmd("ops", refund("LATE-1", "10.00")))
        .then_expect_events(vec![fee_refunded("LATE-1", "10.00")]);
    test()
        .given(vec![
            opened(),
            fee_incurred("LATE-1", "25.00"),
            fee_refunded("LATE-1", "10.00"),
        ])
        .when(cmd("ops", refund("LATE-1", "15.01")))
        .then_expect_error(ItemError::RefundExceedsFee {
            fee: cny("25.00"),
            refundable: cny("15.00"),
            requested: cny("15.01"),
        });
}

#[test]
fn a_refund_larger_than_the_fee_is_refused() {
    test()
        .given(vec![opened(), fee_incurred("LATE-1", "25.00")])
        .when(cmd("ops", refund("LATE-1", "25.01")))
        .then_expect_error(ItemError::RefundExceedsFee {
            fee: cny("25.00"),
            refundable: cny("25.00"),
            requested: cny("25.01"),
        });
}

#[test]
fn a_refund_of_an_unknown_fee_is_refused() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", refund("LATE-1", "1.00")))
        .then_expect_error(ItemError::UnknownFee {
            fee_reference: fee_reference("LATE-1"),
        });
}

#[test]
fn a_refund_in_another_currency_is_refused() {
    let usd = Money::parse("1.00", "USD").expect("USD");
    test()
        .given(vec![opened(), fee_incurred("LATE-1", "25.00")])
        .when(cmd(
            "ops",
            ItemAction::RefundFee {
                fee_reference: fee_reference("LATE-1"),
                amount: usd,
            },
        ))
        .then_expect_error(ItemError::CurrencyMismatch {
            field: "amount",
            expected: cny("1.00").currency(),
            got: usd.currency(),
        });
}

#[test]
fn the_fee_an_item_was_booked_with_is_refunded_under_opening() {
    let mut item = booking();
    item.customer_impact.fee = Some(cny("8.00"));
    let opened_with_fee = SuspenseItemEvent::Opened {
        at: now(),
        by: user("teller"),
        item,
    };
    test()
        .given(vec![opened_with_fee])
        .when(cmd("ops", refund("opening", "8.00")))
        .then_expect_events(vec![fee_refunded("opening", "8.00")]);
}

#[test]
fn a_complaint_is_recorded_once() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_complaint("CMP-7", 2)))
        .then_expect_events(vec![complaint_received("CMP-7", 2)]);
    test()
        .given(vec![opened(), complaint_received("CMP-7", 2)])
        .when(cmd("ops", record_complaint("CMP-7", 2)))
        .then_expect_events(vec![]);
    test()
        .given(vec![opened(), complaint_received("CMP-7", 2)])
        .when(cmd("ops", record_complaint("CMP-7", 3)))
        .then_expect_error(ItemError::ComplaintConflict {
            complaint: complaint("CMP-7"),
        });
}

#[test]
fn a_complaint_received_in_the_future_is_refused() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", record_complaint("CMP-7", -1)))
        .then_expect_error(ItemError::ImplausibleDate {
            field: "received_at",
            reason: format!(
                "{} is after the time of recording ({})",
                hours_before_now(-1),
                now()
            ),
        });
}

#[test]
fn a_complaint_closes_after_it_was_received() {
    test()
        .given(vec![opened(), complaint_received("CMP-7", 5)])
        .when(cmd("ops", close("CMP-7", 1)))
        .then_expect_events(vec![SuspenseItemEvent::ComplaintClosed {
            at: now(),
            by: user("ops"),
            complaint: complaint("CMP-7"),
            closed_at: hours_before_now(1),
            note: None,
        }]);
}

#[test]
fn a_complaint_closed_before_it_was_received_is_refused() {
    test()
        .given(vec![opened(), complaint_received("CMP-7", 5)])
        .when(cmd("ops", close("CMP-7", 6)))
        .then_expect_error(ItemError::ComplaintClosedBeforeReceived {
            received_at: hours_before_now(5),
        });
}

#[test]
fn closing_an_unknown_or_closed_complaint_is_refused() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", close("CMP-7", 1)))
        .then_expect_error(ItemError::UnknownComplaint {
            complaint: complaint("CMP-7"),
        });
    let closed = SuspenseItemEvent::ComplaintClosed {
        at: now(),
        by: user("ops"),
        complaint: complaint("CMP-7"),
        closed_at: hours_before_now(1),
        note: None,
    };
    test()
        .given(vec![
            opened(),
            complaint_received("CMP-7", 5),
            closed.clone(),
        ])
        .when(cmd("ops", close("CMP-7", 1)))
        .then_expect_events(vec![]);
    test()
        .given(vec![opened(), complaint_received("CMP-7", 5), closed])
        .when(cmd("ops", close("CMP-7", 2)))
        .then_expect_error(ItemError::ComplaintAlreadyClosed {
            complaint: complaint("CMP-7"),
            closed: hours_before_now(1),
        });
}

#[test]
fn a_reminder_falls_due_for_an_open_item_with_a_customer() {
    test()
        .given(vec![opened(), impact_recorded(Some("C-0042"), true)])
        .when(cmd("system", due(3)))
        .then_expect_events(vec![reminder_due(3)]);
}

#[test]
fn a_reminder_due_again_changes_nothing() {
    test()
        .given(vec![
            opened(),
            impact_recorded(Some("C-0042"), true),
            reminder_due(3),
        ])
        .when(cmd("system", due(3)))
        .then_expect_events(vec![]);
}

#[test]
fn a_reminder_needs_a_customer() {
    test()
        .given(vec![opened()])
        .when(cmd("system", due(3)))
        .then_expect_error(ItemError::NoCustomer);
}

#[test]
fn a_resolved_item_is_not_reminded() {
    test()
        .given(vec![
            opened(),
            impact_recorded(Some("C-0042"), true),
            classified(),
            resolved(),
        ])
        .when(cmd("system", due(3)))
        .then_expect_error(ItemError::AlreadyResolved);
}

#[test]
fn a_reminder_earlier_than_the_last_is_refused() {
    test()
        .given(vec![
            opened(),
            impact_recorded(Some("C-0042"), true),
            reminder_due(10),
        ])
        .when(cmd("system", due(3)))
        .then_expect_error(ItemError::ReminderNotLater { day: 3, last: 10 });
}

#[test]
fn the_gateway_reports_a_reminder_sent_or_failed() {
    let given = vec![
        opened(),
        impact_recorded(Some("C-0042"), true),
        reminder_due(3),
    ];
    test()
        .given(given.clone())
        .when(cmd("gateway", sent(3)))
        .then_expect_events(vec![SuspenseItemEvent::ReminderSent {
            at: now(),
            by: user("gateway"),
            day: 3,
            channel: ReminderChannel::Sms,
        }]);
    let failure = SuspenseItemEvent::ReminderFailed {
        at: now(),
        by: user("gateway"),
        day: 3,
        reason: note("number unreachable"),
    };
    test()
        .given(given.clone())
        .when(cmd("gateway", failed(3)))
        .then_expect_events(vec![failure.clone()]);
    // A failed reminder may be sent on a later attempt; a repeated failure changes nothing.
    let mut after_failure = given;
    after_failure.push(failure);
    test()
        .given(after_failure.clone())
        .when(cmd("gateway", failed(3)))
        .then_expect_events(vec![]);
    test()
        .given(after_failure)
        .when(cmd("gateway", sent(3)))
        .then_expect_events(vec![SuspenseItemEvent::ReminderSent {
            at: now(),
            by: user("gateway"),
            day: 3,
            channel: ReminderChannel::Sms,
        }]);
}

#[test]
fn a_reminder_reported_sent_stays_sent() {
    let given = vec![
        opened(),
        impact_recorded(Some("C-0042"), true),
        reminder_due(3),
        SuspenseItemEvent::ReminderSent {
            at: now(),
            by: user("gateway"),
            day: 3,
            channel: ReminderChannel::Sms,
        },
    ];
    test()
        .given(given.clone())
        .when(cmd("gateway", sent(3)))
        .then_expect_events(vec![]);
    test()
        .given(given)
        .when(cmd("gateway", failed(3)))
        .then_expect_error(ItemError::ReminderAlreadySent { day: 3 });
}

#[test]
fn a_report_on_a_reminder_never_due_is_refused() {
    test()
        .given(vec![opened(), impact_recorded(Some("C-0042"), true)])
        .when(cmd("gateway", sent(3)))
        .then_expect_error(ItemError::ReminderNotDue { day: 3 });
}

#[test]
fn the_customer_side_folds_from_the_events() {
    let item = SuspenseItem::from_events(&[
        opened(),
        impact_recorded(Some("C-0042"), true),
        fee_incurred("LATE-1", "25.00"),
        fee_refunded("LATE-1", "10.00"),
        complaint_received("CMP-7", 5),
        reminder_due(3),
    ]);
    let side = &item.state().expect("opened").customer;
    assert_eq!(side.customer, Some(customer("C-0042")));
    assert!(side.funds_held && side.has_impact());
    let fee = &side.fees[&fee_reference("LATE-1")];
    assert_eq!(fee.refundable(), cny("15.00"));
    assert_eq!(side.complaints[&complaint("CMP-7")].closed_at, None);
    assert_eq!(side.last_reminder_day(), 3);
}

#[test]
fn reminder_outcomes_travel_flat_in_the_command() {
    let json = r#"{"action":"record_reminder_outcome","day":3,"outcome":"sent","channel":"sms"}"#;
    let action: ItemAction = serde_json::from_str(json).expect("parses");
    assert_eq!(action, sent(3));
}

#[test]
fn fees_are_in_the_items_currency() {
    let usd = Money::parse("5.00", "USD").expect("USD");
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            ItemAction::RecordFee {
                fee_reference: fee_reference("LATE-1"),
                amount: usd,
            },
        ))
        .then_expect_error(ItemError::CurrencyMismatch {
            field: "amount",
            expected: cny("1.00").currency(),
            got: usd.currency(),
        });
    let mut item = booking();
    item.customer_impact.fee = Some(usd);
    test()
        .given_no_previous_events()
        .when(cmd("teller", ItemAction::Open(item)))
        .then_expect_error(ItemError::CurrencyMismatch {
            field: "fee.currency",
            expected: cny("1.00").currency(),
            got: usd.currency(),
        });
}
