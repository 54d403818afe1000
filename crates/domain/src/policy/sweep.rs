//! The sweep's decision for one item: a pure function of the policy version in force, the
//! item's state and the bank-calendar date, so that the same inputs always give the same
//! answer and a past decision can be explained by the version it was made under.

use chrono::NaiveDate;

use super::facts::ItemFacts;
use super::rules::{EscalationRule, RegulatoryAction, Trigger};
use super::PolicyVersion;
use crate::item::{ItemState, ItemStatus};
use crate::organisation::OrganisationVersion;
use crate::vocabulary::{EscalationLevel, EscalationReason};

/// What the policy asks of one item on a date.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SweepDue {
    /// The level the item must rise to, when above its current one.
    pub escalation: Option<DueEscalation>,
    /// The regulatory actions of every rule that fires, in rule order.
    pub actions: Vec<DueAction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEscalation {
    pub level: EscalationLevel,
    /// `aging` when an age rule raises it highest, else `large_amount`.
    pub reason: EscalationReason,
    /// The rule that raises it highest (the first such rule).
    pub rule: usize,
    pub policy_version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAction {
    pub rule: usize,
    pub action: RegulatoryAction,
    pub policy_version: u32,
}

/// What `policy` asks of `item` on the bank-calendar date `as_of`. A resolved item, or one
/// pending approval of its resolution, is due nothing; an escalation is due only above the
/// item's current level, so the answer never lowers a level.
///
/// Without the organisation registry, rules naming jurisdictions match nothing: see
/// `due_within`.
pub fn due(policy: &PolicyVersion, item: &ItemState, as_of: NaiveDate) -> SweepDue {
    due_within(policy, item, None, as_of)
}

/// `due`, with the item's jurisdiction from the organisation registry in force.
pub fn due_within(
    policy: &PolicyVersion,
    item: &ItemState,
    registry: Option<&OrganisationVersion>,
    as_of: NaiveDate,
) -> SweepDue {
    if item.status() != ItemStatus::Open {
        return SweepDue::default();
    }
    due_on_facts(policy, &ItemFacts::of(item).within(registry), as_of)
}

/// What `policy` asks of an open item with `item`'s facts on `as_of`.
pub fn due_on_facts(policy: &PolicyVersion, item: &ItemFacts, as_of: NaiveDate) -> SweepDue {
    let firing = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.covers(item) && rule.fires(item, as_of));
    let mut due = SweepDue::default();
    let mut highest: Option<(EscalationLevel, usize, &EscalationRule)> = None;
    for (index, rule) in firing {
        if highest.is_none_or(|(level, _, _)| rule.raise_to > level) {
            highest = Some((rule.raise_to, index, rule));
        }
        if let Some(action) = &rule.action {
            due.actions.push(DueAction {
                rule: index,
                action: action.clone(),
                policy_version: policy.version,
            });
        }
    }
    due.escalation = highest
        .filter(|(level, _, _)| item.escalation.is_none_or(|current| *level > current))
        .map(|(level, rule, fired)| DueEscalation {
            level,
            reason: match fired.trigger {
                Trigger::Age { .. } => EscalationReason::Aging,
                Trigger::AmountAtLeast { .. } => EscalationReason::LargeAmount,
            },
            rule,
            policy_version: policy.version,
        });
    due
}
