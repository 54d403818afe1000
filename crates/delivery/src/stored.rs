//! Subscriptions made through the API: `delivery_subscriptions`, one row per subscription, as
//! written (`SubscriptionSpec`), with who made it and when.

use chrono::{DateTime, Utc};
use suspense_database::{with_pool, Pool};

use crate::subscription::SubscriptionSpec;

/// A row of `delivery_subscriptions`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    name: String,
    event_types: String,
    branches: String,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    nats_server: Option<String>,
    jetstream_subject: Option<String>,
    start: String,
    max_attempts: i32,
    created_by: String,
    created_at: DateTime<Utc>,
}

/// A subscription kept in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubscription {
    pub spec: SubscriptionSpec,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Row {
    fn into_stored(self) -> Result<StoredSubscription, serde_json::Error> {
        Ok(StoredSubscription {
            spec: SubscriptionSpec {
                name: self.name,
                event_types: serde_json::from_str(&self.event_types)?,
                branches: serde_json::from_str(&self.branches)?,
                webhook_url: self.webhook_url,
                webhook_secret: self.webhook_secret,
                nats_server: self.nats_server,
                jetstream_subject: self.jetstream_subject,
                start: Some(self.start),
                max_attempts: u32::try_from(self.max_attempts).ok(),
            },
            created_by: self.created_by,
            created_at: self.created_at,
        })
    }
}

/// Keeps `spec` (already checked); false if a subscription of that name is kept already.
pub async fn insert(pool: &Pool, stored: &StoredSubscription) -> Result<bool, sqlx::Error> {
    let spec = &stored.spec;
    let json = |values: &[String]| serde_json::to_string(values).unwrap_or_else(|_| "[]".into());
    let attempts = spec
        .max_attempts
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(i32::MAX);
    let done = with_pool!(pool, p => sqlx::query(
        "INSERT INTO delivery_subscriptions
            (name, event_types, branches, webhook_url, webhook_secret, nats_server,
             jetstream_subject, start, max_attempts, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&spec.name)
    .bind(json(&spec.event_types))
    .bind(json(&spec.branches))
    .bind(&spec.webhook_url)
    .bind(&spec.webhook_secret)
    .bind(&spec.nats_server)
    .bind(&spec.jetstream_subject)
    .bind(spec.start.as_deref().unwrap_or("now"))
    .bind(attempts)
    .bind(&stored.created_by)
    .bind(stored.created_at)
    .execute(p)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}

/// Forgets `name`; false if it was not kept.
pub async fn delete(pool: &Pool, name: &str) -> Result<bool, sqlx::Error> {
    let done = with_pool!(pool, p => sqlx::query("DELETE FROM delivery_subscriptions WHERE name = $1")
        .bind(name)
        .execute(p)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done == 1)
}

/// Every kept subscription by name; a row whose lists are not JSON is reported by name.
pub async fn all(pool: &Pool) -> Result<Vec<Result<StoredSubscription, String>>, sqlx::Error> {
    let rows: Vec<Row> = with_pool!(pool, p => sqlx::query_as(
        "SELECT name, event_types, branches, webhook_url, webhook_secret, nats_server,
                jetstream_subject, start, max_attempts, created_by, created_at
           FROM delivery_subscriptions ORDER BY name",
    )
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = row.name.clone();
            row.into_stored()
                .map_err(|e| format!("subscription {name}: its lists are not JSON: {e}"))
        })
        .collect())
}
