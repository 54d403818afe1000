//! Remediation plans: drafting, their commands, reading them, and their evaluation (JSON, or
//! CSV by `Accept: text/csv` or `format=csv`).
//!
//! Supervisors draft, change and approve plans (the domain refuses an approval by the plan's
//! drafter: a second supervisor approves); reporters and auditors read them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use suspense::LoadedPlan;
use suspense_domain::plan::{PlanAction, PlanEntryId, PlanId};

use crate::auth::Role;
use crate::dto::{
    evaluation_csv, phases, CompleteMeasureBody, EvaluationParams, EvaluationView, MeasureBody,
    NoteBody, Params, PhasesBody, PlanDocument, PlanEventView, PlanSummaryView, PlanView,
    ReasonBody, RecordEvaluationBody, ReviseTargetBody, TargetBody,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency;
use crate::reply::Reply;
use crate::state::AppState;

const PLAN_WRITERS: &[Role] = &[Role::Supervisor];
const PLAN_READERS: &[Role] = &[Role::Supervisor, Role::Reporter, Role::Auditor];

fn plan_id(text: &str) -> Result<PlanId, ApiError> {
    PlanId::parse(text).map_err(|_| ApiError::not_found(format!("no plan {text}")))
}

fn entry(field: &str, text: &str) -> Result<PlanEntryId, ApiError> {
    Ok(PlanEntryId::parse(text).map_err(|e| e.for_field(field))?)
}

fn today(state: &AppState) -> NaiveDate {
    state.settings.calendar.local_date(Utc::now())
}

fn plan_reply(plan: &LoadedPlan, status: StatusCode) -> Result<Reply, ApiError> {
    Ok(Reply::json(status, &PlanView::from(plan))?.with_etag(plan.version))
}

/// Runs the actions `decide` makes of the request body on plan `id`, idempotently, and
/// answers the plan as it stands after them.
async fn command(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    id: PlanId,
    route: &str,
    body: Body,
    decide: impl FnOnce(&Body, NaiveDate) -> Result<Vec<PlanAction>, ApiError> + Send,
) -> Result<Response, ApiError> {
    caller.require(PLAN_WRITERS)?;
    let key = idempotency::key(&headers)?;
    let ledger = Arc::clone(&state.ledger);
    let user = caller.0.user.to_string();
    let fingerprint = format!("POST /v1/plans/{id}{route}");
    let raw = body.0.clone();
    Ok(idempotency::once(
        &ledger,
        &user,
        key,
        &[fingerprint.as_bytes(), &raw],
        || async move {
            let actions = decide(&body, today(&state))?;
            let actor = super::items::actor(&caller, &headers);
            let executed = state.ledger.execute_plan_all(&actor, id, actions).await?;
            let state = executed
                .state
                .ok_or_else(|| ApiError::not_found(format!("no plan {id}")))?;
            plan_reply(
                &LoadedPlan {
                    plan_id: id,
                    version: executed.version,
                    state,
                },
                StatusCode::OK,
            )
        },
    )
    .await)
}

/// `POST /v1/plans`: a plan document, drafted with its targets and measures, all or nothing.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(PLAN_WRITERS)?;
    let key = idempotency::key(&headers)?;
    let ledger = Arc::clone(&state.ledger);
    let user = caller.0.user.to_string();
    let raw = body.0.clone();
    Ok(idempotency::once(
        &ledger,
        &user,
        key,
        &[b"POST /v1/plans", &raw],
        || async move {
            let (draft, then) = body.json::<PlanDocument>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let executed = state.ledger.draft_plan(&actor, draft, then).await?;
            let status = if executed.events.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let plan_id = executed.plan_id;
            let state = executed
                .state
                .ok_or_else(|| ApiError::not_found(format!("no plan {plan_id}")))?;
            plan_reply(
                &LoadedPlan {
                    plan_id,
                    version: executed.version,
                    state,
                },
                status,
            )
        },
    )
    .await)
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    let plans = state.ledger.plans().await?;
    let views: Vec<PlanSummaryView> = plans.iter().map(Into::into).collect();
    Reply::json(StatusCode::OK, &views)
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    let id = plan_id(&id)?;
    let plan = state
        .ledger
        .plan(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no plan {id}")))?;
    plan_reply(&plan, StatusCode::OK)
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    let id = plan_id(&id)?;
    let events = state.ledger.plan_history(id).await?;
    if events.is_empty() {
        return Err(ApiError::not_found(format!("no plan {id}")));
    }
    let views = events
        .into_iter()
        .map(PlanEventView::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    Reply::json(StatusCode::OK, &views)
}

pub async fn set_phases(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    command(state, caller, headers, id, "/phases", body, |body, _| {
        let phases = phases(&body.json::<PhasesBody>()?.phases)?;
        Ok(vec![PlanAction::SetPhases { phases }])
    })
    .await
}

pub async fn set_target(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    command(state, caller, headers, id, "/targets", body, |body, _| {
        let target = body.json::<TargetBody>()?.parse()?;
        Ok(vec![PlanAction::SetTarget { target }])
    })
    .await
}

pub async fn revise_target(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, target)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    let route = format!("/targets/{target}/revise");
    command(state, caller, headers, id, &route, body, |body, _| {
        Ok(vec![body.json::<ReviseTargetBody>()?.parse(&target)?])
    })
    .await
}

pub async fn add_measure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    command(state, caller, headers, id, "/measures", body, |body, _| {
        let measure = body.json::<MeasureBody>()?.parse()?;
        Ok(vec![PlanAction::AddMeasure { measure }])
    })
    .await
}

