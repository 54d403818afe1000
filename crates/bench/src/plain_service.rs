//! The plain cqrs-es baseline served over HTTP the way the framework's demo service does it
//! (`cqrs-demo`: axum, `postgres_cqrs` / `sqlite_cqrs`, a `GenericQuery` view updated after
//! each command, no authentication), so the suspense service is compared with a service and
//! not only with an in-process call. It runs as its own process (`suspense-bench
//! plain-serve`), like the suspense service, and takes the same requests: the load tool's
//! `Http` target drives both.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cqrs_es::AggregateError;
use suspense_domain::{ItemAction, ItemId, Note};
use suspense_service::dto::{
    AssignBody, ClassifyBody, ClearingBody, CommentBody, OpenItemBody, ResolveBody,
};

use crate::load::PlainCqrs;

type Plain = Arc<PlainCqrs>;

/// Serves `url`'s plain cqrs-es on `listen`; prints `listening on http://…` once ready.
pub async fn serve(url: &str, listen: &str) -> Result<(), Box<dyn std::error::Error>> {
    let plain: Plain = Arc::new(PlainCqrs::open(url).await);
    let app = Router::new()
        .route("/v1/items", post(open))
        .route("/v1/items/{id}", get(view))
        .route("/v1/items/{id}/classify", post(classify))
        .route("/v1/items/{id}/assign", post(assign))
        .route("/v1/items/{id}/clearings", post(clearing))
        .route("/v1/items/{id}/resolve", post(resolve))
        .route("/v1/items/{id}/comments", post(comment))
        .with_state(plain);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn run(plain: &PlainCqrs, id: &str, action: ItemAction) -> Response {
    match plain.execute(id, action).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(AggregateError::AggregateConflict) => StatusCode::CONFLICT.into_response(),
        Err(AggregateError::UserError(e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn bad_request(e: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, e.to_string()).into_response()
}

/// Runs a parsed command, or answers 400 for a body that did not parse.
async fn act(
    plain: &PlainCqrs,
    id: &str,
    action: Result<ItemAction, impl std::fmt::Display>,
) -> Response {
    match action {
        Ok(action) => run(plain, id, action).await,
        Err(e) => bad_request(e),
    }
}

async fn open(State(plain): State<Plain>, Json(body): Json<OpenItemBody>) -> Response {
    match body.parse() {
        Ok(item) => {
            let id = ItemId::for_reference(&item.reference).to_string();
            run(&plain, &id, ItemAction::Open(item)).await
        }
        Err(e) => bad_request(e),
    }
}

async fn view(State(plain): State<Plain>, Path(id): Path<String>) -> Response {
    match plain.view(&id).await {
        Ok(Some(summary)) => Json(summary).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn classify(
    State(plain): State<Plain>,
    Path(id): Path<String>,
    Json(body): Json<ClassifyBody>,
) -> Response {
    act(&plain, &id, body.parse()).await
}

async fn assign(
    State(plain): State<Plain>,
    Path(id): Path<String>,
    Json(body): Json<AssignBody>,
) -> Response {
    act(&plain, &id, body.parse()).await
}

async fn clearing(
    State(plain): State<Plain>,
    Path(id): Path<String>,
    Json(body): Json<ClearingBody>,
) -> Response {
    act(&plain, &id, body.parse()).await
}

async fn resolve(
    State(plain): State<Plain>,
    Path(id): Path<String>,
    Json(body): Json<ResolveBody>,
) -> Response {
    act(&plain, &id, body.parse().map(ItemAction::Resolve)).await
}

async fn comment(
    State(plain): State<Plain>,
    Path(id): Path<String>,
    Json(body): Json<CommentBody>,
) -> Response {
    let action = Note::parse(&body.text).map(|text| ItemAction::Comment { text });
    act(&plain, &id, action).await
}
