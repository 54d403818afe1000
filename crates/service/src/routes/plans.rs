//! Remediation plans: drafting, their commands, reading them, and their evaluation (JSON, or
//! CSV by `Accept: text/csv` or `format=csv`).
//!
//! Supervisors draft, change and approve plans (the domain refuses an approval by the plan's
//! drafter: a second supervisor approves); reporters and auditors read them.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{post, MethodRouter};
use chrono::{NaiveDate, Utc};
use suspense::store::ExecutedPlan;
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
use crate::idempotency::Idempotent;
use crate::reply::Reply;
use crate::state::AppState;

const PLAN_WRITERS: &[Role] = &[Role::Supervisor];
pub(crate) const PLAN_READERS: &[Role] = &[Role::Supervisor, Role::Reporter, Role::Auditor];

pub(crate) fn plan_id(text: &str) -> Result<PlanId, ApiError> {
    PlanId::parse(text).map_err(|_| ApiError::not_found(format!("no plan {text}")))
}

fn today(state: &AppState) -> NaiveDate {
    state.settings.calendar.local_date(Utc::now())
}

fn plan_reply(plan: &LoadedPlan, status: StatusCode) -> Result<Reply, ApiError> {
    Ok(Reply::json(status, &PlanView::from(plan))?.with_etag(plan.version))
}

/// What a plan command's `decide` sees of its request.
pub struct PlanRequest<'a> {
    body: &'a Body,
    /// The path's parameters (`target`, `measure`).
    path: &'a HashMap<String, String>,
    today: NaiveDate,
}

impl PlanRequest<'_> {
    fn entry(&self, name: &str) -> Result<PlanEntryId, ApiError> {
        let text = self.path.get(name).map_or("", String::as_str);
        Ok(PlanEntryId::parse(text).map_err(|e| e.for_field(name.to_owned()))?)
    }
}

/// A command on one plan as the API takes it: `POST /v1/plans/{id}{path}` by a supervisor,
/// its request turned into the plan's actions by `decide`.
pub struct PlanRoute {
    pub path: &'static str,
    decide: fn(&PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError>,
}

/// Every plan command route. A new command is one line here and its `decide` below.
#[rustfmt::skip]
pub const PLAN_ROUTES: &[PlanRoute] = &[
    PlanRoute { path: "/phases", decide: set_phases },
    PlanRoute { path: "/targets", decide: set_target },
    PlanRoute { path: "/targets/{target}/revise", decide: revise_target },
    PlanRoute { path: "/measures", decide: add_measure },
    PlanRoute { path: "/measures/{measure}/start", decide: start_measure },
    PlanRoute { path: "/measures/{measure}/complete", decide: complete_measure },
    PlanRoute { path: "/measures/{measure}/drop", decide: drop_measure },
    PlanRoute { path: "/approve", decide: approve },
    PlanRoute { path: "/close", decide: close },
];

impl PlanRoute {
    /// The axum handler of this route.
    pub fn handler(&'static self) -> MethodRouter<AppState> {
        post(
            move |State(state): State<AppState>,
                  caller: Caller,
                  headers: HeaderMap,
                  uri: Uri,
                  Path(path): Path<HashMap<String, String>>,
                  body: Body| async move {
                command(state, caller, headers, &uri, path, body, self).await
            },
        )
    }
}

/// Runs `route` on the plan of the path, idempotently, and answers the plan as it stands
/// after it.
async fn command(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    uri: &Uri,
    path: HashMap<String, String>,
    body: Body,
    route: &'static PlanRoute,
) -> Result<Response, ApiError> {
    caller.require(PLAN_WRITERS)?;
    let id = plan_id(path.get("id").map_or("", String::as_str))?;
    let fingerprint = format!("POST {}", uri.path());
    let request = Idempotent::new(&state, &caller, &headers, &fingerprint, &body)?;
    Ok(request
        .run(|| async move {
            let request = PlanRequest {
                body: &body,
                path: &path,
                today: today(&state),
            };
            let actions = (route.decide)(&request)?;
            let actor = super::items::actor(&caller, &headers);
            let executed = state.ledger.execute_plan_all(&actor, id, actions).await?;
            executed_reply(executed, StatusCode::OK)
        })
        .await)
}

fn executed_reply(executed: ExecutedPlan, status: StatusCode) -> Result<Reply, ApiError> {
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
}

fn set_phases(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let phases = phases(&r.body.json::<PhasesBody>()?.phases)?;
    Ok(vec![PlanAction::SetPhases { phases }])
}

fn set_target(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let target = r.body.json::<TargetBody>()?.parse()?;
    Ok(vec![PlanAction::SetTarget { target }])
}

fn revise_target(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    Ok(vec![r
        .body
        .json::<ReviseTargetBody>()?
        .parse(r.entry("target")?)?])
}

fn add_measure(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let measure = r.body.json::<MeasureBody>()?.parse()?;
    Ok(vec![PlanAction::AddMeasure { measure }])
}

fn start_measure(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let note = r.body.json_or_default::<NoteBody>()?.parse()?;
    Ok(vec![PlanAction::StartMeasure {
        measure: r.entry("measure")?,
        note,
    }])
}

fn complete_measure(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let body = r.body.json::<CompleteMeasureBody>()?;
    Ok(vec![body.parse(r.entry("measure")?, r.today)?])
}

fn drop_measure(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let reason = r.body.json::<ReasonBody>()?.parse()?;
    Ok(vec![PlanAction::DropMeasure {
        measure: r.entry("measure")?,
        reason,
    }])
}

fn approve(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let note = r.body.json_or_default::<NoteBody>()?.parse()?;
    Ok(vec![PlanAction::Approve { note }])
}

fn close(r: &PlanRequest<'_>) -> Result<Vec<PlanAction>, ApiError> {
    let note = r.body.json::<ReasonBody>()?.parse()?;
    Ok(vec![PlanAction::Close { note }])
}

/// `POST /v1/plans`: a plan document, drafted with its targets and measures, all or nothing.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(PLAN_WRITERS)?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/plans", &body)?;
    Ok(request
        .run(|| async move {
            let (draft, then) = body.json::<PlanDocument>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let executed = state.ledger.draft_plan(&actor, draft, then).await?;
            let status = if executed.events.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            executed_reply(executed, status)
        })
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

/// `GET /v1/plans/{id}/evaluation?phase=&as_of=&as_known_at=&fresh=&format=`.
pub async fn evaluation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Params(params): Params<EvaluationParams>,
) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    // An evaluation covers the plan's whole scope, across branches.
    caller.require_head_office()?;
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
    caller.require_head_office()?;
    let id = plan_id(&id)?;
    let fingerprint = format!("POST /v1/plans/{id}/evaluations");
    let request = Idempotent::new(&state, &caller, &headers, &fingerprint, &body)?;
    Ok(request
        .run(|| async move {
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
        })
        .await)
}
