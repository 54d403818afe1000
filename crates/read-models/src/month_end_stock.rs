//! Stocks at month ends kept from monthly flows, for any key: the statistics' items open per
//! cause key (`statistics/month_end.rs`) and aging's open items per booking date
//! (`register/aging_stock.rs`).
//!
//! The stock of a key at the end of month `m` is the sum of its flows in every month up to
//! `m`. It is kept for every month the table holds a row of (a *stored month*), for every key
//! with a stock then: a month's rows are complete, so the stock at the end of any month is
//! read from the latest stored month not after it (nothing flowed in the months between).
//! Months nothing flowed in get no rows at all; a date decades off adds one month, not every
//! month up to it.
//!
//! A batch adds its flows of month `k` to the stock of every stored month from `k` on; a month
//! it stores for the first time starts from the stock of the stored month before it.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;

use chrono::NaiveDate;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use suspense_database::{on_tx, Statement, Tx};

use crate::fast_hash::Map;

/// A stock or a flow: (items, minor units).
pub(crate) type Stock = (i64, i64);

/// A key's flows per month.
pub(crate) type Flows = BTreeMap<NaiveDate, Stock>;

/// The stored months whose stock `stock_changes` needs (in `before_new`): the one before each
/// month of `months` that is not stored yet.
pub(crate) fn stock_sources(
    months: &BTreeSet<NaiveDate>,
    stored: &BTreeSet<NaiveDate>,
) -> BTreeSet<NaiveDate> {
    months
        .iter()
        .filter(|m| !stored.contains(m))
        .filter_map(|m| stored_before(stored, *m))
        .collect()
}

/// What `stock_changes` needs from a table of month-end stocks, read in the batch's
/// transaction: the months `table` stores from the last one before the first of `months` on,
/// and the rows (`columns`, non-zero stocks in `stock_columns`) of the stored months before
/// each month of `months` not stored yet.
pub(crate) async fn read_stored<T>(
    tx: &mut Tx<'_>,
    table: &str,
    columns: &str,
    stock_columns: [&str; 2],
    months: &BTreeSet<NaiveDate>,
) -> Result<(BTreeSet<NaiveDate>, Vec<T>), sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let Some(first) = months.first().copied() else {
        return Ok((BTreeSet::new(), Vec::new()));
    };
    let stored_months = format!(
        "SELECT DISTINCT month FROM {table}
          WHERE month >= COALESCE((SELECT max(month) FROM {table} WHERE month < $1), $1)"
    );
    let stored: Vec<NaiveDate> = on_tx!(tx, t => sqlx::query_scalar(&stored_months)
        .bind(first)
        .fetch_all(&mut **t)
        .await?);
    let stored: BTreeSet<NaiveDate> = stored.into_iter().collect();
    let sources = stock_sources(months, &stored);
    if sources.is_empty() {
        return Ok((stored, Vec::new()));
    }
    let [count, minor] = stock_columns;
    let mut statement = Statement::new(format!(
        "SELECT {columns} FROM {table} WHERE ({count} <> 0 OR {minor} <> 0) AND month IN ("
    ));
    statement.push_params(sources.iter().copied()).push(")");
    let rows = statement.fetch_all_in(tx).await?;
    Ok((stored, rows))
}

