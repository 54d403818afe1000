//! The root-cause summary on the wire (`GET /v1/reports/root-causes?by=category,code`): each
//! row's key as an object of the dimensions asked for, counts across currencies, amounts per
//! currency; in CSV one line per row and currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use suspense_read_models::{CauseSummary, CountAmount, PeriodSummary, SummaryRow};

use super::CountAmountView;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CauseSummaryView {
    pub time_zone: String,
    /// The dimensions the summary is cut by, in order.
    pub by: Vec<&'static str>,
    pub periods: Vec<PeriodSummaryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodSummaryView {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    pub items_opened: i64,
    /// The leading rows that make up 80 % of the items opened (the Pareto's vital few).
    pub vital_few: usize,
    /// Ranked by items opened, most first.
    pub rows: Vec<SummaryRowView>,
    /// Per value of the first dimension (when cut by more than one).
    pub subtotals: Vec<SummaryRowView>,
    pub total: SummaryRowView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRowView {
    pub key: BTreeMap<&'static str, String>,
    pub opened: i64,
    pub resolved: i64,
    pub open_at_end: i64,
    pub escalations: i64,
    /// Percent of the period's items opened, one decimal.
    pub share_percent: String,
    pub cumulative_percent: String,
    pub previous_opened: i64,
    pub year_earlier_opened: i64,
    pub amounts: Vec<CurrencyFiguresView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrencyFiguresView {
    pub currency: String,
    pub opened: CountAmountView,
    pub resolved: CountAmountView,
    pub open_at_end: CountAmountView,
}

fn count_amount(figures: &CountAmount) -> CountAmountView {
    CountAmountView::from(figures.clone())
}

impl SummaryRowView {
    fn new(by: &[&'static str], row: &SummaryRow) -> Self {
        Self {
            key: by.iter().copied().zip(row.key.iter().cloned()).collect(),
            opened: row.opened,
            resolved: row.resolved,
            open_at_end: row.open_at_end,
            escalations: row.escalations,
            share_percent: row.share.clone(),
            cumulative_percent: row.cumulative_share.clone(),
            previous_opened: row.previous_opened,
            year_earlier_opened: row.year_earlier_opened,
            amounts: row
                .amounts
                .iter()
                .map(|a| CurrencyFiguresView {
                    currency: a.currency.clone(),
                    opened: count_amount(&a.opened),
                    resolved: count_amount(&a.resolved),
                    open_at_end: count_amount(&a.open_at_end),
                })
                .collect(),
        }
    }
}

impl PeriodSummaryView {
    fn new(by: &[&'static str], period: &PeriodSummary) -> Self {
        Self {
            period: period.period.clone(),
            start: period.start,
            end: period.end,
            items_opened: period.total.opened,
            vital_few: period.vital_few,
            rows: period
                .rows
                .iter()
                .map(|r| SummaryRowView::new(by, r))
                .collect(),
            subtotals: period
                .subtotals
                .iter()
                .map(|r| SummaryRowView::new(by, r))
                .collect(),
            total: SummaryRowView::new(by, &period.total),
        }
    }
}

impl From<&CauseSummary> for CauseSummaryView {
    fn from(summary: &CauseSummary) -> Self {
        let by: Vec<&'static str> = summary.by.iter().map(|d| d.as_str()).collect();
        Self {
            time_zone: summary.time_zone.clone(),
            periods: summary
                .periods
                .iter()
                .map(|p| PeriodSummaryView::new(&by, p))
                .collect(),
            by,
        }
    }
}

/// One line per period, row and currency: `level` says whether it is a ranked row (with its
/// `rank`), a subtotal or the period's total; the row's counts across currencies repeat on
/// each of its currency lines.
pub fn cause_summary_csv(summary: &CauseSummaryView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["period", "level", "rank"];
    header.extend(summary.by.iter().copied());
    header.extend([
        "currency",
        "opened_count",
        "opened_amount",
        "resolved_count",
        "resolved_amount",
        "open_at_end_count",
        "open_at_end_amount",
        "row_opened",
        "row_resolved",
        "row_open_at_end",
        "row_escalations",
        "share_percent",
        "cumulative_percent",
        "vital_few",
        "previous_opened",
        "year_earlier_opened",
    ]);
    out.write_record(&header)?;
    for period in &summary.periods {
        let ranked = period.rows.iter().enumerate().map(|(i, row)| {
            let rank = (i + 1).to_string();
            let vital = if i < period.vital_few {
                "true"
            } else {
                "false"
            };
            ("row", rank, vital, row)
        });
        let subtotals = period
            .subtotals
            .iter()
            .map(|row| ("subtotal", String::new(), "", row));
        let total = std::iter::once(("total", String::new(), "", &period.total));
        for (level, rank, vital, row) in ranked.chain(subtotals).chain(total) {
            for amounts in &row.amounts {
                let mut record = vec![period.period.clone(), level.to_owned(), rank.clone()];
                record.extend(
                    summary
                        .by
                        .iter()
                        .map(|d| row.key.get(d).cloned().unwrap_or_default()),
                );
                record.extend([
                    amounts.currency.clone(),
                    amounts.opened.count.to_string(),
                    amounts.opened.amount.clone(),
                    amounts.resolved.count.to_string(),
                    amounts.resolved.amount.clone(),
                    amounts.open_at_end.count.to_string(),
                    amounts.open_at_end.amount.clone(),
                    row.opened.to_string(),
                    row.resolved.to_string(),
                    row.open_at_end.to_string(),
                    row.escalations.to_string(),
                    row.share_percent.clone(),
                    row.cumulative_percent.clone(),
                    vital.to_owned(),
                    row.previous_opened.to_string(),
                    row.year_earlier_opened.to_string(),
                ]);
                out.write_record(&record)?;
            }
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
