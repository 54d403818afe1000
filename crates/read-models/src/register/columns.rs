//! The column table of `item_register`: every column, how each backend's writes carry its
//! value, and whether an upsert of a stored row rewrites it. Both backends' inserts, copies
//! and upserts are built from it, so a new register column is a field of `RegisterRow`, a
//! line here, the fold that sets it, and a migration per backend.

use std::sync::LazyLock;

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, Sqlite};

use super::RegisterRow;
use crate::sql::date_text;
use crate::tuning::binary_copy::BinaryRows;

/// A PostgreSQL statement being bound.
type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// One column of `item_register`.
pub(crate) struct Column {
    pub name: &'static str,
    /// The PostgreSQL array type its values are bound as, to be unpacked by `UNNEST`.
    pub array_type: &'static str,
    /// An upsert of a stored row rewrites it; the booking's own facts never change.
    pub updated: bool,
    /// Binds a row's value into a SQLite multi-row `VALUES` list, by reference where it can.
    pub sqlite: for<'a, 'b> fn(&'a RegisterRow, &mut Separated<'b, 'a, Sqlite, &'static str>),
    /// Writes a row's value into a PostgreSQL binary `COPY`.
    pub copy: fn(&RegisterRow, &mut BinaryRows),
    /// Binds the rows' values as one PostgreSQL array.
    pub array: for<'q> fn(&[&RegisterRow], PgQuery<'q>) -> PgQuery<'q>,
}

/// A `Column` for a field of `RegisterRow`: `$kind` says how SQLite binds it without a copy
/// (`text`, `optional_text`, `date`, or `value` for what is bound as it is).
macro_rules! column {
    ($field:ident, $array_type:literal, $updated:literal, $kind:ident) => {
        Column {
            name: stringify!($field),
            array_type: $array_type,
            updated: $updated,
            sqlite: |row, values| {
                values.push_bind(column!(@sqlite $kind, row.$field));
            },
            copy: |row, copy| {
                copy.value(&row.$field);
            },
            array: |rows, query| {
                query.bind(rows.iter().map(|row| row.$field.clone()).collect::<Vec<_>>())
            },
        }
    };
    (@sqlite text, $value:expr) => { $value.as_str() };
    (@sqlite optional_text, $value:expr) => { $value.as_deref() };
    (@sqlite date, $value:expr) => { date_text($value) };
    (@sqlite value, $value:expr) => { $value };
}

/// Every column of `item_register`, in the order both backends write them.
pub(crate) const REGISTER_COLUMNS: [Column; 39] = [
    column!(item_id, "text[]", false, text),
    column!(version, "bigint[]", true, value),
    column!(source_system, "text[]", false, text),
    column!(reference, "text[]", false, text),
    column!(account, "text[]", false, text),
    column!(branch, "text[]", false, text),
    column!(channel, "text[]", false, text),
    column!(direction, "text[]", false, text),
    column!(currency, "text[]", false, text),
    column!(minor_units, "int[]", false, value),
    column!(amount_minor, "bigint[]", false, value),
    column!(cleared_minor, "bigint[]", true, value),
    column!(outstanding_minor, "bigint[]", true, value),
    column!(booked_on, "date[]", false, date),
    column!(value_date, "date[]", false, date),
    column!(description, "text[]", false, text),
    column!(status, "text[]", true, text),
    column!(category, "text[]", true, optional_text),
    column!(code, "text[]", true, optional_text),
    column!(reclassifications, "int[]", true, value),
    column!(team, "text[]", true, optional_text),
    column!(assignee, "text[]", true, optional_text),
    column!(escalation_level, "int[]", true, value),
    column!(funds_held, "boolean[]", true, value),
    column!(fee_minor, "bigint[]", false, value),
    column!(fee_currency, "text[]", false, optional_text),
    column!(opened_at, "timestamptz[]", false, value),
    column!(opened_by, "text[]", false, text),
    column!(classified_at, "timestamptz[]", true, value),
    column!(resolved_at, "timestamptz[]", true, value),
    column!(resolution_method, "text[]", true, optional_text),
    column!(reopen_count, "int[]", true, value),
    column!(comment_count, "int[]", true, value),
    column!(last_event_at, "timestamptz[]", true, value),
    column!(responsible, "text[]", true, optional_text),
    column!(counterparty, "text[]", true, optional_text),
    column!(incident, "text[]", true, optional_text),
    column!(customer, "text[]", true, optional_text),
    column!(last_reminder_day, "int[]", true, value),
];

/// `item_register (item_id, version, …)`: the table and its columns in write order.
pub(crate) static TABLE_AND_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = REGISTER_COLUMNS.iter().map(|c| c.name).collect();
    format!("item_register ({})", names.join(", "))
});

/// What makes an insert of register rows an upsert; both backends spell it alike.
pub(crate) static UPSERT: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = REGISTER_COLUMNS
        .iter()
        .filter(|c| c.updated)
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    format!(" ON CONFLICT (item_id) DO UPDATE SET {}", set.join(", "))
});

/// PostgreSQL: register rows from one array per column, upserted.
pub(crate) static UNNEST_UPSERT: LazyLock<String> = LazyLock::new(|| {
    let arrays: Vec<String> = REGISTER_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.array_type))
        .collect();
    format!(
        "INSERT INTO {} SELECT * FROM UNNEST({}){}",
        *TABLE_AND_COLUMNS,
        arrays.join(", "),
        *UPSERT
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_named_once_and_the_row_identity_is_never_rewritten() {
        let mut names: Vec<&str> = REGISTER_COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTER_COLUMNS.len());
        assert!(!UPSERT.contains("item_id = excluded"));
        assert!(UPSERT.contains("status = excluded.status"));
        assert!(!UPSERT.contains("booked_on"));
        assert!(UNNEST_UPSERT.contains("$34::timestamptz[]"));
        assert!(UNNEST_UPSERT.contains("$37::text[]"));
    }
}
