//! The root-cause report (定期統計分析): per period, each cause key's flows, its items open
//! at the period's end, resolution times, the change against the period before, and the
//! suspense rate per branch.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use suspense_database::Statement;
use suspense_domain::{BranchCode, InvalidInput};

use super::rows::{fetch_rows, ReportRow};
use super::{format_minor_units, ReportError, Reports};
use crate::calendar::{resolution_time, Period, PeriodKind};
use crate::statistics::columns::{counts_and_stock, CAUSE_COLUMNS, COUNTERS, STOCK_COLUMNS};
use crate::statistics::CellCounts;

/// A key of a root-cause row: cause, branch, channel and currency.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::FromRow,
)]
pub struct CauseKey {
    pub category: String,
    pub code: String,
    pub branch: String,
    pub channel: String,
    pub currency: String,
}

/// A cause key's flows in a period: the monthly counters summed.
type Flows = CellCounts;

/// What a flow query groups its rows by: the key's columns, as the statement names them.
pub(super) trait FlowKey: Sized {
    const COLUMNS: &'static [&'static str];

    /// The key of the values of `COLUMNS`, in their order.
    fn from_values(values: Vec<String>) -> Self;
}

impl FlowKey for CauseKey {
    const COLUMNS: &'static [&'static str] = &CAUSE_COLUMNS;

    fn from_values(values: Vec<String>) -> Self {
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or_default();
        Self {
            category: next(),
            code: next(),
            branch: next(),
            channel: next(),
            currency: next(),
        }
    }
}

/// A key's flows in some months, and its items open at the end of them.
pub(super) struct FlowRow<K> {
    pub key: K,
    pub counts: Flows,
    /// (count, minor units)
    pub open_at_end: (i64, i64),
}

impl<K: FlowKey + Send + Unpin> ReportRow for FlowRow<K> {
    fn columns() -> Vec<&'static str> {
        K::COLUMNS
            .iter()
            .copied()
            .chain(COUNTERS.iter().map(|c| c.column))
            .chain(STOCK_COLUMNS)
            .collect()
    }
}

impl<'r, R: sqlx::Row, K: FlowKey> sqlx::FromRow<'r, R> for FlowRow<K>
where
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let (counts, open_at_end) = counts_and_stock(row)?;
        let key = K::COLUMNS
            .iter()
            .map(|column| row.try_get(*column))
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Self {
            key: K::from_values(key),
            counts,
            open_at_end,
        })
    }
}

impl<'de, K: FlowKey> Deserialize<'de> for FlowRow<K> {
    /// From one object of the JSON array SQLite returns, field by field as the column table
    /// names them (no map of the object is built: a report decodes hundreds of rows).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FlowRowVisitor(std::marker::PhantomData))
    }
}

struct FlowRowVisitor<K>(std::marker::PhantomData<K>);

impl<'de, K: FlowKey> Visitor<'de> for FlowRowVisitor<K> {
    type Value = FlowRow<K>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a root-cause row")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FlowRow<K>, A::Error> {
        let mut key: Vec<Option<String>> = vec![None; K::COLUMNS.len()];
        let mut counts = Flows::default();
        let mut stock = [None, None];
        let mut counted = 0;
        while let Some(column) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if let Some(i) = K::COLUMNS.iter().position(|c| *c == column) {
                key[i] = Some(map.next_value()?);
            } else if let Some(counter) = COUNTERS.iter().find(|c| c.column == column) {
                (counter.set)(&mut counts, map.next_value()?);
                counted += 1;
            } else if let Some(i) = STOCK_COLUMNS.iter().position(|c| *c == column) {
                stock[i] = Some(map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        let Some(key) = key.into_iter().collect::<Option<Vec<String>>>() else {
            return Err(A::Error::custom("a root-cause row without its whole key"));
        };
        if counted != COUNTERS.len() {
            return Err(A::Error::custom(
                "a root-cause row without all its counters",
            ));
        }
        let [Some(count), Some(minor)] = stock else {
            return Err(A::Error::custom("a root-cause row without its stock"));
        };
        Ok(FlowRow {
            key: K::from_values(key),
            counts,
            open_at_end: (count, minor),
        })
    }
}

#[derive(sqlx::FromRow, Deserialize)]
struct HistogramRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    key: CauseKey,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
}

