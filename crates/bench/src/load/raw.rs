//! The raw-SQL baseline: what a command costs at the database with nothing of ours around it.

use suspense_database::{with_pool, Pool};
use suspense_domain::{ItemAction, ItemCommand, SuspenseItem, SuspenseItemEvent, UserId};
use suspense_testkit::fixed_services;

use super::{cycle, Outcome, Target};

/// What a command costs at the database with nothing of ours around it: read the item's
/// events and insert one, in one transaction.
pub struct RawSql {
    pool: Pool,
    payloads: Vec<String>,
}

impl RawSql {
    pub async fn open(url: &str) -> Self {
        // The same schema: the log's migrations.
        let location = suspense_store::StoreLocation::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let log = suspense_store::EventLog::open(&location, fixed_services(), &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (_, actions) = cycle("PAYLOAD");
        let payloads = actions
            .into_iter()
            .filter_map(|a| {
                SuspenseItem::default()
                    .decide(
                        ItemCommand::new(UserId::parse("load").ok()?, a),
                        &fixed_services(),
                    )
                    .ok()
                    .and_then(|e| e.first().cloned())
            })
            .map(|e: SuspenseItemEvent| serde_json::to_string(&e).unwrap_or_default())
            .collect::<Vec<_>>();
        Self {
            pool: log.pool().clone(),
            payloads,
        }
    }
}

#[async_trait::async_trait]
impl Target for RawSql {
    async fn command(&self, item: &str, step: usize, _action: ItemAction) -> Outcome {
        let payload = self
            .payloads
            .get(step.min(self.payloads.len().saturating_sub(1)))
            .cloned()
            .unwrap_or_default();
        let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                      VALUES ($1, $2, $3, 'Commented', '1', $4, $5)";
        let select = "SELECT CAST(payload AS TEXT) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        let payload = serde_json::from_str::<serde_json::Value>(&payload).unwrap_or_default();
        let metadata = serde_json::json!({"actor": "load"});
        let result: Result<(), sqlx::Error> = match &self.pool {
            // PostgreSQL: read and insert in one transaction, as the store does.
            Pool::Postgres(p) => {
                async {
                    let mut tx = p.begin().await?;
                    let rows: Vec<(String,)> = sqlx::query_as(select)
                        .bind("SuspenseItem")
                        .bind(item)
                        .fetch_all(&mut *tx)
                        .await?;
                    let next = rows.len() as i64 + 1;
                    sqlx::query(insert)
                        .bind("SuspenseItem")
                        .bind(item)
                        .bind(next)
                        .bind(&payload)
                        .bind(&metadata)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }
                .await
            }
            // SQLite: read first, then write in its own transaction, as sqlite-es does (a read
            // transaction upgraded to a write one would fail with SQLITE_BUSY under concurrency).
            Pool::Sqlite(p) => {
                async {
                    let rows: Vec<(String,)> = sqlx::query_as(select)
                        .bind("SuspenseItem")
                        .bind(item)
                        .fetch_all(p)
                        .await?;
                    let next = rows.len() as i64 + 1;
                    let mut tx = p.begin().await?;
                    sqlx::query(insert)
                        .bind("SuspenseItem")
                        .bind(item)
                        .bind(next)
                        .bind(&payload)
                        .bind(&metadata)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }
                .await
            }
        };
        match result {
            Ok(()) => Outcome::Done,
            Err(e) if suspense_store::is_duplicate_key(&e) => Outcome::Conflict,
            Err(_) => Outcome::Error,
        }
    }

    async fn read_item(&self, item: &str) -> bool {
        with_pool!(&self.pool, p => sqlx::query("SELECT payload FROM events WHERE aggregate_type = 'SuspenseItem' AND aggregate_id = $1")
            .bind(item)
            .fetch_all(p)
            .await
            .is_ok())
    }

    async fn read_balance(&self) -> bool {
        true
    }
}
