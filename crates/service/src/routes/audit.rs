//! `GET /v1/audit/export`: the log as JSON Lines for auditors, streamed page by page so that
//! a log of any size never sits in memory whole.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use suspense::Suspense;

use crate::auth::Role;
use crate::dto::{ExportParams, Params};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::openapi::responses::ReadRefusals;
use crate::state::AppState;

const PAGE: u32 = 2_000;

#[utoipa::path(
    get,
    path = "/v1/audit/export",
    tag = "audit",
    summary = "The log as JSON Lines, one event a line, in global order (streamed)",
    description = "Roles: auditor. Each line: position, item_id, sequence, event_type, event_version, payload, metadata, recorded_at, content_hash, link (see docs/audit.md).",
    params(ExportParams),
    responses(
        (status = 200, description = "application/x-ndjson"),
        ReadRefusals
    )
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<ExportParams>,
) -> Result<Response, ApiError> {
    export_after(&state, &caller, params.parse()?)
}

/// The log after position `from` as JSON Lines, for an auditor at head office: the export of
/// the API and of the console's audit page.
pub(crate) fn export_after(
    state: &AppState,
    caller: &Caller,
    from: u64,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Auditor])?;
    // The export is the whole log, chained: it cannot be cut to some branches.
    caller.require_head_office()?;
    let ledger: Arc<Suspense> = Arc::clone(&state.ledger);
    let stream = futures::stream::unfold(Some(from), move |after| {
        let ledger = Arc::clone(&ledger);
        async move {
            let after = after?;
            match ledger.log().export_after(after, PAGE).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let next = page.last().map(|e| e.position);
                    let mut lines = Vec::with_capacity(page.len() * 512);
                    for event in &page {
                        if serde_json::to_writer(&mut lines, event).is_err() {
                            return Some((
                                Err(std::io::Error::other("an event could not be written")),
                                None,
                            ));
                        }
                        lines.push(b'\n');
                    }
                    Some((Ok(Bytes::from(lines)), next))
                }
                // The response has started: the error ends the stream, and the client sees a
                // truncated body rather than a silently short one with a 200 trailer.
                Err(err) => Some((Err(std::io::Error::other(err.to_string())), None)),
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"suspense-log.jsonl\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
