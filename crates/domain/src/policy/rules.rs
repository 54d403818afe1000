//! The rules of an escalation policy (風險預警): which items they match, when they fire, and
//! the level they raise an item to, with an optional regulatory action. Checked as a whole
//! when a version is published; a refusal names the rule by its index.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::classification::RootCauseCategory;
use crate::identity::{BranchCode, Note};
use crate::money::Currency;
use crate::organisation::Jurisdiction;
use crate::vocabulary::{wire_names, Direction, EscalationLevel};

/// The date an item's age counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeFrom {
    BookingDate,
    ValueDate,
}

wire_names!(AgeFrom, "from", { BookingDate => "booking_date", ValueDate => "value_date" });

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Trigger {
    /// The item is at least `days` old, counted from `from`.
    Age { days: u32, from: AgeFrom },
    /// The item's amount is at least `amount` (in the rule's currency).
    AmountAtLeast { amount: Decimal },
}

/// What a regulator's clock asks for besides a higher level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegulatoryAction {
    /// Provide for `percent` of the outstanding amount.
    Provision { percent: Decimal },
    /// Move the item to the blocked (dormant) account.
    MoveToBlockedAccount,
    /// Anything else the rule's text says (reconcile, report to the board).
    Review { note: Note },
}

/// One rule. A field left out matches every item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRule {
    #[serde(default)]
    pub branches: Vec<BranchCode>,
    /// Items of branches in these jurisdictions (in the organisation registry in force).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<Jurisdiction>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub category: Option<RootCauseCategory>,
    /// With `min_amount`/`max_amount`: the band of the item's amount the rule covers.
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub min_amount: Option<Decimal>,
    #[serde(default)]
    pub max_amount: Option<Decimal>,
    pub trigger: Trigger,
    pub raise_to: EscalationLevel,
    #[serde(default)]
    pub action: Option<RegulatoryAction>,
}

impl EscalationRule {
    /// A rule on every item: at `days` old (from the booking date), raise to `raise_to`.
    /// Narrow it with the struct's other fields.
    pub fn after_days(days: u32, raise_to: EscalationLevel) -> Self {
        Self {
            branches: Vec::new(),
            jurisdictions: Vec::new(),
            direction: None,
            category: None,
            currency: None,
            min_amount: None,
            max_amount: None,
            trigger: Trigger::Age {
                days,
                from: AgeFrom::BookingDate,
            },
            raise_to,
            action: None,
        }
    }
}

/// A rule refused at publication: its index (from 0) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules[{index}]: {reason}")]
pub struct RuleError {
    pub index: usize,
    pub reason: String,
}

/// The most days a rule may wait: a hundred years.
pub const MAX_DAYS: u32 = 36_500;

impl EscalationRule {
    /// What makes two rules apply to the same items.
    fn matcher(&self) -> String {
        let mut branches: Vec<&str> = self.branches.iter().map(BranchCode::as_str).collect();
        branches.sort_unstable();
        let mut jurisdictions: Vec<&str> = self
            .jurisdictions
            .iter()
            .map(Jurisdiction::as_str)
            .collect();
        jurisdictions.sort_unstable();
        format!(
            "{branches:?}/{jurisdictions:?}/{:?}/{:?}/{:?}/{:?}/{:?}",
            self.direction, self.category, self.currency, self.min_amount, self.max_amount
        )
    }

    fn check(&self) -> Result<(), String> {
        let positive = |what: &str, amount: Decimal| {
            if amount <= Decimal::ZERO {
                return Err(format!("{what} must be greater than zero"));
            }
            if let Some(currency) = self.currency {
                if amount.scale() > currency.minor_units() {
                    return Err(format!(
                        "{what} has more decimals than {currency} allows ({})",
                        currency.minor_units()
                    ));
                }
            }
            Ok(())
        };
        if (self.min_amount.is_some() || self.max_amount.is_some()) && self.currency.is_none() {
            return Err("an amount band needs its currency".to_owned());
        }
        if let Some(min) = self.min_amount {
            positive("min_amount", min)?;
        }
        if let Some(max) = self.max_amount {
            positive("max_amount", max)?;
        }
        if let (Some(min), Some(max)) = (self.min_amount, self.max_amount) {
            if min >= max {
                return Err("min_amount must be below max_amount".to_owned());
            }
        }
        match self.trigger {
            Trigger::Age { days, .. } => {
                if days == 0 || days > MAX_DAYS {
                    return Err(format!("days must be 1 to {MAX_DAYS}, got {days}"));
                }
            }
            Trigger::AmountAtLeast { amount } => {
                if self.currency.is_none() {
                    return Err("an amount trigger needs its currency".to_owned());
                }
                positive("amount", amount)?;
            }
        }
        if let Some(RegulatoryAction::Provision { percent }) = &self.action {
            if *percent <= Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
                return Err("a provision is more than 0 and at most 100 percent".to_owned());
            }
        }
        Ok(())
    }
}

/// Checks every rule on its own, then the rules together: two rules on the same items and
/// the same trigger are a duplicate or a contradiction, and among rules on the same items a
/// later age (or a larger amount) never raises to a lower level than an earlier one.
pub fn check_rules(rules: &[EscalationRule]) -> Result<(), RuleError> {
    if rules.is_empty() {
        return Err(RuleError {
            index: 0,
            reason: "a policy needs at least one rule".to_owned(),
        });
    }
    for (index, rule) in rules.iter().enumerate() {
        rule.check().map_err(|reason| RuleError { index, reason })?;
    }
    for (index, rule) in rules.iter().enumerate() {
        for (earlier, other) in rules.iter().enumerate().take(index) {
            if rule.matcher() != other.matcher() {
                continue;
            }
            let order = match (rule.trigger, other.trigger) {
                (Trigger::Age { days: a, from: fa }, Trigger::Age { days: b, from: fb })
                    if fa == fb =>
                {
                    Some(a.cmp(&b))
                }
                (Trigger::AmountAtLeast { amount: a }, Trigger::AmountAtLeast { amount: b }) => {
                    Some(a.cmp(&b))
                }
                _ => None,
            };
            let refuse = |reason: String| Err(RuleError { index, reason });
            match order {
                Some(std::cmp::Ordering::Equal) if rule.raise_to == other.raise_to => {
                    return refuse(format!("repeats rules[{earlier}]"));
                }
                Some(std::cmp::Ordering::Equal) => {
                    return refuse(format!(
                        "contradicts rules[{earlier}]: the same items and trigger raise to {} there",
                        other.raise_to
                    ));
                }
                Some(std::cmp::Ordering::Greater) if rule.raise_to < other.raise_to => {
                    return refuse(format!(
                        "raises to {} at a later point than rules[{earlier}], which raises the same items to {}",
                        rule.raise_to, other.raise_to
                    ));
                }
                Some(std::cmp::Ordering::Less) if rule.raise_to > other.raise_to => {
                    return refuse(format!(
                        "raises to {} at an earlier point than rules[{earlier}], which raises the same items only to {}",
                        rule.raise_to, other.raise_to
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
