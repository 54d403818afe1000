//! The root-cause report as people read it: the cube's rows summed over the dimensions asked
//! for (`--by category,code`), ranked by items opened (Pareto), with each row's share and
//! cumulative share, the vital few that make 80 % of the items, subtotals per value of the
//! first dimension, and the count the period before and the same period a year earlier.
//!
//! Counts add up across currencies; amounts never do, so every row carries its amounts per
//! currency.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use suspense_domain::{BranchCode, InvalidInput};

use super::root_causes::{CountAmount, FlowKey, RootCauseQuery};
use super::{format_minor_units, ReportError, Reports};
use crate::calendar::Period;
use crate::statistics::CellCounts;

/// The share of items opened the vital few make up, in percent.
pub const VITAL_FEW_PERCENT: u32 = 80;

/// A dimension of the root-cause cube a summary can be cut by: the cause key's, and the
/// team handling the items, the counterparty and the incident behind them (`unassigned`,
/// `none` where there is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseDimension {
    Category,
    Code,
    Branch,
    Channel,
    Currency,
    Team,
    Counterparty,
    Incident,
}

impl CauseDimension {
    pub const ALL: [Self; 8] = [
        Self::Category,
        Self::Code,
        Self::Branch,
        Self::Channel,
        Self::Currency,
        Self::Team,
        Self::Counterparty,
        Self::Incident,
    ];

    /// Its name, which is also its column in `root_cause_monthly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Code => "code",
            Self::Branch => "branch",
            Self::Channel => "channel",
            Self::Currency => "currency",
            Self::Team => "team",
            Self::Counterparty => "counterparty",
            Self::Incident => "incident",
        }
    }

    /// Parses a comma-separated list (`category,code`): known names, each once, at least one,
    /// with nothing else between the commas.
    pub fn parse_list(value: &str) -> Result<Vec<Self>, InvalidInput> {
        if value.is_empty() {
            return Err(InvalidInput::new("by", "name at least one dimension"));
        }
        let mut dimensions = Vec::new();
        for name in value.split(',') {
            let dimension = Self::ALL
                .into_iter()
                .find(|d| d.as_str() == name)
                .ok_or_else(|| {
                    InvalidInput::new(
                        "by",
                        format!(
                            "'{name}' is not one of {}",
                            Self::ALL.map(Self::as_str).join(", ")
                        ),
                    )
                })?;
            if dimensions.contains(&dimension) {
                return Err(InvalidInput::in_context(
                    "by",
                    format!("'{name}' is named twice"),
                ));
            }
            dimensions.push(dimension);
        }
        Ok(dimensions)
    }
}

/// A summary's periods (as the root-cause report's) and the dimensions it is cut by.
#[derive(Debug, Clone)]
pub struct CauseSummaryQuery {
    pub periods: RootCauseQuery,
    pub by: Vec<CauseDimension>,
}

impl CauseSummaryQuery {
    pub fn new(periods: RootCauseQuery, by: Vec<CauseDimension>) -> Result<Self, InvalidInput> {
        if by.is_empty() {
            return Err(InvalidInput::new("by", "name at least one dimension"));
        }
        Ok(Self { periods, by })
    }

