//! SQLite writes of the statistics, as the register's (`register/sqlite.rs` says why they
//! are `INSERT OR FAIL` multi-row statements with dates written by `date_text`).

use sqlx::{QueryBuilder, Transaction};

use super::columns::{MONTHLY_ADD_ON_CONFLICT, MONTHLY_COLUMNS};
use super::month_end::MonthlyChange;
use super::{HistogramCell, HistogramKey, StatsBatch};
use crate::sql::{created_and_updated, date_text, CHUNK};
use crate::tuning::sqlite_chunks::execute_chunks;

type Db = sqlx::Sqlite;

pub(super) async fn write(
    tx: &mut Transaction<'_, Db>,
    batch: &StatsBatch,
    monthly: &[MonthlyChange],
) -> Result<(), sqlx::Error> {
    let batches = created_and_updated(batch.items_to_write(), &batch.created, |i| &i.item_id);
    for (items, upsert) in batches {
        execute_chunks(tx, &items, |chunk| {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT OR FAIL INTO stats_items (item_id, branch, channel, currency, category, code,
                     reclassified, booked_on, amount_minor, team, counterparty, incident, impacted) ",
            );
            q.push_values(chunk, |mut b, i| {
                b.push_bind(i.item_id.as_str())
                    .push_bind(i.branch.as_str())
                    .push_bind(i.channel.as_str())
                    .push_bind(i.currency.as_str())
                    .push_bind(i.category.as_str())
                    .push_bind(i.code.as_str())
                    .push_bind(i.reclassified)
                    .push_bind(date_text(i.booked_on))
                    .push_bind(i.amount_minor)
                    .push_bind(i.team.as_str())
                    .push_bind(i.counterparty.as_str())
                    .push_bind(i.incident.as_str())
                    .push_bind(i.impacted);
            });
            if upsert {
                q.push(super::projection::ITEM_UPSERT);
            }
            q
        })
        .await?;
    }
    let monthly_insert = format!(
        "INSERT OR FAIL INTO root_cause_monthly ({}) ",
        *MONTHLY_COLUMNS
    );
    for chunk in monthly.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(&monthly_insert);
        q.push_values(chunk, |mut b, change| {
            b.push_bind(date_text(change.key.month));
            for dim in change.key.dims() {
                b.push_bind(dim);
            }
            for value in change.counts.values() {
                b.push_bind(value);
            }
            b.push_bind(change.open_at_end.0)
                .push_bind(change.open_at_end.1);
        });
        q.push(MONTHLY_ADD_ON_CONFLICT.as_str());
        q.build().execute(&mut **tx).await?;
    }
    let open = batch.open_deltas();
    for chunk in open.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
                    "INSERT OR FAIL INTO root_cause_open (category, code, branch, channel, currency, open_count, open_minor) ",
                );
        q.push_values(chunk, |mut b, delta| {
            for part in delta.key {
                b.push_bind(part.to_owned());
            }
            b.push_bind(delta.count).push_bind(delta.minor);
        });
        q.push(
            " ON CONFLICT (category, code, branch, channel, currency) DO UPDATE SET
                      open_count = root_cause_open.open_count + excluded.open_count,
                      open_minor = root_cause_open.open_minor + excluded.open_minor",
        );
        q.build().execute(&mut **tx).await?;
    }
    let changes = batch.histogram_changes();
    let keys: Vec<&HistogramKey> = changes.keys().copied().collect();
    let mut stored = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT month, category, code, branch, channel, currency, buckets
               FROM resolution_time_histogram
              WHERE (month, category, code, branch, channel, currency) IN (VALUES ",
        );
        // SQLite takes row values on the right of IN only as a subquery (`VALUES …`), which
        // `QueryBuilder::push_tuples`' parenthesised list is not.
        for (i, k) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .push_bind(k.month)
                .push(", ")
                .push_bind(k.category.clone())
                .push(", ")
                .push_bind(k.code.clone())
                .push(", ")
                .push_bind(k.branch.clone())
                .push(", ")
                .push_bind(k.channel.clone())
                .push(", ")
                .push_bind(k.currency.clone())
                .push(")");
        }
        q.push(")");
        stored.extend(
            q.build_query_as::<HistogramCell>()
                .fetch_all(&mut **tx)
                .await?,
        );
    }
    let cells = super::merged_histogram(&changes, stored);
    let cells = cells
        .into_iter()
        .map(|cell| cell.buckets_json().map(|json| (cell, json)))
        .collect::<Result<Vec<_>, _>>()?;
    for chunk in cells.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT OR FAIL INTO resolution_time_histogram (month, category, code, branch, channel,
                     currency, buckets, resolved_count, median_hours, p90_hours) ",
        );
        q.push_values(chunk, |mut b, (cell, json)| {
            let (median, p90) = cell.percentiles();
            b.push_bind(cell.key.month)
                .push_bind(cell.key.category.clone())
                .push_bind(cell.key.code.clone())
                .push_bind(cell.key.branch.clone())
                .push_bind(cell.key.channel.clone())
                .push_bind(cell.key.currency.clone())
                .push_bind(json.clone())
                .push_bind(cell.resolved_count())
                .push_bind(median)
                .push_bind(p90);
        });
        q.push(
            " ON CONFLICT (month, category, code, branch, channel, currency) DO UPDATE SET
                      buckets = excluded.buckets, resolved_count = excluded.resolved_count,
                      median_hours = excluded.median_hours, p90_hours = excluded.p90_hours",
        );
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
