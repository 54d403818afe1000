//! Where each subscription's delivery stands, and an operator's way to resume a parked one
//! or replay it from a position of the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::auth::Role;
use crate::dto::{ResumeBody, SubscriptionView};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::reply::Reply;
use crate::state::AppState;

/// `GET /v1/subscriptions`: supervisors and auditors.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor, Role::Auditor])?;
    let status = state.delivery.status().await?;
    let views: Vec<SubscriptionView> = status.iter().map(SubscriptionView::from).collect();
    Reply::json(StatusCode::OK, &views)
}

/// `POST /v1/subscriptions/{name}/resume`: supervisors; `{"from_position": N}` replays every
/// event after position N.
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Body,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let from = if body.0.is_empty() {
        None
    } else {
        body.json::<ResumeBody>()?.from_position
    };
    state.delivery.resume(&name, from).await?;
    tracing::info!(subscription = %name, from_position = ?from, by = %caller.0.user, "delivery resumed");
    let status = state.delivery.status().await?;
    let view = status
        .iter()
        .find(|s| s.name == name)
        .map(SubscriptionView::from)
        .ok_or_else(|| ApiError::not_found(format!("no subscription {name}")))?;
    Reply::json(StatusCode::OK, &view)
}
