//! Opening, listing and reading items.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use suspense::Actor;
use suspense_domain::{BranchCode, ItemId, TeamId};

use super::item_id;
use crate::auth::Role;
use crate::dto::{EventView, ItemListParams, ItemPage, ItemRow, ItemView, OpenItemBody, Params};
use crate::error::ApiError;
use crate::extract::{request_id, Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, ReadRefusals, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

const READERS: &[Role] = &[Role::Operator, Role::Supervisor, Role::Auditor];

#[utoipa::path(
    post,
    path = "/v1/items",
    tag = "items",
    summary = "Open an item (idempotent on source_system + reference)",
    description = "Roles: operator.",
    params(Idempotency),
    request_body = OpenItemBody,
    responses(
        (status = 201, description = "The item's new state", body = ItemView),
        (status = 200, description = "Already open with the same facts", body = ItemView),
        WriteRefusals
    )
)]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Operator])?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/items", &body)?;
    Ok(request
        .run(|| async move {
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
        })
        .await)
}

#[utoipa::path(
    get,
    path = "/v1/items/{id}",
    tag = "items",
    summary = "An item's current state",
    description = "Roles: operator, supervisor, auditor.",
    params(("id" = wire::Uuid, Path)),
    responses(
        (status = 200, description = "The item's new state", body = ItemView),
        ReadRefusals
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(READERS)?;
    item_reply(&state, &caller, item_id(&id)?, StatusCode::OK).await
}

/// The register (read model), filtered by `ItemListParams` and paged by `after` and `limit`.
#[utoipa::path(
    get,
    path = "/v1/items",
    tag = "items",
    summary = "List items from the register",
    description = "Roles: operator, supervisor, auditor.",
    params(ItemListParams),
    responses(
        (status = 200, description = "A page of register rows; next_after pages on", body = ItemPage),
        ReadRefusals
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<ItemListParams>,
) -> Result<Reply, ApiError> {
    let (rows, next_after) = register_page(&state, &caller, params, |_| {}).await?;
    let items = rows.into_iter().map(ItemRow::from).collect();
    Reply::json(StatusCode::OK, &ItemPage { items, next_after })
}

/// A page of the register as `caller` may read it, and the `after` of the next page if
/// there may be one: the list of the API and the console's worklist (which `adjust`s the
/// filter's order).
pub(crate) async fn register_page(
    state: &AppState,
    caller: &Caller,
    params: ItemListParams,
    adjust: impl FnOnce(&mut suspense_read_models::ItemFilter),
) -> Result<(Vec<suspense_read_models::RegisterRow>, Option<String>), ApiError> {
    caller.require(READERS)?;
    let mut filter = params.parse(state.settings.calendar.local_date(Utc::now()))?;
    adjust(&mut filter);
    if let Some(branch) = &filter.branch {
        state.ledger.known_branch(&BranchCode::parse(branch)?)?;
    }
    if let Some(team) = &filter.team {
        state.ledger.known_team(&TeamId::parse(team)?)?;
    }
    let actor = caller.actor();
    let rows = state.ledger.reports_for(&actor).items(&filter).await?;
    let next_after = (rows.len() == filter.limit as usize)
        .then(|| rows.last().map(|r| r.item_id.clone()))
        .flatten();
    Ok((rows, next_after))
}

#[utoipa::path(
    get,
    path = "/v1/items/{id}/events",
    tag = "items",
    summary = "An item's history: every event with who, when, and request metadata",
    description = "Roles: auditor, supervisor.",
    params(("id" = wire::Uuid, Path)),
    responses(
        (status = 200, description = "Events oldest first; a ClearingRecorded that belongs to a clearing allocated across items carries `allocation` with every item's share", body = Vec<EventView>),
        ReadRefusals
    )
)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Reply, ApiError> {
    caller.require(&[Role::Auditor, Role::Supervisor])?;
    let id = item_id(&id)?;
    let history = state
        .ledger
        .history_for(&caller.actor(), id)
        .await?
        .unwrap_or_default();
    if history.is_empty() {
        return Err(ApiError::not_found(format!("no item {id}")));
    }
    let allocations = state.ledger.allocations_in(&history).await?;
    let events = history
        .into_iter()
        .map(|recorded| EventView::new(recorded, &allocations))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    Reply::json(StatusCode::OK, &events)
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
    caller: &Caller,
    id: ItemId,
    status: StatusCode,
) -> Result<Reply, ApiError> {
    let item = state
        .ledger
        .item_for(&caller.actor(), id)
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
    let actor = caller.actor().with_source("http");
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
