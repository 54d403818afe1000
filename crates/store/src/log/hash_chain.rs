//! Extending and verifying the hash chain over the log (the chain's arithmetic is in
//! `crate::chain`).

use std::sync::Arc;
use std::time::Duration;

use suspense_database::with_pool;

use super::EventLog;
use crate::chain::{self, ChainRow, ChainSegment, ChainVerdict};
use crate::error::StoreError;

/// Events chained per segment (one row of `event_chain_segments`), and so per page read: the
/// chain's follower reads the next page while it hashes one, and a service that starts
/// behind must stay small while it catches up (with the projector's 4,000-event batches,
/// below 100 MB where 10,000 here and there peaked at 117-142 MiB). The first pass over a
/// long log goes at 0.94-0.98 of the plain read instead of 0.98-1.04.
const CHAIN_BATCH: u32 = 4_000;

impl EventLog {
    /// Appends hash-chain links for every positioned event not chained yet, up to the end of
    /// the log as it stood when the last page was read (see `chain`); returns the last chained
    /// position. Safe to call from several places at once. The next page of the log is read
    /// while the current one is hashed and written.
    pub async fn extend_chain(&self) -> Result<u64, StoreError> {
        let (mut last, mut previous) = self.chain_head().await?.unwrap_or_default();
        let mut rows = self.raw_after(last, CHAIN_BATCH).await?;
        loop {
            let Some(end) = rows.last().and_then(|r| r.position) else {
                return Ok(last);
            };
            let end = end.max(0) as u64;
            let full = rows.len() as u32 == CHAIN_BATCH;
            let link_and_write = async {
                let segment = ChainSegment::over(last, &previous, &rows)?;
                let written = self.write_segment(&segment).await;
                Ok::<_, StoreError>((written, segment.link))
            };
            let read_next = async {
                if full {
                    self.raw_after(end, CHAIN_BATCH).await.map(Some)
                } else {
                    Ok(None)
                }
            };
            let ((written, head), next) = tokio::try_join!(link_and_write, read_next)?;
            match written {
                Ok(()) => {
                    last = end;
                    previous = head;
                    // A page that was not full reached the end of the log as it stood; events
                    // committed since are left to the next call rather than chased one small
                    // page at a time while writers keep writing.
                    let Some(next) = next else {
                        return Ok(last);
                    };
                    rows = next;
                }
                // Another process extended the chain first: start again from its head.
                Err(e) if crate::error::is_duplicate_key(&e) => {
                    (last, previous) = self.chain_head().await?.unwrap_or_default();
                    rows = self.raw_after(last, CHAIN_BATCH).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs `extend_chain` every `interval` until the returned task is aborted: the chain's
    /// own follower of the log, beside whatever else follows it. Errors are logged and
    /// retried after the interval.
    pub fn follow_chain(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(err) = self.extend_chain().await {
                    tracing::error!(error = %err, "hash chain");
                }
                tokio::time::sleep(interval).await;
            }
        })
    }

    /// Stores a segment of the chain: one row, whatever its length. Two writers extending
    /// from the same head collide on `first_position`, and the second gets a duplicate key.
    async fn write_segment(&self, segment: &ChainSegment) -> Result<(), sqlx::Error> {
        let _writing = self.write_turn().await;
        with_pool!(&self.pool, p => sqlx::query(
            "INSERT INTO event_chain_segments (first_position, last_position, content_hashes, link, chained_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(segment.first_position)
        .bind(segment.last_position)
        .bind(&segment.content_hashes)
        .bind(&segment.link)
        .bind(chrono::Utc::now())
        .execute(p)
        .await
        .map(|_| ()))
    }

    /// The last chained position and its link: the value an auditor anchors (it is printed on
    /// issued reports). `None` before anything was chained.
    pub async fn chain_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        let head: Option<(i64, String)> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT last_position, link FROM event_chain_segments ORDER BY last_position DESC LIMIT 1",
        )
        .fetch_optional(p)
        .await?);
        Ok(head.map(|(p, l)| (p.max(0) as u64, l)))
    }

    /// Recomputes the hash chain over the whole log and compares it with the stored links.
    pub async fn verify_chain(&self) -> Result<ChainVerdict, StoreError> {
        let mut log = Vec::new();
        let mut after = 0;
        loop {
            let page = self.raw_after(after, 10_000).await?;
            let Some(last) = page.last().and_then(|r| r.position) else {
                break;
            };
            after = last.max(0) as u64;
            for row in page {
                // An event whose JSON no longer parses can only be altered.
                let hash = row
                    .content_hash()
                    .unwrap_or_else(|_| "unparseable".to_owned());
                log.push((row.position.unwrap_or(0).max(0) as u64, hash));
            }
        }
        let segments: Vec<ChainSegment> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT first_position, last_position, content_hashes, link
               FROM event_chain_segments ORDER BY last_position",
        )
        .fetch_all(p)
        .await?);
        Ok(chain::compare_segments(&log, &segments))
    }

    /// The stored chain's rows for positions `first..=last`: the segments that hold them,
    /// expanded from the link before the first (see `ChainSegment::rows`). Positions of a
    /// segment that does not fit its positions have none (`verify_chain` reports it).
    pub(super) async fn chain_rows(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<ChainRow>, StoreError> {
        let segments: Vec<ChainSegment> = with_pool!(&self.pool, p => sqlx::query_as(
            "SELECT first_position, last_position, content_hashes, link
               FROM event_chain_segments
              WHERE last_position >= $1 AND first_position <= $2
              ORDER BY last_position",
        )
        .bind(first)
        .bind(last)
        .fetch_all(p)
        .await?);
        let Some(start) = segments.first().map(|s| s.first_position) else {
            return Ok(Vec::new());
        };
        let before: Option<String> = with_pool!(&self.pool, p => sqlx::query_scalar(
            "SELECT link FROM event_chain_segments WHERE last_position = $1",
        )
        .bind(start - 1)
        .fetch_optional(p)
        .await?);
        let mut previous = before.unwrap_or_default();
        let mut rows = Vec::new();
        for segment in &segments {
            rows.extend(segment.rows(&previous, first..=last).unwrap_or_default());
            previous = segment.link.clone();
        }
        Ok(rows)
    }
}
