//! What the read models' reads and writes share on both backends: statement sizes, the order
//! rows are written in, reading rows by item id, and the leaf mechanisms each backend's bulk
//! writes use (`binary_copy` on PostgreSQL, `sqlite_chunks` and `date_text` on SQLite).
//!
//! SQL for both backends is written the one way `suspense_database` describes: statements
//! as constants beside the module that runs them, run through `with_pool!` / `on_tx!` or
//! built as a `Statement`, and a small function per backend where the dialects or the fast
//! paths differ (`register/sqlite.rs`, `register/postgres.rs`, ...).

use suspense_database::{Pool, Statement};

use crate::fast_hash::Set;

/// Rows per multi-row statement: under SQLite's 32,766 bound parameters for the widest table.
pub(crate) const CHUNK: usize = 500;

/// The rows of `table` (a `SELECT … FROM table`) whose `item_id` is one of `ids`, read in
/// chunks of `CHUNK` ids.
pub(crate) async fn select_in<T>(
    pool: &Pool,
    select: &str,
    ids: &[String],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut statement = Statement::new(format!("{select} WHERE item_id IN ("));
        statement
            .push_params(chunk.iter().map(String::as_str))
            .push(")");
        rows.extend(statement.fetch_all::<T>(pool).await?);
    }
    Ok(rows)
}

/// `rows` as the rows the batch creates, to insert (`false`), and the rest, to upsert
/// (`true`). An item whose opening (sequence 1) is in the batch has no stored row, so its row
/// needs no conflict check, which costs PostgreSQL about as much again per row.
///
/// Each in item id order: the rows come from a hash map, and inserted in its random order
/// each one lands on another page of the item id index than the one before. In key order
/// the index pages are walked once (a 1M-event catch-up took about 5% less time so on both
/// backends; docs/performance.md).
pub(crate) fn created_and_updated<'a, T>(
    rows: impl Iterator<Item = &'a T>,
    created: &Set<String>,
    item_id: impl Fn(&T) -> &str,
) -> [(Vec<&'a T>, bool); 2] {
    let (mut new, mut old): (Vec<&T>, Vec<&T>) = rows.partition(|r| created.contains(item_id(r)));
    new.sort_unstable_by(|a, b| item_id(a).cmp(item_id(b)));
    old.sort_unstable_by(|a, b| item_id(a).cmp(item_id(b)));
    [(new, false), (old, true)]
}

/// `date` as sqlx writes a `NaiveDate` to SQLite (chrono's `%F`, `2025-06-30`), written
/// directly: chrono parses the format string again for every value, twice per register row
/// and once per statistics item and per movement.
pub(crate) fn date_text(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => {
            let mut text = String::with_capacity(10);
            push_digits(&mut text, year, 4);
            text.push('-');
            push_digits(&mut text, date.month(), 2);
            text.push('-');
            push_digits(&mut text, date.day(), 2);
            text
        }
        // Years chrono writes with a sign or more digits.
        _ => date.format("%F").to_string(),
    }
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        text.push(char::from_digit(value / 10u32.pow(place) % 10, 10).unwrap_or('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_date_is_written_as_sqlx_writes_it(days in -800_000i32..4_000_000) {
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days).expect("in chrono's range");
            prop_assert_eq!(date_text(date), date.format("%F").to_string());
        }
    }

    #[test]
    fn dates_at_the_edges_of_four_digit_years_are_written_as_sqlx_writes_them() {
        for (y, m, d) in [
            (0, 1, 1),
            (1, 1, 1),
            (999, 12, 31),
            (2025, 6, 30),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 12, 31),
        ] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
            assert_eq!(date_text(date), date.format("%F").to_string());
        }
    }

    #[test]
    fn rows_to_write_are_split_into_new_and_stored_each_in_item_id_order() {
        let rows = ["c", "a", "d", "b", "e"];
        let created: Set<String> = ["d", "a"].into_iter().map(String::from).collect();
        let [(new, insert_only), (old, upsert)] = created_and_updated(rows.iter(), &created, |r| r);
        assert_eq!((new, insert_only), (vec![&"a", &"d"], false));
        assert_eq!((old, upsert), (vec![&"b", &"c", &"e"], true));
    }
}
