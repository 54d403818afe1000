//! Incidents: supervisors open them, link and unlink items, resolve them and see the items
//! an incident may have caused; supervisors, auditors and reporters read them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use suspense_domain::incident::{IncidentAction, IncidentReference};

use crate::auth::Role;
use crate::dto::{
    CandidateView, IncidentShareView, IncidentView, LinkBody, OpenIncidentBody, Params,
    PeriodParams, ResolveIncidentBody, SuggestionParams, UnlinkBody,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{ReadRefusals, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

const READERS: &[Role] = &[Role::Supervisor, Role::Auditor, Role::Reporter];

fn reference(text: &str) -> Result<IncidentReference, ApiError> {
    Ok(IncidentReference::parse(text)?)
}

/// What an incident route does with its body: its name for idempotency keys, the incident,
/// the status of a success, and how the body becomes the action.
struct IncidentRoute {
    route: &'static str,
    reference: IncidentReference,
    status: StatusCode,
    parse: fn(&Body) -> Result<IncidentAction, ApiError>,
}

/// Runs one incident action from a body, idempotently, and answers the incident as it left.
async fn act(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
    incident: IncidentRoute,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let IncidentRoute {
        route,
        reference,
        status,
        parse,
    } = incident;
    let request = Idempotent::new(&state, &caller, &headers, route, &body)?;
    Ok(request
        .run(|| async move {
            let action = parse(&body)?;
            let actor = super::items::actor(&caller, &headers);
            let incident = state
                .ledger
                .execute_incident(&actor, &reference, action)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no incident {reference}")))?;
            Reply::json(status, &IncidentView::new(&incident))
        })
        .await)
}

#[utoipa::path(
    post,
    path = "/v1/incidents",
    tag = "incidents",
    summary = "Open an incident (one cause behind many items); the same again is a repeat",
    description = "Roles: supervisor.",
    request_body = OpenIncidentBody,
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        (status = 201, description = "Opened", body = IncidentView),
        WriteRefusals
    )
)]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let (reference, _) = body.json::<OpenIncidentBody>()?.parse()?;
    act(
        state,
        caller,
        headers,
        body,
        IncidentRoute {
            route: "POST /v1/incidents",
            reference,
            status: StatusCode::CREATED,
            parse: |body| Ok(body.json::<OpenIncidentBody>()?.parse()?.1),
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/v1/incidents/{id}/links",
    tag = "incidents",
    summary = "Link up to 1,000 items at once; those linked already are passed over; an unknown item refuses the whole link (items[i])",
    description = "Roles: supervisor.",
    params(("id" = wire::Uuid, Path)),
    request_body = LinkBody,
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        WriteRefusals
    )
)]
pub async fn link(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let reference = reference(&id)?;
    act(
        state,
        caller,
        headers,
        body,
        IncidentRoute {
            route: "POST /v1/incidents/{reference}/links",
            reference,
            status: StatusCode::OK,
            parse: |body| Ok(body.json::<LinkBody>()?.parse()?),
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/v1/incidents/{id}/unlink",
    tag = "incidents",
    summary = "Unlink one item with a reason",
    description = "Roles: supervisor.",
    params(("id" = wire::Uuid, Path)),
    request_body = UnlinkBody,
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        WriteRefusals
    )
)]
pub async fn unlink(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let reference = reference(&id)?;
    act(
        state,
        caller,
        headers,
        body,
        IncidentRoute {
            route: "POST /v1/incidents/{reference}/unlink",
            reference,
            status: StatusCode::OK,
            parse: |body| Ok(body.json::<UnlinkBody>()?.parse()?),
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/v1/incidents/{id}/resolve",
    tag = "incidents",
    summary = "Resolve the incident; no item is linked or unlinked after",
    description = "Roles: supervisor.",
    params(("id" = wire::Uuid, Path)),
    request_body = ResolveIncidentBody,
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        WriteRefusals
    )
)]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let reference = reference(&id)?;
    act(
        state,
        caller,
        headers,
        body,
        IncidentRoute {
            route: "POST /v1/incidents/{reference}/resolve",
            reference,
            status: StatusCode::OK,
            parse: |body| Ok(body.json::<ResolveIncidentBody>()?.parse()?),
        },
    )
    .await
}

#[utoipa::path(
    get,
    path = "/v1/incidents",
    tag = "incidents",
    summary = "Every incident with its linked items",
    description = "Roles: supervisor, auditor, reporter.",
    responses(
        (status = 200, description = "The incidents", body = Vec<IncidentView>),
        ReadRefusals
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    let incidents: Vec<IncidentView> = state
        .ledger
        .incidents()
        .await?
        .values()
        .map(IncidentView::new)
        .collect();
    Reply::json(StatusCode::OK, &incidents)
}

#[utoipa::path(
    get,
    path = "/v1/incidents/{id}",
    tag = "incidents",
    summary = "An incident with the figures of its linked items (items, amounts per currency, time to clear)",
    description = "Roles: supervisor, auditor, reporter.",
    params(("id" = wire::Uuid, Path)),
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        ReadRefusals
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    let reference = reference(&id)?;
    state.ledger.refresh().await?;
    let report = state
        .ledger
        .incident_report(&caller.actor(), &reference)
        .await?;
    Reply::json(StatusCode::OK, &IncidentView::from(&report))
}

#[utoipa::path(
    get,
    path = "/v1/incidents/{id}/suggestions",
    tag = "incidents",
    summary = "Items booked in the incident's window with its cause, a channel it affected or its counterparty, linked to no incident, ranked by score; never linked on their own",
    description = "Roles: supervisor.",
    params(("id" = wire::Uuid, Path), SuggestionParams),
    responses(
        (status = 200, description = "The candidates, best first", body = Vec<CandidateView>),
        ReadRefusals
    )
)]
pub async fn suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(params): Params<SuggestionParams>,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let reference = reference(&id)?;
    let limit = params.parse()?;
    state.ledger.refresh().await?;
    let candidates: Vec<CandidateView> = state
        .ledger
        .incident_suggestions(&caller.actor(), &reference, limit)
        .await?
        .into_iter()
        .map(CandidateView::from)
        .collect();
    Reply::json(StatusCode::OK, &candidates)
}

#[utoipa::path(
    get,
    path = "/v1/reports/incident-share",
    tag = "incidents",
    summary = "Per cause, the items booked in a period and the share of them linked to an incident",
    description = "Roles: supervisor, auditor, reporter.",
    params(PeriodParams),
    responses(
        (status = 200, description = "Per category", body = Vec<IncidentShareView>),
        ReadRefusals
    )
)]
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<PeriodParams>,
) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    let (from, to) = params.parse()?;
    state.ledger.refresh().await?;
    let shares: Vec<IncidentShareView> = state
        .ledger
        .incident_share(&caller.actor(), from, to)
        .await?
        .into_iter()
        .map(IncidentShareView::from)
        .collect();
    Reply::json(StatusCode::OK, &shares)
}
