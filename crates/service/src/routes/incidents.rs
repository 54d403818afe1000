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
