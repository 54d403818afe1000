//! The management overview: open balance per currency, aging, the items the escalation policy
//! has raised, the root-cause Pareto of a month (the last closed one unless chosen) against
//! the month before, and the suspense rate per branch over the twelve months to it; filtered
//! by branch and month, every figure links to the items behind it and the tables to their
//! CSV. Read through the same reports as `GET /v1/reports/*`, with the same roles.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use suspense_domain::plan::Month;
use suspense_domain::{BranchCode, EscalationLevel, InvalidInput};
use suspense_read_models::{
    suspense_rate_per_10000, AgingReport, CauseDimension, CauseSummary, CauseSummaryQuery,
    PeriodKind, RootCauseQuery, VolumeFigures,
};

use super::format::grouped;
use super::page::{error_page, respond, Ctx, OVERVIEW_READERS};
use super::session::{urlencode, Viewer};
use crate::dto::{aging_csv, cause_summary_csv, AgingReportView, CauseSummaryView};
use crate::error::ApiError;
use crate::state::AppState;

/// Open items of one currency.
pub struct BalanceLine {
    pub currency: String,
    pub open_items: i64,
    pub outstanding: String,
    pub link: String,
}

/// One age bucket: items and what they owe per currency, and the worklist of its items.
pub struct AgingLine {
    pub bucket: String,
    pub items: i64,
    pub amounts: String,
    pub link: String,
}

/// One cause category of the Pareto.
pub struct ParetoLine {
    pub category: String,
    pub opened: i64,
    pub share: String,
    pub cumulative: String,
    pub previous: i64,
    /// Opened against the month before, signed: `+3`, `-2`, `0`.
    pub change: String,
    pub link: String,
}

/// Open items at one escalation level.
pub struct EscalatedLine {
    /// The level's name and rank: `部门 (2)`.
    pub level: String,
    pub items: i64,
}

