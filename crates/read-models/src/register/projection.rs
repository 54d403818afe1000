//! The item register as the projector drives it: its rows read (with the movements of items
//! whose cause changes), folded and written with the aging month ends.

use async_trait::async_trait;
use suspense_store::RecordedEvent;

use super::aging_stock::DatedFlow;
use super::{deferred_aging, postgres, sqlite, RegisterBatch, RegisterRow};
use crate::calendar::ReportingCalendar;
use crate::fast_hash::{Map, Set};
use crate::projection::{
    fold_each, opened_in, rows_to_read, unreplayable, FoldContext, Folded, Projection,
};
use crate::projector::ProjectionError;
use crate::sql::select_in;
use suspense_database::{Pool, Tx};

/// `item_register`, `open_balance` and `balance_movements`.
pub(crate) struct ItemRegister;

#[async_trait]
impl Projection for ItemRegister {
    type Batch = RegisterBatch;

    fn name(&self) -> &'static str {
        "item_register"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "item_register",
            "open_balance",
            "balance_movements",
            "aging_month_end",
        ]
    }

    /// Items whose cause may change in the batch need their movements so far, to move them
    /// to the new cause's aging rows: replayed from the item's history in the log up to where
    /// this model stands (items the batch opens are followed from their opening).
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
        let changing: Vec<String> = events
            .iter()
            .filter(|e| RegisterBatch::needs_history(&e.event))
            .map(|e| e.item_id.to_string())
            .filter(|id| !opened.contains(id))
            .collect::<Set<_>>()
            .into_iter()
            .collect();
        let (stored, history) = tokio::try_join!(
            async {
                Ok::<Vec<RegisterRow>, ProjectionError>(
                    select_in(cx.log.pool(), "SELECT * FROM item_register", &ids).await?,
                )
            },
            async { Ok::<_, ProjectionError>(cx.log.history_up_to(&changing, cx.after).await?) },
        )?;
        let history = replay_movements(&history, cx.calendar)
            .map_err(|e| unreplayable(Projection::name(self), e))?;
        let mut rows: Map<String, RegisterRow> =
            stored.into_iter().map(|r| (r.item_id.clone(), r)).collect();
        rows.extend(carried);
        let mut batch = RegisterBatch::new(rows, history, opened.len());
        let folded = suspense_database::cpu_bound(|| {
            fold_each(events, |event| batch.apply(event, cx.calendar))
        });
        Ok((batch, folded))
    }

    async fn write(&self, tx: &mut Tx<'_>, batch: &RegisterBatch) -> Result<(), sqlx::Error> {
        let aging = if deferred_aging::is_deferred(tx).await? {
            Vec::new()
        } else {
            batch.aging_changes(tx).await?
        };
        match tx {
            Tx::Sqlite(tx) => sqlite::write(tx, batch, &aging).await,
            Tx::Postgres(tx) => postgres::write(tx, batch, &aging).await,
        }
    }

    async fn defer_stocks(&self, pool: &Pool) -> Result<bool, sqlx::Error> {
        deferred_aging::defer(pool, Projection::name(self)).await?;
        Ok(true)
    }

    async fn build_deferred_stocks(&self, pool: &Pool) -> Result<(), sqlx::Error> {
        deferred_aging::build(pool, Projection::name(self))
            .await
            .map(|_| ())
    }
}

/// The movements so far of the items of `history` (each item's events up to some point,
/// oldest first, starting with its opening), by replaying them. An event that does not replay
/// is returned with the reason; it was applied once already, so this means a changed log.
fn replay_movements<'e>(
    history: &'e [RecordedEvent],
    calendar: &ReportingCalendar,
) -> Result<Map<String, Vec<DatedFlow>>, (&'e RecordedEvent, String)> {
    let mut replay = RegisterBatch::default();
    for event in history {
        replay
            .apply(event, calendar)
            .map_err(|reason| (event, reason))?;
    }
    Ok(replay.history)
}
