//! The items an escalation sweep must look at: open items some rule of the policy would raise
//! above their current level on a date, found through the register's `(status, booked_on)`
//! index, so that a sweep's cost follows the items due rather than all open items. The
//! domain's `policy::due` then decides on each item's own state.

use chrono::{Days, NaiveDate};
use suspense_database::Statement;
use suspense_domain::policy::{AgeFrom, EscalationRule, PolicyVersion, Trigger};
use suspense_domain::{ItemStatus, Money};

use super::{ReportError, Reports};

#[derive(sqlx::FromRow)]
struct Candidate {
    item_id: String,
}

/// Minor units of `amount` in the rule's currency, rounded up: a band's bound in the
/// register's integers. `None` when the amount cannot be one.
fn minor_units(rule: &EscalationRule, amount: rust_decimal::Decimal) -> Option<i64> {
    let currency = rule.currency?;
    Money::new(amount.round_dp(currency.minor_units()), currency)
        .ok()
        .map(|m| m.minor_units())
}

/// `(…)`: the register rows `rule` raises above their level on `as_of`.
fn rule_condition(q: &mut Statement, rule: &EscalationRule, as_of: NaiveDate) {
    q.push("(escalation_level < ")
        .push_param(i64::from(rule.raise_to.rank()));
    if !rule.branches.is_empty() {
        q.push(" AND branch IN (")
            .push_params(rule.branches.iter().map(|b| b.as_str()))
            .push(")");
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
    match rule.trigger {
        Trigger::Age { days, from } => {
            let column = match from {
                AgeFrom::BookingDate => "booked_on",
                AgeFrom::ValueDate => "value_date",
            };
            let since = as_of
                .checked_sub_days(Days::new(u64::from(days)))
                .unwrap_or(NaiveDate::MIN);
            q.push(&format!(" AND {column} <= ")).push_param(since);
        }
        Trigger::AmountAtLeast { amount } => {
            let minor = minor_units(rule, amount).unwrap_or(i64::MAX);
            q.push(" AND amount_minor >= ").push_param(minor);
        }
    }
    q.push(")");
}

impl Reports<'_> {
    /// The ids of open items that a rule of `policy` raises above their current level on
    /// `as_of` (as the register stands: a sweep decides again on each item's state).
    pub async fn sweep_candidates(
        &self,
        policy: &PolicyVersion,
        as_of: NaiveDate,
    ) -> Result<Vec<String>, ReportError> {
        if policy.rules.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Statement::new("SELECT item_id FROM item_register WHERE status = ");
        q.push_param(ItemStatus::Open.as_str()).push(" AND (");
        for (index, rule) in policy.rules.iter().enumerate() {
            if index > 0 {
                q.push(" OR ");
            }
            rule_condition(&mut q, rule, as_of);
        }
        q.push(") ORDER BY item_id");
        let rows: Vec<Candidate> = q.fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(|c| c.item_id).collect())
    }
}
