//! The items open at the end of each month, per cause key, kept in `root_cause_monthly` beside
//! the month's flows, so that a report reads a period's closing stock from one month's rows
//! however far back the period lies. The stock is the net flow (opened - resolved + reopened)
//! of every month up to the month's end, kept as `month_end_stock.rs` describes.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::fast_hash::Map;
use crate::month_end_stock::{stock_changes, Flows, Stock};
use crate::statistics::{CellCounts, CellDims, CellKey, StatsBatch};

/// Items of a cause key open at the end of a stored month, as `root_cause_monthly` holds them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct MonthEndStock {
    #[sqlx(flatten)]
    pub key: CellKey,
    pub open_at_end_count: i64,
    pub open_at_end_minor: i64,
}

/// What a batch adds to one row of `root_cause_monthly` (or the row it inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MonthlyChange {
    pub key: CellKey,
    pub counts: CellCounts,
    /// Added to the items open at the end of the month: (count, minor units).
    pub open_at_end: (i64, i64),
}

impl StatsBatch {
    /// The months the batch adds flows to.
    pub(crate) fn months(&self) -> BTreeSet<NaiveDate> {
        self.flowing_cells().map(|(k, _)| k.month).collect()
    }

    /// The changes to `root_cause_monthly`: each cell's flows, and the stock of every row
    /// whose month-end stock the batch changes.
    ///
    /// `stored` holds the months stored before the batch, from the one before its first month
    /// (`months`) on; `before_new` the stock of every key at the stored month before each
    /// month the batch stores for the first time.
    pub(crate) fn monthly_changes(
        &self,
        stored: &BTreeSet<NaiveDate>,
        before_new: &[MonthEndStock],
    ) -> Vec<MonthlyChange> {
        let mut net: Map<CellDims<'_>, Flows> = Map::default();
        for (key, counts) in self.flowing_cells() {
            let flow = net
                .entry(key.dims())
                .or_default()
                .entry(key.month)
                .or_default();
            let (count, minor) = counts.net_open();
            (flow.0, flow.1) = (flow.0 + count, flow.1 + minor);
        }
        let mut stock_at: Map<NaiveDate, Map<CellDims<'_>, Stock>> = Map::default();
        for row in before_new {
            stock_at.entry(row.key.month).or_default().insert(
                row.key.dims(),
                (row.open_at_end_count, row.open_at_end_minor),
            );
        }
        let mut stock = stock_changes(&net, stored, &stock_at);
        let mut changes: Vec<MonthlyChange> = self
            .flowing_cells()
            .map(|(key, counts)| MonthlyChange {
                open_at_end: stock.remove(&(key.month, key.dims())).unwrap_or_default(),
                key: key.clone(),
                counts: *counts,
            })
            .collect();
        changes.extend(
            stock
                .into_iter()
                .map(|((month, dims), change)| MonthlyChange {
                    key: CellKey::from_dims(month, dims),
                    counts: CellCounts::default(),
                    open_at_end: change,
                }),
        );
        changes
    }

    /// The cells whose counters the batch changes.
    fn flowing_cells(&self) -> impl Iterator<Item = (&CellKey, &CellCounts)> {
        self.cells.iter().filter(|(_, c)| !c.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).expect("a month")
    }

    fn key(m: u32, branch: &str) -> CellKey {
        CellKey {
            month: month(m),
            category: "customer_cause".to_owned(),
            code: "CUS-REFERENCE".to_owned(),
            branch: branch.to_owned(),
            channel: "counter".to_owned(),
            currency: "CNY".to_owned(),
            team: "recon".to_owned(),
            counterparty: "none".to_owned(),
            incident: "none".to_owned(),
        }
    }

    fn opened(n: i64) -> CellCounts {
        CellCounts {
            opened_count: n,
            opened_minor: n * 100,
            ..CellCounts::default()
        }
    }

    fn batch(cells: &[(CellKey, CellCounts)]) -> StatsBatch {
        let mut batch = StatsBatch::default();
        batch.cells.extend(cells.iter().cloned());
        batch
    }

    fn stock(m: u32, branch: &str, count: i64) -> MonthEndStock {
        MonthEndStock {
            key: key(m, branch),
            open_at_end_count: count,
            open_at_end_minor: count * 100,
        }
    }

    /// (month, branch, flows opened, stock change), sorted.
    fn summary(changes: Vec<MonthlyChange>) -> Vec<(u32, String, i64, i64)> {
        use chrono::Datelike;
        let mut rows: Vec<_> = changes
            .into_iter()
            .map(|c| {
                assert_eq!(
                    c.open_at_end.1,
                    c.open_at_end.0 * 100,
                    "minor follows count"
                );
                (
                    c.key.month.month(),
                    c.key.branch,
                    c.counts.opened_count,
                    c.open_at_end.0,
                )
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn flows_add_to_the_stock_of_their_month_and_every_stored_month_after() {
        let stored = [2, 3, 5].map(month).into();
        let changes = batch(&[(key(3, "SH"), opened(2))]).monthly_changes(&stored, &[]);
        assert_eq!(
            summary(changes),
            [(3, "SH".into(), 2, 2), (5, "SH".into(), 0, 2)],
            "month 2 is before the flow; 4 is not stored"
        );
    }

    #[test]
    fn a_new_month_starts_from_the_stock_of_the_stored_month_before_it() {
        let stored = [1, 3].map(month).into();
        let before = [stock(1, "SH", 5), stock(1, "BJ", 1)];
        let resolved = CellCounts {
            resolved_count: 1,
            resolved_minor: 100,
            ..CellCounts::default()
        };
        let changes = batch(&[(key(2, "SH"), resolved)]).monthly_changes(&stored, &before);
        assert_eq!(
            summary(changes),
            [
                (2, "BJ".into(), 0, 1),
                (2, "SH".into(), 0, 4),
                (3, "SH".into(), 0, -1),
            ],
            "month 2 holds every key's whole stock; stored month 3 gets the change"
        );
    }

    #[test]
    fn a_first_month_without_one_before_holds_its_own_flows() {
        let changes = batch(&[(key(4, "SH"), opened(3)), (key(6, "SH"), opened(1))])
            .monthly_changes(&BTreeSet::new(), &[]);
        assert_eq!(
            summary(changes),
            [(4, "SH".into(), 3, 3), (6, "SH".into(), 1, 4)]
        );
    }

    #[test]
    fn a_flow_with_no_net_change_leaves_the_stock_alone() {
        let stored = [1].map(month).into();
        let escalated = CellCounts {
            escalations: 1,
            ..CellCounts::default()
        };
        let changes = batch(&[(key(1, "SH"), escalated)]).monthly_changes(&stored, &[]);
        assert_eq!(
            changes,
            [MonthlyChange {
                key: key(1, "SH"),
                counts: escalated,
                open_at_end: (0, 0)
            }]
        );
    }
}