    pub fn branch(&self) -> Option<&BranchCode> {
        self.periods.branch.as_ref()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseSummary {
    pub time_zone: String,
    pub by: Vec<CauseDimension>,
    pub periods: Vec<PeriodSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    /// Ranked by items opened, most first (ties in key order).
    pub rows: Vec<SummaryRow>,
    /// The leading rows whose items opened make up `VITAL_FEW_PERCENT` % of the period's.
    pub vital_few: usize,
    /// Per value of the first dimension, when the summary is cut by more than one; in key
    /// order.
    pub subtotals: Vec<SummaryRow>,
    /// The whole period (an empty key).
    pub total: SummaryRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// One value per dimension of the summary, in its order (fewer for a subtotal).
    pub key: Vec<String>,
    pub opened: i64,
    pub resolved: i64,
    pub open_at_end: i64,
    pub escalations: i64,
    /// Per currency, in code order.
    pub amounts: Vec<CurrencyFigures>,
    /// Percent of the period's items opened, one decimal (`"37.5"`).
    pub share: String,
    /// Percent of the period's items opened by this row and those ranked above it.
    pub cumulative_share: String,
    /// Items opened under this key in the period before.
    pub previous_opened: i64,
    /// Items opened under this key in the same period a year earlier.
    pub year_earlier_opened: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyFigures {
    pub currency: String,
    pub opened: CountAmount,
    pub resolved: CountAmount,
    pub open_at_end: CountAmount,
}

/// One key's figures while summing: per currency, and the comparison counts.
#[derive(Default, Clone)]
struct Sum {
    per_currency: BTreeMap<String, (CellCounts, (i64, i64))>,
    previous_opened: i64,
    year_earlier_opened: i64,
}

impl Sum {
    fn add(&mut self, currency: &str, counts: &CellCounts, stock: (i64, i64)) {
        let (c, s) = self.per_currency.entry(currency.to_owned()).or_default();
        *c += *counts;
        s.0 += stock.0;
        s.1 += stock.1;
    }

    fn merge(&mut self, other: &Sum) {
        for (currency, (counts, stock)) in &other.per_currency {
            self.add(currency, counts, *stock);
        }
        self.previous_opened += other.previous_opened;
        self.year_earlier_opened += other.year_earlier_opened;
    }

    fn opened(&self) -> i64 {
        self.per_currency
            .values()
            .map(|(c, _)| c.opened_count)
            .sum()
    }

    fn row(&self, key: Vec<String>, total_opened: i64, cumulative: i64) -> SummaryRow {
        let opened = self.opened();
        let amounts = self
            .per_currency
            .iter()
            .map(|(currency, (c, s))| CurrencyFigures {
                currency: currency.clone(),
                opened: CountAmount {
                    count: c.opened_count,
                    amount: format_minor_units(c.opened_minor, currency),
                },
                resolved: CountAmount {
                    count: c.resolved_count,
                    amount: format_minor_units(c.resolved_minor, currency),
                },
                open_at_end: CountAmount {
                    count: s.0,
                    amount: format_minor_units(s.1, currency),
                },
            })
            .collect();
        SummaryRow {
            key,
            opened,
            resolved: self
                .per_currency
                .values()
                .map(|(c, _)| c.resolved_count)
                .sum(),
            open_at_end: self.per_currency.values().map(|(_, s)| s.0).sum(),
            escalations: self.per_currency.values().map(|(c, _)| c.escalations).sum(),
            amounts,
            share: percent(opened, total_opened),
            cumulative_share: percent(cumulative, total_opened),
            previous_opened: self.previous_opened,
            year_earlier_opened: self.year_earlier_opened,
        }
    }
}

/// `part` of `whole` in percent, one decimal, rounded half away from zero.
pub(super) fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "0.0".to_owned();
    }
    let value = (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole))
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{value:.1}")
}

/// A summary's key as its flow query selects it: a value per dimension (`d0`…, empty past
/// the summary's dimensions) and the currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SummaryKey {
    values: Vec<String>,
    currency: String,
}

/// The names the flow query gives a summary's key columns.
const SUMMARY_COLUMNS: [&str; 9] = ["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "currency"];

impl FlowKey for SummaryKey {
    const COLUMNS: &'static [&'static str] = &SUMMARY_COLUMNS;

    fn from_values(mut values: Vec<String>) -> Self {
        let currency = values.pop().unwrap_or_default();
        Self { values, currency }
    }
}

/// The key columns of a summary's flow query (`SUMMARY_COLUMNS`) and the columns its rows
/// are grouped by: the dimensions asked for, and the currency.
fn summary_select(by: &[CauseDimension]) -> (Vec<String>, Vec<&'static str>) {
    let select = SUMMARY_COLUMNS[..CauseDimension::ALL.len()]
        .iter()
        .enumerate()
        .map(|(i, name)| match by.get(i) {
            Some(dimension) => format!("{} AS {name}", dimension.as_str()),
            None => format!("CAST('' AS TEXT) AS {name}"),
        })
        .chain(["currency".to_owned()])
        .collect();
    let mut group_by: Vec<&'static str> = by.iter().map(|d| d.as_str()).collect();
    if !by.contains(&CauseDimension::Currency) {
        group_by.push("currency");
    }
    (select, group_by)
}

