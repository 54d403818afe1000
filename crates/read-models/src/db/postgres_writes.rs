//! PostgreSQL: each table written with one statement per batch. Rows the batch creates (the
//! register's and the statistics' items opened in it, every balance movement) are copied in
//! (`binary_copy.rs`); rows it changes are upserted, bound as one array per column and
//! unpacked with `UNNEST`. Each upsert's text is fixed, so it is prepared once; a multi-row
//! `VALUES` list would be parsed and planned anew for every batch.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Transaction};

use super::binary_copy::BinaryRows;
use crate::month_end::MonthlyChange;
use crate::register::{RegisterBatch, RegisterRow};
use crate::statistics::{CellKey, HistogramCell, StatsBatch, StatsItem};

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

pub(super) async fn write_register(
    tx: Tx<'_, '_>,
    batch: &RegisterBatch,
) -> Result<(), sqlx::Error> {
    let [(created, _), (rows, _)] =
        super::created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
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
        sqlx::query(&format!("{REGISTER_UPSERT}{}", super::REGISTER_UPDATE))
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

/// The statistics items' columns, in the order both of their writes give them.
const STATS_ITEM_COLUMNS: &str =
    "stats_items (item_id, branch, channel, currency, category, code, reclassified, booked_on,
         amount_minor)";

/// Statistics items the batch opens, copied in (no row of theirs can exist yet).
async fn copy_stats_items(tx: Tx<'_, '_>, items: &[&StatsItem]) -> Result<(), sqlx::Error> {
    let mut copy = BinaryRows::new(9);
    for i in items {
        copy.row()
            .value(&i.item_id)
            .value(&i.branch)
            .value(&i.channel)
            .value(&i.currency)
            .value(&i.category)
            .value(&i.code)
            .value(&i.reclassified)
            .value(&i.booked_on)
            .value(&i.amount_minor);
    }
    copy.copy_into(tx, STATS_ITEM_COLUMNS).await
}

