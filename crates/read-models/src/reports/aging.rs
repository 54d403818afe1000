//! Aging: open items as of any date, counted per age bucket.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use suspense_database::Statement;
use suspense_domain::{InvalidInput, ItemStatus};

use super::rows::{fetch_rows, ReportRow};
use super::{format_minor_units, ReportError, Reports};
use crate::calendar::month_start;
use crate::UNCLASSIFIED;

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

impl ReportRow for AgingCell {
    fn columns() -> Vec<&'static str> {
        vec![
            "branch",
            "category",
            "currency",
            "bucket",
            "count",
            "outstanding_minor",
        ]
    }
}

impl Reports<'_> {
    /// Open items as of the end of `as_of` (bank calendar), by branch, root cause, currency and
    /// age bucket; amounts are what was outstanding on that date.
    pub async fn aging(
        &self,
        as_of: NaiveDate,
        policy: &AgingPolicy,
    ) -> Result<AgingReport, ReportError> {
        let cells = self.aging_cells(as_of, policy).await?;
        Ok(aging_report(cells, as_of, policy))
    }
}

/// The report of `cells`, merged by the key the report shows.
fn aging_report(cells: Vec<AgingCell>, as_of: NaiveDate, policy: &AgingPolicy) -> AgingReport {
    let labels = policy.labels();
    // Keys of items not yet classified (no category) and of "unclassified" itself meet
    // here, so cells are merged once more by the key the report shows.
    let mut merged: BTreeMap<(String, String, String, i64), (i64, i64)> = BTreeMap::new();
    for cell in cells {
        let category = cell
            .category
            .unwrap_or_else(|| crate::UNCLASSIFIED.to_owned());
        let entry = merged
            .entry((cell.branch, category, cell.currency, cell.bucket))
            .or_default();
        entry.0 += cell.count;
        entry.1 += cell.outstanding_minor;
    }
    let rows = merged
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
    AgingReport {
        as_of,
        basis: policy.basis,
        buckets: labels,
        rows,
    }
}

impl Reports<'_> {
    /// Items open at the end of `as_of` and what each owed then, counted per branch, cause,
    /// currency and age bucket, from the month-end stocks (`register/aging_stock.rs`): the
    /// stock of `as_of`'s own month while nothing is dated after `as_of` (a report as of
    /// today), else the stock at the last month end before `as_of` plus the movements since.
    async fn aging_cells(
        &self,
        as_of: NaiveDate,
        policy: &AgingPolicy,
    ) -> Result<Vec<AgingCell>, sqlx::Error> {
        let month = month_start(as_of);
        let next_day = as_of.succ_opt().unwrap_or(as_of);
        let mut months =
            Statement::new("SELECT (SELECT max(month) FROM aging_month_end WHERE month <= ");
        months
            .push_param(month)
            .push(") AS of_month, (SELECT max(month) FROM aging_month_end WHERE month < ")
            .push_param(month_start(next_day))
            .push(") AS ended");
        let stored: Option<StoredMonths> = months.fetch_optional(self.pool).await?;
        let Some(StoredMonths { of_month, ended }) = stored else {
            return Ok(Vec::new());
        };
        if let Some(of_month) = of_month.filter(|m| Some(*m) != ended) {
            // The stock at the end of `as_of`'s month is the stock on `as_of` when nothing
            // is dated later; the check and the read are one statement, so they see the
            // same snapshot. No row means a later movement exists (or nothing is open), and
            // the route below answers both.
            let mut q = aging_select(as_of, policy);
            q.push(
                "SELECT branch, category, currency, booked_on, value_date, open_count,
                        outstanding_minor
                   FROM aging_month_end
                  WHERE open_count <> 0 AND month = ",
            )
            .push_param(of_month)
            .push(" AND NOT EXISTS (SELECT 1 FROM balance_movements WHERE on_date > ")
            .push_param(as_of)
            .push(")");
            let current = fetch_rows::<AgingCell>(self.pool, self.aging_grouped(q)).await?;
            if !current.is_empty() {
                return Ok(current);
            }
        }
        // The movements after the last month end stored before `as_of`: at most `as_of`'s
        // own month's, since every month a movement falls in is stored.
        let since = ended
            .and_then(|m| m.checked_add_months(Months::new(1)))
            .unwrap_or(EARLIEST);
        let mut q = aging_select(as_of, policy);
        q.push(
            "SELECT branch, category, currency, booked_on, value_date,
                    CAST(SUM(open_count) AS BIGINT) AS open_count,
                    CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
               FROM (SELECT branch, category, currency, booked_on, value_date, open_count,
                            outstanding_minor
                       FROM aging_month_end
                      WHERE month = ",
        )
        .push_param(ended.unwrap_or(EARLIEST))
        .push(&format!(
            " UNION ALL
                     SELECT r.branch, COALESCE(r.category, '{UNCLASSIFIED}'), r.currency,
                            r.booked_on, r.value_date, m.open_delta, m.outstanding_delta_minor
                       FROM balance_movements m JOIN item_register r ON r.item_id = m.item_id
                      WHERE m.on_date >= "
        ))
        .push_param(since)
        .push(" AND m.on_date <= ")
        .push_param(as_of)
        .push(
            ") stock_and_movements
              GROUP BY branch, category, currency, booked_on, value_date
             HAVING SUM(open_count) <> 0",
        );
        fetch_rows::<AgingCell>(self.pool, self.aging_grouped(q)).await
    }

    /// Aging as of `as_of` summed from every balance movement up to it, item by item: the
    /// month-end stocks' definition, for tests that check them against it.
    #[doc(hidden)]
    pub async fn aging_from_movements(
        &self,
        as_of: NaiveDate,
        policy: &AgingPolicy,
    ) -> Result<AgingReport, ReportError> {
        let columns = ["branch", "category", "currency", "booked_on", "value_date"];
        let mut q = aging_select(as_of, policy);
        q.push("SELECT branch, category, currency, booked_on, value_date, 1 AS open_count, outstanding_minor FROM (");
        push_open_items(&mut q, as_of, &columns, OpenItemsFrom::Movements);
        q.push(") items");
        let cells = fetch_rows::<AgingCell>(self.pool, self.aging_grouped(q)).await?;
        Ok(aging_report(cells, as_of, policy))
    }

    /// Closes the query `aging_select` started, within the reports' branches.
    fn aging_grouped(&self, mut q: Statement) -> Statement {
        q.push(") open_items WHERE 1 = 1");
        self.push_scope(&mut q, "branch");
        q.push(" GROUP BY branch, category, currency, bucket");
        q
    }
}

