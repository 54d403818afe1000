//! The whole log in global order, a page at a time.
//!
//! `event_log` defines positions; each backend reads a page the fastest way that provably
//! gives `event_log`'s order, and falls back to reading position by position through
//! `event_log` when the fast way disagrees with it (which only a log edited past the
//! application makes happen; `pages_read_by_position` counts those pages).

use std::sync::LazyLock;

use suspense_database::{cpu_bound, Pool};
use suspense_domain::StreamKind;

use super::EventLog;
use crate::error::StoreError;
use crate::record::{EventRow, LogPage, RecordedEvent};
use crate::tuning::copy_out;

/// A page of SQLite rows as one JSON array, and whether each row's `positioned` was true:
/// the statement both `PAGE_SQLITE` and `PAGE_SQLITE_THROUGH_LOG` are, around their own
/// selection of the page's rows (`$1`: after this position, `$2`: at most this many), so the
/// two cannot hand `EventRow::from_json_page` different shapes.
fn sqlite_page(rows: &str) -> String {
    format!(
        "
SELECT json_group_array(json_object('position', position, 'aggregate_id', aggregate_id,
           'sequence', sequence, 'event_type', event_type, 'event_version', event_version,
           'payload', payload, 'metadata', metadata, 'recorded_at', recorded_at)),
       coalesce(min(positioned), 1)
  FROM ({rows})"
    )
}

/// A page of the log in global order on SQLite: a walk of `events` by the position each event
/// carries as its rowid (migration 0004), as JSON arrays of up to `SQLITE_EVENTS_PER_ARRAY`
/// events, one row each: sqlx's SQLite driver steps the statement on a worker thread and hands
/// every row across on its own, which cost more than reading the page. Payload and metadata
/// come as JSON strings, so their stored text (which the hash chain covers) arrives unchanged.
///
/// `event_log` stays the definition of positions: each event is matched with the `event_log`
/// row at its position (a lookup on the neighbouring page of the last one, as both tables are
/// in position order), and the array carries whether all of them agree (`positioned`).
/// `raw_after` reads a page that disagrees through `event_log` instead
/// (`PAGE_SQLITE_THROUGH_LOG`). Looking each event up by its key there cost a descent of the
/// key index per event on a page of its own when items interleave, as they do in a bank's log:
/// a 1M-event catch-up took a fifth longer in time order than item by item.
///
/// A page of more events is read as several arrays, one statement each, in one read
/// transaction (see `raw_after`): a 100,000-event page as one array is a 45 MB string, which
/// SQLite grows by doubling and sqlx copies, each time into memory fresh from the kernel, so
/// that clearing new pages took a tenth of a catch-up's CPU. Arrays of half a megabyte come
/// from memory the allocators keep and reuse.
static PAGE_SQLITE: LazyLock<String> = LazyLock::new(|| {
    sqlite_page(
        "SELECT e.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
               e.payload, e.metadata, e.recorded_at,
               l.aggregate_type IS e.aggregate_type AND l.aggregate_id IS e.aggregate_id
               AND l.sequence IS e.sequence AS positioned
          FROM events e
          LEFT JOIN event_log l ON l.position = e.position
         WHERE e.position > $1
         ORDER BY e.position
         LIMIT $2",
    )
});

/// The same arrays read through `event_log`: its positions in order, each event looked up by
/// its key. For a log whose events disagree with `event_log` (edited past the application),
/// so that readers and hash-chain verification see the positions `event_log` gives.
static PAGE_SQLITE_THROUGH_LOG: LazyLock<String> = LazyLock::new(|| {
    sqlite_page(
        "SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
               e.payload, e.metadata, e.recorded_at, 1 AS positioned
          FROM event_log l
          JOIN events e
            ON e.aggregate_type = l.aggregate_type AND e.aggregate_id = l.aggregate_id
           AND e.sequence = l.sequence
         WHERE l.position > $1
         ORDER BY l.position
         LIMIT $2",
    )
});

/// Events per JSON array of `PAGE_SQLITE`: about half a megabyte of text.
const SQLITE_EVENTS_PER_ARRAY: u32 = 1_000;

/// The same page on PostgreSQL, written so that the plan is always "the page's positions by
/// index, then one key lookup per event": a plain join lets the planner pick a hash join that
/// scans the whole `events` table on every page when its statistics are stale (a log that
/// grew since the last ANALYZE), which made each read O(log) instead of O(page). `OFFSET 0`
/// keeps the lateral lookup from being flattened back into such a join.
const PAGE_POSTGRES: &str = "
SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version,
       CAST(e.payload AS TEXT) AS payload, CAST(e.metadata AS TEXT) AS metadata, e.recorded_at
  FROM (SELECT position, aggregate_type, aggregate_id, sequence
          FROM event_log
         WHERE position > $1
         ORDER BY position
         LIMIT $2) l
 CROSS JOIN LATERAL (
        SELECT aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at
          FROM events
         WHERE aggregate_type = l.aggregate_type AND aggregate_id = l.aggregate_id
           AND sequence = l.sequence
        OFFSET 0) e
 ORDER BY l.position";

