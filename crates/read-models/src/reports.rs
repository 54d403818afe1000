//! Queries over the read models: the root-cause report, aging, the open balance, the register,
//! and transaction volumes for the suspense rate. Everything reads precomputed rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use suspense_database::Pool;
use suspense_domain::{BranchCode, Currency, InvalidInput, Money, UserId};
use suspense_store::EventLog;

use crate::calendar::{month_start, resolution_time, Period, PeriodKind, ReportingCalendar};
use crate::register::RegisterRow;

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flows {
    opened_count: i64,
    opened_minor: i64,
    resolved_count: i64,
    resolved_minor: i64,
    reopened_count: i64,
    reopened_minor: i64,
    escalations: i64,
    restated_items: i64,
}

#[derive(sqlx::FromRow, Deserialize)]
struct FlowRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    key: CauseKey,
    opened_count: i64,
    opened_minor: i64,
    resolved_count: i64,
    resolved_minor: i64,
    reopened_count: i64,
    reopened_minor: i64,
    escalations: i64,
    restated_items: i64,
    /// Items open at the end of the period.
    open_at_end_count: i64,
    open_at_end_minor: i64,
}

#[derive(sqlx::FromRow, Deserialize)]
struct HistogramRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    key: CauseKey,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
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

/// A row type that can also be read from a JSON array of objects (see `report_sql!`'s
/// `select`).
trait JsonRow: serde::de::DeserializeOwned {
    /// The row's columns as `json_object(…)` arguments.
    const JSON_OBJECT: &'static str;
}

/// `json_object` arguments of a cause key, then `$values`.
macro_rules! with_cause_key {
    ($values:literal) => {
        concat!(
            "'category', category, 'code', code, 'branch', branch, 'channel', channel, ",
            "'currency', currency, ",
            $values
        )
    };
}

impl JsonRow for FlowRow {
    const JSON_OBJECT: &'static str = with_cause_key!(
        "'opened_count', opened_count, 'opened_minor', opened_minor,
         'resolved_count', resolved_count, 'resolved_minor', resolved_minor,
         'reopened_count', reopened_count, 'reopened_minor', reopened_minor,
         'escalations', escalations, 'restated_items', restated_items,
         'open_at_end_count', open_at_end_count, 'open_at_end_minor', open_at_end_minor"
    );
}

impl JsonRow for PercentileRow {
    const JSON_OBJECT: &'static str =
        with_cause_key!("'median_hours', median_hours, 'p90_hours', p90_hours");
}

impl JsonRow for HistogramRow {
    const JSON_OBJECT: &'static str = with_cause_key!("'buckets', json(buckets)");
}