/// What `net` (each key's flows per month) adds to the stock of each (month, key): every
/// stored month from a flow's month on, and every month the flows store first (which then
/// holds the whole stock). Keys whose stock does not change are left out.
///
/// `stored` holds the months stored before, from the one before the flows' first month on;
/// `before_new` the stock of every key at the stored month before each month stored first
/// (`stock_sources`).
pub(crate) fn stock_changes<K: Copy + Eq + Hash + Ord>(
    net: &Map<K, Flows>,
    stored: &BTreeSet<NaiveDate>,
    before_new: &Map<NaiveDate, Map<K, Stock>>,
) -> Map<(NaiveDate, K), Stock> {
    let flow_months: BTreeSet<NaiveDate> = net.values().flat_map(|f| f.keys()).copied().collect();
    let Some(&first) = flow_months.first() else {
        return Map::default();
    };
    // Each month from the first flow's on, with the stored month it starts from if the flows
    // store it first (a month stored before already holds its stock).
    let months: Vec<(NaiveDate, Option<NaiveDate>)> = stored
        .range(first..)
        .chain(&flow_months)
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|m| {
            let start = if stored.contains(&m) {
                None
            } else {
                stored_before(stored, m)
            };
            (m, start)
        })
        .collect();
    let keys: BTreeSet<K> = net
        .keys()
        .chain(before_new.values().flat_map(Map::keys))
        .copied()
        .collect();
    let mut stock: Map<(NaiveDate, K), Stock> = Map::default();
    for key in keys {
        let flows = net.get(&key);
        let mut since = (0, 0);
        for (month, start) in &months {
            if let Some(flow) = flows.and_then(|f| f.get(month)) {
                since = (since.0 + flow.0, since.1 + flow.1);
            }
            // A month stored before gets the flows since; a new one holds the whole stock.
            let base = start
                .and_then(|s| before_new.get(&s))
                .and_then(|at| at.get(&key))
                .copied()
                .unwrap_or_default();
            let change = (base.0 + since.0, base.1 + since.1);
            if change != (0, 0) {
                stock.insert((*month, key), change);
            }
        }
    }
    stock
}

/// The latest of `stored` before `month`.
fn stored_before(stored: &BTreeSet<NaiveDate>, month: NaiveDate) -> Option<NaiveDate> {
    stored.range(..month).next_back().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).expect("a month")
    }

    fn flows(entries: &[(&'static str, u32, i64)]) -> Map<&'static str, Flows> {
        let mut net: Map<&'static str, Flows> = Map::default();
        for (key, m, n) in entries {
            let flow = net.entry(key).or_default().entry(month(*m)).or_default();
            (flow.0, flow.1) = (flow.0 + n, flow.1 + n * 100);
        }
        net
    }

    /// (month, key, stock change), sorted.
    fn summary(changes: Map<(NaiveDate, &str), Stock>) -> Vec<(u32, String, i64)> {
        use chrono::Datelike;
        let mut rows: Vec<_> = changes
            .into_iter()
            .map(|((m, key), (n, minor))| {
                assert_eq!(minor, n * 100, "minor follows count");
                (m.month(), key.to_owned(), n)
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn flows_add_to_the_stock_of_their_month_and_every_stored_month_after() {
        let stored = [2, 3, 5].map(month).into();
        let changes = stock_changes(&flows(&[("SH", 3, 2)]), &stored, &Map::default());
        assert_eq!(
            summary(changes),
            [(3, "SH".into(), 2), (5, "SH".into(), 2)],
            "month 2 is before the flow; 4 is not stored"
        );
    }

    #[test]
    fn a_new_month_starts_from_the_stock_of_the_stored_month_before_it() {
        let stored: BTreeSet<NaiveDate> = [1, 3].map(month).into();
        let at_1: Map<&str, Stock> = [("SH", (5, 500)), ("BJ", (1, 100))].into_iter().collect();
        let before: Map<NaiveDate, Map<&str, Stock>> = [(month(1), at_1)].into_iter().collect();
        assert_eq!(
            stock_sources(&[month(2)].into(), &stored),
            [month(1)].into()
        );
        let changes = stock_changes(&flows(&[("SH", 2, -1)]), &stored, &before);
        assert_eq!(
            summary(changes),
            [
                (2, "BJ".into(), 1),
                (2, "SH".into(), 4),
                (3, "SH".into(), -1)
            ],
            "month 2 holds every key's whole stock; stored month 3 gets the change"
        );
    }

    #[test]
    fn a_first_month_without_one_before_holds_its_own_flows() {
        let changes = stock_changes(
            &flows(&[("SH", 4, 3), ("SH", 6, 1)]),
            &BTreeSet::new(),
            &Map::default(),
        );
        assert_eq!(summary(changes), [(4, "SH".into(), 3), (6, "SH".into(), 4)]);
    }

    #[test]
    fn flows_that_cancel_leave_the_stock_alone() {
        let stored = [1].map(month).into();
        let changes = stock_changes(
            &flows(&[("SH", 1, 2), ("SH", 1, -2)]),
            &stored,
            &Map::default(),
        );
        assert!(changes.is_empty());
    }
}