impl ReportRow for HistogramRow {
    fn columns() -> Vec<&'static str> {
        CAUSE_COLUMNS.into_iter().chain(["buckets"]).collect()
    }

    /// The buckets are stored as JSON text: in the row's object they are the array itself.
    fn json_value(column: &str) -> String {
        match column {
            "buckets" => "json(buckets)".to_owned(),
            other => other.to_owned(),
        }
    }
}

/// A month's median and 90th-percentile hours to resolution of a cause key, as stored.
#[derive(sqlx::FromRow, Deserialize)]
struct PercentileRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    key: CauseKey,
    median_hours: Option<i64>,
    p90_hours: Option<i64>,
}

impl ReportRow for PercentileRow {
    fn columns() -> Vec<&'static str> {
        CAUSE_COLUMNS
            .into_iter()
            .chain(["median_hours", "p90_hours"])
            .collect()
    }
}

/// True when `from..to` is exactly the calendar month starting at `from`.
fn is_one_month(from: NaiveDate, to: NaiveDate) -> bool {
    from.day() == 1 && from.checked_add_months(chrono::Months::new(1)) == Some(to)
}

/// Median and 90th-percentile hours to resolution per cause key, by nearest rank over each
/// key's histogram summed over the months of `rows` (`resolution_time::percentile`).
fn percentiles(rows: Vec<HistogramRow>) -> HashMap<CauseKey, (Option<i64>, Option<i64>)> {
    let mut histograms: HashMap<CauseKey, Vec<(i32, i64)>> = HashMap::new();
    for row in rows {
        histograms.entry(row.key).or_default().extend(row.buckets);
    }
    histograms
        .into_iter()
        .filter_map(|(key, mut buckets)| {
            // A month's buckets are stored ascending (sorting them again is a linear check);
            // months summed leave equal buckets side by side, which add up in the walk.
            buckets.sort_unstable();
            let (median, p90) = resolution_time::median_and_p90(&buckets);
            Some((key, (Some(median?), p90)))
        })
        .collect()
}

/// A count and its amount, in the row's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountAmount {
    pub count: i64,
    /// Exact decimal, as a string (`"1250.00"`).
    pub amount: String,
}

/// One row of the root-cause report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseRow {
    #[serde(flatten)]
    pub key: CauseKey,
    pub opened: CountAmount,
    pub resolved: CountAmount,
    pub reopened: CountAmount,
    /// Items of this cause open at the end of the period (their booked amounts).
    pub open_at_end: CountAmount,
    pub escalations: i64,
    /// Items in this row whose cause was changed by a reclassification.
    pub restated_items: i64,
    /// Upper bound of the bucket holding the median / 90th percentile time from booking date
    /// to resolution (hourly buckets under 30 days, daily up to 10 years).
    pub median_hours_to_resolve: Option<i64>,
    pub p90_hours_to_resolve: Option<i64>,
    /// Against the previous period of the same length.
    pub change: RowChange,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowChange {
    pub opened: i64,
    pub resolved: i64,
    pub open_at_end: i64,
    pub escalations: i64,
}

/// Items opened per 10,000 transactions (掛賬率), to two decimals; `None` without a volume.
pub fn suspense_rate_per_10000(items_opened: i64, transactions: i64) -> Option<Decimal> {
    (transactions > 0).then(|| {
        (Decimal::from(items_opened) * Decimal::from(10_000) / Decimal::from(transactions))
            .round_dp(2)
    })
}

/// Items opened per 10,000 transactions (掛賬率) of a branch in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseRate {
    pub branch: String,
    pub items_opened: i64,
    pub transactions: i64,
    /// Two decimals; absent when no volume was recorded for the period.
    pub per_10000: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodReport {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    pub rows: Vec<RootCauseRow>,
    pub restated_items: i64,
    pub suspense_rates: Vec<SuspenseRate>,
}

