//! The item register, filtered and paged.

use chrono::NaiveDate;
use suspense_database::Statement;

use super::{ReportError, Reports};
use crate::register::RegisterRow;

/// The order a page of the register comes in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ItemOrder {
    /// By item id: stable, for jobs that walk the whole register.
    #[default]
    ItemId,
    /// The longest in suspense first (booking date, then item id), paged through the
    /// `(status, booked_on)` index.
    OldestFirst,
    /// The policy's verdict first: the highest escalation level (raised by the rules on age
    /// and amount), then the oldest, then item id; paged through the
    /// `(status, escalation_level DESC, booked_on)` index.
    RiskFirst,
}

/// Which register rows to list. Text filters match exactly; `after` (with `after_booked_on`
/// in `OldestFirst` order, and `after_escalation_level` too in `RiskFirst` order) is the last
/// row of the page before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub status: Option<String>,
    pub branch: Option<String>,
    pub category: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    /// Items booked on or before this date (an age filter: today minus the minimum age).
    pub booked_on_or_before: Option<NaiveDate>,
    pub after: Option<String>,
    /// The booking date of `after`, in `OldestFirst` order.
    pub after_booked_on: Option<NaiveDate>,
    /// The escalation level of `after`, in `RiskFirst` order.
    pub after_escalation_level: Option<i32>,
    pub order: ItemOrder,
    pub limit: u32,
}

impl Reports<'_> {
    /// Register rows matching `filter`, in its order (a page of at most `filter.limit`).
    pub async fn items(&self, filter: &ItemFilter) -> Result<Vec<RegisterRow>, ReportError> {
        let mut q = Statement::new("SELECT * FROM item_register WHERE 1 = 1");
        let text_filters = [
            ("status", &filter.status),
            ("branch", &filter.branch),
            ("category", &filter.category),
            ("team", &filter.team),
            ("assignee", &filter.assignee),
        ];
        for (column, value) in text_filters {
            if let Some(value) = value {
                q.push(&format!(" AND {column} = "))
                    .push_param(value.as_str());
            }
        }
        if let Some(booked_by) = filter.booked_on_or_before {
            q.push(" AND booked_on <= ").push_param(booked_by);
        }
        self.push_scope(&mut q, "branch");
        match (filter.order, &filter.after, filter.after_booked_on) {
            (ItemOrder::ItemId, Some(after), _) => {
                q.push(" AND item_id > ").push_param(after.as_str());
            }
            (ItemOrder::OldestFirst, Some(after), Some(booked_on)) => {
                q.push(" AND (booked_on > ")
                    .push_param(booked_on)
                    .push(" OR (booked_on = ")
                    .push_param(booked_on)
                    .push(" AND item_id > ")
                    .push_param(after.as_str())
                    .push("))");
            }
            (ItemOrder::RiskFirst, Some(after), Some(booked_on)) => {
                let level = i64::from(filter.after_escalation_level.unwrap_or(0));
                q.push(" AND (escalation_level < ")
                    .push_param(level)
                    .push(" OR (escalation_level = ")
                    .push_param(level)
                    .push(" AND (booked_on > ")
                    .push_param(booked_on)
                    .push(" OR (booked_on = ")
                    .push_param(booked_on)
                    .push(" AND item_id > ")
                    .push_param(after.as_str())
                    .push("))))");
            }
            _ => {}
        }
        q.push(match filter.order {
            ItemOrder::ItemId => " ORDER BY item_id LIMIT ",
            ItemOrder::OldestFirst => " ORDER BY booked_on, item_id LIMIT ",
            ItemOrder::RiskFirst => " ORDER BY escalation_level DESC, booked_on, item_id LIMIT ",
        })
        .push_param(i64::from(filter.limit));
        Ok(q.fetch_all(self.pool).await?)
    }

    /// Open items the escalation policy has raised, per level (highest first): how many,
    /// and of which branches when `branch` narrows it.
    pub async fn escalated_open_items(
        &self,
        branch: Option<&str>,
    ) -> Result<Vec<(i32, i64)>, ReportError> {
        let mut q = Statement::new(
            "SELECT escalation_level, COUNT(*) FROM item_register \
             WHERE status = 'open' AND escalation_level > 0",
        );
        if let Some(branch) = branch {
            q.push(" AND branch = ").push_param(branch);
        }
        self.push_scope(&mut q, "branch");
        q.push(" GROUP BY escalation_level ORDER BY escalation_level DESC");
        Ok(q.fetch_all(self.pool).await?)
    }

    /// One item's register row.
    pub async fn item(&self, item_id: &str) -> Result<Option<RegisterRow>, ReportError> {
        let mut q = Statement::new("SELECT * FROM item_register WHERE item_id = ");
        q.push_param(item_id);
        self.push_scope(&mut q, "branch");
        Ok(q.fetch_optional(self.pool).await?)
    }
}
