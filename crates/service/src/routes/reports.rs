//! Reports (JSON, or CSV by `Accept: text/csv` or `format=csv`) and transaction volumes.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use suspense_read_models::{
    AttributedTo, CauseDimension, CauseSummaryQuery, RootCauseQuery, RootCauseReport,
};

use super::refresh_if;
use crate::auth::Role;
use crate::dto::{
    aging_csv, attribution_csv, cause_summary_csv, customer_report_csv, AgingParams,
    AgingReportView, AttributionParams, AttributionReportView, AttributionRequest,
    CauseSummaryView, CustomerReportParams, CustomerReportView, FreshParams, OpenBalanceView,
    Params, ReportFormat, RootCauseParams, RootCauseReportView, VolumeBody, VolumeView,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, ReadRefusals, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

const REPORT_READERS: &[Role] = &[Role::Reporter, Role::Auditor, Role::Supervisor];

/// CSV when the query string says so, else when the `Accept` header asks for it.
pub(super) fn wants_csv(format: Option<ReportFormat>, headers: &HeaderMap) -> bool {
    match format {
        Some(format) => format == ReportFormat::Csv,
        None => accepts_csv(headers),
    }
}

/// The `Accept` header asks for CSV.
pub(crate) fn accepts_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

#[utoipa::path(
    get,
    path = "/v1/reports/root-causes",
    tag = "reports",
    summary = "Periodic root-cause statistics (JSON, or CSV by Accept: text/csv or format=csv)",
    description = "Roles: reporter, auditor, supervisor.",
    params(RootCauseParams),
    responses(
        (status = 200, description = "The report", content((crate::openapi::RootCauseAnswer = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn root_causes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<RootCauseParams>,
) -> Result<Reply, ApiError> {
    caller.require(REPORT_READERS)?;
    let request = params.parse()?;
    if let Some(branch) = &request.query.branch {
        state.ledger.known_branch(branch)?;
    }
    let csv = wants_csv(request.format, &headers);
    let by = request.by;
    let reply = match request.as_known_at {
        // As the report stood at a past recorded time: rebuilt from the events recorded by then.
        Some(at) => {
            let settings = *state.ledger.projector().settings();
            let replica =
                suspense_read_models::Replica::as_known_at(state.ledger.log(), settings, at)
                    .await?;
            let scope = state.ledger.branches_of(&caller.actor());
            root_cause_reply(replica.reports().within(scope), request.query, by, csv).await?
        }
        None => {
            refresh_if(&state, request.fresh).await?;
            let reports = state.ledger.reports_for(&caller.actor());
            root_cause_reply(reports, request.query, by, csv).await?
        }
    };
    // The chain head anchors the report to the log it came from (docs/audit.md).
    let head = state.ledger.log().chain_head().await?;
    Ok(match head {
        Some((position, link)) => {
            reply.with_header("x-suspense-chain-head", format!("{position}:{link}"))
        }
        None => reply,
    })
}

/// The customer side of the statistics (`GET /v1/reports/customers`), JSON or CSV.
#[utoipa::path(
    get,
    path = "/v1/reports/customers",
    tag = "reports",
    summary = "Customer statistics per period: customer impact, fees and refunds, complaints, reminders",
    description = "Roles: reporter, auditor, supervisor. Per period, cause, branch and currency; rows with nothing on the customer side are left out. See docs/customers.md.",
    params(CustomerReportParams),
    responses(
        (status = 200, description = "The report", content((CustomerReportView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn customers(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<CustomerReportParams>,
) -> Result<Reply, ApiError> {
    caller.require(REPORT_READERS)?;
    let request = params.parse()?;
    if let Some(branch) = &request.query.branch {
        state.ledger.known_branch(branch)?;
    }
    refresh_if(&state, request.fresh).await?;
    let reports = state.ledger.reports_for(&caller.actor());
    let view = CustomerReportView::from(reports.customer_statistics(&request.query).await?);
    Reply::report(
        wants_csv(request.format, &headers),
        &view,
        customer_report_csv,
    )
}

/// The cube, or the summary cut by `by`, as JSON or CSV.
async fn root_cause_reply(
    reports: suspense_read_models::Reports<'_>,
    query: RootCauseQuery,
    by: Option<Vec<CauseDimension>>,
    csv: bool,
) -> Result<Reply, ApiError> {
    match by {
        Some(by) => {
            let query = CauseSummaryQuery::new(query, by)?;
            let view = CauseSummaryView::from(&reports.cause_summary(&query).await?);
            Reply::report(csv, &view, cause_summary_csv)
        }
        None => {
            let report = reports.root_causes(&query).await?;
            if csv {
                Ok(Reply::csv(
                    root_causes_csv(&report).map_err(ApiError::internal)?,
                ))
            } else {
                Reply::json(StatusCode::OK, &RootCauseReportView::from(report))
            }
        }
    }
}

/// One CSV row per period and cause key; amounts as exact decimals.
pub fn root_causes_csv(report: &RootCauseReport) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "period",
        "category",
        "code",
        "branch",
        "channel",
        "currency",
        "opened_count",
        "opened_amount",
        "resolved_count",
        "resolved_amount",
        "reopened_count",
        "reopened_amount",
        "open_at_end_count",
        "open_at_end_amount",
        "escalations",
        "restated_items",
        "median_hours_to_resolve",
        "p90_hours_to_resolve",
        "change_opened",
        "change_resolved",
        "change_open_at_end",
        "change_escalations",
    ])?;
    for period in &report.periods {
        for row in &period.rows {
            let hours = |h: Option<i64>| h.map(|h| h.to_string()).unwrap_or_default();
            out.write_record([
                period.period.clone(),
                row.key.category.clone(),
                row.key.code.clone(),
                row.key.branch.clone(),
                row.key.channel.clone(),
                row.key.currency.clone(),
                row.opened.count.to_string(),
                row.opened.amount.clone(),
                row.resolved.count.to_string(),
                row.resolved.amount.clone(),
                row.reopened.count.to_string(),
                row.reopened.amount.clone(),
                row.open_at_end.count.to_string(),
                row.open_at_end.amount.clone(),
                row.escalations.to_string(),
                row.restated_items.to_string(),
                hours(row.median_hours_to_resolve),
                hours(row.p90_hours_to_resolve),
                row.change.opened.to_string(),
                row.change.resolved.to_string(),
                row.change.open_at_end.to_string(),
                row.change.escalations.to_string(),
            ])?;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[utoipa::path(
    get,
    path = "/v1/reports/aging",
    tag = "reports",
    summary = "Open items by age as of a date",
    description = "Roles: reporter, auditor, supervisor.",
    params(AgingParams),
    responses(
        (status = 200, description = "The report", content((AgingReportView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn aging(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<AgingParams>,
) -> Result<Reply, ApiError> {
    caller.require(REPORT_READERS)?;
    let request = params.parse(state.settings.calendar.local_date(Utc::now()))?;
    refresh_if(&state, request.fresh).await?;
    let report = state
        .ledger
        .reports_for(&caller.actor())
        .aging(request.as_of, &state.settings.aging)
        .await?;
    Reply::report(
        wants_csv(request.format, &headers),
        &AgingReportView::from(report),
        aging_csv,
    )
}

/// Operational errors per responsible staff member: supervisors only, as the assessment of
/// people (考核) is theirs.
#[utoipa::path(
    get,
    path = "/v1/reports/accountability",
    tag = "reports",
    summary = "Operational errors booked in a period per responsible staff member",
    description = "Roles: supervisor. Ranked by items; amounts per currency; JSON, or CSV with Accept: text/csv or format=csv.",
    params(AttributionParams),
    responses(
        (status = 200, description = "The report", content((AttributionReportView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn accountability(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<AttributionParams>,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    attribution_reply(
        &state,
        &caller,
        &headers,
        params.parse(AttributedTo::Responsible)?,
    )
    .await
}

/// External causes per counterparty, to manage the bank's partners.
#[utoipa::path(
    get,
    path = "/v1/reports/counterparties",
    tag = "reports",
    summary = "External causes booked in a period per counterparty",
    description = "Roles: reporter, auditor, supervisor. Ranked by items; amounts per currency; JSON, or CSV with Accept: text/csv or format=csv.",
    params(AttributionParams),
    responses(
        (status = 200, description = "The report", content((AttributionReportView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn counterparties(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<AttributionParams>,
) -> Result<Reply, ApiError> {
    caller.require(REPORT_READERS)?;
    attribution_reply(
        &state,
        &caller,
        &headers,
        params.parse(AttributedTo::Counterparty)?,
    )
    .await
}

async fn attribution_reply(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    request: AttributionRequest,
) -> Result<Reply, ApiError> {
    refresh_if(state, request.fresh).await?;
    let report = state
        .ledger
        .reports_for(&caller.actor())
        .attribution(&request.query)
        .await?;
    let view = AttributionReportView::from(&report);
    Reply::report(wants_csv(request.format, headers), &view, attribution_csv)
}

#[utoipa::path(
    get,
    path = "/v1/reports/open-balance",
    tag = "reports",
    summary = "Open items and outstanding amount per currency",
    description = "Roles: reporter, auditor, supervisor.",
    params(FreshParams),
    responses(
        (status = 200, description = "Balances", body = Vec<OpenBalanceView>),
        ReadRefusals
    )
)]
pub async fn open_balance(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<FreshParams>,
) -> Result<Reply, ApiError> {
    caller.require(REPORT_READERS)?;
    refresh_if(&state, params.parse()?).await?;
    let balances = state
        .ledger
        .reports_for(&caller.actor())
        .open_balance()
        .await?;
    let balances: Vec<OpenBalanceView> = balances.into_iter().map(Into::into).collect();
    Reply::json(StatusCode::OK, &balances)
}

/// Records a branch's transaction count for a month (for the suspense rate).
#[utoipa::path(
    post,
    path = "/v1/volumes",
    tag = "reports",
    summary = "Record a branch's transactions in a month (for the suspense rate)",
    description = "Roles: supervisor, reporter.",
    params(Idempotency),
    request_body = VolumeBody,
    responses(
        (status = 200, description = "Recorded"),
        WriteRefusals
    )
)]
pub async fn record_volume(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Supervisor, Role::Reporter])?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/volumes", &body)?;
    Ok(request
        .run(|| async move {
            let volume = body.json::<VolumeBody>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let written = state.ledger.record_volume(&actor, volume.clone()).await?;
            let recorded = VolumeView::new(&volume, written.as_ref());
            Reply::json(StatusCode::OK, &recorded)
        })
        .await)
}
