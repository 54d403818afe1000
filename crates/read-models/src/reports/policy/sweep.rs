//! The items an escalation sweep must look at: open items some rule of the policy would raise
//! above their current level on a date, found through the register's `(status, booked_on)`
//! index, so that a sweep's cost follows the items due rather than all open items. The
//! domain's `policy::due` then decides on each item's own state.

use chrono::NaiveDate;
use suspense_database::Statement;
use suspense_domain::policy::PolicyVersion;
use suspense_domain::ItemStatus;

use super::{push_covered, push_fired_by};
use crate::reports::{ReportError, Reports};

#[derive(sqlx::FromRow)]
struct Candidate {
    item_id: String,
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
            q.push("(escalation_level < ")
                .push_param(i64::from(rule.raise_to.rank()));
            push_covered(&mut q, rule, self.registry.as_ref());
            push_fired_by(&mut q, rule, as_of);
            q.push(")");
        }
        q.push(") ORDER BY item_id");
        let rows: Vec<Candidate> = q.fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(|c| c.item_id).collect())
    }
}
