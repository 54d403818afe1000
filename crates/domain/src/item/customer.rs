//! The customer side of one item: its state (`CustomerSide`), the decisions on the customer
//! commands, and how their events fold in. Customer facts may be recorded whatever the item's
//! status (a complaint or a refund often comes after the item is cleared); a reminder falls
//! due only while the item is unresolved.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ItemError, ItemState, SuspenseItemEvent};
use crate::customer::{
    ComplaintChannel, ComplaintReference, CustomerReference, FeeReference, ReminderChannel,
};
use crate::identity::{Note, UserId};
use crate::money::Money;
use crate::vocabulary::CustomerImpact;

/// A fee the customer incurred because of the item, and how much of it was refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub incurred: Money,
    pub refunded: Money,
}

impl Fee {
    /// What may still be refunded.
    pub fn refundable(&self) -> Money {
        self.incurred
            .checked_sub(&self.refunded)
            .unwrap_or_else(|| Money::zero(self.incurred.currency()))
    }
}

/// A customer complaint about the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub received_at: DateTime<Utc>,
    pub channel: ComplaintChannel,
    pub closed_at: Option<DateTime<Utc>>,
}

/// What the messaging gateway reported for a reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReminderOutcome {
    Sent { channel: ReminderChannel },
    Failed { reason: Note },
}

/// A reminder the bank owes the customer, named by the days after booking it is due at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub due_on: NaiveDate,
    /// The gateway's last report (a failed reminder may be sent on a later attempt).
    pub outcome: Option<ReminderOutcome>,
}

/// The customer side of an item's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSide {
    pub customer: Option<CustomerReference>,
    pub funds_held: bool,
    pub fees: BTreeMap<FeeReference, Fee>,
    pub complaints: BTreeMap<ComplaintReference, Complaint>,
    /// Reminders fallen due, by days after booking.
    pub reminders: BTreeMap<u32, Reminder>,
}

impl CustomerSide {
    /// The customer side an item is booked with.
    pub fn at_opening(impact: &CustomerImpact) -> Self {
        let mut side = Self {
            customer: impact.customer.clone(),
            funds_held: impact.funds_held,
            ..Self::default()
        };
        if let Some(fee) = impact.fee {
            side.fees.insert(
                FeeReference::at_opening(),
                Fee {
                    incurred: fee,
                    refunded: Money::zero(fee.currency()),
                },
            );
        }
        side
    }

    /// Whether the item harms a customer at all.
    pub fn has_impact(&self) -> bool {
        self.customer.is_some() || self.funds_held || !self.fees.is_empty()
    }

    /// The latest reminder fallen due, in days after booking (0: none yet).
    pub fn last_reminder_day(&self) -> u32 {
        self.reminders.keys().next_back().copied().unwrap_or(0)
    }

    /// Folds a customer event in; other events leave it as it is.
    pub(super) fn apply(&mut self, event: &SuspenseItemEvent) {
        match event {
            SuspenseItemEvent::CustomerImpactRecorded {
                customer,
                funds_held,
                ..
            } => {
                if customer.is_some() {
                    self.customer.clone_from(customer);
                }
                self.funds_held = *funds_held;
            }
            SuspenseItemEvent::CustomerFeeIncurred {
                fee_reference,
                amount,
                ..
            } => {
                self.fees.insert(
                    fee_reference.clone(),
                    Fee {
                        incurred: *amount,
                        refunded: Money::zero(amount.currency()),
                    },
                );
            }
            SuspenseItemEvent::CustomerFeeRefunded {
                fee_reference,
                amount,
                ..
            } => {
                if let Some(fee) = self.fees.get_mut(fee_reference) {
                    fee.refunded = fee.refunded.checked_add(amount).unwrap_or(fee.refunded);
                }
            }
            SuspenseItemEvent::ComplaintReceived {
                complaint,
                received_at,
                channel,
                ..
            } => {
                self.complaints.insert(
                    complaint.clone(),
                    Complaint {
                        received_at: *received_at,
                        channel: *channel,
                        closed_at: None,
                    },
                );
            }
            SuspenseItemEvent::ComplaintClosed {
                complaint,
                closed_at,
                ..
            } => {
                if let Some(complaint) = self.complaints.get_mut(complaint) {
                    complaint.closed_at = Some(*closed_at);
                }
            }
            SuspenseItemEvent::ReminderDue { day, due_on, .. } => {
                self.reminders.insert(
                    *day,
                    Reminder {
                        due_on: *due_on,
                        outcome: None,
                    },
                );
            }
            SuspenseItemEvent::ReminderSent { day, channel, .. } => {
                if let Some(reminder) = self.reminders.get_mut(day) {
                    reminder.outcome = Some(ReminderOutcome::Sent { channel: *channel });
                }
            }
            SuspenseItemEvent::ReminderFailed { day, reason, .. } => {
                if let Some(reminder) = self.reminders.get_mut(day) {
                    reminder.outcome = Some(ReminderOutcome::Failed {
                        reason: reason.clone(),
                    });
                }
            }
            _ => {}
        }
    }
}

