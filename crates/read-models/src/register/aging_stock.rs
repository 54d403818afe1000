//! Aging at month ends (`aging_month_end`): the register's balance movements summed per
//! branch, cause, currency, booking date and value date, kept as a stock at each month's end
//! (`month_end_stock.rs`), so that aging as of a month end reads one month's rows instead of
//! summing every movement since the first.
//!
//! A stock adds up movements, which is right because an item's movements add up to what it
//! owes while open and to nothing once resolved (a resolution always clears the whole
//! outstanding amount). An item counts under its current cause: when it changes, every
//! movement of the item moves from the old key to the new one, in whatever month it fell,
//! so the month ends are restated as the statistics are.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use suspense_database::Tx;

use super::{RegisterBatch, RegisterRow};
use crate::calendar::month_start;
use crate::fast_hash::Map;
use crate::month_end_stock::{self, Flows, Stock};
use crate::statistics::UNCLASSIFIED;

/// What an item's age and aging row are read from: everything but the cause is fixed when it
/// is opened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub(crate) struct AgingKey {
    pub branch: String,
    pub category: String,
    pub currency: String,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
}

impl AgingKey {
    pub(crate) fn of(row: &RegisterRow) -> Self {
        Self {
            branch: row.branch.clone(),
            category: row
                .category
                .clone()
                .unwrap_or_else(|| UNCLASSIFIED.to_owned()),
            currency: row.currency.clone(),
            booked_on: row.booked_on,
            value_date: row.value_date,
        }
    }
}

/// A movement as aging counts it: its date and (open items, outstanding minor units).
pub(crate) type DatedFlow = (NaiveDate, Stock);

/// A stored month-end stock of `aging_month_end`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AgingStockRow {
    pub month: NaiveDate,
    #[sqlx(flatten)]
    pub key: AgingKey,
    pub open_count: i64,
    pub outstanding_minor: i64,
}

/// What a batch adds to one row of `aging_month_end` (or the row it inserts).
#[derive(Debug)]
pub(crate) struct AgingChange {
    pub month: NaiveDate,
    pub key: AgingKey,
    pub change: Stock,
}

/// What makes an insert of aging changes add them to the stored rows.
pub(super) const AGING_ADD_ON_CONFLICT: &str =
    " ON CONFLICT (month, branch, category, currency, booked_on, value_date) DO UPDATE SET
    open_count = aging_month_end.open_count + excluded.open_count,
    outstanding_minor = aging_month_end.outstanding_minor + excluded.outstanding_minor";

impl RegisterBatch {
    /// Adds a movement to the flows of the item's current key.
    pub(super) fn age(&mut self, id: &str, on_date: NaiveDate, flow: Stock) {
        let Some(row) = self.rows.get(id) else {
            return;
        };
        add_flow(&mut self.aging, AgingKey::of(row), on_date, flow, 1);
        if let Some(history) = self.history.get_mut(id) {
            history.push((on_date, flow));
        }
    }

    /// Moves every movement of the item from the key it had (`before`) to the one it has now.
    pub(super) fn move_aging(&mut self, id: &str, before: AgingKey) -> Result<(), String> {
        let after = self
            .rows
            .get(id)
            .map(AgingKey::of)
            .ok_or_else(|| "unknown item".to_owned())?;
        if after == before {
            return Ok(());
        }
        let history = self
            .history
            .get(id)
            .ok_or("the item's movements were not loaded before its cause changed")?;
        for (on_date, flow) in history {
            add_flow(&mut self.aging, before.clone(), *on_date, *flow, -1);
            add_flow(&mut self.aging, after.clone(), *on_date, *flow, 1);
        }
        Ok(())
    }

    /// The months the batch's aging flows fall in.
    fn aging_months(&self) -> BTreeSet<NaiveDate> {
        self.aging.keys().map(|(month, _)| *month).collect()
    }

    /// The batch's changes to `aging_month_end`, from the months it holds, read in the
    /// batch's transaction: ((month, key), change to add).
    pub(super) async fn aging_changes(
        &self,
        tx: &mut Tx<'_>,
    ) -> Result<Vec<AgingChange>, sqlx::Error> {
        let (stored, before_new): (_, Vec<AgingStockRow>) = month_end_stock::read_stored(
            tx,
            "aging_month_end",
            "month, branch, category, currency, booked_on, value_date, open_count,
             outstanding_minor",
            ["open_count", "outstanding_minor"],
            &self.aging_months(),
        )
        .await?;
        // Flows that net to nothing are kept: the months stored must not depend on how the
        // log was cut into batches (an item opened in one batch and resolved in the next, or
        // both in one).
        let mut net: Map<&AgingKey, Flows> = Map::default();
        for ((month, key), flow) in &self.aging {
            net.entry(key).or_default().insert(*month, *flow);
        }
        let mut stock_at: Map<NaiveDate, Map<&AgingKey, Stock>> = Map::default();
        for row in &before_new {
            stock_at
                .entry(row.month)
                .or_default()
                .insert(&row.key, (row.open_count, row.outstanding_minor));
        }
        Ok(changes_from(&net, &stored, &stock_at))
    }
}

/// The changes to `aging_month_end` that flows `net` make, given the months `stored` before
/// and the stocks `stock_at` those months held (see `month_end_stock::stock_changes`).
pub(super) fn changes_from(
    net: &Map<&AgingKey, Flows>,
    stored: &BTreeSet<NaiveDate>,
    stock_at: &Map<NaiveDate, Map<&AgingKey, Stock>>,
) -> Vec<AgingChange> {
    let mut changes = month_end_stock::stock_changes(net, stored, stock_at);
    // A month a movement falls in is stored even when its stock comes out as before (an
    // item resolved in the month it was opened in the only key that moved): the reports
    // read a date's movements only from the last stored month on.
    for (key, flows) in net {
        for month in flows.keys() {
            changes.entry((*month, *key)).or_default();
        }
    }
    changes
        .into_iter()
        .map(|((month, key), change)| AgingChange {
            month,
            key: key.clone(),
            change,
        })
        .collect()
}

fn add_flow(
    aging: &mut Map<(NaiveDate, AgingKey), Stock>,
    key: AgingKey,
    on_date: NaiveDate,
    flow: Stock,
    sign: i64,
) {
    let entry = aging.entry((month_start(on_date), key)).or_default();
    (entry.0, entry.1) = (entry.0 + sign * flow.0, entry.1 + sign * flow.1);
}
