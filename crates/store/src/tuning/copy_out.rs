//! Reads a query's rows from PostgreSQL as a binary `COPY … TO STDOUT` stream.
//!
//! A page of the log is 100,000 rows. Fetched as rows through sqlx, each one is a message
//! decoded into a row object with its column offsets, looked up column by column by name and
//! passed along a chain of streams: about a microsecond of the reader's CPU per row, a quarter
//! of a catch-up's own CPU on PostgreSQL. The binary COPY stream carries the same values
//! (text as its bytes, `bigint` and `timestamptz` as eight bytes), read here field by field
//! in order.
//!
//! `COPY` takes no bind parameters: callers put only integers they formatted themselves into
//! the statement.

use chrono::{DateTime, TimeDelta, Utc};
use futures::TryStreamExt;

/// `query` with its parameters `$1`, `$2`, … replaced by `values`, for `copy_rows` (COPY takes
/// no bind parameters; integers are the only values formatted into a statement here). The
/// highest first, so that `$1` does not take the start of `$10`.
pub(crate) fn with_integers(query: &str, values: &[i64]) -> String {
    let mut statement = query.to_owned();
    for (i, value) in values.iter().enumerate().rev() {
        statement = statement.replace(&format!("${}", i + 1), &value.to_string());
    }
    statement
}

/// The signature that opens every binary COPY stream.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Runs `COPY (query) TO STDOUT (FORMAT binary)` and hands each row to `row`, in the order
/// the query returns them.
///
/// The connection is closed, not returned to the pool, if the stream is dropped before its
/// end (a caller cancelled, or `row` failed): its unread rows would otherwise greet the next
/// statement sent on it.
pub(crate) async fn copy_rows(
    pool: &sqlx::PgPool,
    query: &str,
    mut row: impl FnMut(&mut Fields<'_>) -> Result<(), sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let mut copying = Copying {
        conn: pool.acquire().await?,
        finished: false,
    };
    let statement = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
    let mut stream = copying.conn.copy_out_raw(&statement).await?;
    let mut reader = Reader::default();
    while let Some(chunk) = stream.try_next().await? {
        reader.feed(&chunk, &mut row)?;
    }
    drop(stream);
    reader.finish()?;
    copying.finished = true;
    Ok(())
}

/// A connection running a COPY, closed when dropped unless the COPY was read to its end.
struct Copying {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    finished: bool,
}

impl Drop for Copying {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.close_on_drop();
        }
    }
}

/// Splits a binary COPY stream, arriving in chunks of any size, into rows.
#[derive(Default)]
struct Reader {
    /// The start of a row (or of the header) that a chunk cut off.
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

impl Reader {
    fn feed(
        &mut self,
        chunk: &[u8],
        row: &mut impl FnMut(&mut Fields<'_>) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        // PostgreSQL sends one row per chunk: the usual case parses the chunk where it lies.
        if self.pending.is_empty() {
            let used = self.parse(chunk, row)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            self.pending.extend_from_slice(chunk);
            let pending = std::mem::take(&mut self.pending);
            let used = self.parse(&pending, row)?;
            self.pending = pending;
            self.pending.drain(..used);
        }
        Ok(())
    }

    /// Parses every complete row in `data`; returns the bytes used.
    fn parse(
        &mut self,
        data: &[u8],
        row: &mut impl FnMut(&mut Fields<'_>) -> Result<(), sqlx::Error>,
    ) -> Result<usize, sqlx::Error> {
        let mut used = 0;
        if !self.header_read {
            let Some(len) = header_len(data)? else {
                return Ok(0);
            };
            used = len;
            self.header_read = true;
        }
        while !self.ended {
            let rest = &data[used..];
            let Some(count) = read_i16(rest) else {
                break;
            };
            if count == -1 {
                self.ended = true;
                used += 2;
                break;
            }
            let count = usize::try_from(count).map_err(|_| malformed("negative field count"))?;
            let Some(len) = row_len(rest, count)? else {
                break;
            };
            let mut fields = Fields {
                data: &rest[2..len],
                left: count,
            };
            row(&mut fields)?;
            used += len;
        }
        if self.ended && used < data.len() {
            return Err(malformed("data after the trailer"));
        }
        Ok(used)
    }

    fn finish(self) -> Result<(), sqlx::Error> {
        if !self.ended {
            return Err(malformed("the stream ended without its trailer"));
        }
        Ok(())
    }
}

/// The length of the header at the start of `data`, if `data` holds all of it.
fn header_len(data: &[u8]) -> Result<Option<usize>, sqlx::Error> {
    let fixed = SIGNATURE.len() + 8;
    if data.len() < fixed {
        return Ok(None);
    }
    if !data.starts_with(SIGNATURE) {
        return Err(malformed("no binary COPY signature"));
    }
    let extension = read_i32(&data[SIGNATURE.len() + 4..]).unwrap_or(0);
    let extension =
        usize::try_from(extension).map_err(|_| malformed("negative header extension"))?;
    let len = fixed + extension;
    Ok((data.len() >= len).then_some(len))
}

/// The length of the row at the start of `data` (its field count included), if `data` holds
/// all of it.
fn row_len(data: &[u8], count: usize) -> Result<Option<usize>, sqlx::Error> {
    let mut at = 2;
    for _ in 0..count {
        let Some(len) = data.get(at..).and_then(read_i32) else {
            return Ok(None);
        };
        at += 4;
        if len >= 0 {
            at += usize::try_from(len).map_err(|_| malformed("field length"))?;
        } else if len != -1 {
            return Err(malformed("negative field length"));
        }
    }
    Ok((data.len() >= at).then_some(at))
}

/// The fields of one row, read in order.
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    left: usize,
}

impl<'a> Fields<'a> {
    /// The next field's bytes; `None` for NULL.
    fn next(&mut self) -> Result<Option<&'a [u8]>, sqlx::Error> {
        if self.left == 0 {
            return Err(malformed("fewer fields than read"));
        }
        self.left -= 1;
        let len = read_i32(self.data).ok_or_else(|| malformed("field length"))?;
        let rest = &self.data[4..];
        let Ok(len) = usize::try_from(len) else {
            self.data = rest;
            return Ok(None);
        };
        // `row_len` checked the row holds every field it announces.
        let (value, rest) = rest.split_at(len.min(rest.len()));
        self.data = rest;
        Ok(Some(value))
    }