/// What the root-cause report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseQuery {
    pub period: PeriodKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub branch: Option<BranchCode>,
}

impl RootCauseQuery {
    /// Reports cover at most this many periods.
    pub const MAX_PERIODS: usize = 120;

    pub fn new(
        period: PeriodKind,
        from: NaiveDate,
        to: NaiveDate,
        branch: Option<BranchCode>,
    ) -> Result<Self, InvalidInput> {
        if to < from {
            return Err(InvalidInput::in_context("to", "must not be before from"));
        }
        if Period::range(period, from, to, Self::MAX_PERIODS + 1).len() > Self::MAX_PERIODS {
            return Err(InvalidInput::in_context(
                "to",
                format!("at most {} periods per report", Self::MAX_PERIODS),
            ));
        }
        Ok(Self {
            period,
            from,
            to,
            branch,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseReport {
    pub time_zone: String,
    pub periods: Vec<PeriodReport>,
}

impl Reports<'_> {
    /// The periodic root-cause statistics (定期統計分析) with the change against the period
    /// before each one and the suspense rate per branch.
    pub async fn root_causes(
        &self,
        query: &RootCauseQuery,
    ) -> Result<RootCauseReport, ReportError> {
        let scope = self.branches_for(query.branch.as_ref().map(BranchCode::as_str));
        let branch = scope.as_deref();
        let periods = Period::range(
            query.period,
            query.from,
            query.to,
            RootCauseQuery::MAX_PERIODS,
        );
        // Every query below is independent of the others: run them at once, on separate
        // connections, so the report waits for the slowest rather than for their sum.
        // Each period's flows and closing stock, and those of the period before the first
        // (for its change).
        let walked: Vec<Period> = periods
            .first()
            .map(Period::previous)
            .into_iter()
            .chain(periods.iter().copied())
            .collect();
        let flows_of = futures::future::try_join_all(walked.iter().map(|p| {
            self.flows::<CauseKey>(p.start, p.end(), branch, &CAUSE_COLUMNS, &CAUSE_COLUMNS)
        }));
        let percentiles_of = futures::future::try_join_all(periods.iter().map(|p| async move {
            if is_one_month(p.start, p.end()) {
                let rows: Vec<PercentileRow> =
                    fetch_rows(self.pool, month_percentiles(p.start, branch)).await?;
                return Ok::<_, ReportError>(
                    rows.into_iter()
                        .filter(|r| r.median_hours.is_some())
                        .map(|r| (r.key, (r.median_hours, r.p90_hours)))
                        .collect(),
                );
            }
            let rows: Vec<HistogramRow> =
                fetch_rows(self.pool, histogram(p.start, p.end(), branch)).await?;
            Ok(percentiles(rows))
        }));
        let branches: Vec<&str> = branch.into_iter().flatten().map(String::as_str).collect();
        let (flows, percentiles, figures) =
            futures::future::try_join3(flows_of, percentiles_of, self.volume_figures()).await?;
        let volumes = periods
            .iter()
            .map(|p| figures.per_branch(p.start, p.end(), &branches));
        let mut reports = Vec::with_capacity(periods.len());
        let periods_with_before = periods.iter().zip(flows.windows(2));
        for (((period, flows), percentiles), volumes) in
            periods_with_before.zip(percentiles).zip(volumes)
        {
            let [before, now] = flows else {
                continue; // windows(2) gives two
            };
            let mut figures: HashMap<CauseKey, CellFigures> =
                HashMap::with_capacity(now.len() + before.len());
            for (key, (f, stock)) in now {
                let cell = figures.entry(key.clone()).or_default();
                (cell.now, cell.open_at_end) = (*f, *stock);
            }
            for (key, (f, stock)) in before {
                let cell = figures.entry(key.clone()).or_default();
                (cell.before, cell.open_before) = (*f, *stock);
            }
            reports.push(Self::period_report(period, figures, &percentiles, volumes));
        }
        Ok(RootCauseReport {
            time_zone: self.calendar.time_zone().name().to_owned(),
            periods: reports,
        })
    }

    /// Each key's flows in `from..to` and its items open at the end: (count, minor). The key
    /// columns `K::COLUMNS` are `select`ed (expressions, named as the key's columns), and the
    /// monthly rows grouped by the cell columns in `group_by`.
    pub(super) async fn flows<K: FlowKey + Eq + std::hash::Hash + Send + Unpin>(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        branch: Option<&[String]>,
        select: &[&str],
        group_by: &[&str],
    ) -> Result<HashMap<K, (Flows, (i64, i64))>, ReportError> {
        let statement = flows(from, to, branch, select, group_by);
        let rows: Vec<FlowRow<K>> = fetch_rows(self.pool, statement).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.key, (row.counts, row.open_at_end)))
            .collect())
    }

