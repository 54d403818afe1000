//! The monthly figures a plan's metrics are computed from, read from the read models: the
//! monthly root-cause statistics (`root_cause_monthly`, `resolution_time_histogram`), the
//! aging (`item_register`, `balance_movements`) and the transaction volumes in the log. An
//! evaluation reads each source once per cut (branch, code, channel) over all the months it
//! needs, per month and category; every target's windows are then summed in memory.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use suspense_database::Statement;
use suspense_domain::plan::{Metric, MetricFilter, Month, PlanScope};
use suspense_domain::Currency;
use suspense_domain::{ItemStatus, ResolutionMethod};

use crate::reports::{AgingBasis, AgingPolicy, ReportError, Reports};
use crate::UNCLASSIFIED;

/// One month's counts within a target's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct MonthFigures {
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub escalations: i64,
    /// Items opened of the category a share is taken of (for `category_share`).
    pub opened_in_category: i64,
    /// Amount written off in the source's currency, in minor units.
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
    /// `AND …` conditions on a table with the cause key's columns: the plan's scope and the
    /// filter's branch, code and channel. Categories within the scope are told apart in
    /// memory (rows come per category), so that targets differing only in category share
    /// one query.
    fn conditions(&self, q: &mut Statement, prefix: &str) {
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
    category: String,
    opened: i64,
    resolved: i64,
    reopened: i64,
    escalations: i64,
}

#[derive(sqlx::FromRow)]
struct HistogramRow {
    month: NaiveDate,
    category: String,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
}

#[derive(sqlx::FromRow)]
struct WrittenOffRow {
    on_date: NaiveDate,
    category: Option<String>,
    minor: i64,
}

/// What a metric reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Source {
    /// The monthly counters (`root_cause_monthly`).
    Counters,
    /// The resolution-time histograms.
    Histograms,
    /// Write-offs in one currency (`balance_movements` and `item_register`).
    WrittenOff(Currency),
}

impl Source {
    /// What `metric` reads; `None` for the stock, which is the aging.
    pub fn of(metric: &Metric) -> Option<Self> {
        match metric {
            Metric::MedianHoursToResolve | Metric::P90HoursToResolve => Some(Self::Histograms),
            Metric::WrittenOffAmount { currency } => Some(Self::WrittenOff(*currency)),
            Metric::OpenLongerThan { .. } => None,
            _ => Some(Self::Counters),
        }
    }
}

/// A source read within the plan's scope and a filter's branch, code and channel: one query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SourceCut {
    pub source: Source,
    pub filter: MetricFilter,
}

impl SourceCut {
    pub fn new(source: Source, filter: &MetricFilter) -> Self {
        Self {
            source,
            filter: MetricFilter {
                category: None,
                ..filter.clone()
            },
        }
    }
}

/// A source's figures per month and category.
pub(super) type ByCategory = BTreeMap<Month, BTreeMap<String, MonthFigures>>;

fn at(months: &mut ByCategory, month: Month, category: String) -> &mut MonthFigures {
    months
        .entry(month)
        .or_default()
        .entry(category)
        .or_default()
}

/// The figures of `category` (every category when `None`) per month, with the items opened
/// of `share_of` in `opened_in_category`.
pub(super) fn narrowed(
    figures: &ByCategory,
    category: Option<&str>,
    share_of: Option<&str>,
) -> BTreeMap<Month, MonthFigures> {
    figures
        .iter()
        .map(|(month, categories)| {
            let mut sum = MonthFigures::default();
            for (name, f) in categories {
                if share_of == Some(name.as_str()) {
                    sum.opened_in_category += f.opened;
                }
                if category.is_some_and(|c| c != name) {
                    continue;
                }
                sum.opened += f.opened;
                sum.resolved += f.resolved;
                sum.reopened += f.reopened;
                sum.escalations += f.escalations;
                sum.written_off_minor += f.written_off_minor;
                sum.histogram.extend(f.histogram.iter().copied());
            }
            sum.histogram.sort_unstable();
            (*month, sum)
        })
        .collect()
}

impl Reports<'_> {
    /// A source's figures per month and category in `from..=to`, within the plan's scope
    /// and the cut's filter.
    pub(super) async fn read_source(
        &self,
        cut: &SourceCut,
        plan: &PlanScope,
        from: Month,
        to: Month,
    ) -> Result<ByCategory, ReportError> {
        let scope = Scope {
            plan,
            filter: &cut.filter,
        };
        let end = to.plus(1).map_or(NaiveDate::MAX, |m| m.first_day());
        let mut months = ByCategory::new();
        match &cut.source {
            Source::Histograms => {
                let mut q = Statement::new(
                    "SELECT month, category, buckets FROM resolution_time_histogram WHERE month >= ",
                );
                q.push_param(from.first_day())
                    .push(" AND month < ")
                    .push_param(end);
                scope.conditions(&mut q, "");
                let rows: Vec<HistogramRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    at(&mut months, Month::of(row.month), row.category)
                        .histogram
                        .extend(row.buckets);
                }
            }
            Source::WrittenOff(currency) => {
                // Items whose resolution is a write-off, by the date their closing movement
                // took them out of the open balance.
                let mut q = Statement::new(
                    "SELECT m.on_date AS on_date, r.category AS category,
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
                scope.conditions(&mut q, "r.");
                q.push(" GROUP BY m.on_date, r.category");
                let rows: Vec<WrittenOffRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    let category = row.category.unwrap_or_else(|| UNCLASSIFIED.to_owned());
                    at(&mut months, Month::of(row.on_date), category).written_off_minor +=
                        row.minor;
                }
            }
            Source::Counters => {
                let mut q = Statement::new(
                    "SELECT month, category,
                            CAST(SUM(opened_count) AS BIGINT) AS opened,
                            CAST(SUM(resolved_count) AS BIGINT) AS resolved,
                            CAST(SUM(reopened_count) AS BIGINT) AS reopened,
                            CAST(SUM(escalations) AS BIGINT) AS escalations
                       FROM root_cause_monthly WHERE month >= ",
                );
                q.push_param(from.first_day())
                    .push(" AND month < ")
                    .push_param(end);
                scope.conditions(&mut q, "");
                q.push(" GROUP BY month, category");
                let rows: Vec<CounterRow> = q.fetch_all(self.pool).await?;
                for row in rows {
                    let figures = at(&mut months, Month::of(row.month), row.category);
                    figures.opened += row.opened;
                    figures.resolved += row.resolved;
                    figures.reopened += row.reopened;
                    figures.escalations += row.escalations;
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
