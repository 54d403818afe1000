//! The column table of the monthly statistics (`root_cause_monthly`): every counter a cell
//! keeps, and the statements built from it. Both backends' writes, the root-cause report's
//! query and the snapshot take their column lists from here, so a new counter is a field of
//! `CellCounts`, a line in `COUNTERS`, the fold that counts it, and a migration per backend.

use std::sync::LazyLock;

use super::{CellCounts, CellKey};

/// One counter of `CellCounts` and the column of `root_cause_monthly` it is stored in.
pub(crate) struct Counter {
    pub column: &'static str,
    pub get: fn(&CellCounts) -> i64,
    pub set: fn(&mut CellCounts, i64),
}

macro_rules! counter {
    ($field:ident) => {
        Counter {
            column: stringify!($field),
            get: |counts| counts.$field,
            set: |counts, value| counts.$field = value,
        }
    };
}

/// Every counter a cell keeps, in column order.
pub(crate) const COUNTERS: [Counter; 16] = [
    counter!(opened_count),
    counter!(opened_minor),
    counter!(resolved_count),
    counter!(resolved_minor),
    counter!(reopened_count),
    counter!(reopened_minor),
    counter!(escalations),
    counter!(restated_items),
    counter!(customer_impacted),
    counter!(fees_incurred_minor),
    counter!(fees_refunded_minor),
    counter!(complaints_received),
    counter!(complaints_closed),
    counter!(reminders_due),
    counter!(reminders_sent),
    counter!(reminders_failed),
];

/// The stock columns of a `root_cause_monthly` row, after its counters.
pub(crate) const STOCK_COLUMNS: [&str; 2] = ["open_at_end_count", "open_at_end_minor"];

/// The columns of a cause key, in key order.
pub(crate) const CAUSE_COLUMNS: [&str; 5] = ["category", "code", "branch", "channel", "currency"];

/// The columns of a `root_cause_monthly` cell key after its month: the cause key, then the
/// team, counterparty and incident the items count under.
pub(crate) const CELL_COLUMNS: [&str; 8] = [
    "category",
    "code",
    "branch",
    "channel",
    "currency",
    "team",
    "counterparty",
    "incident",
];

/// Every column of a `root_cause_monthly` row: its month, cell key, counters and stock.
pub(crate) static MONTHLY_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    ["month"]
        .into_iter()
        .chain(CELL_COLUMNS)
        .chain(COUNTERS.iter().map(|c| c.column))
        .chain(STOCK_COLUMNS)
        .collect::<Vec<_>>()
        .join(", ")
});

/// What makes an insert of `root_cause_monthly` rows add to the rows stored: every counter
/// and the stock are deltas.
pub(crate) static MONTHLY_ADD_ON_CONFLICT: LazyLock<String> = LazyLock::new(|| {
    let sums: Vec<String> = COUNTERS
        .iter()
        .map(|c| c.column)
        .chain(STOCK_COLUMNS)
        .map(|column| format!("{column} = root_cause_monthly.{column} + excluded.{column}"))
        .collect();
    format!(
        " ON CONFLICT (month, {}) DO UPDATE SET {}",
        CELL_COLUMNS.join(", "),
        sums.join(", ")
    )
});

/// A whole `root_cause_monthly` row, read by its columns' names.
// Fields are compared through their Debug text (the snapshot).
#[allow(dead_code)]
#[derive(Debug)]
pub(crate) struct MonthlyRow {
    pub key: CellKey,
    pub counts: CellCounts,
    /// Items open at the month's end: (count, minor units).
    pub open_at_end: (i64, i64),
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for MonthlyRow
where
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let (counts, open_at_end) = counts_and_stock(row)?;
        Ok(Self {
            key: CellKey::from_row(row)?,
            counts,
            open_at_end,
        })
    }
}

/// The counters and the stock (count, minor units) of a row that selects them by their
/// column names.
pub(crate) fn counts_and_stock<'r, R: sqlx::Row>(
    row: &'r R,
) -> Result<(CellCounts, (i64, i64)), sqlx::Error>
where
    &'r str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut counts = CellCounts::default();
    for counter in &COUNTERS {
        (counter.set)(&mut counts, row.try_get(counter.column)?);
    }
    let [count, minor] = STOCK_COLUMNS;
    Ok((counts, (row.try_get(count)?, row.try_get(minor)?)))
}

/// A condition true of a `root_cause_monthly` row holding anything but zeros.
pub(crate) static MONTHLY_NOT_ALL_ZERO: LazyLock<String> = LazyLock::new(|| {
    COUNTERS
        .iter()
        .map(|c| c.column)
        .chain(STOCK_COLUMNS)
        .map(|column| format!("{column} <> 0"))
        .collect::<Vec<_>>()
        .join(" OR ")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_name_every_column_once_in_table_order() {
        let columns: Vec<&str> = MONTHLY_COLUMNS.split(", ").collect();
        let expected: Vec<&str> = ["month"]
            .into_iter()
            .chain(CELL_COLUMNS)
            .chain(COUNTERS.iter().map(|c| c.column))
            .chain(STOCK_COLUMNS)
            .collect();
        assert_eq!(columns, expected);
        assert!(columns.contains(&"escalations"));
        assert!(MONTHLY_ADD_ON_CONFLICT
            .contains("escalations = root_cause_monthly.escalations + excluded.escalations"));
        assert_eq!(
            MONTHLY_ADD_ON_CONFLICT.matches(" + excluded.").count(),
            COUNTERS.len() + STOCK_COLUMNS.len()
        );
    }
}
