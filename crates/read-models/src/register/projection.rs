//! The item register as the projector drives it: its rows read, folded and written.

use async_trait::async_trait;
use suspense_store::RecordedEvent;

use super::{postgres, sqlite, RegisterBatch, RegisterRow};
use crate::fast_hash::Map;
use crate::projection::{fold_each, opened_in, rows_to_read, FoldContext, Folded, Projection};
use crate::projector::ProjectionError;
use crate::sql::select_in;
use suspense_database::Tx;

/// `item_register`, `open_balance` and `balance_movements`.
pub(crate) struct ItemRegister;

#[async_trait]
impl Projection for ItemRegister {
    type Batch = RegisterBatch;

    fn name(&self) -> &'static str {
        "item_register"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["item_register", "open_balance", "balance_movements"]
    }

    async fn fold<'e>(
        &self,
        cx: &FoldContext<'_>,
        events: &[&'e RecordedEvent],
        carry: Option<&RegisterBatch>,
    ) -> Result<(RegisterBatch, Folded<'e>), ProjectionError> {
        let opened = opened_in(events);
        let (carried, ids) = rows_to_read(events, &opened, |id| {
            carry.and_then(|c| c.rows.get(id)).cloned()
        });
        let stored: Vec<RegisterRow> =
            select_in(cx.log.pool(), "SELECT * FROM item_register", &ids).await?;
        let mut rows: Map<String, RegisterRow> =
            stored.into_iter().map(|r| (r.item_id.clone(), r)).collect();
        rows.extend(carried);
        let mut batch = RegisterBatch::new(rows, opened.len());
        let folded = suspense_database::cpu_bound(|| {
            fold_each(events, |event| batch.apply(event, cx.calendar))
        });
        Ok((batch, folded))
    }

    async fn write(&self, tx: &mut Tx<'_>, batch: &RegisterBatch) -> Result<(), sqlx::Error> {
        match tx {
            Tx::Sqlite(tx) => sqlite::write(tx, batch).await,
            Tx::Postgres(tx) => postgres::write(tx, batch).await,
        }
    }
}