    fn period_report(
        period: &Period,
        figures: HashMap<CauseKey, CellFigures>,
        percentiles: &HashMap<CauseKey, (Option<i64>, Option<i64>)>,
        volumes: HashMap<String, i64>,
    ) -> PeriodReport {
        let mut figures: Vec<(CauseKey, CellFigures)> =
            figures.into_iter().filter(|(_, f)| !f.is_empty()).collect();
        figures.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut rows = Vec::with_capacity(figures.len());
        let mut opened_by_branch: BTreeMap<String, i64> = BTreeMap::new();
        for (key, cell) in figures {
            let f = cell.now;
            let before = cell.before;
            let (open, open_before) = (cell.open_at_end, cell.open_before);
            *opened_by_branch.entry(key.branch.clone()).or_default() += f.opened_count;
            let (p50, p90) = percentiles.get(&key).copied().unwrap_or((None, None));
            rows.push(RootCauseRow {
                opened: CountAmount {
                    count: f.opened_count,
                    amount: format_minor_units(f.opened_minor, &key.currency),
                },
                resolved: CountAmount {
                    count: f.resolved_count,
                    amount: format_minor_units(f.resolved_minor, &key.currency),
                },
                reopened: CountAmount {
                    count: f.reopened_count,
                    amount: format_minor_units(f.reopened_minor, &key.currency),
                },
                open_at_end: CountAmount {
                    count: open.0,
                    amount: format_minor_units(open.1, &key.currency),
                },
                escalations: f.escalations,
                restated_items: f.restated_items,
                median_hours_to_resolve: p50,
                p90_hours_to_resolve: p90,
                change: RowChange {
                    opened: f.opened_count - before.opened_count,
                    resolved: f.resolved_count - before.resolved_count,
                    open_at_end: open.0 - open_before.0,
                    escalations: f.escalations - before.escalations,
                },
                key,
            });
        }
        let mut branches: Vec<String> = opened_by_branch
            .keys()
            .chain(volumes.keys())
            .cloned()
            .collect();
        branches.sort();
        branches.dedup();
        let suspense_rates = branches
            .into_iter()
            .map(|b| {
                let items_opened = opened_by_branch.get(&b).copied().unwrap_or(0);
                let transactions = volumes.get(&b).copied().unwrap_or(0);
                SuspenseRate {
                    per_10000: suspense_rate_per_10000(items_opened, transactions)
                        .map(|rate| format!("{rate:.2}")),
                    branch: b,
                    items_opened,
                    transactions,
                }
            })
            .collect();
        PeriodReport {
            period: period.label(),
            start: period.start,
            end: period.end(),
            restated_items: rows.iter().map(|r| r.restated_items).sum(),
            rows,
            suspense_rates,
        }
    }
}

/// One cause key's figures in a period of a report.
#[derive(Debug, Clone, Copy, Default)]
struct CellFigures {
    now: Flows,
    /// The flows of the period before, for the change.
    before: Flows,
    open_at_end: (i64, i64),
    /// Open at the end of the period before.
    open_before: (i64, i64),
}

impl CellFigures {
    /// Nothing to report: no flows in either period, nothing open at either end.
    fn is_empty(&self) -> bool {
        self.now == Flows::default()
            && self.before == Flows::default()
            && self.open_at_end == (0, 0)
            && self.open_before == (0, 0)
    }
}

