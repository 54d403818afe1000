//! When a customer must be reminded of an item (客戶提醒): rules of a policy version, and the
//! sweep's pure decision for one item. A reminder is named by the days after booking it falls
//! due at; an item is reminded only while unresolved, only when it has a customer, and only
//! later than its last reminder, so a sweep that finds several due at once (it did not run for
//! a while) records the latest one only: the customer is reminded once, not in a burst.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::rules::MAX_DAYS;
use super::PolicyVersion;
use crate::classification::RootCauseCategory;
use crate::identity::BranchCode;
use crate::item::{ItemState, ItemStatus};

/// One reminder rule. A field left out matches every item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRule {
    /// Items classified under this category (an unclassified item matches only rules
    /// without one).
    #[serde(default)]
    pub category: Option<RootCauseCategory>,
    #[serde(default)]
    pub branches: Vec<BranchCode>,
    /// Days after booking a reminder falls due, ascending, e.g. `[3, 10]`.
    pub days_after_booking: Vec<u32>,
}

impl ReminderRule {
    fn covers(&self, item: &ItemState) -> bool {
        let category = item.cause.as_ref().map(|cause| cause.category);
        self.category.is_none_or(|wanted| category == Some(wanted))
            && (self.branches.is_empty() || self.branches.contains(&item.opened.branch))
    }
}

/// A reminder rule refused at publication: its index (from 0) and why.
pub fn check_reminders(rules: &[ReminderRule]) -> Result<(), (usize, String)> {
    for (index, rule) in rules.iter().enumerate() {
        if rule.days_after_booking.is_empty() {
            return Err((index, "days_after_booking names no day".to_owned()));
        }
        if let Some(day) = rule
            .days_after_booking
            .iter()
            .find(|day| **day == 0 || **day > MAX_DAYS)
        {
            return Err((
                index,
                format!("day {day} is not between 1 and {MAX_DAYS} days after booking"),
            ));
        }
        if rule.days_after_booking.windows(2).any(|w| w[0] >= w[1]) {
            return Err((
                index,
                "days_after_booking must be ascending without repeats".to_owned(),
            ));
        }
    }
    Ok(())
}

/// A reminder due: days after booking, and the date it fell due on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueReminder {
    pub day: u32,
    pub due_on: NaiveDate,
    pub policy_version: u32,
}

/// The reminder `policy` asks for `item` on the bank-calendar date `as_of`, if any.
pub fn reminder_due(
    policy: &PolicyVersion,
    item: &ItemState,
    as_of: NaiveDate,
) -> Option<DueReminder> {
    if item.status() == ItemStatus::Resolved || item.customer.customer.is_none() {
        return None;
    }
    let last = item.customer.last_reminder_day();
    let booked_on = item.opened.booked_on;
    policy
        .reminders
        .iter()
        .filter(|rule| rule.covers(item))
        .flat_map(|rule| rule.days_after_booking.iter().copied())
        .filter(|day| *day > last)
        .filter_map(|day| {
            let due_on = booked_on.checked_add_days(chrono::Days::new(u64::from(day)))?;
            (due_on <= as_of).then_some(DueReminder {
                day,
                due_on,
                policy_version: policy.version,
            })
        })
        .max_by_key(|due| due.day)
}
