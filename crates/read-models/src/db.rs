//! SQL of the read models, written once and compiled for each backend (`sqlite`, `postgres`
//! below): both accept the same statements, and the macro keeps them from drifting apart.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::fast_hash::Set;
use crate::month_end::{MonthEndStock, MonthlyChange};
use crate::register::{RegisterBatch, RegisterRow};
use crate::statistics::{CellKey, HistogramCell, StatsBatch, StatsItem};

/// A checkpoint as stored: position, the settings it was built with, the last error.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct CheckpointRow {
    pub projection: String,
    pub position: i64,
    pub settings: String,
    pub generation: i64,
    pub last_error: Option<String>,
}

impl CheckpointRow {
    /// The log position the projection has applied up to.
    pub fn reached(&self) -> u64 {
        u64::try_from(self.position).unwrap_or(0)
    }
}

/// One projection's move in a flush to `new`, refused unless the projection is still at the
/// `generation` the batch was folded from (nobody else wrote it in between).
#[derive(Clone)]
pub(crate) struct CheckpointMove<'a> {
    pub projection: &'a str,
    pub generation: i64,
    pub new: i64,
}

/// Rows per multi-row statement: under SQLite's 32,766 bound parameters for the widest table.
const CHUNK: usize = 500;

/// What makes an insert of register rows an upsert; both backends spell it alike.
const REGISTER_UPDATE: &str = " ON CONFLICT (item_id) DO UPDATE SET version = excluded.version,
    cleared_minor = excluded.cleared_minor, outstanding_minor = excluded.outstanding_minor,
    status = excluded.status, category = excluded.category, code = excluded.code,
    reclassifications = excluded.reclassifications, team = excluded.team,
    assignee = excluded.assignee, escalation_level = excluded.escalation_level,
    classified_at = excluded.classified_at, resolved_at = excluded.resolved_at,
    resolution_method = excluded.resolution_method, reopen_count = excluded.reopen_count,
    comment_count = excluded.comment_count, last_event_at = excluded.last_event_at";

/// What makes an insert of statistics items an upsert.
const STATS_ITEM_UPDATE: &str = " ON CONFLICT (item_id) DO UPDATE SET category = excluded.category,
    code = excluded.code, reclassified = excluded.reclassified";

