//! Requests already answered, by the caller's idempotency key: a retried request gets the
//! first answer and runs nothing.
//!
//! A key is claimed (a row with status 0) before its request runs, so two identical requests
//! racing each other cannot both run: the second is told the first is in progress.

use chrono::Utc;

use crate::error::StoreError;
use suspense_database::{with_pool, Pool};

/// The keys of one database (`EventLog::idempotency_keys`).
pub struct IdempotencyKeys<'a> {
    pool: &'a Pool,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then `finish` or `release` it.
    Ours,
    /// The same request ran to the end before: answer this.
    Done { status: u16, body: String },
    /// The same request is still running.
    InProgress,
    /// The key was used for another request (another `request_hash`).
    OtherRequest,
}

impl<'a> IdempotencyKeys<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Claims `key` of `user` for the request whose content hashes to `request_hash`.
    pub async fn claim(
        &self,
        user: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Claim, StoreError> {
        let inserted = with_pool!(self.pool, p => sqlx::query(
            "INSERT INTO idempotency_keys (user_name, key, request_hash, status, body, created_at)
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_name, key) DO NOTHING",
        )
        .bind(user)
        .bind(key)
        .bind(request_hash)
        .bind(Utc::now())
        .execute(p)
        .await?
        .rows_affected());
        if inserted == 1 {
            return Ok(Claim::Ours);
        }
        let (stored_hash, status, body): (String, i32, String) = with_pool!(self.pool, p => sqlx::query_as(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE user_name = $1 AND key = $2",
        )
        .bind(user)
        .bind(key)
        .fetch_one(p)
        .await?);
        Ok(if stored_hash != request_hash {
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

    /// Keeps the answer of a claimed request, for its retries.
    pub async fn finish(
        &self,
        user: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self.pool, p => sqlx::query(
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE user_name = $3 AND key = $4",
        )
        .bind(i32::from(status))
        .bind(body)
        .bind(user)
        .bind(key)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Gives a claimed key up (its request failed for a reason a retry may not meet).
    pub async fn release(&self, user: &str, key: &str) -> Result<(), StoreError> {
        with_pool!(self.pool, p => sqlx::query("DELETE FROM idempotency_keys WHERE user_name = $1 AND key = $2")
            .bind(user)
            .bind(key)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
