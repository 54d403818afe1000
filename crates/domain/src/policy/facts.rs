//! The facts of an item a policy's rules look at, apart from the rest of its state, so that
//! the same rules decide on an aggregate (the sweep) and on a register row (the watch list,
//! the provisioning report).

use chrono::NaiveDate;

use super::rules::{AgeFrom, EscalationRule, Trigger};
use crate::classification::RootCauseCategory;
use crate::identity::BranchCode;
use crate::item::ItemState;
use crate::money::Money;
use crate::organisation::{Jurisdiction, OrganisationVersion};
use crate::vocabulary::{Direction, EscalationLevel};

/// What a rule matches and fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    pub branch: BranchCode,
    pub direction: Direction,
    /// `None` until the item is classified.
    pub category: Option<RootCauseCategory>,
    /// The amount booked (bands and amount triggers look at it, not at what is outstanding).
    pub amount: Money,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    /// `None` while not escalated.
    pub escalation: Option<EscalationLevel>,
    /// The branch's jurisdiction in the organisation registry (`None` without one).
    pub jurisdiction: Option<Jurisdiction>,
}

impl ItemFacts {
    pub fn of(item: &ItemState) -> Self {
        let booked = &item.opened;
        Self {
            branch: booked.branch.clone(),
            direction: booked.direction,
            category: item.cause.as_ref().map(|cause| cause.category),
            amount: booked.amount,
            booked_on: booked.booked_on,
            value_date: booked.value_date,
            escalation: item.escalation,
            jurisdiction: None,
        }
    }

    /// The same facts with the branch's jurisdiction from `registry`.
    #[must_use]
    pub fn within(mut self, registry: Option<&OrganisationVersion>) -> Self {
        self.jurisdiction = registry
            .and_then(|version| version.branch(&self.branch))
            .and_then(|branch| branch.jurisdiction.clone());
        self
    }

    /// Whole days from the date `from` names to `as_of` (negative before it).
    pub fn age_days(&self, from: AgeFrom, as_of: NaiveDate) -> i64 {
        let start = match from {
            AgeFrom::BookingDate => self.booked_on,
            AgeFrom::ValueDate => self.value_date,
        };
        (as_of - start).num_days()
    }
}

impl EscalationRule {
    /// Whether the rule covers the item (branch, direction, category, currency band).
    pub fn covers(&self, item: &ItemFacts) -> bool {
        let amount = item.amount.amount();
        (self.branches.is_empty() || self.branches.contains(&item.branch))
            && (self.jurisdictions.is_empty()
                || item
                    .jurisdiction
                    .as_ref()
                    .is_some_and(|j| self.jurisdictions.contains(j)))
            && self.direction.is_none_or(|d| d == item.direction)
            && self
                .category
                .is_none_or(|c| item.category.is_some_and(|category| category == c))
            && self.currency.is_none_or(|c| c == item.amount.currency())
            && self.min_amount.is_none_or(|min| amount >= min)
            && self.max_amount.is_none_or(|max| amount < max)
    }

    /// The first date the rule fires for the item: the day its age reaches the rule's days,
    /// or for an amount trigger, the booking date when the amount reaches it (never else).
    pub fn fires_from(&self, item: &ItemFacts) -> Option<NaiveDate> {
        match self.trigger {
            Trigger::Age { days, from } => {
                let start = match from {
                    AgeFrom::BookingDate => item.booked_on,
                    AgeFrom::ValueDate => item.value_date,
                };
                start.checked_add_days(chrono::Days::new(u64::from(days)))
            }
            Trigger::AmountAtLeast { amount } => {
                (item.amount.amount() >= amount).then_some(item.booked_on)
            }
        }
    }

    /// Whether it fires for the item on `as_of`. An amount trigger fires whatever the date:
    /// the amount is a fact from the booking on.
    pub fn fires(&self, item: &ItemFacts, as_of: NaiveDate) -> bool {
        match self.trigger {
            Trigger::Age { .. } => self.fires_from(item).is_some_and(|on| on <= as_of),
            Trigger::AmountAtLeast { .. } => self.fires_from(item).is_some(),
        }
    }
}
