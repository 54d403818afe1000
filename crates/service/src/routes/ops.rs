//! Health, readiness and metrics: unauthenticated, for load balancers and scrapers.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::Observed;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Liveness",
    security(()),
    responses(
        (status = 200, description = "ok")
    )
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers; reports each read model's lag behind the log.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    summary = "Readiness: database reachable, read-model lag",
    security(()),
    responses(
        (status = 200, description = "ready"),
        (status = 503, description = "database unavailable")
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.ledger.projector().status().await {
        Ok(status) => {
            let lag: Vec<_> = status
                .iter()
                .map(|s| json!({"read_model": s.read_model, "lag": s.lag, "last_error": s.last_error}))
                .collect();
            // A parked subscription needs an operator; the service still serves.
            let subscriptions: Vec<_> = state
                .delivery
                .status()
                .await
                .unwrap_or_default()
                .iter()
                .map(|s| json!({"subscription": s.name, "lag": s.lag, "parked": s.parked_at.is_some(), "last_error": s.last_error}))
                .collect();
            (
                StatusCode::OK,
                Json(json!({
                    "database": "ok",
                    "read_models": lag,
                    "subscriptions": subscriptions,
                    "instance": state.instance,
                    "leader": state.leading.load(Ordering::Relaxed),
                })),
            )
                .into_response()
        }
        Err(err) => {
            tracing::warn!(error = %err, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"database": "unavailable"})),
            )
                .into_response()
        }
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    security(()),
    responses(
        (status = 200, description = "text exposition format")
    )
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let lag: Vec<(String, u64)> = match state.ledger.projector().status().await {
        Ok(status) => status
            .into_iter()
            .map(|s| (s.read_model.to_owned(), s.lag))
            .collect(),
        Err(_) => Vec::new(),
    };
    let projector = state.ledger.projector().metrics();
    let pool = state.ledger.log().pool().usage();
    let subscriptions = state.delivery.status().await.unwrap_or_default();
    let body = state.metrics.render(&Observed {
        lag: &lag,
        events_applied: projector.events_applied.load(Ordering::Relaxed),
        poisoned: projector.poisoned_events.load(Ordering::Relaxed),
        pool: (pool.in_use, pool.idle, pool.max),
        instance: &state.instance,
        leading: state.leading.load(Ordering::Relaxed),
        subscriptions: &subscriptions,
    });
    ([("content-type", "text/plain; version=0.0.4")], body).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This document",
    security(()),
    responses(
        (status = 200, description = "OpenAPI 3.1")
    )
)]
/// The OpenAPI 3.1 description of this API, derived from its types (`crate::openapi`); a test
/// checks that it names exactly the routes the router serves.
pub async fn openapi() -> Response {
    (
        [("content-type", "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}