pub(super) async fn write_stats(
    tx: Tx<'_, '_>,
    batch: &StatsBatch,
    monthly: &[MonthlyChange],
) -> Result<(), sqlx::Error> {
    let [(created, _), (items, _)] =
        super::created_and_updated(batch.items_to_write(), &batch.created, |i| &i.item_id);
    copy_stats_items(tx, &created).await?;
    if !items.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO {STATS_ITEM_COLUMNS}
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::boolean[], $8::date[], $9::bigint[]){}",
            super::STATS_ITEM_UPDATE
        ))
        .bind(items.iter().map(|i| i.item_id.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.branch.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.channel.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.currency.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.category.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.code.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.reclassified).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.booked_on).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.amount_minor).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !monthly.is_empty() {
        let key = |f: fn(&CellKey) -> String| monthly.iter().map(|c| f(&c.key)).collect::<Vec<_>>();
        let n = |f: fn(&crate::statistics::CellCounts) -> i64| {
            monthly.iter().map(|c| f(&c.counts)).collect::<Vec<_>>()
        };
        sqlx::query(
            "INSERT INTO root_cause_monthly (month, category, code, branch, channel, currency,
                 opened_count, opened_minor, resolved_count, resolved_minor, reopened_count,
                 reopened_minor, escalations, restated_items, open_at_end_count, open_at_end_minor)
             SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
                 $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
             ON CONFLICT (month, category, code, branch, channel, currency) DO UPDATE SET
                 opened_count = root_cause_monthly.opened_count + excluded.opened_count,
                 opened_minor = root_cause_monthly.opened_minor + excluded.opened_minor,
                 resolved_count = root_cause_monthly.resolved_count + excluded.resolved_count,
                 resolved_minor = root_cause_monthly.resolved_minor + excluded.resolved_minor,
                 reopened_count = root_cause_monthly.reopened_count + excluded.reopened_count,
                 reopened_minor = root_cause_monthly.reopened_minor + excluded.reopened_minor,
                 escalations = root_cause_monthly.escalations + excluded.escalations,
                 restated_items = root_cause_monthly.restated_items + excluded.restated_items,
                 open_at_end_count = root_cause_monthly.open_at_end_count + excluded.open_at_end_count,
                 open_at_end_minor = root_cause_monthly.open_at_end_minor + excluded.open_at_end_minor",
        )
        .bind(monthly.iter().map(|c| c.key.month).collect::<Vec<_>>())
        .bind(key(|k| k.category.clone()))
        .bind(key(|k| k.code.clone()))
        .bind(key(|k| k.branch.clone()))
        .bind(key(|k| k.channel.clone()))
        .bind(key(|k| k.currency.clone()))
        .bind(n(|c| c.opened_count))
        .bind(n(|c| c.opened_minor))
        .bind(n(|c| c.resolved_count))
        .bind(n(|c| c.resolved_minor))
        .bind(n(|c| c.reopened_count))
        .bind(n(|c| c.reopened_minor))
        .bind(n(|c| c.escalations))
        .bind(n(|c| c.restated_items))
        .bind(monthly.iter().map(|c| c.open_at_end.0).collect::<Vec<_>>())
        .bind(monthly.iter().map(|c| c.open_at_end.1).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    let open = batch.open_deltas();
    if !open.is_empty() {
        let part = |i: usize| open.iter().map(|d| d.key[i].to_owned()).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO root_cause_open (category, code, branch, channel, currency, open_count, open_minor)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::bigint[], $7::bigint[])
             ON CONFLICT (category, code, branch, channel, currency) DO UPDATE SET
                 open_count = root_cause_open.open_count + excluded.open_count,
                 open_minor = root_cause_open.open_minor + excluded.open_minor",
        )
        .bind(part(0))
        .bind(part(1))
        .bind(part(2))
        .bind(part(3))
        .bind(part(4))
        .bind(open.iter().map(|d| d.count).collect::<Vec<_>>())
        .bind(open.iter().map(|d| d.minor).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    let changes = batch.histogram_changes();
    if !changes.is_empty() {
        let key = |f: fn(&CellKey) -> String| changes.keys().map(|k| f(k)).collect::<Vec<_>>();
        let stored: Vec<HistogramCell> = sqlx::query_as(
            "SELECT h.month, h.category, h.code, h.branch, h.channel, h.currency, h.buckets
               FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    AS k(month, category, code, branch, channel, currency)
               JOIN resolution_time_histogram h
                 ON h.month = k.month AND h.category = k.category AND h.code = k.code
                AND h.branch = k.branch AND h.channel = k.channel AND h.currency = k.currency",
        )
        .bind(changes.keys().map(|k| k.month).collect::<Vec<_>>())
        .bind(key(|k| k.category.clone()))
        .bind(key(|k| k.code.clone()))
        .bind(key(|k| k.branch.clone()))
        .bind(key(|k| k.channel.clone()))
        .bind(key(|k| k.currency.clone()))
        .fetch_all(&mut **tx)
        .await?;
        let cells = super::merged_histogram(&changes, stored);
        let buckets = cells
            .iter()
            .map(HistogramCell::buckets_json)
            .collect::<Result<Vec<_>, _>>()?;
        let text = |f: fn(&CellKey) -> String| cells.iter().map(|c| f(&c.key)).collect::<Vec<_>>();
        let percentiles: Vec<_> = cells.iter().map(HistogramCell::percentiles).collect();
        sqlx::query(
            "INSERT INTO resolution_time_histogram (month, category, code, branch, channel, currency,
                 buckets, resolved_count, median_hours, p90_hours)
             SELECT month, category, code, branch, channel, currency, buckets::jsonb, resolved_count,
                    median_hours, p90_hours
               FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
                    AS c(month, category, code, branch, channel, currency, buckets, resolved_count,
                         median_hours, p90_hours)
             ON CONFLICT (month, category, code, branch, channel, currency) DO UPDATE SET
                 buckets = excluded.buckets, resolved_count = excluded.resolved_count,
                 median_hours = excluded.median_hours, p90_hours = excluded.p90_hours",
        )
        .bind(cells.iter().map(|c| c.key.month).collect::<Vec<_>>())
        .bind(text(|k| k.category.clone()))
        .bind(text(|k| k.code.clone()))
        .bind(text(|k| k.branch.clone()))
        .bind(text(|k| k.channel.clone()))
        .bind(text(|k| k.currency.clone()))
        .bind(buckets)
        .bind(cells.iter().map(HistogramCell::resolved_count).collect::<Vec<_>>())
        .bind(percentiles.iter().map(|p| p.0).collect::<Vec<_>>())
        .bind(percentiles.iter().map(|p| p.1).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