/// The same page read in commit order, the order the sequencer numbered the events in: one
/// range scan of `events_commit_order` from the event at position `$1` (two key lookups),
/// instead of one key lookup per event (about half of PostgreSQL's time for a page of
/// 10,000). The rows carry no position: the caller numbers them from `$1 + 1` in the order
/// they come. Those are the sequencer's positions only while its invariants hold
/// (`sequencer.rs`: every finished event below the head's key numbered, in key order, none
/// changed or removed), so the caller holds the page against `event_log`'s rows for the same
/// positions (`EVENT_LOG_RANGE`) and against the log's last position, which each row carries
/// (`log_head`, one value for the whole statement), and falls back to `PAGE_POSTGRES` when
/// they disagree (a log edited past the application).
///
/// The comparison is the caller's, not a join's: joining `event_log` on numbered rows made
/// PostgreSQL number them with a window function and hash one side, which spilled to
/// temporary files on every page of a bulk build and was most of the read's cost.
///
/// The head's key bounds the page outside the `LIMIT`ed scan, so the planner keeps the scan an
/// ordered index walk; inside it, its estimate picks a bitmap scan and a sort of everything up
/// to the head. The outer `ORDER BY` costs nothing (the scan's order already is the key's)
/// and makes the order the numbering relies on a promise.
const PAGE_POSTGRES_IN_COMMIT_ORDER: &str = "
SELECT NULL::bigint AS position, p.aggregate_type, p.aggregate_id, p.sequence, p.event_type,
       p.event_version, p.payload, p.metadata, p.recorded_at,
       (SELECT max(position) FROM event_log) AS log_head
  FROM (SELECT e.txid, e.event_id, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
               e.event_version, CAST(e.payload AS TEXT) AS payload,
               CAST(e.metadata AS TEXT) AS metadata, e.recorded_at
          FROM events e
         WHERE (e.txid, e.event_id) > (
                 CASE WHEN $1 = 0 THEN '0'::xid8 ELSE (
                     SELECT s.txid FROM event_log l JOIN events s USING (aggregate_type, aggregate_id, sequence)
                      WHERE l.position = $1) END,
                 CASE WHEN $1 = 0 THEN 0 ELSE (
                     SELECT s.event_id FROM event_log l JOIN events s USING (aggregate_type, aggregate_id, sequence)
                      WHERE l.position = $1) END)
         ORDER BY e.txid, e.event_id
         LIMIT $2) p
 WHERE (p.txid, p.event_id) <= (SELECT last_txid, last_event_id FROM event_log_head)
 ORDER BY p.txid, p.event_id";

/// `event_log`'s rows for positions `$1 + 1 ..= $2`, in no promised order: the caller places
/// each by its position, so whichever plan the planner picks (a bitmap scan, with stale
/// statistics) needs no sort.
const EVENT_LOG_RANGE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence
  FROM event_log
 WHERE position > $1 AND position <= $2";

/// A row of `PAGE_POSTGRES_IN_COMMIT_ORDER`.
struct CommitOrderRow {
    row: EventRow,
    aggregate_type: String,
    log_head: Option<i64>,
}

/// A row of `EVENT_LOG_RANGE`.
struct LogEntry {
    position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
}

impl LogEntry {
    fn is_for(&self, row: &CommitOrderRow) -> bool {
        self.aggregate_type == row.aggregate_type
            && self.aggregate_id == row.row.aggregate_id
            && self.sequence == row.row.sequence
    }
}

