//! `Idempotency-Key` on POST: a retried request gets the first response and writes nothing.
//!
//! The key is claimed (a row with status 0) before the request runs, so two identical requests
//! racing each other cannot both run: the second is told the first is in progress. Results of
//! 5xx are not kept, so a request that failed for a transient reason can be retried.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};
use suspense_store::{with_pool, Pool};

use crate::error::ApiError;
use crate::reply::Reply;

pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 {
        return Err(
            ApiError::malformed("Idempotency-Key must be 1 to 200 visible characters")
                .with_field("Idempotency-Key"),
        );
    }
    Ok(Some(key.to_owned()))
}

/// Runs `run` at most once per (user, key); replays the stored response otherwise.
pub async fn once<F, Fut>(
    pool: &Pool,
    user: &str,
    key: Option<String>,
    fingerprint: &[&[u8]],
    run: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Reply, ApiError>>,
{
    let Some(key) = key else {
        return run().await.into_response();
    };
    let mut hasher = Sha256::new();
    for part in fingerprint {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let hash = hex::encode(hasher.finalize());
    match claim(pool, user, &key, &hash).await {
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
        Err(err) => return ApiError::from(suspense_store::StoreError::from(err)).into_response(),
    }
    let (status, body, reply) = match run().await {
        Ok(reply) => (reply.status, reply.body.clone(), reply.into_response()),
        Err(err) => (err.status, err.body(), err.into_response()),
    };
    let stored = if status.is_server_error() {
        release(pool, user, &key).await
    } else {
        finish(pool, user, &key, status.as_u16(), &body).await
    };
    if let Err(err) = stored {
        tracing::error!(error = %err, "idempotency record not stored");
    }
    reply
}

enum Claim {
    Ours,
    Done { status: u16, body: String },
    InProgress,
    OtherRequest,
}

async fn claim(pool: &Pool, user: &str, key: &str, hash: &str) -> Result<Claim, sqlx::Error> {
    let inserted = with_pool!(pool, p => sqlx::query(
        "INSERT INTO idempotency_keys (user_name, key, request_hash, status, body, created_at)
         VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_name, key) DO NOTHING",
    )
    .bind(user)
    .bind(key)
    .bind(hash)
    .bind(Utc::now())
    .execute(p)
    .await?
    .rows_affected());
    if inserted == 1 {
        return Ok(Claim::Ours);
    }
    let (stored_hash, status, body): (String, i32, String) = with_pool!(pool, p => sqlx::query_as(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE user_name = $1 AND key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_one(p)
    .await?);
    Ok(if stored_hash != hash {
        Claim::OtherRequest
    } else if status == 0 {
        Claim::InProgress
    } else {
        Claim::Done {
            status: u16::try_from(status).unwrap_or(200),
            body,
        }
    })
}

async fn finish(
    pool: &Pool,
    user: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    with_pool!(pool, p => sqlx::query(
        "UPDATE idempotency_keys SET status = $1, body = $2 WHERE user_name = $3 AND key = $4",
    )
    .bind(i32::from(status))
    .bind(body)
    .bind(user)
    .bind(key)
    .execute(p)
    .await
    .map(|_| ()))
}

async fn release(pool: &Pool, user: &str, key: &str) -> Result<(), sqlx::Error> {
    with_pool!(pool, p => sqlx::query("DELETE FROM idempotency_keys WHERE user_name = $1 AND key = $2")
        .bind(user)
        .bind(key)
        .execute(p)
        .await
        .map(|_| ()))
}
