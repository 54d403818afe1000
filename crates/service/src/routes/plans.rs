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

use super::refresh_if;
use crate::auth::Role;
use crate::dto::{
    evaluation_csv, phases, CompleteMeasureBody, EvaluationParams, EvaluationView, MeasureBody,
    NoteBody, Params, PhasesBody, PlanDocument, PlanEventView, PlanSummaryView, PlanView,
    ReasonBody, RecordEvaluationBody, ReviseTargetBody, TargetBody,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, ReadRefusals, WriteRefusals};
use crate::openapi::{roles, schema_ref, wire, BodySchema, TableCommand};
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
    /// What the command does, and the body it takes, for the API's description.
    summary: &'static str,
    body: BodySchema,
}

/// Every plan command route. A new command is one line here and its `decide` below.
#[rustfmt::skip]
pub const PLAN_ROUTES: &[PlanRoute] = &[
    PlanRoute { path: "/phases", decide: set_phases,
        summary: "Replace the phases (while drafted)", body: BodySchema::of::<PhasesBody>() },
    PlanRoute { path: "/targets", decide: set_target,
        summary: "Add a target (while drafted)", body: BodySchema::of::<TargetBody>() },
    PlanRoute { path: "/targets/{target}/revise", decide: revise_target,
        summary: "Revise a target's figure, with the reason", body: BodySchema::of::<ReviseTargetBody>() },
    PlanRoute { path: "/measures", decide: add_measure,
        summary: "Add a measure", body: BodySchema::of::<MeasureBody>() },
    PlanRoute { path: "/measures/{measure}/start", decide: start_measure,
        summary: "Start a measure", body: BodySchema::optional::<NoteBody>() },
    PlanRoute { path: "/measures/{measure}/complete", decide: complete_measure,
        summary: "Complete a measure, with its evidence", body: BodySchema::of::<CompleteMeasureBody>() },
    PlanRoute { path: "/measures/{measure}/drop", decide: drop_measure,
        summary: "Drop a measure, with the reason", body: BodySchema::of::<ReasonBody>() },
    PlanRoute { path: "/approve", decide: approve,
        summary: "Approve the plan (a supervisor other than its drafter)", body: BodySchema::optional::<NoteBody>() },
    PlanRoute { path: "/close", decide: close,
        summary: "Close the plan, with a note (as reason)", body: BodySchema::of::<ReasonBody>() },
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
#[utoipa::path(
    post,
    path = "/v1/plans",
    tag = "plans",
    summary = "Draft a plan with its phases, targets and measures (all or nothing)",
    description = "Roles: supervisor. 201 when drafted, 200 for an identical repeat, 409 for other content under the same reference.",
    params(Idempotency),
    request_body = PlanDocument,
    responses(
        (status = 201, description = "Drafted", body = PlanView),
        (status = 200, description = "An identical draft was there already: nothing written", body = PlanView),
        WriteRefusals
    )
)]
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

#[utoipa::path(
    get,
    path = "/v1/plans",
    tag = "plans",
    summary = "Every plan: id, reference, name, owner, status and counts",
    description = "Roles: supervisor, reporter, auditor.",
    responses(
        (status = 200, description = "OK", body = Vec<PlanSummaryView>),
        ReadRefusals
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(PLAN_READERS)?;
    let plans = state.ledger.plans().await?;
    let views: Vec<PlanSummaryView> = plans.iter().map(Into::into).collect();
    Reply::json(StatusCode::OK, &views)
}

#[utoipa::path(
    get,
    path = "/v1/plans/{id}",
    tag = "plans",
    summary = "A plan as it stands",
    description = "Roles: supervisor, reporter, auditor.",
    params(("id" = wire::Uuid, Path)),
    responses(
        (status = 200, description = "OK", body = PlanView),
        ReadRefusals
    )
)]
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

#[utoipa::path(
    get,
    path = "/v1/plans/{id}/history",
    tag = "plans",
    summary = "Every event of the plan, with who recorded it and when",
    description = "Roles: supervisor, reporter, auditor.",
    params(("id" = wire::Uuid, Path)),
    responses(
        (status = 200, description = "OK", body = Vec<PlanEventView>),
        ReadRefusals
    )
)]
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
#[utoipa::path(
    get,
    path = "/v1/plans/{id}/evaluation",
    tag = "plans",
    summary = "A phase's evaluation",
    description = "Roles: supervisor, reporter, auditor.",
    params(("id" = wire::Uuid, Path), EvaluationParams),
    responses(
        (status = 200, description = "OK", content((EvaluationView = "application/json"), (String = "text/csv"))),
        ReadRefusals
    )
)]
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
            refresh_if(&state, request.fresh).await?;
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
#[utoipa::path(
    post,
    path = "/v1/plans/{id}/evaluations",
    tag = "plans",
    summary = "Record a phase's evaluation as signed (figures, log position and chain head)",
    description = "Roles: supervisor.",
    params(("id" = wire::Uuid, Path), Idempotency),
    request_body = RecordEvaluationBody,
    responses(
        (status = 201, description = "The evaluation recorded", body = EvaluationView),
        WriteRefusals
    )
)]
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

/// Describes every plan command route in the API's document.
pub struct Described;

impl utoipa::Modify for Described {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::IntoParams;
        let answer = schema_ref::<PlanView>(openapi);
        let id = schema_ref::<wire::Uuid>(openapi);
        let entry = schema_ref::<wire::PlanEntryId>(openapi);
        let headers = crate::openapi::responses::Idempotency::into_params(|| None);
        for route in PLAN_ROUTES {
            let mut path_params = vec![("id", id.clone())];
            for name in ["target", "measure"] {
                if route.path.contains(&format!("{{{name}}}")) {
                    path_params.push((name, entry.clone()));
                }
            }
            TableCommand {
                tag: "plans",
                summary: route.summary,
                description: roles(PLAN_WRITERS),
                path_params,
                headers: headers.clone(),
                body: route.body,
                answer: answer.clone(),
                ok: vec![(200, "The plan as it stands after the command")],
            }
            .add_to(openapi, format!("/v1/plans/{{id}}{}", route.path));
        }
    }
}
