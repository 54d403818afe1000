//! PostgreSQL: each table written with one statement per batch. Rows the batch creates (the
//! register's and the statistics' items opened in it, every balance movement) are copied in
//! (`binary_copy.rs`); rows it changes are upserted, bound as one array per column and
//! unpacked with `UNNEST`. Each upsert's text is fixed, so it is prepared once; a multi-row
//! `VALUES` list would be parsed and planned anew for every batch.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Transaction};

use super::{RegisterBatch, RegisterRow};
use crate::sql::created_and_updated;
use crate::tuning::binary_copy::BinaryRows;

type Tx<'a, 'c> = &'a mut Transaction<'c, Postgres>;

/// The register's columns, in the order both of its writes give them.
macro_rules! register_columns {
    () => {
        "item_register (item_id, version, source_system, reference, account, branch, channel,
         direction, currency, minor_units, amount_minor, cleared_minor, outstanding_minor,
         booked_on, value_date, description, status, category, code, reclassifications, team,
         assignee, escalation_level, funds_held, fee_minor, fee_currency, opened_at, opened_by,
         classified_at, resolved_at, resolution_method, reopen_count, comment_count,
         last_event_at)"
    };
}

/// `item_register` rows from one array per column, upserted (`REGISTER_UPDATE`).
const REGISTER_UPSERT: &str = concat!(
    "INSERT INTO ",
    register_columns!(),
    " SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint[], $12::bigint[], $13::bigint[],
         $14::date[], $15::date[], $16::text[], $17::text[], $18::text[], $19::text[], $20::int[],
         $21::text[], $22::text[], $23::int[], $24::boolean[], $25::bigint[], $26::text[],
         $27::timestamptz[], $28::text[], $29::timestamptz[], $30::timestamptz[], $31::text[],
         $32::int[], $33::int[], $34::timestamptz[])"
);

/// Register rows the batch creates, copied in (no row of theirs can exist yet).
async fn copy_register(tx: Tx<'_, '_>, rows: &[&RegisterRow]) -> Result<(), sqlx::Error> {
    let mut copy = BinaryRows::new(34);
    for r in rows {
        copy.row()
            .value(&r.item_id)
            .value(&r.version)
            .value(&r.source_system)
            .value(&r.reference)
            .value(&r.account)
            .value(&r.branch)
            .value(&r.channel)
            .value(&r.direction)
            .value(&r.currency)
            .value(&r.minor_units)
            .value(&r.amount_minor)
            .value(&r.cleared_minor)
            .value(&r.outstanding_minor)
            .value(&r.booked_on)
            .value(&r.value_date)
            .value(&r.description)
            .value(&r.status)
            .value(&r.category)
            .value(&r.code)
            .value(&r.reclassifications)
            .value(&r.team)
            .value(&r.assignee)
            .value(&r.escalation_level)
            .value(&r.funds_held)
            .value(&r.fee_minor)
            .value(&r.fee_currency)
            .value(&r.opened_at)
            .value(&r.opened_by)
            .value(&r.classified_at)
            .value(&r.resolved_at)
            .value(&r.resolution_method)
            .value(&r.reopen_count)
            .value(&r.comment_count)
            .value(&r.last_event_at);
    }
    copy.copy_into(tx, register_columns!()).await
}

pub(super) async fn write(tx: Tx<'_, '_>, batch: &RegisterBatch) -> Result<(), sqlx::Error> {
    let [(created, _), (rows, _)] =
        created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
    copy_register(tx, &created).await?;
    if !rows.is_empty() {
        let col =
            |f: fn(&RegisterRow) -> String| rows.iter().map(|r| f(r)).collect::<Vec<String>>();
        let opt = |f: fn(&RegisterRow) -> Option<String>| {
            rows.iter().map(|r| f(r)).collect::<Vec<Option<String>>>()
        };
        let int = |f: fn(&RegisterRow) -> i64| rows.iter().map(|r| f(r)).collect::<Vec<i64>>();
        let int4 = |f: fn(&RegisterRow) -> i32| rows.iter().map(|r| f(r)).collect::<Vec<i32>>();
        let day = |f: fn(&RegisterRow) -> NaiveDate| {
            rows.iter().map(|r| f(r)).collect::<Vec<NaiveDate>>()
        };
        let when = |f: fn(&RegisterRow) -> Option<DateTime<Utc>>| {
            rows.iter()
                .map(|r| f(r))
                .collect::<Vec<Option<DateTime<Utc>>>>()
        };
        sqlx::query(&format!("{REGISTER_UPSERT}{}", super::projection::UPSERT))
            .bind(col(|r| r.item_id.clone()))
            .bind(int(|r| r.version))
            .bind(col(|r| r.source_system.clone()))
            .bind(col(|r| r.reference.clone()))
            .bind(col(|r| r.account.clone()))
            .bind(col(|r| r.branch.clone()))
            .bind(col(|r| r.channel.clone()))
            .bind(col(|r| r.direction.clone()))
            .bind(col(|r| r.currency.clone()))
            .bind(int4(|r| r.minor_units))
            .bind(int(|r| r.amount_minor))
            .bind(int(|r| r.cleared_minor))
            .bind(int(|r| r.outstanding_minor))
            .bind(day(|r| r.booked_on))
            .bind(day(|r| r.value_date))
            .bind(col(|r| r.description.clone()))
            .bind(col(|r| r.status.clone()))
            .bind(opt(|r| r.category.clone()))
            .bind(opt(|r| r.code.clone()))
            .bind(int4(|r| r.reclassifications))
            .bind(opt(|r| r.team.clone()))
            .bind(opt(|r| r.assignee.clone()))
            .bind(int4(|r| r.escalation_level))
            .bind(rows.iter().map(|r| r.funds_held).collect::<Vec<bool>>())
            .bind(
                rows.iter()
                    .map(|r| r.fee_minor)
                    .collect::<Vec<Option<i64>>>(),
            )
            .bind(opt(|r| r.fee_currency.clone()))
            .bind(when(|r| Some(r.opened_at)))
            .bind(col(|r| r.opened_by.clone()))
            .bind(when(|r| r.classified_at))
            .bind(when(|r| r.resolved_at))
            .bind(opt(|r| r.resolution_method.clone()))
            .bind(int4(|r| r.reopen_count))
            .bind(int4(|r| r.comment_count))
            .bind(when(|r| Some(r.last_event_at)))
            .execute(&mut **tx)
            .await?;
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
    Ok(())
}
