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

use super::RegisterBatch;
use crate::sql::{created_and_updated, date_text, CHUNK};
use crate::tuning::sqlite_chunks::execute_chunks;

type Db = sqlx::Sqlite;

pub(super) async fn write(
    tx: &mut Transaction<'_, Db>,
    batch: &RegisterBatch,
) -> Result<(), sqlx::Error> {
    let batches = created_and_updated(batch.rows.values(), &batch.created, |r| &r.item_id);
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
                q.push(super::projection::UPSERT);
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
