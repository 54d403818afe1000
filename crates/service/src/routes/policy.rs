//! The escalation policy (supervisors publish; supervisors, reporters and auditors read), a
//! sweep run on demand (supervisors; the service also sweeps on its own schedule,
//! `sweep_interval_secs`), and what the policy says ahead: the watch list and the
//! provisioning report.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use suspense_domain::InvalidInput;

use super::refresh_if;
use super::reports::wants_csv;
use crate::auth::Role;
use crate::dto::{
    date, provisioning_csv, watch_list_csv, Params, PolicyDocument, PolicyVersionView, PolicyView,
    ProvisioningParams, ProvisioningView, SweepBody, SweepView, WatchListView, WatchParams,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, ReadRefusals, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

const POLICY_READERS: &[Role] = &[Role::Supervisor, Role::Reporter, Role::Auditor];

#[utoipa::path(
    get,
    path = "/v1/policy",
    tag = "policy",
    summary = "The escalation policy's versions",
    description = "Roles: supervisor, reporter, auditor.",
    responses(
        (status = 200, description = "Every version and the one in force today", body = PolicyView),
        ReadRefusals
    )
)]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(POLICY_READERS)?;
    let policies = state.ledger.policies().await?;
    let today = state.settings.calendar.local_date(Utc::now());
    Reply::json(StatusCode::OK, &PolicyView::new(&policies, today))
}

#[utoipa::path(
    post,
    path = "/v1/policy",
    tag = "policy",
    summary = "Publish the next version of the escalation policy",
    description = "Roles: supervisor.",
    params(Idempotency),
    request_body = PolicyDocument,
    responses(
        (status = 201, description = "The version published", body = PolicyVersionView),
        WriteRefusals
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/policy", &body)?;
    Ok(request
        .run(|| async move {
            let command = body.json::<PolicyDocument>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let published = state.ledger.publish_policy(&actor, command).await?;
            Reply::json(StatusCode::CREATED, &PolicyVersionView::from(&published))
        })
        .await)
}

/// The instant of `as_of`: an RFC 3339 time, or a bank-calendar date (its start).
pub fn sweep_instant(
    as_of: Option<&str>,
    calendar: suspense_read_models::ReportingCalendar,
) -> Result<DateTime<Utc>, InvalidInput> {
    let Some(text) = as_of else {
        return Ok(Utc::now());
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    date("as_of", text)
        .map(|day| calendar.start_of_day(day))
        .map_err(|_| {
            InvalidInput::new(
                "as_of",
                format!("'{text}' is neither a date nor an RFC 3339 time"),
            )
        })
}

#[utoipa::path(
    post,
    path = "/v1/sweep",
    tag = "policy",
    summary = "Run the escalation sweep once",
    description = "Roles: supervisor. Idempotent: a second sweep at the same instant writes nothing.",
    request_body(content = Option<SweepBody>, description = "Optional: without a body (or with `null`) the sweep runs as of today"),
    responses(
        (status = 200, description = "What the sweep escalated and the regulatory actions due", body = SweepView),
        WriteRefusals
    )
)]
pub async fn sweep(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let request = body.json_or_default::<SweepBody>()?;
    let at = sweep_instant(request.as_of.as_deref(), state.settings.calendar)?;
    let outcome = state.ledger.sweep(at).await?;
    Reply::json(StatusCode::OK, &SweepView::from(&outcome))
}

/// The watch list: the handling team reads it as well as supervisors, reporters and
/// auditors.
#[utoipa::path(
    get,
    path = "/v1/watchlist",
    tag = "policy",
    summary = "The watch list: items crossing a threshold soon or older than their cause usually takes",
    description = "Roles: operator, supervisor, reporter, auditor.",
    params(WatchParams),
    responses(
        (status = 200, description = "The watch list", content((WatchListView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn watch_list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<WatchParams>,
) -> Result<Reply, ApiError> {
    caller.require(&[
        Role::Operator,
        Role::Supervisor,
        Role::Reporter,
        Role::Auditor,
    ])?;
    let request = params.parse(state.settings.calendar.local_date(Utc::now()))?;
    if let Some(branch) = &request.query.branch {
        state.ledger.known_branch(branch)?;
    }
    refresh_if(&state, request.fresh).await?;
    let list = WatchListView::from(
        &state
            .ledger
            .watch_list(&caller.actor(), &request.query)
            .await?,
    );
    Reply::report(wants_csv(request.format, &headers), &list, watch_list_csv)
}

/// The provisioning / regulatory report as of a date.
#[utoipa::path(
    get,
    path = "/v1/reports/provisioning",
    tag = "policy",
    summary = "Provisions and regulatory actions due under the escalation policy, as of a date",
    description = "Roles: supervisor, reporter, auditor.",
    params(ProvisioningParams),
    responses(
        (status = 200, description = "The report", content((ProvisioningView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
pub async fn provisioning(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Params(params): Params<ProvisioningParams>,
) -> Result<Reply, ApiError> {
    caller.require(POLICY_READERS)?;
    let (as_of, fresh, format) = params.parse(state.settings.calendar.local_date(Utc::now()))?;
    refresh_if(&state, fresh).await?;
    let report = ProvisioningView::from(&state.ledger.provisioning(&caller.actor(), as_of).await?);
    Reply::report(wants_csv(format, &headers), &report, provisioning_csv)
}
