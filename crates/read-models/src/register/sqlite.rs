//! SQLite: multi-row `INSERT … VALUES` with every value bound.
//!
//! Text is bound by reference to the batch's rows rather than cloned first (sqlx and SQLite
//! still copy it once each), and dates as `date_text`: the clones and chrono's `%F` took two
//! thirds of the time spent building the statements, about 7% of a catch-up's CPU
//! (docs/performance.md).
//!
//! Every insert is `INSERT OR FAIL`: a multi-row statement that may abort (`ABORT` undoes
//! the statement's own rows) makes SQLite copy every page it touches to a statement journal
//! first, which took a third of the read models' write time in a bulk build. `FAIL` stops
//! at the failing row and leaves the rows before it, which is all the same here: any error
//! rolls the whole batch's transaction back.

use sqlx::{QueryBuilder, Transaction};

use super::aging_stock::{AgingChange, AGING_ADD_ON_CONFLICT};
use super::columns::{REGISTER_COLUMNS, TABLE_AND_COLUMNS, UPSERT};
use super::RegisterBatch;
use crate::sql::{created_and_updated, date_text, CHUNK};
use crate::tuning::sqlite_chunks::execute_chunks;

type Db = sqlx::Sqlite;

pub(super) async fn write(
    tx: &mut Transaction<'_, Db>,
    batch: &RegisterBatch,
    aging: &[AgingChange],
) -> Result<(), sqlx::Error> {
    let insert = format!("INSERT OR FAIL INTO {} ", *TABLE_AND_COLUMNS);
    let batches = created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
    for (rows, upsert) in batches {
        execute_chunks(tx, &rows, |chunk| {
            let mut q = QueryBuilder::<Db>::new(&insert);
            q.push_values(chunk, |mut values, row| {
                for column in &REGISTER_COLUMNS {
                    (column.sqlite)(row, &mut values);
                }
            });
            if upsert {
                q.push(UPSERT.as_str());
            }
            q
        })
        .await?;
    }
    execute_chunks(tx, &batch.movements, |chunk| {
        let mut q = QueryBuilder::<Db>::new(
                    "INSERT OR FAIL INTO balance_movements (item_id, sequence, on_date, outstanding_delta_minor, open_delta) ",
                );
        q.push_values(chunk, |mut b, m| {
            b.push_bind(m.item_id.as_str())
                .push_bind(m.sequence)
                .push_bind(date_text(m.on_date))
                .push_bind(m.outstanding_delta_minor)
                .push_bind(m.open_delta);
        });
        q
    })
    .await?;
    let balances: Vec<(&String, &(i64, i64))> = batch.balances.iter().collect();
    for chunk in balances.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT OR FAIL INTO open_balance (currency, open_items, outstanding_minor) ",
        );
        q.push_values(chunk, |mut b, (currency, (items, minor))| {
            b.push_bind((*currency).clone())
                .push_bind(*items)
                .push_bind(*minor);
        });
        q.push(
                    " ON CONFLICT (currency) DO UPDATE SET
                      open_items = open_balance.open_items + excluded.open_items,
                      outstanding_minor = open_balance.outstanding_minor + excluded.outstanding_minor",
                );
        q.build().execute(&mut **tx).await?;
    }
    write_aging(tx, aging).await
}

/// Adds `aging` to the rows of `aging_month_end` (inserting those it does not hold yet).
pub(super) async fn write_aging(
    tx: &mut Transaction<'_, Db>,
    aging: &[AgingChange],
) -> Result<(), sqlx::Error> {
    execute_chunks(tx, aging, |chunk| {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT OR FAIL INTO aging_month_end (month, branch, category, currency, booked_on,
                 value_date, open_count, outstanding_minor) ",
        );
        q.push_values(chunk, |mut b, row| {
            b.push_bind(date_text(row.month))
                .push_bind(row.key.branch.as_str())
                .push_bind(row.key.category.as_str())
                .push_bind(row.key.currency.as_str())
                .push_bind(date_text(row.key.booked_on))
                .push_bind(date_text(row.key.value_date))
                .push_bind(row.change.0)
                .push_bind(row.change.1);
        });
        q.push(AGING_ADD_ON_CONFLICT);
        q
    })
    .await?;
    Ok(())
}