impl EventLog {
    /// The items' events among the `limit` events after global position `after`, in global
    /// order (events of plans and volumes take positions too, and are skipped here).
    ///
    /// Positions start at 1 and have no gaps; a reader that stores the last position it
    /// processed and asks again from there sees every event exactly once, on both backends.
    pub async fn read_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        self.decode_all(&rows)
    }

    /// `read_after` for a reader that follows the whole log a page at a time (the projector):
    /// the page is decoded without holding up the runtime's other tasks (`cpu_bound`).
    pub async fn read_page(&self, after: u64, limit: u32) -> Result<LogPage, StoreError> {
        self.page(after, limit, false).await
    }

    /// `read_page` with the other streams' events too, as stored (`LogPage::others`): for a
    /// reader that hands every event of the log on.
    pub async fn read_page_of_every_stream(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<LogPage, StoreError> {
        self.page(after, limit, true).await
    }

    /// A page of the items' events decoded, and, with `others`, the other streams' as stored.
    async fn page(&self, after: u64, limit: u32, others: bool) -> Result<LogPage, StoreError> {
        let rows = self.raw_after(after, limit).await?;
        let (events, others) = cpu_bound(|| {
            let events = self.decode_all(&rows)?;
            let others = rows
                .iter()
                .filter(|row| others && row.kind() != StreamKind::Item)
                .map(EventRow::stored)
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>((events, others))
        })?;
        let last_position = rows
            .last()
            .and_then(|r| r.position)
            .and_then(|p| u64::try_from(p).ok());
        Ok(LogPage {
            events,
            others,
            rows: rows.len(),
            last_position,
        })
    }

    /// Stored rows after `after`, in global order, not decoded.
    pub(super) async fn raw_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<EventRow>, StoreError> {
        self.sequence().await?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        match &self.pool {
            Pool::Sqlite(p) => {
                // One read transaction for the arrays. Not for consistency (SQLite numbers
                // events in commit order, so a later array could only add events after the
                // ones already read) but for the page cache: a connection that starts a read
                // transaction after another one committed discards its whole cache, and the
                // projector commits while it reads. Without it a 1M-event catch-up took
                // 10-15% longer.
                let mut tx = p.begin().await?;
                let log_head: Option<i64> =
                    sqlx::query_scalar("SELECT max(position) FROM event_log")
                        .fetch_one(&mut *tx)
                        .await?;
                let expected = on_page(after, limit, log_head);
                let (rows, positioned) =
                    sqlite_arrays(&mut tx, &PAGE_SQLITE, after, limit, expected).await?;
                let rows = if positioned && is_log_from(after, expected, &rows) {
                    rows
                } else {
                    self.count_page_read_through_log(after);
                    sqlite_arrays(&mut tx, &PAGE_SQLITE_THROUGH_LOG, after, limit, expected)
                        .await?
                        .0
                };
                tx.commit().await?;
                Ok(rows)
            }
            Pool::Postgres(p) => {
                let (fast, expected) = commit_order_page(p, after, limit).await?;
                // Nothing after `after` in commit order is asked again by position, which costs
                // nothing when there is nothing (an idle projector's poll) and is right when the
                // event at `after` itself is gone.
                if !fast.is_empty() {
                    // After the page, so its snapshot holds every row the page's does.
                    let log = log_range(p, after, after.saturating_add(expected)).await?;
                    if let Some(rows) = in_position_order(after, expected, fast, &log) {
                        return Ok(rows);
                    }
                    self.count_page_read_through_log(after);
                }
                Ok(sqlx::query_as(PAGE_POSTGRES)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(p)
                    .await?)
            }
        }
    }

    /// Pages of the log read position by position through `event_log` because the events' own
    /// order disagreed with it: on PostgreSQL the order the events committed in (see
    /// `PAGE_POSTGRES_IN_COMMIT_ORDER`), on SQLite the position each event carries (see
    /// `PAGE_SQLITE`). The application never makes them disagree: anything but 0 means the log
    /// was edited past it, and `verify_chain` will say where.
    pub fn pages_read_by_position(&self) -> u64 {
        self.pages_read_by_position
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts a page read through `event_log` (see `pages_read_by_position`) and says so.
    fn count_page_read_through_log(&self, after: i64) {
        self.pages_read_by_position
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            after,
            "the events disagree with event_log: page read through event_log"
        );
    }
}

/// Up to `limit` events after `after` as `sql` (`PAGE_SQLITE` or `PAGE_SQLITE_THROUGH_LOG`)
/// reads them, array by array, and whether every array said its events were positioned.
/// Room is made once for the `expected` events `event_log` has there.
async fn sqlite_arrays(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    sql: &str,
    after: i64,
    limit: u32,
    expected: i64,
) -> Result<(Vec<EventRow>, bool), StoreError> {
    let mut rows: Vec<EventRow> = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut positioned = true;
    let mut last = after;
    while rows.len() < limit as usize {
        let wanted = (limit - rows.len() as u32).min(SQLITE_EVENTS_PER_ARRAY);
        let (array, all_positioned): (String, bool) = sqlx::query_as(sql)
            .bind(last)
            .bind(i64::from(wanted))
            .fetch_one(&mut **tx)
            .await?;
        positioned &= all_positioned;
        let part = EventRow::from_json_page(&array)?;
        let Some(end) = part.iter().filter_map(|row| row.position).max() else {
            break;
        };
        let short = part.len() < wanted as usize;
        rows.extend(part);
        last = end;
        if short {
            break;
        }
    }
    // An aggregate's input order is SQLite's choice, not SQL's promise; the sort is a linear
    // check on rows that arrive in order, as they do.
    rows.sort_by_key(|row| row.position);
    Ok((rows, positioned))
}

