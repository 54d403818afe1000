//! Opening, listing and reading items.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Serialize;
use suspense::Actor;
use suspense_domain::ItemId;
use suspense_read_models::{ItemFilter, RegisterRow};

use super::item_id;
use crate::app::AppState;
use crate::auth::Role;
use crate::dto::{ItemView, OpenItemBody};
use crate::error::ApiError;
use crate::extract::{request_id, Body, Caller};
use crate::idempotency;
use crate::reply::Reply;

const READERS: &[Role] = &[Role::Operator, Role::Supervisor, Role::Auditor];

pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Operator])?;
    let key = idempotency::key(&headers)?;
    let pool = state.ledger.log().pool().clone();
    let user = caller.0.user.to_string();
    let raw = body.0.clone();
    Ok(idempotency::once(
        &pool,
        &user,
        key,
        &[b"POST /v1/items", &raw],
        || async move {
            let item = body.json::<OpenItemBody>()?.parse()?;
            let actor = actor(&caller, &headers);
            let started = Instant::now();
            let result = state.ledger.open_item(&actor, item).await;
            state
                .metrics
                .record("open", outcome(&result), started.elapsed());
            let executed = result?;
            let status = if executed.events.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            executed_reply(executed, status)
        },
    )
    .await)
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    item_reply(&state, item_id(&id)?, StatusCode::OK).await
}

#[derive(Serialize)]
struct Page {
    items: Vec<RegisterRow>,
    /// Pass as `after` to get the next page; absent on the last page.
    next_after: Option<String>,
}

/// The register (read model), filtered: `status`, `branch`, `category`, `team`, `assignee`,
/// `min_age_days`, paged by `after` and `limit` (default 50, at most 500).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    let limit = match params.get("limit") {
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                ApiError::from(suspense_domain::InvalidInput::new(
                    "limit",
                    "must be a number from 1 to 500",
                ))
            })?,
        None => 50,
    };
    let booked_on_or_before = match params.get("min_age_days") {
        Some(text) => {
            let days: i64 = text.parse().ok().filter(|d| *d >= 0).ok_or_else(|| {
                ApiError::from(suspense_domain::InvalidInput::new(
                    "min_age_days",
                    "must be a whole number of days",
                ))
            })?;
            Some(state.settings.calendar.local_date(Utc::now()) - Duration::days(days))
        }
        None => None,
    };
    let filter = ItemFilter {
        status: params.get("status").cloned(),
        branch: params.get("branch").cloned(),
        category: params.get("category").cloned(),
        team: params.get("team").cloned(),
        assignee: params.get("assignee").cloned(),
        booked_on_or_before,
        after: params.get("after").cloned(),
        limit,
    };
    let items = state.ledger.reports().items(&filter).await?;
    let next_after = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.item_id.clone()))
        .flatten();
    Reply::json(StatusCode::OK, &Page { items, next_after })
}

pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Auditor, Role::Supervisor])?;
    let id = item_id(&id)?;
    let history = state.ledger.history(id).await?;
    if history.is_empty() {
        return Err(ApiError::not_found(format!("no item {id}")));
    }
    Reply::json(StatusCode::OK, &history)
}

/// The reply to a command: the item as the command left it (no second load).
pub(crate) fn executed_reply(
    executed: suspense::Executed,
    status: StatusCode,
) -> Result<Reply, ApiError> {
    let suspense::Executed {
        item_id,
        version,
        state,
        ..
    } = executed;
    let state = state.ok_or_else(|| ApiError::not_found(format!("no item {item_id}")))?;
    view_reply(
        suspense::LoadedItem {
            item_id,
            version,
            state,
        },
        status,
    )
}

pub(crate) async fn item_reply(
    state: &AppState,
    id: ItemId,
    status: StatusCode,
) -> Result<Reply, ApiError> {
    let item = state
        .ledger
        .item(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no item {id}")))?;
    view_reply(item, status)
}

/// An item as the API shows it, with its version as `ETag`.
fn view_reply(item: suspense::LoadedItem, status: StatusCode) -> Result<Reply, ApiError> {
    let version = item.version;
    Ok(Reply::json(status, &ItemView::from(item))?.with_etag(version))
}

pub(crate) fn actor(caller: &Caller, headers: &HeaderMap) -> Actor {
    let actor = Actor::new(caller.0.user.clone()).with_source("http");
    match request_id(headers) {
        Some(id) => actor.with_request_id(id),
        None => actor,
    }
}

pub(crate) fn outcome<T>(result: &Result<T, suspense::Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(suspense::Error::Rejected(_)) => "rejected",
        Err(suspense::Error::Conflict { .. } | suspense::Error::VersionMismatch { .. }) => {
            "conflict"
        }
        Err(_) => "error",
    }
}