impl JsonRow for AgingCell {
    const JSON_OBJECT: &'static str = "'branch', branch, 'category', category,
         'currency', currency, 'bucket', bucket, 'count', count,
         'outstanding_minor', outstanding_minor";
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

/// Which register rows to list. Text filters match exactly; `after` pages by item id.
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
    pub limit: u32,
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
            return Err(InvalidInput::new("to", "must not be before from"));
        }
        if Period::range(period, from, to, Self::MAX_PERIODS + 1).len() > Self::MAX_PERIODS {
            return Err(InvalidInput::new(
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

/// Which date an item's age counts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgingBasis {
    #[default]
    BookingDate,
    ValueDate,
}

/// Aging buckets as ascending upper bounds in days: `[30, 60, 90, 180]` means 0–30, 31–60,
/// 61–90, 91–180 and over 180 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingPolicy {
    pub bucket_upper_days: Vec<u32>,
    pub basis: AgingBasis,
}

impl Default for AgingPolicy {
    fn default() -> Self {
        Self {
            bucket_upper_days: vec![30, 60, 90, 180],
            basis: AgingBasis::BookingDate,
        }
    }
}

impl AgingPolicy {
    pub fn new(bucket_upper_days: Vec<u32>, basis: AgingBasis) -> Result<Self, InvalidInput> {
        if bucket_upper_days.is_empty() {
            return Err(InvalidInput::new(
                "aging_buckets",
                "needs at least one bound",
            ));
        }
        if bucket_upper_days.windows(2).any(|w| w[0] >= w[1]) {
            return Err(InvalidInput::new(
                "aging_buckets",
                "bounds must be strictly ascending",
            ));
        }
        Ok(Self {
            bucket_upper_days,
            basis,
        })
    }

    pub fn labels(&self) -> Vec<String> {
        let mut labels = Vec::new();
        let mut low = 0;
        for high in &self.bucket_upper_days {
            labels.push(format!("{low}-{high}"));
            low = high + 1;
        }
        labels.push(format!(
            ">{}",
            self.bucket_upper_days.last().copied().unwrap_or(0)
        ));
        labels
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingRow {
    pub branch: String,
    pub category: String,
    pub currency: String,
    pub bucket: String,
    pub count: i64,
    /// Outstanding amount as of the date.
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingReport {
    pub as_of: NaiveDate,
    pub basis: AgingBasis,
    pub buckets: Vec<String>,
    pub rows: Vec<AgingRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBalance {
    pub currency: String,
    pub open_items: i64,
    pub outstanding: String,
}

/// Open items of a branch, cause and currency in one age bucket, and what they owe.
#[derive(sqlx::FromRow, Deserialize)]
struct AgingCell {
    branch: String,
    category: Option<String>,
    currency: String,
    bucket: i64,
    count: i64,
    outstanding_minor: i64,
}

#[derive(sqlx::FromRow)]
struct BalanceRow {
    currency: String,
    open_items: i64,
    outstanding_minor: i64,
}

#[derive(sqlx::FromRow)]
struct VolumeRow {
    branch: String,
    transactions: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("read-model database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Formats minor units as the currency's decimal amount.
fn amount(minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::from_minor_units(minor, c).ok())
        .map_or_else(|| minor.to_string(), |m| m.amount().to_string())
}

/// Minor units of `currency` as its exact decimal amount (`-1250.00`); the plain number if the
/// currency code is unknown.
pub fn format_minor_units(minor: i64, currency: &str) -> String {
    if minor < 0 {
        format!("-{}", amount(-minor, currency))
    } else {
        amount(minor, currency)
    }
}

macro_rules! report_sql {
    ($module:ident, $db:ty, $rows_as_json:expr) => {
        mod $module {
            use super::*;
            use sqlx::{Pool, QueryBuilder};

            type Db = $db;

            /// Starts a query returning `T` rows (finish it with `fetch_rows`). With
            /// `$rows_as_json`, the rows come back as one JSON array in one row instead: the
            /// SQLite driver hands every row across a thread on its own, which cost more than
            /// the query itself for a report's few hundred rows.
            fn select<'a, T: JsonRow>(inner: &str) -> QueryBuilder<'a, Db> {
                if $rows_as_json {
                    QueryBuilder::new(format!(
                        "SELECT json_group_array(json_object({})) FROM ({inner}",
                        T::JSON_OBJECT
                    ))
                } else {
                    QueryBuilder::new(inner)
                }
            }

            async fn fetch_rows<T>(pool: &Pool<Db>, mut q: QueryBuilder<'_, Db>) -> Result<Vec<T>, sqlx::Error>
            where
                T: JsonRow + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
            {
                if $rows_as_json {
                    q.push(")");
                    let json: String = q.build_query_scalar().fetch_one(pool).await?;
                    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
                } else {
                    q.build_query_as().fetch_all(pool).await
                }
            }

            fn cause_filter(q: &mut QueryBuilder<'_, Db>, branch: Option<&str>) {
                if let Some(branch) = branch {
                    q.push(" AND branch = ").push_bind(branch.to_owned());
                }
            }

            /// Every cause key's flows in the months `from..to`, and its items open at the
            /// end of them: the stock of the latest month stored before `to`, whose rows hold
            /// every key with items open then (`month_end.rs`). That month is `from..to`'s
            /// last with flows, or before `from` if nothing flowed since.
            pub(super) async fn flows(
                pool: &Pool<Db>,
                from: NaiveDate,
                to: NaiveDate,
                branch: Option<&str>,
            ) -> Result<Vec<FlowRow>, sqlx::Error> {
                const FLOWS: [&str; 8] = [
                    "opened_count", "opened_minor", "resolved_count", "resolved_minor",
                    "reopened_count", "reopened_minor", "escalations", "restated_items",
                ];
                // Both queries read a month before `from` only for its stock.
                let flow = |q: &mut QueryBuilder<'_, Db>, column: &str, sum: bool| {
                    q.push(if sum { ", CAST(SUM(CASE WHEN month >= " } else { ", CASE WHEN month >= " })
                        .push_bind(from)
                        .push(format!(" THEN {column} ELSE 0 END"))
                        .push(if sum { ") AS BIGINT)" } else { "" })
                        .push(format!(" AS {column}"));
                };
                let stock_month = |q: &mut QueryBuilder<'_, Db>| {
                    q.push("(SELECT max(month) FROM root_cause_monthly WHERE month < ")
                        .push_bind(to)
                        .push(")");
                };
                let mut q = select::<FlowRow>("SELECT category, code, branch, channel, currency");
                if is_one_month(from, to) {
                    // One month of rows: one per key already.
                    for column in FLOWS {
                        flow(&mut q, column, false);
                    }
                    q.push(", open_at_end_count, open_at_end_minor FROM root_cause_monthly WHERE month = ");
                    stock_month(&mut q);
                    cause_filter(&mut q, branch);
                    return fetch_rows::<FlowRow>(pool, q).await;
                }
                for column in FLOWS {
                    flow(&mut q, column, true);
                }
                for column in ["open_at_end_count", "open_at_end_minor"] {
                    q.push(", CAST(SUM(CASE WHEN month = ");
                    stock_month(&mut q);
                    q.push(format!(" THEN {column} ELSE 0 END) AS BIGINT) AS {column}"));
                }
                // Bounded on both sides: PostgreSQL plans a prepared statement generically
                // after its fifth run, and there it estimates `month >= $1` at a third of the
                // table (a full scan) but a two-sided range at 0.5%, read through the key.
                q.push(" FROM root_cause_monthly WHERE month >= (SELECT CASE WHEN max(month) < ")
                    .push_bind(from)
                    .push(" THEN max(month) ELSE ")
                    .push_bind(from)
                    .push(" END FROM root_cause_monthly WHERE month < ")
                    .push_bind(to)
                    .push(") AND month < ")
                    .push_bind(to);
                cause_filter(&mut q, branch);
                q.push(" GROUP BY category, code, branch, channel, currency");
                fetch_rows::<FlowRow>(pool, q).await
            }

            /// The resolution-time histograms of the months in `from..to`: one row per month and
            /// cause key (summed per key by `percentiles`).
            pub(super) async fn histogram(
                pool: &Pool<Db>,
                from: NaiveDate,
                to: NaiveDate,
                branch: Option<&str>,
            ) -> Result<Vec<HistogramRow>, sqlx::Error> {
                let mut q = select::<HistogramRow>(
                    "SELECT category, code, branch, channel, currency, buckets
                       FROM resolution_time_histogram WHERE month >= ",
                );
                q.push_bind(from).push(" AND month < ").push_bind(to);
                cause_filter(&mut q, branch);
                fetch_rows::<HistogramRow>(pool, q).await
            }

            /// The median and 90th-percentile hours of `month` per cause key, stored with its
            /// histogram: a month's report needs no buckets.
            pub(super) async fn month_percentiles(
                pool: &Pool<Db>,
                month: NaiveDate,
                branch: Option<&str>,
            ) -> Result<Vec<PercentileRow>, sqlx::Error> {
                let mut q = select::<PercentileRow>(
                    "SELECT category, code, branch, channel, currency, median_hours, p90_hours
                       FROM resolution_time_histogram WHERE month = ",
                );
                q.push_bind(month);
                cause_filter(&mut q, branch);
                fetch_rows::<PercentileRow>(pool, q).await
            }

            pub(super) async fn volumes(
                pool: &Pool<Db>,
                from: NaiveDate,
                to: NaiveDate,
                branch: Option<&str>,
            ) -> Result<Vec<VolumeRow>, sqlx::Error> {
                let mut q = QueryBuilder::<Db>::new(
                    "SELECT branch, CAST(SUM(transactions) AS BIGINT) AS transactions
                       FROM transaction_volumes WHERE month >= ",
                );
                q.push_bind(from).push(" AND month < ").push_bind(to);
                cause_filter(&mut q, branch);
                q.push(" GROUP BY branch");
                q.build_query_as().fetch_all(pool).await
            }

            /// Items open at the end of `as_of` and what each owed then, counted per branch,
            /// cause, currency and age bucket.
            pub(super) async fn aging_cells(
                pool: &Pool<Db>,
                as_of: NaiveDate,
                policy: &AgingPolicy,
            ) -> Result<Vec<AgingCell>, sqlx::Error> {
                // When no movement is dated after `as_of` (an aging as of today, the usual
                // case), the open items are the register as it stands: its open rows and
                // outstanding amounts are the sums of all their movements. One statement, so
                // the check and the read see the same snapshot; no row means either nothing is
                // open or a later movement exists, and the movements below answer both.
                let mut q = aging_select(as_of, policy);
                q.push(
                    "SELECT branch, category, currency, booked_on, value_date, outstanding_minor
                       FROM item_register
                      WHERE status <> ",
                )
                .push_bind(suspense_domain::ItemStatus::Resolved.as_str())
                .push(" AND NOT EXISTS (SELECT 1 FROM balance_movements WHERE on_date > ")
                .push_bind(as_of)
                .push(")");
                let current = fetch_rows::<AgingCell>(pool, aging_grouped(q)).await?;
                if !current.is_empty() {
                    return Ok(current);
                }
                // Movements are summed per item first (in key order, no sort), and only the
                // items open on the date are joined to the register.
                let mut q = aging_select(as_of, policy);
                q.push(
                    "SELECT r.branch, r.category, r.currency, r.booked_on, r.value_date,
                            o.outstanding_minor
                       FROM (SELECT item_id,
                                    CAST(SUM(outstanding_delta_minor) AS BIGINT) AS outstanding_minor
                               FROM balance_movements
                              WHERE on_date <= ",
                )
                .push_bind(as_of)
                .push(
                    " GROUP BY item_id
                     HAVING SUM(open_delta) > 0) o
                       JOIN item_register r ON r.item_id = o.item_id",
                );
                fetch_rows::<AgingCell>(pool, aging_grouped(q)).await
            }

            /// Starts an aging query: open items (the statement pushed next, with the columns
            /// `branch, category, currency, booked_on, value_date, outstanding_minor`) counted
            /// per age bucket. An item is in the first bucket whose upper bound its age in days
            /// (from the policy's basis date to `as_of`) does not exceed, else in the last;
            /// an item dated after `as_of` counts as age 0. "Age ≤ bound" is asked as "date ≥
            /// `as_of` less the bound", so both backends compare dates and neither computes one.
            fn aging_select<'a>(as_of: NaiveDate, policy: &AgingPolicy) -> QueryBuilder<'a, Db> {
                let basis = match policy.basis {
                    AgingBasis::BookingDate => "booked_on",
                    AgingBasis::ValueDate => "value_date",
                };
                let mut q = select::<AgingCell>("SELECT branch, category, currency, CAST(CASE");
                for (index, high) in policy.bucket_upper_days.iter().enumerate() {
                    let since = as_of
                        .checked_sub_days(chrono::Days::new(u64::from(*high)))
                        .unwrap_or(NaiveDate::MIN);
                    q.push(format!(" WHEN {basis} >= "))
                        .push_bind(since)
                        .push(format!(" THEN {index}"));
                }
                q.push(format!(
                    " ELSE {} END AS BIGINT) AS bucket, COUNT(*) AS count,
                            CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
                       FROM (",
                    policy.bucket_upper_days.len()
                ));
                q
            }

            /// Closes the query `aging_select` started.
            fn aging_grouped(mut q: QueryBuilder<'_, Db>) -> QueryBuilder<'_, Db> {
                q.push(") open_items GROUP BY branch, category, currency, bucket");
                q
            }

            pub(super) async fn open_balance(pool: &Pool<Db>) -> Result<Vec<BalanceRow>, sqlx::Error> {
                sqlx::query_as("SELECT currency, open_items, outstanding_minor FROM open_balance ORDER BY currency")
                    .fetch_all(pool)
                    .await
            }

            pub(super) async fn register_balance(pool: &Pool<Db>) -> Result<Vec<BalanceRow>, sqlx::Error> {
                sqlx::query_as(
                    "SELECT currency,
                            CAST(SUM(CASE WHEN status = 'resolved' THEN 0 ELSE 1 END) AS BIGINT) AS open_items,
                            CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
                       FROM item_register GROUP BY currency ORDER BY currency",
                )
                .fetch_all(pool)
                .await
            }

            pub(super) async fn items(pool: &Pool<Db>, filter: &ItemFilter) -> Result<Vec<RegisterRow>, sqlx::Error> {
                let mut q = QueryBuilder::<Db>::new("SELECT * FROM item_register WHERE 1 = 1");
                let text_filters = [
                    ("status", &filter.status),
                    ("branch", &filter.branch),
                    ("category", &filter.category),
                    ("team", &filter.team),
                    ("assignee", &filter.assignee),
                ];
                for (column, value) in text_filters {
                    if let Some(value) = value {
                        q.push(format!(" AND {column} = ")).push_bind(value.clone());
                    }
                }
                if let Some(booked_by) = filter.booked_on_or_before {
                    q.push(" AND booked_on <= ").push_bind(booked_by);
                }
                if let Some(after) = &filter.after {
                    q.push(" AND item_id > ").push_bind(after.clone());
                }
                q.push(" ORDER BY item_id LIMIT ").push_bind(i64::from(filter.limit));
                q.build_query_as().fetch_all(pool).await
            }

            pub(super) async fn item(pool: &Pool<Db>, item_id: &str) -> Result<Option<RegisterRow>, sqlx::Error> {
                sqlx::query_as("SELECT * FROM item_register WHERE item_id = $1")
                    .bind(item_id)
                    .fetch_optional(pool)
                    .await
            }

            pub(super) async fn record_volume(
                pool: &Pool<Db>,
                branch: &str,
                month: NaiveDate,
                transactions: i64,
                at: DateTime<Utc>,
                by: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO transaction_volumes (branch, month, transactions, recorded_at, recorded_by)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (branch, month) DO UPDATE SET transactions = excluded.transactions,
                        recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by",
                )
                .bind(branch)
                .bind(month)
                .bind(transactions)
                .bind(at)
                .bind(by)
                .execute(pool)
                .await
                .map(|_| ())
            }
        }
    };
}

report_sql!(sqlite, sqlx::Sqlite, true);
report_sql!(postgres, sqlx::Postgres, false);

/// Read access to the read models (and transaction volumes).
pub struct Reports<'a> {
    pool: &'a Pool,
    calendar: ReportingCalendar,
}

impl<'a> Reports<'a> {
    pub fn new(log: &'a EventLog, calendar: ReportingCalendar) -> Self {
        Self {
            pool: log.pool(),
            calendar,
        }
    }

    /// The periodic root-cause statistics (定期統計分析) with the change against the period
    /// before each one and the suspense rate per branch.
    pub async fn root_causes(
        &self,
        query: &RootCauseQuery,
    ) -> Result<RootCauseReport, ReportError> {
        let branch = query.branch.as_ref().map(BranchCode::as_str);
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
        let flows_of = futures::future::try_join_all(
            walked.iter().map(|p| self.flows(p.start, p.end(), branch)),
        );
        let percentiles_of = futures::future::try_join_all(periods.iter().map(|p| async move {
            if is_one_month(p.start, p.end()) {
                let rows = on_backend!(self.pool, [] month_percentiles(p.start, branch))?;
                return Ok::<_, ReportError>(
                    rows.into_iter()
                        .filter(|r| r.median_hours.is_some())
                        .map(|r| (r.key, (r.median_hours, r.p90_hours)))
                        .collect(),
                );
            }
            let rows = on_backend!(self.pool, [] histogram(p.start, p.end(), branch))?;
            Ok(percentiles(rows))
        }));
        let volumes_of = futures::future::try_join_all(periods.iter().map(|p| async move {
            Ok::<_, ReportError>(
                on_backend!(self.pool, [] volumes(p.start, p.end(), branch))?
                    .into_iter()
                    .map(|v| (v.branch, v.transactions))
                    .collect::<HashMap<String, i64>>(),
            )
        }));
        let (flows, percentiles, volumes) =
            futures::future::try_join3(flows_of, percentiles_of, volumes_of).await?;
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

    /// Each cause key's flows in `from..to` and its items open at the end: (count, minor).
    async fn flows(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        branch: Option<&str>,
    ) -> Result<HashMap<CauseKey, (Flows, (i64, i64))>, ReportError> {
        Ok(on_backend!(self.pool, [] flows(from, to, branch))?
            .into_iter()
            .map(|row| {
                let stock = (row.open_at_end_count, row.open_at_end_minor);
                (
                    row.key,
                    (
                        Flows {
                            opened_count: row.opened_count,
                            opened_minor: row.opened_minor,
                            resolved_count: row.resolved_count,
                            resolved_minor: row.resolved_minor,
                            reopened_count: row.reopened_count,
                            reopened_minor: row.reopened_minor,
                            escalations: row.escalations,
                            restated_items: row.restated_items,
                        },
                        stock,
                    ),
                )
            })
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
                    per_10000: (transactions > 0).then(|| {
                        (Decimal::from(items_opened) * Decimal::from(10_000)
                            / Decimal::from(transactions))
                        .round_dp(2)
                        .to_string()
                    }),
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

    /// Open items as of the end of `as_of` (bank calendar), by branch, root cause, currency and
    /// age bucket; amounts are what was outstanding on that date.
    pub async fn aging(
        &self,
        as_of: NaiveDate,
        policy: &AgingPolicy,
    ) -> Result<AgingReport, ReportError> {
        let labels = policy.labels();
        // Keys of items not yet classified (no category) and of "unclassified" itself meet
        // here, so cells are merged once more by the key the report shows.
        let mut cells: BTreeMap<(String, String, String, i64), (i64, i64)> = BTreeMap::new();
        for cell in on_backend!(self.pool, [] aging_cells(as_of, policy))? {
            let category = cell
                .category
                .unwrap_or_else(|| crate::UNCLASSIFIED.to_owned());
            let entry = cells
                .entry((cell.branch, category, cell.currency, cell.bucket))
                .or_default();
            entry.0 += cell.count;
            entry.1 += cell.outstanding_minor;
        }
        let rows = cells
            .into_iter()
            .map(
                |((branch, category, currency, bucket), (count, minor))| AgingRow {
                    amount: format_minor_units(minor, &currency),
                    bucket: usize::try_from(bucket)
                        .ok()
                        .and_then(|b| labels.get(b))
                        .cloned()
                        .unwrap_or_default(),
                    branch,
                    category,
                    currency,
                    count,
                },
            )
            .collect();
        Ok(AgingReport {
            as_of,
            basis: policy.basis,
            buckets: labels,
            rows,
        })
    }

    /// Funds occupied: open items and outstanding amount per currency (the `open_balance`
    /// table, kept incrementally).
    pub async fn open_balance(&self) -> Result<Vec<OpenBalance>, ReportError> {
        Ok(Self::balances(on_backend!(self.pool, [] open_balance())?))
    }

    /// The same figures summed over the item register: equal to [`Reports::open_balance`]
    /// whenever both are at the same log position (the tie-out).
    pub async fn register_balance(&self) -> Result<Vec<OpenBalance>, ReportError> {
        Ok(Self::balances(
            on_backend!(self.pool, [] register_balance())?,
        ))
    }

    fn balances(rows: Vec<BalanceRow>) -> Vec<OpenBalance> {
        rows.into_iter()
            .filter(|r| r.open_items != 0 || r.outstanding_minor != 0)
            .map(|r| OpenBalance {
                outstanding: format_minor_units(r.outstanding_minor, &r.currency),
                currency: r.currency,
                open_items: r.open_items,
            })
            .collect()
    }

    /// Register rows matching `filter`, in item-id order (a page of at most `filter.limit`).
    pub async fn items(&self, filter: &ItemFilter) -> Result<Vec<RegisterRow>, ReportError> {
        Ok(on_backend!(self.pool, [] items(filter))?)
    }

    /// One item's register row.
    pub async fn item(&self, item_id: &str) -> Result<Option<RegisterRow>, ReportError> {
        Ok(on_backend!(self.pool, [] item(item_id))?)
    }

    /// Records how many transactions a branch processed in a month (any day of it), for the
    /// suspense rate. Reference data, not an event: it survives read-model rebuilds; a second
    /// call for the same branch and month replaces the figure and records who changed it.
    pub async fn record_volume(
        &self,
        branch: &BranchCode,
        month: NaiveDate,
        transactions: u64,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(), ReportError> {
        let transactions = i64::try_from(transactions)
            .map_err(|_| InvalidInput::new("transactions", "is too large"))?;
        on_backend!(self.pool, [] record_volume(
                branch.as_str(),
                month_start(month),
                transactions,
                at,
                by.as_str()
            )
        )?;
        Ok(())
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
