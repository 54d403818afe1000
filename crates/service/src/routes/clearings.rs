//! `POST /v1/clearings`: one clearing allocated across several items (operators, as for a
//! clearing on one item), all or none.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::auth::Role;
use crate::dto::{AllocationBody, AllocationView};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/v1/clearings",
    tag = "clearings",
    summary = "Record one clearing allocated across several items, all or none",
    description = "Roles: operator.",
    params(Idempotency),
    request_body = AllocationBody,
    responses(
        (status = 201, description = "The allocation (201 written, 200 recorded before: nothing written)", body = AllocationView),
        (status = 200, description = "The allocation (201 written, 200 recorded before: nothing written)", body = AllocationView),
        WriteRefusals
    )
)]
pub async fn allocate(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Operator])?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/clearings", &body)?;
    Ok(request
        .run(|| async move {
            let allocation = body.json::<AllocationBody>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let written = state
                .ledger
                .allocate_clearing(&actor, allocation.clone())
                .await?;
            let (status, recorded) = match written {
                Some(_) => (StatusCode::CREATED, true),
                None => (StatusCode::OK, false),
            };
            Reply::json(status, &AllocationView::new(&allocation, recorded))
        })
        .await)
}
