//! The monthly figures a plan's metrics are computed from, read from the read models: the
//! monthly root-cause statistics (`root_cause_monthly`, `resolution_time_histogram`), the
//! aging (`item_register`, `balance_movements`) and the transaction volumes in the log. One
//! query per table and target covers the baseline and the phase together; windows are then
//! summed in memory.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use suspense_database::Statement;
use suspense_domain::plan::{Metric, MetricFilter, Month, PlanScope};
use suspense_domain::{ItemStatus, ResolutionMethod};

use crate::reports::{AgingBasis, AgingPolicy, ReportError, Reports};

/// One month's counts within a target's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct MonthFigures {
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub escalations: i64,
    /// Items opened of the target's category (for `category_share`).
    pub opened_in_category: i64,
    /// Amount written off in the target's currency, in minor units.
    pub written_off_minor: i64,
    /// Resolution-time histogram: (bucket upper hours, resolved items), ascending.
    pub histogram: Vec<(i32, i64)>,
}

/// Where a metric is taken: the plan's scope narrowed by the target's filter.
#[derive(Debug, Clone)]
pub(super) struct Scope<'a> {
    pub plan: &'a PlanScope,
    pub filter: &'a MetricFilter,
}

impl Scope<'_> {
    /// `AND …` conditions on a table with the cause key's columns; the category filter is
    /// left out for `category_share`, whose denominator is every category.
    fn conditions(&self, q: &mut Statement, metric: &Metric, prefix: &str) {
        if !self.plan.branches.is_empty() {
            q.push(&format!(" AND {prefix}branch IN ("))
                .push_params(self.plan.branches.iter().map(|b| b.as_str()))
                .push(")");
        }
        if !self.plan.categories.is_empty() {
            q.push(&format!(" AND {prefix}category IN ("))
                .push_params(self.plan.categories.iter().map(|c| c.as_str()))
                .push(")");
        }
        if let Some(branch) = &self.filter.branch {
            q.push(&format!(" AND {prefix}branch = "))
                .push_param(branch.as_str());
        }
        if let Some(category) = self.filter.category {
            if *metric != Metric::CategoryShare {
                q.push(&format!(" AND {prefix}category = "))
                    .push_param(category.as_str());
            }
        }
        if let Some(code) = &self.filter.code {
            q.push(&format!(" AND {prefix}code = "))
                .push_param(code.as_str());
        }
        if let Some(channel) = self.filter.channel {
            q.push(&format!(" AND {prefix}channel = "))
                .push_param(channel.as_str());
        }
    }

    /// Whether an aging row of `branch` and `category` is in scope.
    pub fn holds(&self, branch: &str, category: &str) -> bool {
        let branch_in = self.plan.branches.is_empty()
            || self.plan.branches.iter().any(|b| b.as_str() == branch);
        let category_in = self.plan.categories.is_empty()
            || self.plan.categories.iter().any(|c| c.as_str() == category);
        branch_in
            && category_in
            && self
                .filter
                .branch
                .as_ref()
                .is_none_or(|b| b.as_str() == branch)
            && self.filter.category.is_none_or(|c| c.as_str() == category)
    }

    /// The branches transaction volumes are summed over (all, when empty).
    pub fn volume_branches(&self) -> Vec<&str> {
        match &self.filter.branch {
            Some(branch) => vec![branch.as_str()],
            None => self.plan.branches.iter().map(|b| b.as_str()).collect(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct CounterRow {
    month: NaiveDate,
    opened: i64,
    resolved: i64,
    reopened: i64,
    escalations: i64,
    opened_in_category: i64,
}

#[derive(sqlx::FromRow)]
struct HistogramRow {
    month: NaiveDate,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
}

#[derive(sqlx::FromRow)]
struct WrittenOffRow {
    on_date: NaiveDate,
    minor: i64,
}

impl Reports<'_> {
    /// Each month's figures in `from..=to` within `scope`, as far as `metric` needs them.
    pub(super) async fn month_figures(
        &self,
        metric: &Metric,
        scope: &Scope<'_>,
        from: Month,
        to: Month,
    ) -> Result<BTreeMap<Month, MonthFigures>, ReportError> {
        let end = to.plus(1).map_or(NaiveDate::MAX, |m| m.first_day());
        let mut months: BTreeMap<Month, MonthFigures> = BTreeMap::new();
        match metric {
            Metric::MedianHoursToResolve | Metric::P90HoursToResolve => {
                let mut q = Statement::new(
                    "SELECT month, buckets FROM resolution_time_histogram WHERE month >= ",
                );
                q.push_param(from.first_day())
                    .push(" AND month < ")
                    .push_param(end);
                scope.conditions(&mut q, metric, "");
                let rows: Vec<HistogramRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    let figures = months.entry(Month::of(row.month)).or_default();
                    figures.histogram.extend(row.buckets);
                }
                for figures in months.values_mut() {
                    figures.histogram.sort_unstable();
                }
            }
            Metric::WrittenOffAmount { currency } => {
                // Items whose resolution is a write-off, by the date their closing movement
                // took them out of the open balance.
                let mut q = Statement::new(
                    "SELECT m.on_date AS on_date,
                            CAST(-SUM(m.outstanding_delta_minor) AS BIGINT) AS minor
                       FROM balance_movements m
                       JOIN item_register r ON r.item_id = m.item_id
                      WHERE m.open_delta < 0 AND r.status = ",
                );
                q.push_param(ItemStatus::Resolved.as_str())
                    .push(" AND r.resolution_method = ")
                    .push_param(ResolutionMethod::WrittenOff.as_str())
                    .push(" AND r.currency = ")
                    .push_param(currency.code())
                    .push(" AND m.on_date >= ")
                    .push_param(from.first_day())
                    .push(" AND m.on_date < ")
                    .push_param(end);
                scope.conditions(&mut q, metric, "r.");
                q.push(" GROUP BY m.on_date");
                let rows: Vec<WrittenOffRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    months
                        .entry(Month::of(row.on_date))
                        .or_default()
                        .written_off_minor += row.minor;
                }
            }
            Metric::OpenLongerThan { .. } => {} // a stock: see `open_longer_than`
            _ => {
                let mut q = Statement::new(
                    "SELECT month,
                            CAST(SUM(opened_count) AS BIGINT) AS opened,
                            CAST(SUM(resolved_count) AS BIGINT) AS resolved,
                            CAST(SUM(reopened_count) AS BIGINT) AS reopened,
                            CAST(SUM(escalations) AS BIGINT) AS escalations,
                            CAST(SUM(CASE WHEN category = ",
                );
                q.push_param(scope.filter.category.map_or("", |c| c.as_str()).to_owned())
                    .push(
                        " THEN opened_count ELSE 0 END) AS BIGINT) AS opened_in_category
                       FROM root_cause_monthly WHERE month >= ",
                    )
                    .push_param(from.first_day())
                    .push(" AND month < ")
                    .push_param(end);
                scope.conditions(&mut q, metric, "");
                q.push(" GROUP BY month");
                let rows: Vec<CounterRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    let figures = months.entry(Month::of(row.month)).or_default();
                    figures.opened += row.opened;
                    figures.resolved += row.resolved;
                    figures.reopened += row.reopened;
                    figures.escalations += row.escalations;
                    figures.opened_in_category += row.opened_in_category;
                }
            }
        }
        Ok(months)
    }

    /// Items in `scope` open at the end of `on` whose age (from their booking date) exceeds
    /// `days`: the aging as of that date, with one bucket boundary at `days`.
    pub(super) async fn open_longer_than(
        &self,
        days: u32,
        scope: &Scope<'_>,
        on: NaiveDate,
    ) -> Result<i64, ReportError> {
        let policy = AgingPolicy::new(vec![days], AgingBasis::BookingDate)?;
        let aging = self.aging(on, &policy).await?;
        let older = policy.labels().pop().unwrap_or_default();
        Ok(aging
            .rows
            .iter()
            .filter(|row| row.bucket == older && scope.holds(&row.branch, &row.category))
            .map(|row| row.count)
            .sum())
    }
}
