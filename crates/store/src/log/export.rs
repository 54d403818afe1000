//! Auditors' exports of the log, and replicas of another log built from them.

use suspense_database::Pool;
use suspense_domain::StreamKind;

use super::EventLog;
use crate::chain;
use crate::error::StoreError;
use crate::record::ExportedEvent;

impl EventLog {
    /// Appends exported events, as they were, to this log: for building a replica of another
    /// log (as it stood at a past date, or from an export file) to run reports on. Only into an
    /// SQLite log, and only in order: the first event must take the next position.
    pub async fn replicate(&self, events: &[ExportedEvent]) -> Result<(), StoreError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(StoreError::InvalidLocation {
                location: self.location.to_string(),
                reason: "replicas are SQLite files".to_owned(),
            });
        };
        let head = self.head().await?;
        let mut tx = pool.begin().await?;
        for (expected, event) in (head + 1..).zip(events) {
            if event.position != expected {
                return Err(StoreError::CorruptEvent {
                    item_id: event.item_id.clone(),
                    sequence: event.sequence,
                    reason: format!("position {} where {expected} was expected", event.position),
                });
            }
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                     payload, metadata, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(StreamKind::of_event_type(&event.event_type).aggregate_type())
            .bind(&event.item_id)
            .bind(i64::try_from(event.sequence).unwrap_or(i64::MAX))
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(event.payload.to_string())
            .bind(event.metadata.to_string())
            .bind(&event.recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` events after `after` as an auditor's export carries them: raw payload and
    /// metadata, canonical recorded-at, content hash and chain link (once chained).
    pub async fn export_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ExportedEvent>, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        let (Some(first), Some(last)) = (
            rows.first().and_then(|r| r.position),
            rows.last().and_then(|r| r.position),
        ) else {
            return Ok(Vec::new());
        };
        let links: std::collections::HashMap<i64, String> = self
            .chain_rows(first, last)
            .await?
            .into_iter()
            .map(|c| (c.position, c.link))
            .collect();
        rows.into_iter()
            .map(|row| {
                let corrupt = |reason: String| StoreError::CorruptEvent {
                    item_id: row.aggregate_id.clone(),
                    sequence: row.sequence.max(0) as u64,
                    reason,
                };
                let content_hash = row.content_hash().map_err(corrupt)?;
                let position = row.position.unwrap_or(0);
                Ok(ExportedEvent {
                    position: position.max(0) as u64,
                    item_id: row.aggregate_id.clone(),
                    sequence: row.sequence.max(0) as u64,
                    event_type: row.event_type.clone(),
                    event_version: row.event_version.clone(),
                    payload: serde_json::from_str(&row.payload)
                        .map_err(|e| corrupt(e.to_string()))?,
                    metadata: serde_json::from_str(&row.metadata)
                        .map_err(|e| corrupt(e.to_string()))?,
                    recorded_at: chain::canonical_time(&row.recorded_at),
                    content_hash,
                    link: links.get(&position).cloned(),
                })
            })
            .collect()
    }
}
