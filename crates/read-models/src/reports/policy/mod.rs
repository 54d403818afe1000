//! The escalation policy applied to the register: the items a sweep must look at, the watch
//! list (thresholds crossed soon, ages beyond what their cause usually takes) and the
//! provisioning report. SQL narrows the register to the rows a rule could concern; the
//! domain's `policy` functions then decide on each row's facts, so that the register and an
//! aggregate are judged by the same code.

mod provisioning;
mod reminders;
mod sweep;
mod watchlist;

use chrono::{Days, NaiveDate};
use serde::Deserialize;
use suspense_database::Statement;
use suspense_domain::organisation::OrganisationVersion;
use suspense_domain::policy::{AgeFrom, EscalationRule, ItemFacts, Trigger};
use suspense_domain::{BranchCode, Currency, Direction, EscalationLevel, Money, RootCauseCategory};

use super::ReportError;

pub use provisioning::{ProvisionedItem, ProvisioningReport, ProvisioningTotal};
pub use watchlist::{
    WatchEntry, WatchGroup, WatchList, WatchQuery, WatchReason, MAX_HORIZON_DAYS, MAX_WATCH_LIMIT,
    MIN_RESOLUTIONS,
};

/// The register columns a policy row reads, besides what the item owes (`outstanding_minor`).
const POLICY_COLUMNS: [&str; 12] = [
    "item_id",
    "source_system",
    "reference",
    "branch",
    "direction",
    "category",
    "code",
    "currency",
    "amount_minor",
    "booked_on",
    "value_date",
    "escalation_level",
];

/// An item as the policy's rules see it, with what identifies it and what it still owes.
#[derive(Debug, Clone, sqlx::FromRow, Deserialize)]
struct PolicyRow {
    item_id: String,
    source_system: String,
    reference: String,
    branch: String,
    direction: String,
    category: Option<String>,
    code: Option<String>,
    currency: String,
    amount_minor: i64,
    outstanding_minor: i64,
    booked_on: NaiveDate,
    value_date: NaiveDate,
    escalation_level: i32,
}

impl PolicyRow {
    fn currency(&self) -> Result<Currency, ReportError> {
        Ok(Currency::parse(&self.currency)?)
    }

    fn outstanding(&self) -> Result<Money, ReportError> {
        Ok(Money::from_minor_units(
            self.outstanding_minor.max(0),
            self.currency()?,
        )?)
    }

    fn facts(&self, registry: Option<&OrganisationVersion>) -> Result<ItemFacts, ReportError> {
        let facts = ItemFacts {
            branch: BranchCode::parse(&self.branch)?,
            direction: Direction::parse(&self.direction)?,
            category: self
                .category
                .as_deref()
                .map(RootCauseCategory::parse)
                .transpose()?,
            amount: Money::from_minor_units(self.amount_minor, self.currency()?)?,
            booked_on: self.booked_on,
            value_date: self.value_date,
            escalation: EscalationLevel::ALL
                .iter()
                .copied()
                .find(|level| i32::from(level.rank()) == self.escalation_level),
            jurisdiction: None,
        };
        Ok(facts.within(registry))
    }
}

/// Minor units of `amount` in the rule's currency, rounded up: a band's bound in the
/// register's integers. `None` when the amount cannot be one.
fn minor_units(rule: &EscalationRule, amount: rust_decimal::Decimal) -> Option<i64> {
    let currency = rule.currency?;
    Money::new(amount.round_dp(currency.minor_units()), currency)
        .ok()
        .map(|m| m.minor_units())
}

/// ` AND …` conditions on register columns: the items `rule` covers (branch, jurisdiction
/// through `registry`, direction, category, currency and amount band).
fn push_covered(q: &mut Statement, rule: &EscalationRule, registry: Option<&OrganisationVersion>) {
    if !rule.branches.is_empty() {
        q.push(" AND branch IN (")
            .push_params(rule.branches.iter().map(|b| b.as_str()))
            .push(")");
    }
    if !rule.jurisdictions.is_empty() {
        let branches: Vec<String> = registry
            .map(|version| {
                rule.jurisdictions
                    .iter()
                    .flat_map(|j| version.in_jurisdiction(j))
                    .map(|b| b.to_string())
                    .collect()
            })
            .unwrap_or_default();
        if branches.is_empty() {
            q.push(" AND 1 = 0");
        } else {
            q.push(" AND branch IN (")
                .push_params(branches.iter().map(String::as_str))
                .push(")");
        }
    }
    if let Some(direction) = rule.direction {
        q.push(" AND direction = ").push_param(direction.as_str());
    }
    if let Some(category) = rule.category {
        q.push(" AND category = ").push_param(category.as_str());
    }
    if let Some(currency) = rule.currency {
        q.push(" AND currency = ").push_param(currency.code());
    }
    if let Some(min) = rule.min_amount.and_then(|m| minor_units(rule, m)) {
        q.push(" AND amount_minor >= ").push_param(min);
    }
    if let Some(max) = rule.max_amount.and_then(|m| minor_units(rule, m)) {
        q.push(" AND amount_minor < ").push_param(max);
    }
}

/// The column an age rule counts from.
fn age_column(from: AgeFrom) -> &'static str {
    match from {
        AgeFrom::BookingDate => "booked_on",
        AgeFrom::ValueDate => "value_date",
    }
}

/// `date - days`, or the earliest date when that is before it.
fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// ` AND …`: the rule fires on or before `by` (an age reached, or an amount at least the
/// trigger's).
fn push_fired_by(q: &mut Statement, rule: &EscalationRule, by: NaiveDate) {
    match rule.trigger {
        Trigger::Age { days, from } => {
            q.push(&format!(" AND {} <= ", age_column(from)))
                .push_param(days_before(by, days));
        }
        Trigger::AmountAtLeast { amount } => {
            let minor = minor_units(rule, amount).unwrap_or(i64::MAX);
            q.push(" AND amount_minor >= ").push_param(minor);
        }
    }
}