type Flows = HashMap<SummaryKey, (CellCounts, (i64, i64))>;

/// Sums `now`, `previous` and `year_earlier` into the summary of one period.
fn summarise(
    period: &Period,
    by: &[CauseDimension],
    now: &Flows,
    previous: &Flows,
    year_earlier: &Flows,
) -> PeriodSummary {
    let key_of = |key: &SummaryKey| -> Vec<String> { key.values[..by.len()].to_vec() };
    let mut sums: BTreeMap<Vec<String>, Sum> = BTreeMap::new();
    for (key, (counts, stock)) in now {
        if *counts == CellCounts::default() && stock.0 == 0 {
            continue;
        }
        sums.entry(key_of(key))
            .or_default()
            .add(&key.currency, counts, *stock);
    }
    // Comparison counts only for keys present now: a summary lists the period's own rows.
    for (flows, earlier) in [(previous, false), (year_earlier, true)] {
        for (key, (counts, _)) in flows {
            if let Some(sum) = sums.get_mut(&key_of(key)) {
                if earlier {
                    sum.year_earlier_opened += counts.opened_count;
                } else {
                    sum.previous_opened += counts.opened_count;
                }
            }
        }
    }
    let mut total = Sum::default();
    let mut subtotals: BTreeMap<Vec<String>, Sum> = BTreeMap::new();
    for (key, sum) in &sums {
        total.merge(sum);
        if by.len() > 1 {
            subtotals.entry(key[..1].to_vec()).or_default().merge(sum);
        }
    }
    let total_opened = total.opened();
    let mut ranked: Vec<(Vec<String>, Sum)> = sums.into_iter().collect();
    // Stable: equal counts stay in key order.
    ranked.sort_by_key(|(_, sum)| std::cmp::Reverse(sum.opened()));
    let mut cumulative = 0;
    let mut vital_few = 0;
    let threshold = Decimal::from(VITAL_FEW_PERCENT) * Decimal::from(total_opened);
    let mut rows = Vec::with_capacity(ranked.len());
    for (key, sum) in ranked {
        // The row that reaches the threshold is one of the vital few; the rows after it not.
        if Decimal::from(cumulative) * Decimal::ONE_HUNDRED < threshold {
            vital_few += 1;
        }
        cumulative += sum.opened();
        rows.push(sum.row(key, total_opened, cumulative));
    }
    PeriodSummary {
        period: period.label(),
        start: period.start,
        end: period.end(),
        rows,
        vital_few,
        subtotals: subtotals
            .into_iter()
            .map(|(key, sum)| {
                let opened = sum.opened();
                sum.row(key, total_opened, opened)
            })
            .collect(),
        total: total.row(Vec::new(), total_opened, total_opened),
    }
}

