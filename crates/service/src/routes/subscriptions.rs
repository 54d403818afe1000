//! Subscriptions: where each one's delivery stands, a supervisor adding and removing them,
//! and an operator's way to resume a parked one or replay it from a position of the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::auth::Role;
use crate::dto::{ResumeBody, SubscriptionBody, SubscriptionView};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::openapi::responses::{ReadRefusals, WriteRefusals};
use crate::openapi::wire;
use crate::reply::Reply;
use crate::state::AppState;

/// `GET /v1/subscriptions`: supervisors and auditors.
#[utoipa::path(
    get,
    path = "/v1/subscriptions",
    tag = "subscriptions",
    summary = "Where each subscription's delivery stands",
    description = "Roles: supervisor, auditor.",
    responses(
        (status = 200, description = "The subscriptions", body = Vec<SubscriptionView>),
        ReadRefusals
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor, Role::Auditor])?;
    let status = state.delivery.status().await?;
    let views: Vec<SubscriptionView> = status.iter().map(SubscriptionView::from).collect();
    Reply::json(StatusCode::OK, &views)
}

/// `POST /v1/subscriptions`: head-office supervisors (a subscription can carry every
/// branch's events out of the bank's books). 201 with the new subscription; the instance that
/// delivers starts it within a second.
#[utoipa::path(
    post,
    path = "/v1/subscriptions",
    tag = "subscriptions",
    summary = "Add a subscription",
    description = "Roles: supervisor, at head office (a subscription can carry every branch's events). The fields of a `[[subscriptions]]` entry of the configuration: a webhook (`webhook_url` and `webhook_secret`) or a JetStream subject (`nats_server` and `jetstream_subject`), not both. Kept in the database; the instance that delivers starts it within a second. The secret is never returned.",
    request_body = SubscriptionBody,
    responses(
        (status = 201, description = "The subscription as it stands now", body = SubscriptionView),
        WriteRefusals
    )
)]
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
#[utoipa::path(
    delete,
    path = "/v1/subscriptions/{name}",
    tag = "subscriptions",
    summary = "Remove a subscription made through the API",
    description = "Roles: supervisor, at head office. Its checkpoint goes with it: a new subscription of the same name starts afresh. A configured subscription is refused (`subscription_configured`): it goes from the configuration file.",
    params(("name" = wire::SubscriptionName, Path)),
    responses(
        (status = 200, description = "The subscription as it stood when removed", body = SubscriptionView),
        WriteRefusals
    )
)]
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
#[utoipa::path(
    post,
    path = "/v1/subscriptions/{name}/resume",
    tag = "subscriptions",
    summary = "Resume a parked subscription, or replay it from a log position",
    description = "Roles: supervisor. Without a body, delivery goes on with the event it stopped at; with `from_position`, every event after that position is delivered again.",
    params(("name" = wire::SubscriptionName, Path)),
    request_body(content = Option<ResumeBody>, description = "Optional: without a body (or with `null`) delivery goes on where it stopped"),
    responses(
        (status = 200, description = "The subscription as it stands now", body = SubscriptionView),
        WriteRefusals
    )
)]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Body,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let from = body.json_or_default::<ResumeBody>()?.parse()?;
    state.delivery.resume(&name, from).await?;
    tracing::info!(subscription = %name, from_position = ?from, by = %caller.0.user, "delivery resumed");
    Reply::json(StatusCode::OK, &view_of(&state, &name).await?)
}
