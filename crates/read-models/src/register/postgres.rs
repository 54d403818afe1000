//! PostgreSQL: each table written with one statement per batch. Rows the batch creates (the
//! register's and the statistics' items opened in it, every balance movement) are copied in
//! (`binary_copy.rs`); rows it changes are upserted, bound as one array per column and
//! unpacked with `UNNEST`. Each upsert's text is fixed, so it is prepared once; a multi-row
//! `VALUES` list would be parsed and planned anew for every batch.

use sqlx::{Postgres, Transaction};

use super::aging_stock::{AgingChange, AGING_ADD_ON_CONFLICT};
use super::columns::{REGISTER_COLUMNS, TABLE_AND_COLUMNS, UNNEST_UPSERT};
use super::{RegisterBatch, RegisterRow};
use crate::sql::created_and_updated;
use crate::tuning::binary_copy::BinaryRows;

type Tx<'a, 'c> = &'a mut Transaction<'c, Postgres>;

/// Register rows the batch creates, copied in (no row of theirs can exist yet).
async fn copy_register(tx: Tx<'_, '_>, rows: &[&RegisterRow]) -> Result<(), sqlx::Error> {
    let mut copy = BinaryRows::new(REGISTER_COLUMNS.len() as i16);
    for row in rows {
        copy.row();
        for column in &REGISTER_COLUMNS {
            (column.copy)(row, &mut copy);
        }
    }
    copy.copy_into(tx, &TABLE_AND_COLUMNS).await
}

pub(super) async fn write(
    tx: Tx<'_, '_>,
    batch: &RegisterBatch,
    aging: &[AgingChange],
) -> Result<(), sqlx::Error> {
    let [(created, _), (rows, _)] =
        created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
    copy_register(tx, &created).await?;
    if !rows.is_empty() {
        let mut upsert = sqlx::query(&UNNEST_UPSERT);
        for column in &REGISTER_COLUMNS {
            upsert = (column.array)(&rows, upsert);
        }
        upsert.execute(&mut **tx).await?;
    }
    let mut movements = BinaryRows::new(5);
    for m in &batch.movements {
        movements
            .row()
            .value(&m.item_id)
            .value(&m.sequence)
            .value(&m.on_date)
            .value(&m.outstanding_delta_minor)
            .value(&m.open_delta);
    }
    movements
        .copy_into(
            tx,
            "balance_movements (item_id, sequence, on_date, outstanding_delta_minor, open_delta)",
        )
        .await?;
    if !batch.balances.is_empty() {
        let b = &batch.balances;
        sqlx::query(
            "INSERT INTO open_balance (currency, open_items, outstanding_minor)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[])
             ON CONFLICT (currency) DO UPDATE SET
                 open_items = open_balance.open_items + excluded.open_items,
                 outstanding_minor = open_balance.outstanding_minor + excluded.outstanding_minor",
        )
        .bind(b.keys().cloned().collect::<Vec<_>>())
        .bind(b.values().map(|(n, _)| *n).collect::<Vec<_>>())
        .bind(b.values().map(|(_, m)| *m).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    write_aging(tx, aging).await
}

/// Adds `aging` to the rows of `aging_month_end` (inserting those it does not hold yet).
pub(super) async fn write_aging(tx: Tx<'_, '_>, aging: &[AgingChange]) -> Result<(), sqlx::Error> {
    if !aging.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO aging_month_end (month, branch, category, currency, booked_on,
                 value_date, open_count, outstanding_minor)
             SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::date[],
                 $6::date[], $7::bigint[], $8::bigint[]){AGING_ADD_ON_CONFLICT}"
        ))
        .bind(aging.iter().map(|a| a.month).collect::<Vec<_>>())
        .bind(
            aging
                .iter()
                .map(|a| a.key.branch.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            aging
                .iter()
                .map(|a| a.key.category.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            aging
                .iter()
                .map(|a| a.key.currency.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(aging.iter().map(|a| a.key.booked_on).collect::<Vec<_>>())
        .bind(aging.iter().map(|a| a.key.value_date).collect::<Vec<_>>())
        .bind(aging.iter().map(|a| a.change.0).collect::<Vec<_>>())
        .bind(aging.iter().map(|a| a.change.1).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