/// Before any date a bank books on, and within both backends' date range.
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date");

/// The months of `aging_month_end` an aging as of a date reads.
#[derive(sqlx::FromRow)]
struct StoredMonths {
    /// The latest stored month not after the date's own.
    of_month: Option<NaiveDate>,
    /// The latest stored month that ended by the end of the date.
    ended: Option<NaiveDate>,
}

/// Where `push_open_items` finds the items open on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenItemsFrom {
    /// The register as it stands, when no movement is dated after the date (a report as of
    /// today, the usual case): its open rows and outstanding amounts are the sums of all
    /// their movements. The check and the read are one statement, so they see the same
    /// snapshot; no row means either nothing is open or a later movement exists, and the
    /// movements answer both.
    Register,
    /// The balance movements up to the date, summed per item first (in key order, no sort);
    /// only the items open on the date are joined to the register.
    Movements,
}

/// Pushes a `SELECT` of the items open at the end of `as_of` (bank calendar): the register's
/// `columns` and `outstanding_minor`, what each owed then.
pub(super) fn push_open_items(
    q: &mut Statement,
    as_of: NaiveDate,
    columns: &[&str],
    from: OpenItemsFrom,
) {
    match from {
        OpenItemsFrom::Register => {
            q.push(&format!(
                "SELECT {}, outstanding_minor FROM item_register WHERE status <> ",
                columns.join(", ")
            ))
            .push_param(ItemStatus::Resolved.as_str())
            .push(" AND NOT EXISTS (SELECT 1 FROM balance_movements WHERE on_date > ")
            .push_param(as_of)
            .push(")");
        }
        OpenItemsFrom::Movements => {
            let prefixed: Vec<String> = columns.iter().map(|c| format!("r.{c}")).collect();
            q.push(&format!(
                "SELECT {}, o.outstanding_minor
                   FROM (SELECT item_id,
                                CAST(SUM(outstanding_delta_minor) AS BIGINT) AS outstanding_minor
                           FROM balance_movements
                          WHERE on_date <= ",
                prefixed.join(", ")
            ))
            .push_param(as_of)
            .push(
                " GROUP BY item_id
                 HAVING SUM(open_delta) > 0) o
                   JOIN item_register r ON r.item_id = o.item_id",
            );
        }
    }
}

/// Starts an aging query: open items (the statement pushed next, with the columns `branch,
/// category, currency, booked_on, value_date, open_count, outstanding_minor`, a row standing
/// for `open_count` items) counted per age bucket. An
/// item is in the first bucket whose upper bound its age in days (from the policy's basis
/// date to `as_of`) does not exceed, else in the last; an item dated after `as_of` counts as
/// age 0. "Age ≤ bound" is asked as "date ≥ `as_of` less the bound", so both backends compare
/// dates and neither computes one.
fn aging_select(as_of: NaiveDate, policy: &AgingPolicy) -> Statement {
    let basis = match policy.basis {
        AgingBasis::BookingDate => "booked_on",
        AgingBasis::ValueDate => "value_date",
    };
    let mut q = Statement::new("SELECT branch, category, currency, CAST(CASE");
    for (index, high) in policy.bucket_upper_days.iter().enumerate() {
        let since = as_of
            .checked_sub_days(chrono::Days::new(u64::from(*high)))
            .unwrap_or(NaiveDate::MIN);
        q.push(&format!(" WHEN {basis} >= "))
            .push_param(since)
            .push(&format!(" THEN {index}"));
    }
    q.push(&format!(
        " ELSE {} END AS BIGINT) AS bucket, CAST(SUM(open_count) AS BIGINT) AS count,
                CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
           FROM (",
        policy.bucket_upper_days.len()
    ));
    q
}
