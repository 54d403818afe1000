//! The items a reminder sweep must look at: unresolved items with a customer that a reminder
//! rule of the policy makes due on a date, later than their last reminder. Found through the
//! register's partial index on items with a customer, so a sweep's cost follows those items
//! rather than all open items. The domain's `policy::reminder_due` then decides on each
//! item's own state.

use chrono::NaiveDate;
use suspense_database::Statement;
use suspense_domain::policy::PolicyVersion;
use suspense_domain::ItemStatus;

use super::days_before;
use crate::reports::{ReportError, Reports};

#[derive(sqlx::FromRow)]
struct Candidate {
    item_id: String,
}

impl Reports<'_> {
    /// The ids of unresolved items with a customer that a reminder rule of `policy` makes due
    /// on `as_of` (as the register stands).
    pub async fn reminder_candidates(
        &self,
        policy: &PolicyVersion,
        as_of: NaiveDate,
    ) -> Result<Vec<String>, ReportError> {
        if policy.reminders.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Statement::new("SELECT item_id FROM item_register WHERE status IN (");
        q.push_params([
            ItemStatus::Open.as_str(),
            ItemStatus::PendingApproval.as_str(),
        ])
        .push(") AND customer IS NOT NULL AND (");
        for (index, rule) in policy.reminders.iter().enumerate() {
            if index > 0 {
                q.push(" OR ");
            }
            q.push("(1 = 1");
            if let Some(category) = rule.category {
                q.push(" AND category = ").push_param(category.as_str());
            }
            if !rule.branches.is_empty() {
                q.push(" AND branch IN (")
                    .push_params(rule.branches.iter().map(|b| b.as_str()))
                    .push(")");
            }
            q.push(" AND (");
            for (nth, day) in rule.days_after_booking.iter().enumerate() {
                if nth > 0 {
                    q.push(" OR ");
                }
                q.push("(booked_on <= ")
                    .push_param(days_before(as_of, *day))
                    .push(" AND last_reminder_day < ")
                    .push_param(i64::from(*day))
                    .push(")");
            }
            q.push("))");
        }
        q.push(") ORDER BY item_id");
        let rows: Vec<Candidate> = q.fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(|c| c.item_id).collect())
    }
}