/// How many events `event_log`, whose last position is `log_head`, holds on the page of up
/// to `limit` events after `after`.
fn on_page(after: i64, limit: u32, log_head: Option<i64>) -> i64 {
    (log_head.unwrap_or(0) - after).clamp(0, i64::from(limit))
}

/// Whether `rows` are positions `after + 1 ..` without a gap, as many as the `expected`
/// `event_log` has there. Every event read by its own position can agree with `event_log`
/// while the page still misses one: an event that `event_log` has moved to a later position
/// than the one it carries.
fn is_log_from(after: i64, expected: i64, rows: &[EventRow]) -> bool {
    let Ok(len) = i64::try_from(rows.len()) else {
        return false;
    };
    len == expected
        && rows
            .iter()
            .zip(after.saturating_add(1)..)
            .all(|(row, position)| row.position == Some(position))
}

/// `PAGE_POSTGRES_IN_COMMIT_ORDER` after `after`, up to `limit` rows, and how many events
/// `event_log` holds on that page as the statement saw it (0 for no rows). Room is made once,
/// for that many rows, when the first row says how many: growing a page of tens of megabytes
/// by doubling copied it and took fresh memory at every step.
///
/// Read as a binary COPY stream (`copy_out`), as is `log_range`: fetched as rows, the two took
/// a quarter of a PostgreSQL catch-up's own CPU.
async fn commit_order_page(
    pool: &sqlx::PgPool,
    after: i64,
    limit: u32,
) -> Result<(Vec<CommitOrderRow>, i64), sqlx::Error> {
    let mut rows: Vec<CommitOrderRow> = Vec::new();
    let mut expected = 0;
    let query = copy_out::with_integers(PAGE_POSTGRES_IN_COMMIT_ORDER, &[after, i64::from(limit)]);
    copy_out::copy_rows(pool, &query, |f| {
        // In the statement's column order.
        let position = f.bigint_or_null("position")?;
        let aggregate_type = f.text("aggregate_type")?;
        let row = CommitOrderRow {
            row: EventRow {
                position,
                aggregate_id: f.text("aggregate_id")?,
                sequence: f.bigint("sequence")?,
                event_type: f.text("event_type")?,
                event_version: f.text("event_version")?,
                payload: f.text("payload")?,
                metadata: f.text("metadata")?,
                recorded_at: f.timestamptz("recorded_at")?,
            },
            aggregate_type,
            log_head: f.bigint_or_null("log_head")?,
        };
        if rows.is_empty() {
            expected = on_page(after, limit, row.log_head);
            rows.reserve(usize::try_from(expected).unwrap_or(0));
        }
        rows.push(row);
        Ok(())
    })
    .await?;
    Ok((rows, expected))
}

/// `EVENT_LOG_RANGE`: `event_log`'s rows for positions `after + 1 ..= through`.
async fn log_range(
    pool: &sqlx::PgPool,
    after: i64,
    through: i64,
) -> Result<Vec<LogEntry>, sqlx::Error> {
    let mut entries = Vec::with_capacity(usize::try_from(through - after).unwrap_or(0));
    let query = copy_out::with_integers(EVENT_LOG_RANGE, &[after, through]);
    copy_out::copy_rows(pool, &query, |f| {
        entries.push(LogEntry {
            position: f.bigint("position")?,
            aggregate_type: f.text("aggregate_type")?,
            aggregate_id: f.text("aggregate_id")?,
            sequence: f.bigint("sequence")?,
        });
        Ok(())
    })
    .await?;
    Ok(entries)
}

/// The commit-order page numbered from `after + 1`, if it is exactly what `event_log` holds
/// there: as many rows as the `expected` the log has on the page, each the event `event_log`
/// gives that position (`log`, the log's rows for those positions, in any order).
fn in_position_order(
    after: i64,
    expected: i64,
    page: Vec<CommitOrderRow>,
    log: &[LogEntry],
) -> Option<Vec<EventRow>> {
    if i64::try_from(page.len()).ok()? != expected {
        return None;
    }
    let mut slots: Vec<Option<&LogEntry>> = vec![None; page.len()];
    for entry in log {
        let slot = usize::try_from(entry.position - after - 1)
            .ok()
            .and_then(|i| slots.get_mut(i))?;
        if slot.replace(entry).is_some() {
            return None;
        }
    }
    page.into_iter()
        .zip(slots)
        .zip(after.saturating_add(1)..)
        .map(|((row, entry), position)| {
            entry.filter(|e| e.is_for(&row)).map(|_| EventRow {
                position: Some(position),
                ..row.row
            })
        })
        .collect()
}