    pub(crate) fn text(&mut self, column: &str) -> Result<String, sqlx::Error> {
        let bytes = self.next()?.ok_or_else(|| null(column))?;
        String::from_utf8(bytes.to_vec()).map_err(|e| decode(column, e))
    }

    pub(crate) fn bigint_or_null(&mut self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.next()?
            .map(|bytes| {
                <[u8; 8]>::try_from(bytes)
                    .map(i64::from_be_bytes)
                    .map_err(|_| decode(column, "a bigint is eight bytes"))
            })
            .transpose()
    }

    pub(crate) fn bigint(&mut self, column: &str) -> Result<i64, sqlx::Error> {
        self.bigint_or_null(column)?.ok_or_else(|| null(column))
    }

    /// A `timestamptz`: microseconds since 2000-01-01 UTC.
    pub(crate) fn timestamptz(&mut self, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
        let micros = self.bigint(column)?;
        postgres_epoch()
            .checked_add_signed(TimeDelta::microseconds(micros))
            .ok_or_else(|| decode(column, "a time out of range"))
    }
}

fn postgres_epoch() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default()
}

fn read_i16(data: &[u8]) -> Option<i16> {
    Some(i16::from_be_bytes(data.get(..2)?.try_into().ok()?))
}

fn read_i32(data: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(data.get(..4)?.try_into().ok()?))
}

fn malformed(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("binary COPY stream: {what}"))
}

fn null(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "unexpected NULL".into(),
    }
}

