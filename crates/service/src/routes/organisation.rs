//! The organisation registry: supervisors publish a version; every role reads it (the
//! branches and teams an operator may name).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;

use crate::auth::Role;
use crate::dto::{OrganisationDocument, OrganisationVersionView, OrganisationView};
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, ReadRefusals, WriteRefusals};
use crate::reply::Reply;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/v1/organisation",
    tag = "organisation",
    summary = "Every version of the organisation registry and the one in force today",
    description = "Roles: operator, supervisor, reporter, auditor.",
    responses(
        (status = 200, description = "The registry", body = OrganisationView),
        ReadRefusals
    )
)]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    caller.require(&[
        Role::Operator,
        Role::Supervisor,
        Role::Reporter,
        Role::Auditor,
    ])?;
    let registry = state.ledger.organisations().await?;
    let today = state.settings.calendar.local_date(Utc::now());
    Reply::json(StatusCode::OK, &OrganisationView::new(&registry, today))
}

#[utoipa::path(
    post,
    path = "/v1/organisation",
    tag = "organisation",
    summary = "Publish the next version of the organisation registry",
    description = "Roles: supervisor.",
    params(Idempotency),
    request_body = OrganisationDocument,
    responses(
        (status = 201, description = "The version published", body = OrganisationVersionView),
        WriteRefusals
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Supervisor])?;
    let request = Idempotent::new(&state, &caller, &headers, "POST /v1/organisation", &body)?;
    Ok(request
        .run(|| async move {
            let command = body.json::<OrganisationDocument>()?.parse()?;
            let actor = super::items::actor(&caller, &headers);
            let published = state.ledger.publish_organisation(&actor, command).await?;
            Reply::json(
                StatusCode::CREATED,
                &OrganisationVersionView::from(&published),
            )
        })
        .await)
}
