//! PostgreSQL writes of the statistics, as the register's (`register/postgres.rs`): items a
//! batch opens copied in, the rest upserted from one array per column.

use std::sync::LazyLock;

use sqlx::{Postgres, Transaction};

use super::columns::{
    CELL_COLUMNS, COUNTERS, MONTHLY_ADD_ON_CONFLICT, MONTHLY_COLUMNS, STOCK_COLUMNS,
};
use super::month_end::MonthlyChange;
use super::{HistogramCell, HistogramKey, StatsBatch, StatsItem};
use crate::sql::created_and_updated;
use crate::tuning::binary_copy::BinaryRows;

type Tx<'a, 'c> = &'a mut Transaction<'c, Postgres>;

/// `root_cause_monthly` rows from one array per column (`columns.rs`), added to the stored.
static MONTHLY_UPSERT: LazyLock<String> = LazyLock::new(|| {
    let mut arrays = vec!["$1::date[]".to_owned()];
    let texts = CELL_COLUMNS.len();
    let numbers = COUNTERS.len() + STOCK_COLUMNS.len();
    arrays.extend((2..2 + texts).map(|n| format!("${n}::text[]")));
    arrays.extend((2 + texts..2 + texts + numbers).map(|n| format!("${n}::bigint[]")));
    format!(
        "INSERT INTO root_cause_monthly ({}) SELECT * FROM UNNEST({}){}",
        *MONTHLY_COLUMNS,
        arrays.join(", "),
        *MONTHLY_ADD_ON_CONFLICT
    )
});

/// The statistics items' columns, in the order both of their writes give them.
const STATS_ITEM_COLUMNS: &str =
    "stats_items (item_id, branch, channel, currency, category, code, reclassified, booked_on,
         amount_minor, team, counterparty, incident, impacted)";

/// Statistics items the batch opens, copied in (no row of theirs can exist yet).
async fn copy_stats_items(tx: Tx<'_, '_>, items: &[&StatsItem]) -> Result<(), sqlx::Error> {
    let mut copy = BinaryRows::new(13);
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
            .value(&i.amount_minor)
            .value(&i.team)
            .value(&i.counterparty)
            .value(&i.incident)
            .value(&i.impacted);
    }
    copy.copy_into(tx, STATS_ITEM_COLUMNS).await
}

pub(super) async fn write(
    tx: Tx<'_, '_>,
    batch: &StatsBatch,
    monthly: &[MonthlyChange],
) -> Result<(), sqlx::Error> {
    let [(created, _), (items, _)] =
        created_and_updated(batch.items_to_write(), &batch.created, |i| &i.item_id);
    copy_stats_items(tx, &created).await?;
    if !items.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO {STATS_ITEM_COLUMNS}
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::boolean[], $8::date[], $9::bigint[], $10::text[], $11::text[],
                 $12::text[], $13::boolean[]){}",
            super::projection::ITEM_UPSERT
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
        .bind(items.iter().map(|i| i.team.clone()).collect::<Vec<_>>())
        .bind(
            items
                .iter()
                .map(|i| i.counterparty.clone())
                .collect::<Vec<_>>(),
        )
        .bind(items.iter().map(|i| i.incident.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.impacted).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !monthly.is_empty() {
        let mut q = sqlx::query(&MONTHLY_UPSERT)
            .bind(monthly.iter().map(|c| c.key.month).collect::<Vec<_>>());
        for dim in 0..CELL_COLUMNS.len() {
            q = q.bind(
                monthly
                    .iter()
                    .map(|c| c.key.dims()[dim].to_owned())
                    .collect::<Vec<_>>(),
            );
        }
        for counter in &COUNTERS {
            q = q.bind(
                monthly
                    .iter()
                    .map(|c| (counter.get)(&c.counts))
                    .collect::<Vec<_>>(),
            );
        }
        q.bind(monthly.iter().map(|c| c.open_at_end.0).collect::<Vec<_>>())
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
        let key = |f: fn(&HistogramKey) -> String| changes.keys().map(|k| f(k)).collect::<Vec<_>>();
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
        let text =
            |f: fn(&HistogramKey) -> String| cells.iter().map(|c| f(&c.key)).collect::<Vec<_>>();
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
