//! What a policy says of an item beyond today's sweep: the thresholds it will cross soon (the
//! watch list) and the provision its regulatory rules ask for on a date. Pure functions of
//! the policy version, the item's facts and the date, like the sweep's.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::facts::ItemFacts;
use super::rules::{RegulatoryAction, Trigger};
use super::PolicyVersion;
use crate::money::Money;
use crate::vocabulary::EscalationLevel;

/// An age rule the item crosses within the horizon, or crossed without being raised yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub rule: usize,
    pub policy_version: u32,
    /// The day the rule fires.
    pub on: NaiveDate,
    /// Days from the date looked from to `on` (0 when already due).
    pub in_days: i64,
    /// The rule's age threshold in days.
    pub threshold_days: u32,
    pub raise_to: EscalationLevel,
    pub action: Option<RegulatoryAction>,
}

/// The age rules covering `item` that fire by `as_of + horizon_days` and still matter: they
/// raise it above its level, or (not yet fired) bring a regulatory action. In rule order.
pub fn crossings(
    policy: &PolicyVersion,
    item: &ItemFacts,
    as_of: NaiveDate,
    horizon_days: u32,
) -> Vec<Crossing> {
    let until = as_of
        .checked_add_days(chrono::Days::new(u64::from(horizon_days)))
        .unwrap_or(NaiveDate::MAX);
    policy
        .rules
        .iter()
        .enumerate()
        .filter_map(|(index, rule)| {
            let Trigger::Age { days, .. } = rule.trigger else {
                return None;
            };
            if !rule.covers(item) {
                return None;
            }
            let on = rule.fires_from(item)?;
            let raises = item.escalation.is_none_or(|level| rule.raise_to > level);
            let acts = rule.action.is_some() && on > as_of;
            (on <= until && (raises || acts)).then(|| Crossing {
                rule: index,
                policy_version: policy.version,
                on,
                in_days: (on - as_of).num_days().max(0),
                threshold_days: days,
                raise_to: rule.raise_to,
                action: rule.action.clone(),
            })
        })
        .collect()
}

/// The provision an item's outstanding amount needs on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionDue {
    /// The highest percentage among the provision rules that fire (they do not add up).
    pub percent: Decimal,
    /// The rule that sets it (the first with that percentage).
    pub rule: usize,
    pub policy_version: u32,
    /// `outstanding × percent / 100`, rounded half away from zero to the currency's minor
    /// units, so that a report's totals are the sums of its items' figures.
    pub amount: Money,
}

/// The provision `policy`'s rules ask for on `as_of` for an item with `item`'s facts and
/// `outstanding` still in suspense; `None` when no provision rule fires.
pub fn provision(
    policy: &PolicyVersion,
    item: &ItemFacts,
    outstanding: Money,
    as_of: NaiveDate,
) -> Option<ProvisionDue> {
    let (rule, percent) = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.covers(item) && rule.fires(item, as_of))
        .filter_map(|(index, rule)| match &rule.action {
            Some(RegulatoryAction::Provision { percent }) => Some((index, *percent)),
            _ => None,
        })
        .fold(
            None,
            |best: Option<(usize, Decimal)>, (index, percent)| match best {
                Some((_, highest)) if highest >= percent => best,
                _ => Some((index, percent)),
            },
        )?;
    let currency = outstanding.currency();
    let amount = (outstanding.amount() * percent / Decimal::ONE_HUNDRED).round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    // A percentage of at most 100 of a valid amount is a valid amount.
    let amount = Money::new(amount, currency).unwrap_or(outstanding);
    Some(ProvisionDue {
        percent,
        rule,
        policy_version: policy.version,
        amount,
    })
}