pub async fn start_measure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, measure)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    let route = format!("/measures/{measure}/start");
    command(state, caller, headers, id, &route, body, |body, _| {
        let note = body.json_or_default::<NoteBody>()?.parse()?;
        Ok(vec![PlanAction::StartMeasure {
            measure: entry("measure", &measure)?,
            note,
        }])
    })
    .await
}

pub async fn complete_measure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, measure)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    let route = format!("/measures/{measure}/complete");
    command(state, caller, headers, id, &route, body, |body, today| {
        Ok(vec![body
            .json::<CompleteMeasureBody>()?
            .parse(&measure, today)?])
    })
    .await
}

pub async fn drop_measure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, measure)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    let route = format!("/measures/{measure}/drop");
    command(state, caller, headers, id, &route, body, |body, _| {
        let reason = body.json::<ReasonBody>()?.parse()?;
        Ok(vec![PlanAction::DropMeasure {
            measure: entry("measure", &measure)?,
            reason,
        }])
    })
    .await
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    command(state, caller, headers, id, "/approve", body, |body, _| {
        let note = body.json_or_default::<NoteBody>()?.parse()?;
        Ok(vec![PlanAction::Approve { note }])
    })
    .await
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = plan_id(&id)?;
    command(state, caller, headers, id, "/close", body, |body, _| {
        let note = body.json::<ReasonBody>()?.parse()?;
        Ok(vec![PlanAction::Close { note }])
    })
    .await
}

/// `GET /v1/plans/{id}/evaluation?phase=&as_of=&as_known_at=&fresh=&format=`.
pub async fn evaluation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Params(params): Params<EvaluationParams>,
) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    let id = plan_id(&id)?;
    let calendar = state.settings.calendar;
    let request = params.parse(today(&state), |at| calendar.local_date(at))?;
    let evaluation = match request.as_known_at {
        Some(at) => {
            state
                .ledger
                .evaluate_plan_as_known_at(id, request.phase, request.as_of, at)
                .await?
        }
        None => {
            if request.fresh {
                state.ledger.refresh().await?;
            }
            state
                .ledger
                .evaluate_plan(id, request.phase, request.as_of)
                .await?
        }
    };
    let csv = request
        .csv
        .unwrap_or_else(|| super::reports::accepts_csv(&headers));
    if csv {
        Ok(Reply::csv(
            evaluation_csv(&id.to_string(), &evaluation).map_err(ApiError::internal)?,
        ))
    } else {
        Reply::json(
            StatusCode::OK,
            &EvaluationView::new(id.to_string(), &evaluation),
        )
    }
}

/// `POST /v1/plans/{id}/evaluations`: evaluate a phase on up-to-date read models and record
/// the figures with the log position and chain head (a manager signing the evaluation).
pub async fn record_evaluation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(PLAN_WRITERS)?;
    let id = plan_id(&id)?;
    let key = idempotency::key(&headers)?;
    let ledger = Arc::clone(&state.ledger);
    let user = caller.0.user.to_string();
    let fingerprint = format!("POST /v1/plans/{id}/evaluations");
    let raw = body.0.clone();
    Ok(idempotency::once(
        &ledger,
        &user,
        key,
        &[fingerprint.as_bytes(), &raw],
        || async move {
            let request = body.json_or_default::<RecordEvaluationBody>()?;
            let as_of = request.as_of(today(&state))?;
            let actor = super::items::actor(&caller, &headers);
            let (evaluation, _) = state
                .ledger
                .record_plan_evaluation(&actor, id, request.phase, as_of)
                .await?;
            Reply::json(
                StatusCode::CREATED,
                &EvaluationView::new(id.to_string(), &evaluation),
            )
        },
    )
    .await)
}