/// A branch's suspense rate in the chosen month.
pub struct RateLine {
    pub branch: String,
    /// The branch's items in the worklist.
    pub link: String,
    pub opened: i64,
    /// Empty when no volume is recorded.
    pub transactions: String,
    /// Per 10,000 transactions, two decimals; empty when no volume is recorded.
    pub per_10000: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
pub struct OverviewPage {
    pub ctx: Ctx,
    pub as_of: NaiveDate,
    pub branch: String,
    /// The month chosen (`YYYY-MM`).
    pub month: String,
    pub balances: Vec<BalanceLine>,
    pub aging: Vec<AgingLine>,
    pub aging_chart: String,
    pub aging_csv: String,
    pub escalated: Vec<EscalatedLine>,
    pub risk_link: String,
    pub pareto: Vec<ParetoLine>,
    pub pareto_chart: String,
    pub pareto_csv: String,
    pub escalations: i64,
    pub rates: Vec<RateLine>,
    /// Whether any volume is recorded in the twelve months: the chart shows rates if so,
    /// items opened otherwise.
    pub has_volumes: bool,
    pub trend_chart: String,
    pub echarts: String,
    /// The remediation plans, if any.
    pub plans: Vec<crate::dto::PlanSummaryView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    branch: Option<String>,
    /// `YYYY-MM`: the month of the Pareto and the last of the trend.
    month: Option<String>,
}

fn non_blank(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl OverviewQuery {
    /// The branch filter as written, blank meaning none.
    fn branch_text(&self) -> Option<String> {
        non_blank(&self.branch)
    }

    /// The month asked for: the last closed month unless given; not after `today`'s.
    fn month(&self, today: NaiveDate) -> Result<Month, InvalidInput> {
        let this_month = Month::of(today);
        match non_blank(&self.month) {
            None => Ok(this_month.minus(1).unwrap_or(this_month)),
            Some(text) => {
                let month = Month::parse("month", &text)?;
                if month > this_month {
                    return Err(InvalidInput::new(
                        "month",
                        format!("must not be after the current month {this_month}"),
                    ));
                }
                Ok(month)
            }
        }
    }

    /// This query's filters as a query string (`?branch=…&month=…`), or nothing.
    fn query_string(&self) -> String {
        let pairs: Vec<String> = [("branch", &self.branch), ("month", &self.month)]
            .into_iter()
            .filter_map(|(name, value)| {
                non_blank(value).map(|v| format!("{name}={}", urlencode(&v)))
            })
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// The branch of a filter, which must be one the registry knows (as the API's reports ask).
fn known_branch(state: &AppState, text: Option<&str>) -> Result<Option<BranchCode>, ApiError> {
    let branch = text.map(BranchCode::parse).transpose()?;
    if let Some(branch) = &branch {
        state.ledger.known_branch(branch)?;
    }
    Ok(branch)
}

/// The last day of `month`.
fn last_day(month: Month) -> NaiveDate {
    let first = month.first_day();
    month
        .plus(1)
        .and_then(|next| next.first_day().pred_opt())
        .unwrap_or(first)
}

/// The root causes of the months `from..=to`, cut by `by`.
fn monthly_summary(
    from: Month,
    to: Month,
    branch: Option<BranchCode>,
    by: CauseDimension,
) -> Result<CauseSummaryQuery, ApiError> {
    Ok(CauseSummaryQuery::new(
        RootCauseQuery::new(PeriodKind::Month, from.first_day(), last_day(to), branch)?,
        vec![by],
    )?)
}

/// The Pareto: a month's root causes by category.
fn pareto_query(month: Month, branch: Option<BranchCode>) -> Result<CauseSummaryQuery, ApiError> {
    monthly_summary(month, month, branch, CauseDimension::Category)
}

/// `GET /console/overview`.
pub async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let here = format!("/console/overview{}", query.query_string());
    let ctx = Ctx::for_viewer(&viewer, &here);
    match overview_page(&state, &viewer, &query, ctx).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err((ctx, err)) => error_page(ctx, &err),
    }
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    query: &OverviewQuery,
    ctx: Ctx,
) -> Result<OverviewPage, (Ctx, ApiError)> {
    let branch = query.branch_text();
    let figures = async {
        viewer.caller.require(OVERVIEW_READERS)?;
        let branch = known_branch(state, branch.as_deref())?;
        let today = state.settings.calendar.local_date(Utc::now());
        let month = query.month(today)?;
        let first = month.minus(11).unwrap_or(month);
        let reports = state.ledger.reports_for(&viewer.caller.actor());
        let aging = reports.aging(today, &state.settings.aging).await?;
        let escalated = reports
            .escalated_open_items(branch.as_ref().map(BranchCode::as_str))
            .await?;
        let pareto = reports
            .cause_summary(&pareto_query(month, branch.clone())?)
            .await?;
        let trend = reports
            .cause_summary(&monthly_summary(
                first,
                month,
                branch.clone(),
                CauseDimension::Branch,
            )?)
            .await?;
        let volumes = reports.volume_figures().await?;
        let plans = state.ledger.plans().await?;
        Ok::<_, ApiError>((
            today, month, aging, escalated, pareto, trend, volumes, plans,
        ))
    }
    .await;
    let (today, month, aging, escalated, pareto, trend, volumes, plans) = match figures {
        Ok(figures) => figures,
        Err(err) => return Err((ctx, err)),
    };
    let filters = query.query_string();
    let branch_filter = branch
        .as_deref()
        .map(|b| format!("&branch={}", urlencode(b)))
        .unwrap_or_default();
    let aging = in_branch(aging, branch.as_deref());
    let lows = bucket_lows(&state.settings.aging.bucket_upper_days);
    let (aging_lines, aging_chart) = aging_lines(&aging, &lows, &branch_filter, &ctx);
    let (pareto_lines, pareto_chart) = pareto_lines(&pareto, &branch_filter, &ctx);
    let escalations = pareto.periods.first().map_or(0, |p| p.total.escalations);
    let trend = BranchTrend::new(&trend, &volumes);
    Ok(OverviewPage {
        as_of: today,
        branch: branch.unwrap_or_default(),
        month: month.to_string(),
        balances: balances(&aging, &branch_filter),
        aging: aging_lines,
        aging_chart,
        aging_csv: format!("/console/reports/aging.csv{filters}"),
        escalated: escalated
            .into_iter()
            .map(|(rank, items)| EscalatedLine {
                level: level_name(rank, &ctx),
                items,
            })
            .collect(),
        risk_link: format!("/console/worklist?status=open&order=risk{branch_filter}"),
        pareto: pareto_lines,
        pareto_chart,
        pareto_csv: format!("/console/reports/root-causes.csv{filters}"),
        escalations,
        rates: trend.rates(month),
        has_volumes: trend.has_volumes(),
        trend_chart: trend.chart(&ctx),
        echarts: super::assets::url("echarts.js"),
        plans: plans.iter().map(Into::into).collect(),
        ctx,
    })
}

/// An escalation level as people call it, with its rank as the register stores it.
fn level_name(rank: i32, ctx: &Ctx) -> String {
    EscalationLevel::ALL
        .iter()
        .find(|level| i32::from(level.rank()) == rank)
        .map_or_else(
            || rank.to_string(),
            |level| format!("{} ({rank})", ctx.label(level.as_str())),
        )
}

/// The aging report narrowed to one branch's rows, if a branch is chosen.
fn in_branch(mut report: AgingReport, branch: Option<&str>) -> AgingReport {
    if let Some(branch) = branch {
        report.rows.retain(|row| row.branch == branch);
    }
    report
}

/// Open items and what they owe per currency: the aging rows summed (an item is in exactly
/// one bucket, and the aging as of today covers every item not resolved, as the open
/// balance does).
fn balances(report: &AgingReport, branch_filter: &str) -> Vec<BalanceLine> {
    let mut per_currency: BTreeMap<&str, (i64, Decimal)> = BTreeMap::new();
    for row in &report.rows {
        let line = per_currency.entry(row.currency.as_str()).or_default();
        line.0 += row.count;
        line.1 += row.amount.parse::<Decimal>().unwrap_or_default();
    }
    per_currency
        .into_iter()
        .map(|(currency, (open_items, outstanding))| BalanceLine {
            currency: currency.to_owned(),
            open_items,
            outstanding: grouped(&outstanding.to_string()),
            link: format!("/console/worklist?status=open{branch_filter}"),
        })
        .collect()
}

/// The youngest age of each bucket: 0, then one day past each upper bound.
fn bucket_lows(upper: &[u32]) -> Vec<u32> {
    std::iter::once(0)
        .chain(upper.iter().map(|u| u + 1))
        .collect()
}

fn aging_lines(
    report: &AgingReport,
    lows: &[u32],
    branch_filter: &str,
    ctx: &Ctx,
) -> (Vec<AgingLine>, String) {
    let lines: Vec<AgingLine> = report
        .buckets
        .iter()
        .zip(lows)
        .map(|(bucket, low)| {
            let rows: Vec<_> = report.rows.iter().filter(|r| &r.bucket == bucket).collect();
            let mut per_currency: std::collections::BTreeMap<&str, rust_decimal::Decimal> =
                Default::default();
            for row in &rows {
                if let Ok(amount) = row.amount.parse::<rust_decimal::Decimal>() {
                    *per_currency.entry(row.currency.as_str()).or_default() += amount;
                }
            }
            AgingLine {
                bucket: bucket.clone(),
                items: rows.iter().map(|r| r.count).sum(),
                amounts: per_currency
                    .into_iter()
                    .map(|(currency, amount)| {
                        format!("{} {currency}", grouped(&amount.to_string()))
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
                link: format!("/console/worklist?status=open&min_age_days={low}{branch_filter}"),
            }
        })
        .collect();
    let chart = json!({
        "aria": {"enabled": true},
        "animation": false,
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "name": ctx.t.age_days,
                  "data": lines.iter().map(|l| l.bucket.clone()).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "name": ctx.t.open_items},
        "series": [{"type": "bar", "name": ctx.t.open_items,
                    "data": lines.iter().map(|l| l.items).collect::<Vec<_>>()}],
    });
    (lines, chart.to_string())
}

fn pareto_lines(
    summary: &CauseSummary,
    branch_filter: &str,
    ctx: &Ctx,
) -> (Vec<ParetoLine>, String) {
    let lines: Vec<ParetoLine> = summary
        .periods
        .first()
        .map(|period| {
            period
                .rows
                .iter()
                .map(|row| {
                    let code = row.key.first().cloned().unwrap_or_default();
                    let change = row.opened - row.previous_opened;
                    ParetoLine {
                        category: ctx.label(&code),
                        opened: row.opened,
                        share: row.share.clone(),
                        cumulative: row.cumulative_share.clone(),
                        previous: row.previous_opened,
                        change: if change > 0 {
                            format!("+{change}")
                        } else {
                            change.to_string()
                        },
                        link: format!(
                            "/console/worklist?status=all&category={}{branch_filter}",
                            urlencode(&code)
                        ),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let chart = json!({
        "aria": {"enabled": true},
        "animation": false,
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category",
                  "data": lines.iter().map(|l| l.category.clone()).collect::<Vec<_>>()},
        "yAxis": [{"type": "value", "name": ctx.t.opened},
                  {"type": "value", "name": "%", "max": 100}],
        "series": [
            {"type": "bar", "name": ctx.t.opened,
             "data": lines.iter().map(|l| l.opened).collect::<Vec<_>>()},
            {"type": "bar", "name": ctx.t.previous_period,
             "data": lines.iter().map(|l| l.previous).collect::<Vec<_>>()},
            {"type": "line", "name": ctx.t.share, "yAxisIndex": 1,
             "data": lines.iter().map(|l| l.cumulative.parse::<f64>().unwrap_or(0.0)).collect::<Vec<_>>()},
        ],
    });
    (lines, chart.to_string())
}

/// Items opened per branch and month over the twelve months, and the transactions recorded
/// for them: the suspense rate (掛賬率) where a volume is known.
struct BranchTrend {
    months: Vec<(String, NaiveDate, NaiveDate)>,
    branches: Vec<String>,
    /// Per branch, per month: items opened, and transactions (0 when none recorded).
    cells: BTreeMap<String, Vec<(i64, i64)>>,
}

impl BranchTrend {
    fn new(summary: &CauseSummary, volumes: &VolumeFigures) -> Self {
        let months: Vec<(String, NaiveDate, NaiveDate)> = summary
            .periods
            .iter()
            .map(|p| (p.period.clone(), p.start, p.end))
            .collect();
        let mut cells: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for (i, period) in summary.periods.iter().enumerate() {
            for row in &period.rows {
                if let Some(branch) = row.key.first() {
                    cells
                        .entry(branch.clone())
                        .or_insert_with(|| vec![(0, 0); months.len()])[i]
                        .0 = row.opened;
                }
            }
        }
        let branches: Vec<String> = cells.keys().cloned().collect();
        let only: Vec<&str> = branches.iter().map(String::as_str).collect();
        for (i, (_, start, end)) in months.iter().enumerate() {
            for (branch, transactions) in volumes.per_branch(*start, *end, &only) {
                if let Some(row) = cells.get_mut(&branch) {
                    row[i].1 = transactions;
                }
            }
        }
        Self {
            months,
            branches,
            cells,
        }
    }

    fn has_volumes(&self) -> bool {
        self.cells.values().flatten().any(|(_, t)| *t > 0)
    }

    /// Each branch's figures in `month` (the last of the trend).
    fn rates(&self, month: Month) -> Vec<RateLine> {
        let Some(i) = self
            .months
            .iter()
            .position(|(_, start, _)| *start == month.first_day())
        else {
            return Vec::new();
        };
        self.branches
            .iter()
            .map(|branch| {
                let (opened, transactions) = self.cells[branch][i];
                RateLine {
                    link: format!("/console/worklist?status=all&branch={}", urlencode(branch)),
                    branch: branch.clone(),
                    opened,
                    transactions: if transactions > 0 {
                        transactions.to_string()
                    } else {
                        String::new()
                    },
                    per_10000: suspense_rate_per_10000(opened, transactions)
                        .map(|r| format!("{r:.2}"))
                        .unwrap_or_default(),
                }
            })
            .collect()
    }

    /// One line per branch: the rate per 10,000 transactions when any volume is recorded
    /// (a gap where a month has none), the items opened otherwise.
    fn chart(&self, ctx: &Ctx) -> String {
        let rates = self.has_volumes();
        let series: Vec<_> = self
            .branches
            .iter()
            .map(|branch| {
                let data: Vec<serde_json::Value> = self.cells[branch]
                    .iter()
                    .map(|&(opened, transactions)| {
                        if rates {
                            suspense_rate_per_10000(opened, transactions)
                                .map_or(serde_json::Value::Null, |r| json!(format!("{r:.2}")))
                        } else {
                            json!(opened)
                        }
                    })
                    .collect();
                json!({"type": "line", "name": branch, "data": data, "connectNulls": false})
            })
            .collect();
        let axis = if rates {
            format!("{} ({})", ctx.t.suspense_rate, ctx.t.per_10000)
        } else {
            ctx.t.opened.to_owned()
        };
        json!({
            "aria": {"enabled": true},
            "animation": false,
            "tooltip": {"trigger": "axis"},
            "legend": {"type": "scroll"},
            "xAxis": {"type": "category",
                      "data": self.months.iter().map(|(label, _, _)| label.clone()).collect::<Vec<_>>()},
            "yAxis": {"type": "value", "name": axis},
            "series": series,
        })
        .to_string()
    }
}

/// `GET /console/reports/root-causes.csv`: the Pareto's figures as the API's CSV.
pub async fn pareto_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let csv = async {
        viewer.caller.require(OVERVIEW_READERS)?;
        let branch = known_branch(&state, query.branch_text().as_deref())?;
        let today = state.settings.calendar.local_date(Utc::now());
        let query = pareto_query(query.month(today)?, branch)?;
        let summary = state
            .ledger
            .reports_for(&viewer.caller.actor())
            .cause_summary(&query)
            .await?;
        cause_summary_csv(&CauseSummaryView::from(&summary)).map_err(ApiError::internal)
    }
    .await;
    download(&viewer, "root-causes.csv", csv)
}

/// `GET /console/reports/aging.csv`: the aging as of today as the API's CSV, of the chosen
/// branch if one is.
pub async fn aging_csv_download(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let csv = async {
        viewer.caller.require(OVERVIEW_READERS)?;
        let branch = known_branch(&state, query.branch_text().as_deref())?;
        let today = state.settings.calendar.local_date(Utc::now());
        let report = state
            .ledger
            .reports_for(&viewer.caller.actor())
            .aging(today, &state.settings.aging)
            .await?;
        let report = in_branch(report, branch.as_ref().map(BranchCode::as_str));
        aging_csv(&AgingReportView::from(report)).map_err(ApiError::internal)
    }
    .await;
    download(&viewer, "aging.csv", csv)
}

/// A CSV file to save as `filename`, or the error page.
fn download(viewer: &Viewer, filename: &str, csv: Result<String, ApiError>) -> Response {
    match csv {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => error_page(Ctx::for_viewer(viewer, "/console/overview"), &err),
    }
}
