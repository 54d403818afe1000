//! The provisioning / regulatory report: as of any date, every item open then that a
//! regulatory rule of the policy in force fires for, with the provision its outstanding
//! amount needs and the other actions due, and per currency totals that are the sums of the
//! items listed. Items are judged by the classification the register holds now; a past
//! date's outstanding amounts come from the balance movements.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use suspense_database::Statement;
use suspense_domain::policy::{
    due_on_facts, provision, AgeFrom, DueAction, PolicyVersion, ProvisionDue, RegulatoryAction,
};
use suspense_domain::Currency;
use suspense_domain::Money;

use super::{push_covered, push_fired_by, PolicyRow, POLICY_COLUMNS};
use crate::reports::aging::{push_open_items, OpenItemsFrom};
use crate::reports::{ReportError, Reports};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedItem {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub branch: String,
    pub direction: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    /// Days since booking on the report's date.
    pub age_days: i64,
    /// What the item owed at the end of the report's date.
    pub outstanding: Money,
    /// The provision due, when a provision rule fires.
    pub provision: Option<ProvisionDue>,
    /// Every regulatory action of the rules that fire, provisions included, in rule order.
    pub actions: Vec<DueAction>,
}

/// One currency's figures: the sums over the items listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningTotal {
    pub currency: Currency,
    pub items: usize,
    pub outstanding: Decimal,
    pub provision: Decimal,
    /// Items a rule asks to move to the blocked (dormant) account.
    pub to_blocked_account: usize,
    /// Items a rule asks to review.
    pub to_review: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningReport {
    pub as_of: NaiveDate,
    /// The version in force on `as_of` (`None`: no policy then, nothing listed).
    pub policy_version: Option<u32>,
    pub totals: Vec<ProvisioningTotal>,
    /// By currency, then largest provision first, then item id.
    pub items: Vec<ProvisionedItem>,
}

impl Reports<'_> {
    /// The report as of the end of `as_of`, under `policy` (the version in force then).
    pub async fn provisioning(
        &self,
        as_of: NaiveDate,
        policy: Option<&PolicyVersion>,
    ) -> Result<ProvisioningReport, ReportError> {
        let mut report = ProvisioningReport {
            as_of,
            policy_version: policy.map(|p| p.version),
            totals: Vec::new(),
            items: Vec::new(),
        };
        let Some(policy) = policy else {
            return Ok(report);
        };
        if !policy.rules.iter().any(|rule| rule.action.is_some()) {
            return Ok(report);
        }
        let mut rows = self
            .regulated_rows(policy, as_of, OpenItemsFrom::Register)
            .await?;
        if rows.is_empty() {
            rows = self
                .regulated_rows(policy, as_of, OpenItemsFrom::Movements)
                .await?;
        }
        for row in rows {
            let facts = row.facts(self.registry.as_ref())?;
            let actions = due_on_facts(policy, &facts, as_of).actions;
            if actions.is_empty() {
                continue;
            }
            let outstanding = row.outstanding()?;
            report.items.push(ProvisionedItem {
                age_days: facts.age_days(AgeFrom::BookingDate, as_of),
                provision: provision(policy, &facts, outstanding, as_of),
                outstanding,
                actions,
                item_id: row.item_id,
                source_system: row.source_system,
                reference: row.reference,
                branch: row.branch,
                direction: row.direction,
                category: row.category,
                code: row.code,
                booked_on: row.booked_on,
                value_date: row.value_date,
            });
        }
        let provided = |item: &ProvisionedItem| {
            item.provision
                .as_ref()
                .map_or(Decimal::ZERO, |p| p.amount.amount())
        };
        report.items.sort_by(|a, b| {
            a.outstanding
                .currency()
                .code()
                .cmp(b.outstanding.currency().code())
                .then_with(|| provided(b).cmp(&provided(a)))
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        for item in &report.items {
            let currency = item.outstanding.currency();
            if report.totals.last().is_none_or(|t| t.currency != currency) {
                report.totals.push(ProvisioningTotal {
                    currency,
                    items: 0,
                    outstanding: Decimal::ZERO,
                    provision: Decimal::ZERO,
                    to_blocked_account: 0,
                    to_review: 0,
                });
            }
            if let Some(total) = report.totals.last_mut() {
                total.items += 1;
                total.outstanding += item.outstanding.amount();
                total.provision += provided(item);
                let asks = |wanted: fn(&RegulatoryAction) -> bool| {
                    item.actions.iter().any(|a| wanted(&a.action))
                };
                if asks(|a| matches!(a, RegulatoryAction::MoveToBlockedAccount)) {
                    total.to_blocked_account += 1;
                }
                if asks(|a| matches!(a, RegulatoryAction::Review { .. })) {
                    total.to_review += 1;
                }
            }
        }
        Ok(report)
    }

    /// Items open at the end of `as_of` that a rule with a regulatory action fires for.
    async fn regulated_rows(
        &self,
        policy: &PolicyVersion,
        as_of: NaiveDate,
        from: OpenItemsFrom,
    ) -> Result<Vec<PolicyRow>, ReportError> {
        let mut q = Statement::new("SELECT * FROM (");
        push_open_items(&mut q, as_of, &POLICY_COLUMNS, from);
        q.push(") open_items WHERE (1 = 0");
        for rule in policy.rules.iter().filter(|rule| rule.action.is_some()) {
            q.push(" OR (1 = 1");
            push_covered(&mut q, rule, self.registry.as_ref());
            push_fired_by(&mut q, rule, as_of);
            q.push(")");
        }
        q.push(")");
        self.push_scope(&mut q, "branch");
        Ok(q.fetch_all(self.pool).await?)
    }
}
