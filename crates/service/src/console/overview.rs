//! The management overview: open balance per currency, aging, the root-cause Pareto of the
//! last closed month against the month before, and items opened per branch over twelve
//! months; every figure links to the items behind it. Read through the same reports as
//! `GET /v1/reports/*`, with the same roles.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Months, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use suspense_domain::BranchCode;
use suspense_read_models::{
    AgingReport, CauseDimension, CauseSummary, CauseSummaryQuery, PeriodKind, RootCauseQuery,
};

use super::format::grouped;
use super::page::{error_page, respond, Ctx, OVERVIEW_READERS};
use super::session::{urlencode, Viewer};
use crate::dto::{cause_summary_csv, CauseSummaryView};
use crate::error::ApiError;
use crate::state::AppState;

/// Open items of one currency.
pub struct BalanceLine {
    pub currency: String,
    pub open_items: i64,
    pub outstanding: String,
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

#[derive(Template)]
#[template(path = "console/overview.html")]
pub struct OverviewPage {
    pub ctx: Ctx,
    pub as_of: NaiveDate,
    pub branch: String,
    pub balances: Vec<BalanceLine>,
    pub aging: Vec<AgingLine>,
    pub aging_chart: String,
    pub month: String,
    pub pareto: Vec<ParetoLine>,
    pub pareto_chart: String,
    pub pareto_csv: String,
    pub escalations: i64,
    pub trend_chart: String,
    pub echarts: String,
    /// The remediation plans, if any.
    pub plans: Vec<crate::dto::PlanSummaryView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    branch: Option<String>,
}

impl OverviewQuery {
    /// The branch filter as written, blank meaning none.
    fn branch_text(&self) -> Option<String> {
        self.branch
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
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

/// The first day of `today`'s month and the last day of the month before.
fn month_bounds(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let this_month = today.with_day(1).unwrap_or(today);
    (this_month, this_month.pred_opt().unwrap_or(this_month))
}

/// The Pareto: the last closed month's root causes by category.
fn pareto_query(
    today: NaiveDate,
    branch: Option<BranchCode>,
) -> Result<CauseSummaryQuery, ApiError> {
    let (this_month, month_end) = month_bounds(today);
    Ok(CauseSummaryQuery::new(
        RootCauseQuery::new(
            PeriodKind::Month,
            this_month - Months::new(1),
            month_end,
            branch,
        )?,
        vec![CauseDimension::Category],
    )?)
}

/// `GET /console/overview`.
pub async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let branch = query.branch_text();
    let here = match &branch {
        Some(b) => format!("/console/overview?branch={}", urlencode(b)),
        None => "/console/overview".to_owned(),
    };
    let ctx = Ctx::for_viewer(&viewer, &here);
    match overview_page(&state, &viewer, branch, ctx).await {
        Ok(page) => respond(StatusCode::OK, &page),
        Err((ctx, err)) => error_page(ctx, &err),
    }
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    branch: Option<String>,
    ctx: Ctx,
) -> Result<OverviewPage, (Ctx, ApiError)> {
    let figures = async {
        viewer.caller.require(OVERVIEW_READERS)?;
        let branch = known_branch(state, branch.as_deref())?;
        let today = state.settings.calendar.local_date(Utc::now());
        let reports = state.ledger.reports_for(&viewer.caller.actor());
        let balances = reports.open_balance().await?;
        let aging = reports.aging(today, &state.settings.aging).await?;
        let pareto = reports
            .cause_summary(&pareto_query(today, branch.clone())?)
            .await?;
        let (this_month, month_end) = month_bounds(today);
        let by_branch = CauseSummaryQuery::new(
            RootCauseQuery::new(
                PeriodKind::Month,
                this_month - Months::new(12),
                month_end,
                branch.clone(),
            )?,
            vec![CauseDimension::Branch],
        )?;
        let trend = reports.cause_summary(&by_branch).await?;
        let plans = state.ledger.plans().await?;
        Ok::<_, ApiError>((today, balances, aging, pareto, trend, plans))
    }
    .await;
    let (today, balances, aging, pareto, trend, plans) = match figures {
        Ok(figures) => figures,
        Err(err) => return Err((ctx, err)),
    };
    let lows = bucket_lows(&state.settings.aging.bucket_upper_days);
    let (aging, aging_chart) = aging_lines(&aging, &lows, &ctx);
    let period = pareto.periods.first();
    let month = period.map(|p| p.period.clone()).unwrap_or_default();
    let (pareto_lines, pareto_chart) = pareto_lines(&pareto, &ctx);
    let escalations = period.map_or(0, |p| p.total.escalations);
    let pareto_csv = match &branch {
        Some(b) => format!("/console/reports/root-causes.csv?branch={}", urlencode(b)),
        None => "/console/reports/root-causes.csv".to_owned(),
    };
    Ok(OverviewPage {
        as_of: today,
        branch: branch.unwrap_or_default(),
        balances: balances
            .into_iter()
            .map(|b| BalanceLine {
                currency: b.currency,
                open_items: b.open_items,
                outstanding: grouped(&b.outstanding),
            })
            .collect(),
        aging,
        aging_chart,
        month,
        pareto: pareto_lines,
        pareto_chart,
        pareto_csv,
        escalations,
        trend_chart: trend_chart(&trend, &ctx),
        echarts: super::assets::url("echarts.js"),
        plans: plans.iter().map(Into::into).collect(),
        ctx,
    })
}

/// The youngest age of each bucket: 0, then one day past each upper bound.
fn bucket_lows(upper: &[u32]) -> Vec<u32> {
    std::iter::once(0)
        .chain(upper.iter().map(|u| u + 1))
        .collect()
}

fn aging_lines(report: &AgingReport, lows: &[u32], ctx: &Ctx) -> (Vec<AgingLine>, String) {
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
                link: format!("/console/worklist?status=open&min_age_days={low}"),
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

fn pareto_lines(summary: &CauseSummary, ctx: &Ctx) -> (Vec<ParetoLine>, String) {
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
                        link: format!("/console/worklist?status=all&category={}", urlencode(&code)),
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

/// Items opened per month and branch over the twelve closed months.
fn trend_chart(summary: &CauseSummary, ctx: &Ctx) -> String {
    let months: Vec<String> = summary.periods.iter().map(|p| p.period.clone()).collect();
    let mut branches: Vec<String> = summary
        .periods
        .iter()
        .flat_map(|p| p.rows.iter().filter_map(|r| r.key.first().cloned()))
        .collect();
    branches.sort();
    branches.dedup();
    let series: Vec<_> = branches
        .iter()
        .map(|branch| {
            let data: Vec<i64> = summary
                .periods
                .iter()
                .map(|p| {
                    p.rows
                        .iter()
                        .find(|r| r.key.first() == Some(branch))
                        .map_or(0, |r| r.opened)
                })
                .collect();
            json!({"type": "line", "name": branch, "data": data})
        })
        .collect();
    json!({
        "aria": {"enabled": true},
        "animation": false,
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll"},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": ctx.t.opened},
        "series": series,
    })
    .to_string()
}

/// `GET /console/reports/root-causes.csv`: the Pareto's figures as the API's CSV.
pub async fn pareto_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let ctx = Ctx::for_viewer(&viewer, "/console/overview");
    let csv = async {
        viewer.caller.require(OVERVIEW_READERS)?;
        let branch = known_branch(&state, query.branch_text().as_deref())?;
        let today = state.settings.calendar.local_date(Utc::now());
        let query = pareto_query(today, branch)?;
        let summary = state
            .ledger
            .reports_for(&viewer.caller.actor())
            .cause_summary(&query)
            .await?;
        cause_summary_csv(&CauseSummaryView::from(&summary)).map_err(ApiError::internal)
    }
    .await;
    match csv {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"root-causes.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => error_page(ctx, &err),
    }
}
