//! The root-cause statistics as the projector drives them: items read, facts replayed where
//! a cause changes, folded, and written with the month-end stocks.

use std::collections::HashSet;

use async_trait::async_trait;
use suspense_store::RecordedEvent;

use super::month_end::{MonthEndStock, MonthlyChange};
use super::{postgres, sqlite, StatsBatch, StatsItem};
use crate::fast_hash::Map;
use crate::month_end_stock;
use crate::projection::{
    fold_each, opened_in, rows_to_read, split_carried, unreplayable, FoldContext, Folded,
    Projection,
};
use crate::projector::ProjectionError;
use crate::sql::select_in;
use suspense_database::Tx;

/// `root_cause_monthly`, `root_cause_open`, `resolution_time_histogram` and `stats_items`.
pub(crate) struct RootCauseStatistics;

/// What makes an insert of statistics items an upsert.
pub(super) const ITEM_UPSERT: &str =
    " ON CONFLICT (item_id) DO UPDATE SET category = excluded.category,
    code = excluded.code, reclassified = excluded.reclassified, team = excluded.team,
    counterparty = excluded.counterparty, incident = excluded.incident,
    impacted = excluded.impacted";

#[async_trait]
impl Projection for RootCauseStatistics {
    type Batch = StatsBatch;

    fn name(&self) -> &'static str {
        "root_cause_statistics"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "root_cause_monthly",
            "root_cause_open",
            "resolution_time_histogram",
            "stats_items",
        ]
    }

    /// Items whose cell (cause, team, counterparty, incident) may change in the batch need
    /// their facts (every contribution so far): the carried batch's when it has them, else
    /// replayed from the item's history in the log up to where this model stands.
    async fn fold<'e>(
        &self,
        cx: &FoldContext<'_>,
        events: &[&'e RecordedEvent],
        carry: Option<&StatsBatch>,
    ) -> Result<(StatsBatch, Folded<'e>), ProjectionError> {
        let opened = opened_in(events);
        let (carried_items, ids) = rows_to_read(events, &opened, |id| {
            carry.and_then(|c| c.items.get(id)).cloned()
        });
        let changing: Vec<String> = events
            .iter()
            .filter(|e| StatsBatch::needs_facts(&e.event))
            .map(|e| e.item_id.to_string())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let (carried_facts, changing) =
            split_carried(changing, |id| carry.and_then(|c| c.facts.get(id)).cloned());
        // An item opened in this batch has no history before it: nothing to replay.
        let (new_items, changing): (Vec<String>, Vec<String>) =
            changing.into_iter().partition(|id| opened.contains(id));
        let (items, history) = tokio::try_join!(
            async {
                Ok::<Vec<StatsItem>, ProjectionError>(
                    select_in(cx.log.pool(), "SELECT * FROM stats_items", &ids).await?,
                )
            },
            async { Ok::<_, ProjectionError>(cx.log.history_up_to(&changing, cx.after).await?) },
        )?;
        let mut facts = StatsBatch::replay_facts(&history, cx.calendar)
            .map_err(|e| unreplayable(Projection::name(self), e))?;
        for id in changing.into_iter().chain(new_items) {
            facts.entry(id).or_default();
        }
        facts.extend(carried_facts);
        let mut items: Map<String, StatsItem> =
            items.into_iter().map(|i| (i.item_id.clone(), i)).collect();
        items.extend(carried_items);
        let mut batch = StatsBatch::new(items, facts, opened.len());
        let folded = suspense_database::cpu_bound(|| {
            fold_each(events, |event| batch.apply(event, cx.calendar))
        });
        Ok((batch, folded))
    }

    async fn write(&self, tx: &mut Tx<'_>, batch: &StatsBatch) -> Result<(), sqlx::Error> {
        let monthly = monthly_changes(tx, batch).await?;
        match tx {
            Tx::Sqlite(tx) => sqlite::write(tx, batch, &monthly).await,
            Tx::Postgres(tx) => postgres::write(tx, batch, &monthly).await,
        }
    }
}

/// The batch's changes to `root_cause_monthly` (`month_end.rs`), from the months the table
/// holds, read in the batch's transaction.
async fn monthly_changes(
    tx: &mut Tx<'_>,
    batch: &StatsBatch,
) -> Result<Vec<MonthlyChange>, sqlx::Error> {
    let (stored, before_new): (_, Vec<MonthEndStock>) = month_end_stock::read_stored(
        tx,
        "root_cause_monthly",
        "month, category, code, branch, channel, currency, team, counterparty, incident,
         open_at_end_count, open_at_end_minor",
        ["open_at_end_count", "open_at_end_minor"],
        &batch.months(),
    )
    .await?;
    Ok(batch.monthly_changes(&stored, &before_new))
}