fn decode(column: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A binary COPY stream of `rows`, each field `None` for NULL.
    fn stream(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        // A header extension, which readers must skip.
        out.extend_from_slice(&3i32.to_be_bytes());
        out.extend_from_slice(b"ext");
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    Some(bytes) => {
                        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                        out.extend_from_slice(bytes);
                    }
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    type Read = (Option<i64>, String, DateTime<Utc>);

    /// Reads `chunks` as rows of (bigint or NULL, text, timestamptz).
    fn read(chunks: &[&[u8]]) -> Result<Vec<Read>, sqlx::Error> {
        let mut rows = Vec::new();
        let mut reader = Reader::default();
        for chunk in chunks {
            reader.feed(chunk, &mut |f| {
                rows.push((f.bigint_or_null("n")?, f.text("t")?, f.timestamptz("at")?));
                Ok(())
            })?;
        }
        reader.finish()?;
        Ok(rows)
    }

    fn row(n: Option<i64>, text: &str, micros: i64) -> Vec<Option<Vec<u8>>> {
        vec![
            n.map(|n| n.to_be_bytes().to_vec()),
            Some(text.as_bytes().to_vec()),
            Some(micros.to_be_bytes().to_vec()),
        ]
    }

    #[test]
    fn integers_take_the_place_of_their_parameters() {
        let sql = "SELECT $1, $2 WHERE x > $1 LIMIT $10";
        let values: Vec<i64> = (1..=10).map(|n| n * 100).collect();
        assert_eq!(
            with_integers(sql, &values),
            "SELECT 100, 200 WHERE x > 100 LIMIT 1000"
        );
        assert_eq!(with_integers("SELECT $1", &[-5]), "SELECT -5");
    }

    #[test]
    fn fields_read_as_postgresql_sends_them() {
        let bytes = stream(&[row(Some(7), "Grüße \"x\"", 0), row(None, "", -1_500_000)]);
        let rows = read(&[&bytes]).expect("reads");
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        assert_eq!(
            rows,
            vec![
                (
                    Some(7),
                    "Grüße \"x\"".to_owned(),
                    at("2000-01-01T00:00:00Z")
                ),
                (None, String::new(), at("1999-12-31T23:59:58.5Z")),
            ]
        );
    }

    proptest! {
        /// However the stream is cut into chunks, the same rows come out.
        #[test]
        fn chunks_cut_anywhere_give_the_same_rows(
            values in prop::collection::vec(
                (prop::option::of(any::<i64>()), ".{0,40}", -10i64.pow(15)..10i64.pow(15)),
                0..20,
            ),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let rows: Vec<_> = values.iter().map(|(n, t, at)| row(*n, t, *at)).collect();
            let bytes = stream(&rows);
            let whole = read(&[&bytes]).expect("reads whole");
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                chunks.push(&bytes[start..cut]);
                start = cut;
            }
            prop_assert_eq!(read(&chunks).expect("reads in chunks"), whole.clone());
            prop_assert_eq!(whole.len(), values.len());
            for ((n, t, _), (rn, rt, _)) in values.iter().zip(&whole) {
                prop_assert_eq!(n, rn);
                prop_assert_eq!(t, rt);
            }
        }
    }

    #[test]
    fn a_malformed_stream_is_an_error_not_a_panic() {
        let good = stream(&[row(Some(1), "a", 0)]);
        let without_trailer = &good[..good.len() - 2];
        assert!(read(&[without_trailer]).is_err(), "no trailer");
        assert!(
            read(&[b"PGCOPY\n\xff\r\n\x01rest"]).is_err(),
            "bad signature"
        );
        let mut extra = good.clone();
        extra.push(0);
        assert!(read(&[&extra]).is_err(), "data after the trailer");
        let mut negative = stream(&[]);
        negative.truncate(negative.len() - 2);
        negative.extend_from_slice(&1i16.to_be_bytes());
        negative.extend_from_slice(&(-7i32).to_be_bytes());
        assert!(read(&[&negative]).is_err(), "negative length");
        let short_bigint = stream(&[vec![Some(vec![1, 2]), Some(vec![]), Some(vec![0; 8])]]);
        assert!(read(&[&short_bigint]).is_err(), "a bigint of two bytes");
        let not_utf8 = stream(&[vec![None, Some(vec![0xff]), Some(vec![0; 8])]]);
        assert!(read(&[&not_utf8]).is_err(), "text that is not UTF-8");
        let too_few = stream(&[vec![None, Some(vec![])]]);
        assert!(read(&[&too_few]).is_err(), "fewer fields than read");
    }

    /// A COPY abandoned halfway (its reader failed, or its caller was cancelled) leaves no
    /// rows unread on a connection the pool hands out again.
    #[tokio::test]
    async fn an_abandoned_copy_does_not_reach_the_next_statement() {
        let db = suspense_testkit::TestPostgres::create().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(db.url())
            .await
            .expect("connects");
        let mut seen = 0;
        let failed = copy_rows(&pool, "SELECT generate_series(1, 100000)::bigint", |f| {
            seen += 1;
            f.bigint("n")?;
            Err(sqlx::Error::Protocol("stop here".into()))
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(seen, 1);
        let one: i64 = sqlx::query_scalar("SELECT 41::bigint + 1")
            .fetch_one(&pool)
            .await
            .expect("the next statement runs");
        assert_eq!(one, 42);
        let mut sum = 0;
        copy_rows(&pool, "SELECT generate_series(1, 1000)::bigint", |f| {
            sum += f.bigint("n")?;
            Ok(())
        })
        .await
        .expect("a whole copy reads");
        assert_eq!(sum, 500_500);
        pool.close().await;
    }
}
