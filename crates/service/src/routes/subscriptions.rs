//! Subscriptions: where each one's delivery stands, a supervisor adding and removing them,
//! and an operator's way to resume a parked one or replay it from a position of the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::auth::Role;
use crate::dto::{ResumeBody, SubscriptionBody, SubscriptionView};
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

/// `POST /v1/subscriptions`: head-office supervisors (a subscription can carry every
/// branch's events out of the bank's books). 201 with the new subscription; the instance that
/// delivers starts it within a second.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    caller.require_head_office()?;
    let spec = body.json::<SubscriptionBody>()?.spec();
    let at = state.ledger.log().services().clock.now();
    let added = state
        .delivery
        .add(&spec, caller.0.user.as_str(), at)
        .await?;
    tracing::info!(subscription = %added.name, by = %caller.0.user, "subscription added");
    Reply::json(
        StatusCode::CREATED,
        &view_of(&state, added.name.as_str()).await?,
    )
}

/// `DELETE /v1/subscriptions/{name}`: head-office supervisors; one made through the API. 200
/// with the subscription as it stood when removed.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    caller.require_head_office()?;
    let last = view_of(&state, &name).await;
    state.delivery.remove(&name).await?;
    tracing::info!(subscription = %name, by = %caller.0.user, "subscription removed");
    Reply::json(StatusCode::OK, &last?)
}

/// The view of subscription `name` as it stands now.
async fn view_of(state: &AppState, name: &str) -> Result<SubscriptionView, ApiError> {
    let status = state.delivery.status().await?;
    status
        .iter()
        .find(|s| s.name == name)
        .map(SubscriptionView::from)
        .ok_or_else(|| ApiError::not_found(format!("no subscription {name}")))
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
    Reply::json(StatusCode::OK, &view_of(&state, &name).await?)
}