/// `AND branch IN (…)` when the report is for some branches (none, for an empty list).
fn for_branch(statement: &mut Statement, branches: Option<&[String]>) {
    match branches {
        None => {}
        Some([]) => {
            statement.push(" AND 1 = 0");
        }
        Some([branch]) => {
            statement.push(" AND branch = ").push_param(branch.as_str());
        }
        Some(branches) => {
            statement
                .push(" AND branch IN (")
                .push_params(branches.iter().map(String::as_str))
                .push(")");
        }
    }
}

/// Every key's flows in the months `from..to`, and its items open at the end of them: the
/// stock of the latest month stored before `to`, whose rows hold every cell with items open
/// then (`statistics/month_end.rs`). That month is `from..to`'s last with flows, or before
/// `from` if nothing flowed since. The key is `select` (expressions with their names), the
/// rows of a month summed over the cells that share the `group_by` columns.
fn flows(
    from: NaiveDate,
    to: NaiveDate,
    branch: Option<&[String]>,
    select: &[&str],
    group_by: &[&str],
) -> Statement {
    let stock_month = |q: &mut Statement| {
        q.push("(SELECT max(month) FROM root_cause_monthly WHERE month < ")
            .push_param(to)
            .push(")");
    };
    let mut q = Statement::new(format!("SELECT {}", select.join(", ")));
    // Both queries read a month before `from` only for its stock.
    for counter in &COUNTERS {
        q.push(", CAST(SUM(CASE WHEN month >= ")
            .push_param(from)
            .push(&format!(
                " THEN {0} ELSE 0 END) AS BIGINT) AS {0}",
                counter.column
            ));
    }
    if is_one_month(from, to) {
        // One month of rows, its stock in them.
        for column in STOCK_COLUMNS {
            q.push(&format!(", CAST(SUM({column}) AS BIGINT) AS {column}"));
        }
        q.push(" FROM root_cause_monthly WHERE month = ");
        stock_month(&mut q);
    } else {
        for column in STOCK_COLUMNS {
            q.push(", CAST(SUM(CASE WHEN month = ");
            stock_month(&mut q);
            q.push(&format!(
                " THEN {column} ELSE 0 END) AS BIGINT) AS {column}"
            ));
        }
        // Bounded on both sides: PostgreSQL plans a prepared statement generically after its
        // fifth run, and there it estimates `month >= $1` at a third of the table (a full
        // scan) but a two-sided range at 0.5%, read through the key.
        q.push(" FROM root_cause_monthly WHERE month >= (SELECT CASE WHEN max(month) < ")
            .push_param(from)
            .push(" THEN max(month) ELSE ")
            .push_param(from)
            .push(" END FROM root_cause_monthly WHERE month < ")
            .push_param(to)
            .push(") AND month < ")
            .push_param(to);
    }
    for_branch(&mut q, branch);
    q.push(&format!(" GROUP BY {}", group_by.join(", ")));
    q
}

/// The resolution-time histograms of the months in `from..to`: one row per month and cause
/// key (summed per key by `percentiles`).
fn histogram(from: NaiveDate, to: NaiveDate, branch: Option<&[String]>) -> Statement {
    let mut q = Statement::new(format!(
        "SELECT {}, buckets FROM resolution_time_histogram WHERE month >= ",
        CAUSE_COLUMNS.join(", ")
    ));
    q.push_param(from).push(" AND month < ").push_param(to);
    for_branch(&mut q, branch);
    q
}

/// The median and 90th-percentile hours of `month` per cause key, stored with its histogram:
/// a month's report needs no buckets.
fn month_percentiles(month: NaiveDate, branch: Option<&[String]>) -> Statement {
    let mut q = Statement::new(format!(
        "SELECT {}, median_hours, p90_hours FROM resolution_time_histogram WHERE month = ",
        CAUSE_COLUMNS.join(", ")
    ));
    q.push_param(month);
    for_branch(&mut q, branch);
    q
}