/// `rows` as the rows the batch creates, to insert (`false`), and the rest, to upsert
/// (`true`). An item whose opening (sequence 1) is in the batch has no stored row, so its row
/// needs no conflict check, which costs PostgreSQL about as much again per row.
///
/// Each in item id order: the rows come from a hash map, and inserted in its random order
/// each one lands on another page of the item id index than the one before. In key order
/// the index pages are walked once; a 1M-event catch-up took about 5% less time so on both
/// backends (docs/performance.md, fourteenth session).
fn created_and_updated<'a, T>(
    rows: impl Iterator<Item = &'a T>,
    created: &Set<String>,
    item_id: impl Fn(&T) -> &str,
) -> [(Vec<&'a T>, bool); 2] {
    let (mut new, mut old): (Vec<&T>, Vec<&T>) = rows.partition(|r| created.contains(item_id(r)));
    new.sort_unstable_by(|a, b| item_id(a).cmp(item_id(b)));
    old.sort_unstable_by(|a, b| item_id(a).cmp(item_id(b)));
    [(new, false), (old, true)]
}

macro_rules! backend_sql {
    ($module:ident, $db:ty, $writes:ident) => {
        pub(crate) mod $module {
            use super::*;
            use chrono::Utc;
            use sqlx::{Pool, QueryBuilder};

            type Db = $db;

            pub(crate) async fn checkpoints(pool: &Pool<Db>) -> Result<Vec<CheckpointRow>, sqlx::Error> {
                sqlx::query_as(
                    "SELECT projection, position, settings, generation, last_error FROM projection_checkpoints",
                )
                .fetch_all(pool)
                .await
            }

            pub(crate) async fn ensure_checkpoint(
                pool: &Pool<Db>,
                projection: &str,
                settings: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO projection_checkpoints (projection, position, updated_at, settings)
                     VALUES ($1, 0, $2, $3) ON CONFLICT (projection) DO NOTHING",
                )
                .bind(projection)
                .bind(Utc::now())
                .bind(settings)
                .execute(pool)
                .await
                .map(|_| ())
            }

            pub(crate) async fn record_error(
                pool: &Pool<Db>,
                projection: &str,
                error: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query("UPDATE projection_checkpoints SET last_error = $1, updated_at = $2 WHERE projection = $3")
                    .bind(error)
                    .bind(Utc::now())
                    .bind(projection)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }

            /// Empties the projection's tables and rewinds its checkpoint, atomically.
            pub(crate) async fn reset(
                pool: &Pool<Db>,
                projection: &str,
                tables: &[&str],
                settings: &str,
            ) -> Result<(), sqlx::Error> {
                let mut tx = pool.begin().await?;
                for table in tables {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
                }
                sqlx::query(
                    "UPDATE projection_checkpoints
                        SET position = 0, last_error = NULL, settings = $1, updated_at = $2,
                            generation = generation + 1
                      WHERE projection = $3",
                )
                .bind(settings)
                .bind(Utc::now())
                .bind(projection)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            }

            async fn select_in<T>(pool: &Pool<Db>, select: &str, ids: &[String]) -> Result<Vec<T>, sqlx::Error>
            where
                T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
            {
                let mut rows = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<Db>::new(select);
                    query.push(" WHERE item_id IN (");
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    query.push(")");
                    rows.extend(query.build_query_as::<T>().fetch_all(pool).await?);
                }
                Ok(rows)
            }

            pub(crate) async fn register_rows(pool: &Pool<Db>, ids: &[String]) -> Result<Vec<RegisterRow>, sqlx::Error> {
                select_in(pool, "SELECT * FROM item_register", ids).await
            }

            pub(crate) async fn stats_items(pool: &Pool<Db>, ids: &[String]) -> Result<Vec<StatsItem>, sqlx::Error> {
                select_in(pool, "SELECT * FROM stats_items", ids).await
            }

            /// The batch's changes to `root_cause_monthly` (`month_end.rs`), from the months
            /// the table holds, read in the batch's transaction.
            async fn monthly_changes(
                tx: &mut sqlx::Transaction<'_, Db>,
                batch: &StatsBatch,
            ) -> Result<Vec<MonthlyChange>, sqlx::Error> {
                let Some(first) = batch.months().first().copied() else {
                    return Ok(Vec::new());
                };
                let stored: BTreeSet<chrono::NaiveDate> = sqlx::query_scalar(
                    "SELECT DISTINCT month FROM root_cause_monthly
                      WHERE month >= COALESCE((SELECT max(month) FROM root_cause_monthly WHERE month < $1), $1)",
                )
                .bind(first)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .collect();
                let sources = batch.stock_sources(&stored);
                let mut before_new: Vec<MonthEndStock> = Vec::new();
                if !sources.is_empty() {
                    let mut q = QueryBuilder::<Db>::new(
                        "SELECT month, category, code, branch, channel, currency, open_at_end_count,
                                open_at_end_minor
                           FROM root_cause_monthly
                          WHERE (open_at_end_count <> 0 OR open_at_end_minor <> 0) AND month IN (",
                    );
                    let mut list = q.separated(", ");
                    for month in sources {
                        list.push_bind(month);
                    }
                    q.push(")");
                    before_new = q.build_query_as().fetch_all(&mut **tx).await?;
                }
                Ok(batch.monthly_changes(&stored, &before_new))
            }

            /// Writes one batch of every projection and moves their checkpoints, in one
            /// transaction. Returns false (and writes nothing) if another projector moved a
            /// checkpoint first.
            pub(crate) async fn flush(
                pool: &Pool<Db>,
                register: Option<&RegisterBatch>,
                stats: Option<&StatsBatch>,
                moves: &[CheckpointMove<'_>],
            ) -> Result<bool, sqlx::Error> {
                let mut tx = pool.begin().await?;
                for step in moves {
                    let moved = sqlx::query(
                        "UPDATE projection_checkpoints
                            SET position = $1, updated_at = $2, last_error = NULL, generation = generation + 1
                          WHERE projection = $3 AND generation = $4",
                    )
                    .bind(step.new)
                    .bind(Utc::now())
                    .bind(step.projection)
                    .bind(step.generation)
                    .execute(&mut *tx)
                    .await?;
                    if moved.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
                if let Some(batch) = register {
                    super::$writes::write_register(&mut tx, batch).await?;
                }
                if let Some(batch) = stats {
                    let monthly = monthly_changes(&mut tx, batch).await?;
                    super::$writes::write_stats(&mut tx, batch, &monthly).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

        }
    };
}

backend_sql!(sqlite, sqlx::Sqlite, sqlite_writes);
backend_sql!(postgres, sqlx::Postgres, postgres_writes);

/// SQLite: multi-row `INSERT … VALUES` with every value bound.
///
/// Text is bound by reference to the batch's rows rather than cloned first (sqlx and SQLite
/// still copy it once each), and dates as `date_text`: the clones and chrono's `%F` took two
/// thirds of the time spent building the statements, about 7% of a catch-up's CPU
/// (docs/performance.md, fifteenth session).
///
/// Every insert is `INSERT OR FAIL`: a multi-row statement that may abort (`ABORT` undoes
/// the statement's own rows) makes SQLite copy every page it touches to a statement journal
/// first, which took a third of the read models' write time in a bulk build. `FAIL` stops
/// at the failing row and leaves the rows before it, which is all the same here: any error
/// rolls the whole batch's transaction back.
mod sqlite_writes {

    use sqlx::{QueryBuilder, Transaction};

    use super::{date_text, CHUNK};
    use crate::month_end::MonthlyChange;
    use crate::register::RegisterBatch;
    use crate::statistics::{CellKey, HistogramCell, StatsBatch};

    type Db = sqlx::Sqlite;

    /// Runs one statement per `CHUNK` of `items`, as `build` writes it, one after another in
    /// `tx`. Each statement is built while the one before it runs: SQLite runs it on the
    /// connection's own thread, so binding the next chunk's values does not wait for it.
    async fn execute_chunks<'a, T>(
        tx: &mut Transaction<'_, Db>,
        items: &'a [T],
        build: impl Fn(&'a [T]) -> QueryBuilder<'a, Db>,
    ) -> Result<(), sqlx::Error> {
        let mut chunks = items.chunks(CHUNK);
        let Some(first) = chunks.next() else {
            return Ok(());
        };
        let mut query = build(first);
        loop {
            let next = chunks.next();
            // `join!` polls the statement first, which hands it to the connection's thread.
            let (done, built) =
                tokio::join!(query.build().execute(&mut **tx), async { next.map(&build) });
            done?;
            match built {
                Some(built) => query = built,
                None => return Ok(()),
            }
        }
    }

    pub(super) async fn write_register(
        tx: &mut Transaction<'_, Db>,
        batch: &RegisterBatch,
    ) -> Result<(), sqlx::Error> {
        let batches =
            super::created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
        for (rows, upsert) in batches {
            execute_chunks(tx, &rows, |chunk| {
                let mut q = QueryBuilder::<Db>::new(
                        "INSERT OR FAIL INTO item_register (item_id, version, source_system, reference, account, branch,
                         channel, direction, currency, minor_units, amount_minor, cleared_minor, outstanding_minor,
                         booked_on, value_date, description, status, category, code, reclassifications, team,
                         assignee, escalation_level, funds_held, fee_minor, fee_currency, opened_at, opened_by,
                         classified_at, resolved_at, resolution_method, reopen_count, comment_count, last_event_at) ",
                    );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.item_id.as_str())
                        .push_bind(r.version)
                        .push_bind(r.source_system.as_str())
                        .push_bind(r.reference.as_str())
                        .push_bind(r.account.as_str())
                        .push_bind(r.branch.as_str())
                        .push_bind(r.channel.as_str())
                        .push_bind(r.direction.as_str())
                        .push_bind(r.currency.as_str())
                        .push_bind(r.minor_units)
                        .push_bind(r.amount_minor)
                        .push_bind(r.cleared_minor)
                        .push_bind(r.outstanding_minor)
                        .push_bind(date_text(r.booked_on))
                        .push_bind(date_text(r.value_date))
                        .push_bind(r.description.as_str())
                        .push_bind(r.status.as_str())
                        .push_bind(r.category.as_deref())
                        .push_bind(r.code.as_deref())
                        .push_bind(r.reclassifications)
                        .push_bind(r.team.as_deref())
                        .push_bind(r.assignee.as_deref())
                        .push_bind(r.escalation_level)
                        .push_bind(r.funds_held)
                        .push_bind(r.fee_minor)
                        .push_bind(r.fee_currency.as_deref())
                        .push_bind(r.opened_at)
                        .push_bind(r.opened_by.as_str())
                        .push_bind(r.classified_at)
                        .push_bind(r.resolved_at)
                        .push_bind(r.resolution_method.as_deref())
                        .push_bind(r.reopen_count)
                        .push_bind(r.comment_count)
                        .push_bind(r.last_event_at);
                });
                if upsert {
                    q.push(super::REGISTER_UPDATE);
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
        Ok(())
    }

    pub(super) async fn write_stats(
        tx: &mut Transaction<'_, Db>,
        batch: &StatsBatch,
        monthly: &[MonthlyChange],
    ) -> Result<(), sqlx::Error> {
        let batches =
            super::created_and_updated(batch.items_to_write(), &batch.created, |i| &i.item_id);
        for (items, upsert) in batches {
            execute_chunks(tx, &items, |chunk| {
                let mut q = QueryBuilder::<Db>::new(
                    "INSERT OR FAIL INTO stats_items (item_id, branch, channel, currency, category, code,
                         reclassified, booked_on, amount_minor) ",
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
                        .push_bind(i.amount_minor);
                });
                if upsert {
                    q.push(super::STATS_ITEM_UPDATE);
                }
                q
            })
            .await?;
        }
        for chunk in monthly.chunks(CHUNK) {
            let mut q = QueryBuilder::<Db>::new(
                "INSERT OR FAIL INTO root_cause_monthly (month, category, code, branch, channel, currency,
                         opened_count, opened_minor, resolved_count, resolved_minor, reopened_count,
                         reopened_minor, escalations, restated_items, open_at_end_count,
                         open_at_end_minor) ",
            );
            q.push_values(chunk, |mut b, change| {
                let (k, c) = (&change.key, &change.counts);
                b.push_bind(k.month)
                    .push_bind(k.category.clone())
                    .push_bind(k.code.clone())
                    .push_bind(k.branch.clone())
                    .push_bind(k.channel.clone())
                    .push_bind(k.currency.clone())
                    .push_bind(c.opened_count)
                    .push_bind(c.opened_minor)
                    .push_bind(c.resolved_count)
                    .push_bind(c.resolved_minor)
                    .push_bind(c.reopened_count)
                    .push_bind(c.reopened_minor)
                    .push_bind(c.escalations)
                    .push_bind(c.restated_items)
                    .push_bind(change.open_at_end.0)
                    .push_bind(change.open_at_end.1);
            });
            q.push(
                        " ON CONFLICT (month, category, code, branch, channel, currency) DO UPDATE SET
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
                    );
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
        let keys: Vec<&CellKey> = changes.keys().copied().collect();
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
}

/// `date` as sqlx writes a `NaiveDate` to SQLite (chrono's `%F`, `2025-06-30`), written
/// directly: chrono parses the format string again for every value, twice per register row
/// and once per statistics item and per movement.
fn date_text(date: chrono::NaiveDate) -> String {
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

mod binary_copy;
pub(crate) mod deferred_indexes;
mod postgres_writes;

/// The histogram rows a batch leaves: each changed cell's stored buckets plus its changes.
pub(crate) fn merged_histogram(
    changes: &BTreeMap<&CellKey, Vec<(i32, i64)>>,
    stored: Vec<HistogramCell>,
) -> Vec<HistogramCell> {
    let stored: HashMap<CellKey, Vec<(i32, i64)>> =
        stored.into_iter().map(|c| (c.key, c.buckets)).collect();
    changes
        .iter()
        .map(|(key, deltas)| {
            HistogramCell::merged(key, stored.get(*key).map_or(&[][..], Vec::as_slice), deltas)
        })
        .collect()
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