/// The customer and whether their funds are held: a repeat changes nothing, and an item's
/// customer, once recorded, is never replaced by another (a wrong one is a new booking's
/// matter, not a silent rewrite of who was harmed).
pub(super) fn record_impact(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    customer: Option<CustomerReference>,
    funds_held: bool,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    let side = &state.customer;
    if let (Some(current), Some(requested)) = (&side.customer, &customer) {
        if current != requested {
            return Err(ItemError::CustomerConflict {
                current: current.clone(),
            });
        }
    }
    let customer_unchanged = customer.is_none() || customer == side.customer;
    if customer_unchanged && funds_held == side.funds_held {
        return Ok(vec![]);
    }
    Ok(vec![SuspenseItemEvent::CustomerImpactRecorded {
        at,
        by,
        customer,
        funds_held,
    }])
}

pub(super) fn record_fee(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    fee_reference: FeeReference,
    amount: Money,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if let Some(fee) = state.customer.fees.get(&fee_reference) {
        return if fee.incurred == amount {
            Ok(vec![])
        } else {
            Err(ItemError::FeeReferenceConflict { fee_reference })
        };
    }
    super::check_currency(state, "amount", &amount)?;
    if amount.is_zero() {
        return Err(ItemError::AmountNotPositive { field: "amount" });
    }
    Ok(vec![SuspenseItemEvent::CustomerFeeIncurred {
        at,
        by,
        fee_reference,
        amount,
    }])
}

pub(super) fn refund_fee(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    fee_reference: FeeReference,
    amount: Money,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    let fee = state
        .customer
        .fees
        .get(&fee_reference)
        .ok_or_else(|| ItemError::UnknownFee {
            fee_reference: fee_reference.clone(),
        })?;
    if amount.currency() != fee.incurred.currency() {
        return Err(ItemError::CurrencyMismatch {
            field: "amount",
            expected: fee.incurred.currency(),
            got: amount.currency(),
        });
    }
    if amount.is_zero() {
        return Err(ItemError::AmountNotPositive { field: "amount" });
    }
    let refundable = fee.refundable();
    if amount.amount() > refundable.amount() {
        return Err(ItemError::RefundExceedsFee {
            fee: fee.incurred,
            refundable,
            requested: amount,
        });
    }
    Ok(vec![SuspenseItemEvent::CustomerFeeRefunded {
        at,
        by,
        fee_reference,
        amount,
    }])
}

pub(super) fn record_complaint(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    complaint: ComplaintReference,
    received_at: DateTime<Utc>,
    channel: ComplaintChannel,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if let Some(known) = state.customer.complaints.get(&complaint) {
        return if known.received_at == received_at && known.channel == channel {
            Ok(vec![])
        } else {
            Err(ItemError::ComplaintConflict { complaint })
        };
    }
    not_in_the_future("received_at", received_at, at)?;
    Ok(vec![SuspenseItemEvent::ComplaintReceived {
        at,
        by,
        complaint,
        received_at,
        channel,
    }])
}

pub(super) fn close_complaint(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    complaint: ComplaintReference,
    closed_at: DateTime<Utc>,
    note: Option<Note>,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    let known =
        state
            .customer
            .complaints
            .get(&complaint)
            .ok_or_else(|| ItemError::UnknownComplaint {
                complaint: complaint.clone(),
            })?;
    if let Some(closed) = known.closed_at {
        return if closed == closed_at {
            Ok(vec![])
        } else {
            Err(ItemError::ComplaintAlreadyClosed { complaint, closed })
        };
    }
    if closed_at < known.received_at {
        return Err(ItemError::ComplaintClosedBeforeReceived {
            received_at: known.received_at,
        });
    }
    not_in_the_future("closed_at", closed_at, at)?;
    Ok(vec![SuspenseItemEvent::ComplaintClosed {
        at,
        by,
        complaint,
        closed_at,
        note,
    }])
}

/// A reminder falls due (the sweep, applying the policy's reminder rules): only for an
/// unresolved item with a customer to remind, and only later than the last one.
pub(super) fn reminder_due(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    day: u32,
    due_on: NaiveDate,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if state.customer.reminders.contains_key(&day) {
        return Ok(vec![]);
    }
    if state.resolution.is_some() {
        return Err(ItemError::AlreadyResolved);
    }
    if state.customer.customer.is_none() {
        return Err(ItemError::NoCustomer);
    }
    let last = state.customer.last_reminder_day();
    if day <= last {
        return Err(ItemError::ReminderNotLater { day, last });
    }
    Ok(vec![SuspenseItemEvent::ReminderDue {
        at,
        by,
        day,
        due_on,
    }])
}

/// The messaging gateway's report on a reminder: sent (final; a repeat changes nothing) or
/// failed (it may report a later attempt sent).
pub(super) fn reminder_outcome(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    day: u32,
    outcome: ReminderOutcome,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    let reminder = state
        .customer
        .reminders
        .get(&day)
        .ok_or(ItemError::ReminderNotDue { day })?;
    match (&reminder.outcome, outcome) {
        (Some(current), requested) if *current == requested => Ok(vec![]),
        (Some(ReminderOutcome::Sent { .. }), _) => Err(ItemError::ReminderAlreadySent { day }),
        (_, ReminderOutcome::Sent { channel }) => Ok(vec![SuspenseItemEvent::ReminderSent {
            at,
            by,
            day,
            channel,
        }]),
        (_, ReminderOutcome::Failed { reason }) => Ok(vec![SuspenseItemEvent::ReminderFailed {
            at,
            by,
            day,
            reason,
        }]),
    }
}

fn not_in_the_future(
    field: &'static str,
    when: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ItemError> {
    if when > now {
        return Err(ItemError::ImplausibleDate {
            field,
            reason: format!("{when} is after the time of recording ({now})"),
        });
    }
    Ok(())
}
