//! One item's history.

use cqrs_es::Aggregate;
use suspense_database::{with_pool, Pool};
use suspense_domain::{ItemId, SuspenseItem};

use super::{EventLog, EVENT_COLUMNS};
use crate::error::StoreError;
use crate::record::{EventRow, RecordedEvent};

impl EventLog {
    /// Every event of one item, oldest first, with who recorded it and when.
    pub async fn history(&self, item_id: ItemId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.sequence().await?;
        let sql = format!(
            "{EVENT_COLUMNS}
  LEFT JOIN event_log l
         ON l.aggregate_type = e.aggregate_type AND l.aggregate_id = e.aggregate_id
        AND l.sequence = e.sequence
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
 ORDER BY e.sequence"
        );
        let rows: Vec<EventRow> = with_pool!(&self.pool, p => sqlx::query_as(&sql)
            .bind(SuspenseItem::TYPE)
            .bind(item_id.to_string())
            .fetch_all(p)
            .await?);
        self.decode_all(&rows)
    }

    /// The events of `item_ids` at global positions up to `up_to`, by item and sequence: what a
    /// reader of the log that has reached `up_to` knows of these items.
    pub async fn history_up_to(
        &self,
        item_ids: &[String],
        up_to: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
        let mut rows: Vec<EventRow> = Vec::new();
        // PostgreSQL: each event's position by key (`OFFSET 0` keeps the lookup a nested
        // loop); a plain join lets a planner with stale statistics hash-join all of
        // `event_log`, as for the log's pages.
        let position = match self.pool {
            Pool::Sqlite(_) => {
                "JOIN event_log l ON l.aggregate_type = e.aggregate_type
                  AND l.aggregate_id = e.aggregate_id AND l.sequence = e.sequence"
            }
            Pool::Postgres(_) => {
                "CROSS JOIN LATERAL (SELECT position FROM event_log
                  WHERE aggregate_type = e.aggregate_type AND aggregate_id = e.aggregate_id
                    AND sequence = e.sequence OFFSET 0) l"
            }
        };
        let select = format!("{EVENT_COLUMNS} {position} WHERE e.aggregate_type = ");
        for chunk in item_ids.chunks(500) {
            rows.extend(with_pool!(&self.pool, p => {
                let mut q = sqlx::QueryBuilder::new(select.as_str());
                q.push_bind(SuspenseItem::TYPE)
                    .push(" AND l.position <= ")
                    .push_bind(up_to)
                    .push(" AND e.aggregate_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id.as_str());
                }
                q.push(") ORDER BY e.aggregate_id, e.sequence");
                q.build_query_as::<EventRow>().fetch_all(p).await?
            }));
        }
        self.decode_all(&rows)
    }
}
