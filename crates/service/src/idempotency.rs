//! `Idempotency-Key` on POST: a retried request gets the first response and writes nothing.
//!
//! The key is claimed before the request runs (`IdempotencyKeys::claim`), so two identical
//! requests racing each other cannot both run: the second is told the first is in progress.
//! Results of 5xx are not kept, so a request that failed for a transient reason can be retried.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use suspense::store::Claim;
use suspense::Suspense;

use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::reply::Reply;
use crate::state::AppState;

fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    // Printable ASCII, no blanks at either end (HTTP strips those), at most 200 characters.
    let bytes = value.as_bytes();
    let printable = bytes.iter().all(|b| (0x20..=0x7e).contains(b));
    let key = value.to_str().unwrap_or("");
    if !printable || key.is_empty() || key.len() > 200 || key.trim() != key {
        return Err(
            ApiError::malformed("Idempotency-Key must be 1 to 200 visible characters")
                .with_field("Idempotency-Key"),
        );
    }
    Ok(Some(key.to_owned()))
}

/// A POST that runs at most once per the caller's `Idempotency-Key`: the key, who asked, and
/// what was asked (the request line and the body), taken before the body is handed to the
/// work.
pub struct Idempotent {
    ledger: Arc<Suspense>,
    user: String,
    key: Option<String>,
    fingerprint: String,
}

impl Idempotent {
    /// `request` names what is asked (`POST /v1/items`); a malformed key is refused here.
    pub fn new(
        state: &AppState,
        caller: &Caller,
        headers: &HeaderMap,
        request: &str,
        body: &Body,
    ) -> Result<Self, ApiError> {
        let key = key(headers)?;
        let mut hasher = Sha256::new();
        for part in [request.as_bytes(), &body.0] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Ok(Self {
            ledger: Arc::clone(&state.ledger),
            user: caller.0.user.to_string(),
            key,
            fingerprint: hex::encode(hasher.finalize()),
        })
    }

    /// Runs `run` unless this request was answered already under its key; replays the stored
    /// response then.
    pub async fn run<F, Fut>(self, run: F) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Reply, ApiError>>,
    {
        once(&self.ledger, &self.user, self.key, &self.fingerprint, run).await
    }
}

/// Runs `run` at most once per (user, key) in `ledger`'s database; replays the stored
/// response otherwise.
async fn once<F, Fut>(
    ledger: &Suspense,
    user: &str,
    key: Option<String>,
    hash: &str,
    run: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Reply, ApiError>>,
{
    let Some(key) = key else {
        return run().await.into_response();
    };
    let keys = ledger.idempotency_keys();
    match keys.claim(user, &key, hash).await {
        Ok(Claim::Ours) => {}
        Ok(Claim::Done { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Reply::raw(status, body).replayed().into_response();
        }
        Ok(Claim::InProgress) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "request_in_progress",
                "a request with this Idempotency-Key is still running",
            )
            .into_response()
        }
        Ok(Claim::OtherRequest) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
            .with_field("Idempotency-Key")
            .into_response()
        }
        Err(err) => return ApiError::from(err).into_response(),
    }
    let (status, body, reply) = match run().await {
        Ok(reply) => (reply.status, reply.body.clone(), reply.into_response()),
        Err(err) => (err.status, err.body(), err.into_response()),
    };
    let stored = if status.is_server_error() {
        keys.release(user, &key).await
    } else {
        keys.finish(user, &key, status.as_u16(), &body).await
    };
    if let Err(err) = stored {
        tracing::error!(error = %err, "idempotency record not stored");
    }
    reply
}
