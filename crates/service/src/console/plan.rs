//! A remediation plan's page: its phases, each target's actual figure against its baseline
//! and target as a progress bar with the verdict, the measures and their effect. The plan and
//! its evaluation are read as `GET /v1/plans/{id}` and `.../evaluation` read them, with the
//! same roles (an evaluation covers the whole bank: head office only).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::page::{error_page, respond, Ctx};
use super::session::Viewer;
use crate::dto::{EvaluationView, PlanSummaryView, PlanView, TargetEvaluationView};
use crate::error::ApiError;
use crate::routes::plans::{plan_id, PLAN_READERS};
use crate::state::AppState;

/// A target of the evaluation, with how far the actual figure has come from the baseline
/// towards the target.
pub struct TargetLine {
    pub view: TargetEvaluationView,
    /// 0–100, when baseline, actual and target are all known and differ.
    pub progress: Option<u32>,
}

impl TargetLine {
    fn new(view: TargetEvaluationView) -> Self {
        let figure = |v: &Option<String>| v.as_deref().and_then(|t| t.parse::<Decimal>().ok());
        let progress = match (
            figure(&view.baseline),
            figure(&view.actual),
            figure(&view.target_value),
        ) {
            (Some(baseline), Some(actual), Some(target)) if baseline != target => {
                let share = (baseline - actual) / (baseline - target) * Decimal::from(100);
                let clamped = share.clamp(Decimal::ZERO, Decimal::from(100));
                u32::try_from(clamped.round().mantissa()).ok()
            }
            _ => None,
        };
        Self { view, progress }
    }
}

#[derive(Template)]
#[template(path = "console/plan.html")]
pub struct PlanPage {
    pub ctx: Ctx,
    pub plan: PlanView,
    pub evaluation: Option<EvaluationView>,
    pub targets: Vec<TargetLine>,
    /// Why there is no evaluation, if there is none.
    pub no_evaluation: Option<String>,
}

#[derive(Template)]
#[template(path = "console/plans.html")]
pub struct PlansPage {
    pub ctx: Ctx,
    pub plans: Vec<PlanSummaryView>,
}

/// `GET /console/plans`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Response {
    let ctx = Ctx::for_viewer(&viewer, "/console/plans");
    let plans = async {
        viewer.caller.require(PLAN_READERS)?;
        Ok::<_, ApiError>(state.ledger.plans().await?)
    }
    .await;
    match plans {
        Ok(plans) => {
            let page = PlansPage {
                plans: plans.iter().map(Into::into).collect(),
                ctx,
            };
            respond(StatusCode::OK, &page)
        }
        Err(err) => error_page(ctx, &err),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PlanQuery {
    phase: Option<String>,
}

/// `GET /console/plans/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<PlanQuery>,
) -> Response {
    let ctx = Ctx::for_viewer(&viewer, &format!("/console/plans/{id}"));
    let found = async {
        viewer.caller.require(PLAN_READERS)?;
        let plan_id = plan_id(&id)?;
        let phase = query
            .phase
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.trim().parse::<u32>().map_err(|_| {
                    ApiError::from(suspense_domain::InvalidInput::new(
                        "phase",
                        "must be a phase number",
                    ))
                })
            })
            .transpose()?;
        let plan = state
            .ledger
            .plan(plan_id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no plan {id}")))?;
        let evaluation = if viewer.caller.0.is_head_office() {
            let today = state.settings.calendar.local_date(Utc::now());
            match state.ledger.evaluate_plan(plan_id, phase, today).await {
                Ok(evaluation) => Ok(EvaluationView::new(plan_id.to_string(), &evaluation)),
                Err(err) => Err(ctx.localised(ApiError::from(err)).message),
            }
        } else {
            Err(ctx.t.head_office_only.to_owned())
        };
        Ok::<_, ApiError>((PlanView::from(&plan), evaluation))
    }
    .await;
    match found {
        Ok((plan, evaluation)) => {
            let (evaluation, no_evaluation) = match evaluation {
                Ok(evaluation) => (Some(evaluation), None),
                Err(reason) => (None, Some(reason)),
            };
            let mut evaluation = evaluation;
            let targets = evaluation
                .as_mut()
                .map(|e| std::mem::take(&mut e.targets))
                .unwrap_or_default()
                .into_iter()
                .map(TargetLine::new)
                .collect();
            let page = PlanPage {
                ctx,
                plan,
                evaluation,
                targets,
                no_evaluation,
            };
            respond(StatusCode::OK, &page)
        }
        Err(err) => error_page(ctx, &err),
    }
}