impl Reports<'_> {
    /// The root-cause report summed over `query.by`, ranked, with subtotals and the counts of
    /// the period before and the same period a year earlier.
    pub async fn cause_summary(
        &self,
        query: &CauseSummaryQuery,
    ) -> Result<CauseSummary, ReportError> {
        let scope = self.branches_for(query.branch().map(BranchCode::as_str));
        let branch = scope.as_deref();
        let q = &query.periods;
        let periods = Period::range(q.period, q.from, q.to, RootCauseQuery::MAX_PERIODS);
        // Every period read once, whether it is reported, compared against, or both.
        let mut wanted: Vec<Period> = Vec::with_capacity(periods.len() * 3);
        for period in &periods {
            for p in [*period, period.previous(), period.year_earlier()] {
                if !wanted.contains(&p) {
                    wanted.push(p);
                }
            }
        }
        let (select, group_by) = summary_select(&query.by);
        let select: Vec<&str> = select.iter().map(String::as_str).collect();
        let flows = futures::future::try_join_all(
            wanted
                .iter()
                .map(|p| self.flows::<SummaryKey>(p.start, p.end(), branch, &select, &group_by)),
        )
        .await?;
        let flows: HashMap<Period, Flows> = wanted.into_iter().zip(flows).collect();
        // Every period asked for below was read; the empty fallback is never taken.
        let none = Flows::new();
        let flows_of = |p: &Period| flows.get(p).unwrap_or(&none);
        Ok(CauseSummary {
            time_zone: self.calendar.time_zone().name().to_owned(),
            by: query.by.clone(),
            periods: periods
                .iter()
                .map(|p| {
                    summarise(
                        p,
                        &query.by,
                        flows_of(p),
                        flows_of(&p.previous()),
                        flows_of(&p.year_earlier()),
                    )
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;

    fn key(category: &str, code: &str, currency: &str) -> SummaryKey {
        SummaryKey {
            values: [category, code, "", "", "", "", "", ""]
                .map(str::to_owned)
                .to_vec(),
            currency: currency.into(),
        }
    }

    fn opened(count: i64, minor: i64) -> (CellCounts, (i64, i64)) {
        (
            CellCounts {
                opened_count: count,
                opened_minor: minor,
                ..CellCounts::default()
            },
            (count, minor),
        )
    }

    #[test]
    fn summary_ranks_shares_and_subtotals() {
        let period = Period::containing(
            PeriodKind::Month,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
        );
        let now: Flows = [
            (key("operational_error", "OPS-A", "CNY"), opened(50, 5_000)),
            (key("operational_error", "OPS-A", "USD"), opened(10, 700)),
            (key("operational_error", "OPS-B", "CNY"), opened(20, 100)),
            (key("system_failure", "SYS-A", "CNY"), opened(15, 300)),
            (key("customer_cause", "CUS-A", "CNY"), opened(5, 50)),
        ]
        .into_iter()
        .collect();
        let previous: Flows = [(key("system_failure", "SYS-A", "CNY"), opened(40, 1))]
            .into_iter()
            .collect();
        let by = [CauseDimension::Category, CauseDimension::Code];
        let summary = summarise(&period, &by, &now, &previous, &HashMap::new());
        let ranked: Vec<(&str, i64, &str, &str)> = summary
            .rows
            .iter()
            .map(|r| {
                (
                    r.key[1].as_str(),
                    r.opened,
                    r.share.as_str(),
                    r.cumulative_share.as_str(),
                )
            })
            .collect();
        assert_eq!(
            ranked,
            vec![
                ("OPS-A", 60, "60.0", "60.0"),
                ("OPS-B", 20, "20.0", "80.0"),
                ("SYS-A", 15, "15.0", "95.0"),
                ("CUS-A", 5, "5.0", "100.0"),
            ]
        );
        assert_eq!(summary.vital_few, 2, "60 % and 20 % make 80 %");
        let ops = &summary.rows[0];
        assert_eq!(ops.amounts.len(), 2, "amounts stay per currency");
        assert_eq!(ops.amounts[0].opened.amount, "50.00");
        assert_eq!(ops.amounts[1].currency, "USD");
        assert_eq!(summary.rows[2].previous_opened, 40);
        let subtotals: Vec<(&str, i64)> = summary
            .subtotals
            .iter()
            .map(|r| (r.key[0].as_str(), r.opened))
            .collect();
        assert_eq!(
            subtotals,
            vec![
                ("customer_cause", 5),
                ("operational_error", 80),
                ("system_failure", 15)
            ]
        );
        assert_eq!(summary.total.opened, 100);
        assert_eq!(summary.total.amounts[0].opened.amount, "54.50");
    }

    #[test]
    fn summary_dimensions_parse_with_named_errors() {
        assert_eq!(
            CauseDimension::parse_list("category,code").ok(),
            Some(vec![CauseDimension::Category, CauseDimension::Code])
        );
        assert_eq!(
            CauseDimension::parse_list("team,counterparty,incident").map(|d| d.len()),
            Ok(3)
        );
        for bad in ["", "teams", "code,code", "category, code", "category,", ","] {
            let refused = CauseDimension::parse_list(bad).expect_err("refused");
            assert_eq!(refused.field, "by", "{bad}");
        }
    }
}
