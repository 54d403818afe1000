//! Tamper evidence: a SHA-256 hash chain over the log in its global order.
//!
//! For the event at position p: `content_hash = SHA-256(canonical bytes of the event)` and
//! `link_p = SHA-256(link_{p-1} ‖ p as 8 bytes big-endian ‖ content_hash)`, with `link_0` 32
//! zero bytes. The canonical bytes are the event as JSON with sorted keys and no whitespace:
//! item id, sequence, event type and version, payload, metadata, and recorded-at (RFC 3339,
//! microseconds, UTC). Changing, removing, adding or moving any event changes every link from
//! there on; publishing the head link (it is printed on reports) anchors the whole chain.
//!
//! `EventLog::extend_chain` appends links for positioned events (the projector calls it after
//! each catch-up), stored one segment per page chained (`ChainSegment`);
//! `EventLog::verify_chain` recomputes everything and names the first position where the log
//! and the chain disagree, and how.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::{self, Node};
use crate::error::StoreError;
use crate::record::EventRow;

/// The canonical bytes of one event (see the module documentation).
pub fn canonical_bytes(
    item_id: &str,
    sequence: i64,
    event_type: &str,
    event_version: &str,
    payload: &Value,
    metadata: &Value,
    recorded_at: &str,
) -> Vec<u8> {
    // serde_json's map keeps keys sorted, so this is the same for equal values however the
    // database or an export file spelled the JSON.
    let canonical = serde_json::json!({
        "item_id": item_id,
        "sequence": sequence,
        "event_type": event_type,
        "event_version": event_version,
        "payload": payload,
        "metadata": metadata,
        "recorded_at": recorded_at,
    });
    serde_json::to_vec(&canonical).unwrap_or_default()
}

/// `recorded_at` as it enters the canonical bytes.
pub fn canonical_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn content_hash(canonical: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical))
}

/// The link at `position` following `previous` (hex; empty for the start of the chain).
pub fn link(previous: &str, position: u64, content_hash: &str) -> String {
    hex::encode(link_digest(
        &link_bytes(previous),
        position,
        &hex::decode(content_hash).unwrap_or_default(),
    ))
}

/// A link given in hex as bytes; anything but 32 bytes (the empty link before position 1)
/// is `link_0`, 32 zero bytes.
fn link_bytes(link: &str) -> Vec<u8> {
    match hex::decode(link) {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => vec![0u8; 32],
    }
}

/// `link` on raw digests, as the chain is extended: no hex on the way.
fn link_digest(previous: &[u8], position: u64, content: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(position.to_be_bytes());
    hasher.update(content);
    hasher.finalize().into()
}

/// A stretch of the chain as stored (`event_chain_segments`, one row per page chained):
/// the content hashes of positions `first_position..=last_position`, 32 bytes each in
/// order, and the link at `last_position`. The links inside a segment are not stored: each
/// follows from the one before, and the stored last link checks them all. One row per page
/// instead of one per event made extending the chain about a quarter of a PostgreSQL
/// catch-up's time cheaper (docs/performance.md).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChainSegment {
    pub first_position: i64,
    pub last_position: i64,
    pub content_hashes: Vec<u8>,
    pub link: String,
}

impl ChainSegment {
    /// The segment continuing the chain after position `last`, whose link is `previous`
    /// (hex; empty at the start), over `rows`, which must start at `last + 1` without gaps.
    pub(crate) fn over(last: u64, previous: &str, rows: &[EventRow]) -> Result<Self, StoreError> {
        let mut link = link_bytes(previous);
        let mut content_hashes = Vec::with_capacity(rows.len() * 32);
        for (expected, row) in (last + 1..).zip(rows) {
            let corrupt = |reason: String| StoreError::CorruptEvent {
                item_id: row.aggregate_id.clone(),
                sequence: row.sequence.max(0) as u64,
                reason,
            };
            if row.position.unwrap_or(0).max(0) as u64 != expected {
                return Err(corrupt(format!(
                    "log position {expected} is missing: the hash chain cannot pass a gap"
                )));
            }
            let content = row.content_digest().map_err(corrupt)?;
            link = link_digest(&link, expected, &content).to_vec();
            content_hashes.extend_from_slice(&content);
        }
        Ok(Self {
            first_position: i64::try_from(last + 1).unwrap_or(i64::MAX),
            last_position: i64::try_from(last + rows.len() as u64).unwrap_or(i64::MAX),
            content_hashes,
            link: hex::encode(link),
        })
    }

    /// One `ChainRow` per position of `keep`, as `compare` reads the chain: the content hashes
    /// as stored, each inner link following from the one before (`previous` is the link
    /// before the segment), the last link as stored. `None` if the hashes do not fit the
    /// positions: the segment itself was edited.
    pub(crate) fn rows(&self, previous: &str, keep: RangeInclusive<i64>) -> Option<Vec<ChainRow>> {
        let count = usize::try_from(self.last_position - self.first_position + 1).ok()?;
        if self.first_position < 1 || self.content_hashes.len() != count * 32 {
            return None;
        }
        let mut link = link_bytes(previous);
        let mut rows = Vec::new();
        for (position, digest) in (self.first_position..).zip(self.content_hashes.chunks(32)) {
            if position > *keep.end() {
                break;
            }
            link = link_digest(&link, position.max(0) as u64, digest).to_vec();
            if keep.contains(&position) {
                rows.push(ChainRow {
                    position,
                    content_hash: hex::encode(digest),
                    link: if position == self.last_position {
                        self.link.clone()
                    } else {
                        hex::encode(&link)
                    },
                });
            }
        }
        Some(rows)
    }
}

/// The stored chain, segment by segment in order, as one row per position; and the first
/// position of a segment whose hashes do not fit its positions, where the rows stop.
pub(crate) fn expand(segments: &[ChainSegment]) -> (Vec<ChainRow>, Option<u64>) {
    let mut rows = Vec::new();
    let mut previous = String::new();
    for segment in segments {
        match segment.rows(&previous, segment.first_position..=segment.last_position) {
            Some(more) => rows.extend(more),
            None => return (rows, Some(segment.first_position.max(0) as u64)),
        }
        previous = segment.link.clone();
    }
    (rows, None)
}

impl EventRow {
    /// The content hash of a stored event; `Err` if its JSON does not even parse.
    pub(crate) fn content_hash(&self) -> Result<String, String> {
        self.content_digest().map(hex::encode)
    }

    /// `content_hash` as raw bytes.
    pub(crate) fn content_digest(&self) -> Result<[u8; 32], String> {
        let metadata = canonical::parse(&self.metadata).map_err(|e| format!("metadata: {e}"))?;
        let payload = canonical::parse(&self.payload).map_err(|e| format!("payload: {e}"))?;
        let bytes = canonical_bytes_of_parsed(
            &self.aggregate_id,
            self.sequence,
            &self.event_type,
            &self.event_version,
            &payload,
            &metadata,
            &canonical_time(&self.recorded_at),
        )
        .map_err(|e| e.to_string())?;
        Ok(Sha256::digest(bytes).into())
    }
}

/// `canonical_bytes` of an event whose payload and metadata were parsed from their stored
/// text, without building `Value`s: the fields written in `canonical_bytes`' (sorted) key
/// order.
fn canonical_bytes_of_parsed(
    item_id: &str,
    sequence: i64,
    event_type: &str,
    event_version: &str,
    payload: &Node<'_>,
    metadata: &Node<'_>,
    recorded_at: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    let field = |out: &mut Vec<u8>, key: &str, first: bool| {
        out.extend_from_slice(if first { b"{\"" } else { b",\"" });
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    };
    let string = |out: &mut Vec<u8>, value: &str| serde_json::to_writer(out, value);
    field(&mut out, "event_type", true);
    string(&mut out, event_type)?;
    field(&mut out, "event_version", false);
    string(&mut out, event_version)?;
    field(&mut out, "item_id", false);
    string(&mut out, item_id)?;
    field(&mut out, "metadata", false);
    metadata.write(&mut out)?;
    field(&mut out, "payload", false);
    payload.write(&mut out)?;
    field(&mut out, "recorded_at", false);
    string(&mut out, recorded_at)?;
    field(&mut out, "sequence", false);
    out.extend_from_slice(sequence.to_string().as_bytes());
    out.push(b'}');
    Ok(out)
}

/// How the log departs from its chain at the first bad position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tampering {
    /// The event's content differs from what was chained.
    Altered,
    /// A chained event is missing.
    Deleted,
    /// An event that was never chained stands among chained ones.
    Inserted,
    /// Chained events stand at other positions than they were chained at.
    Reordered,
    /// The stored link itself does not follow from the chain before it.
    ChainAltered,
}

impl fmt::Display for Tampering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Altered => "altered",
            Self::Deleted => "deleted",
            Self::Inserted => "inserted",
            Self::Reordered => "reordered",
            Self::ChainAltered => "chain link altered",
        })
    }
}

/// The result of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainVerdict {
    /// Positions 1..=this agree with the chain.
    pub verified_up_to: u64,
    /// The link at `verified_up_to`: compare it with an anchored copy (e.g. on an issued report).
    pub head_link: Option<String>,
    /// The first position where log and chain disagree, and how.
    pub first_problem: Option<(u64, Tampering)>,
    /// Events positioned after the last chained one (recorded since the last extension).
    pub unchained: u64,
}

impl ChainVerdict {
    /// The verdict for a log that departs from the chain at `position`, after `verified`
    /// good positions ending in link `previous`.
    fn broken(position: u64, kind: Tampering, previous: &str, verified: u64) -> Self {
        Self {
            verified_up_to: verified,
            head_link: (!previous.is_empty()).then(|| previous.to_owned()),
            first_problem: Some((position, kind)),
            unchained: 0,
        }
    }

    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// Verifies an export (JSON Lines of `ExportedEvent`, in order) with no database: every
/// content hash is recomputed from the line's fields and every link from the one before.
/// An export that starts after position 1 is chained on from its first line's link.
pub fn verify_export(events: &[crate::ExportedEvent]) -> ChainVerdict {
    let mut previous = String::new();
    let mut verified = 0u64;
    let mut unchained = 0;
    for (index, event) in events.iter().enumerate() {
        if index > 0 && event.position != verified + 1 {
            let kind = if event.position > verified + 1 {
                Tampering::Deleted
            } else {
                Tampering::Reordered
            };
            return ChainVerdict::broken(verified + 1, kind, &previous, verified);
        }
        let hash = content_hash(&canonical_bytes(
            &event.item_id,
            i64::try_from(event.sequence).unwrap_or(i64::MAX),
            &event.event_type,
            &event.event_version,
            &event.payload,
            &event.metadata,
            &event.recorded_at,
        ));
        if hash != event.content_hash {
            return ChainVerdict::broken(event.position, Tampering::Altered, &previous, verified);
        }
        match &event.link {
            Some(stored) if index == 0 && event.position > 1 => previous = stored.clone(),
            Some(stored) => {
                let expected = link(&previous, event.position, &hash);
                if *stored != expected {
                    return ChainVerdict::broken(
                        event.position,
                        Tampering::ChainAltered,
                        &previous,
                        verified,
                    );
                }
                previous = expected;
            }
            None => unchained += 1,
        }
        verified = event.position;
    }
    ChainVerdict {
        verified_up_to: verified,
        head_link: (!previous.is_empty()).then_some(previous),
        first_problem: None,
        unchained,
    }
}

/// A stored link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChainRow {
    pub position: i64,
    pub content_hash: String,
    pub link: String,
}

/// `compare` with the chain as stored, in segments (in order). A segment whose hashes do not
/// fit its positions is the chain altered there.
pub(crate) fn compare_segments(log: &[(u64, String)], segments: &[ChainSegment]) -> ChainVerdict {
    let (chain, damaged) = expand(segments);
    let verdict = compare(log, &chain);
    match damaged {
        Some(position) if verdict.is_intact() => ChainVerdict::broken(
            position,
            Tampering::ChainAltered,
            verdict.head_link.as_deref().unwrap_or_default(),
            verdict.verified_up_to,
        ),
        _ => verdict,
    }
}

/// Compares the log's events (position, content hash) with the stored chain, both in
/// position order.
fn compare(log: &[(u64, String)], chain: &[ChainRow]) -> ChainVerdict {
    let stored: HashMap<u64, &ChainRow> = chain
        .iter()
        .map(|c| (c.position.max(0) as u64, c))
        .collect();
    let by_content: HashMap<&str, u64> = chain
        .iter()
        .map(|c| (c.content_hash.as_str(), c.position.max(0) as u64))
        .collect();
    let chain_head = chain.last().map_or(0, |c| c.position.max(0) as u64);
    let mut previous = String::new();
    let mut verified = 0u64;
    for (index, (position, hash)) in log.iter().enumerate() {
        let position = *position;
        let expected = verified + 1;
        if position > chain_head {
            break;
        }
        if position != expected {
            // A chained position has no event: removed.
            return ChainVerdict::broken(expected, Tampering::Deleted, &previous, verified);
        }
        let Some(row) = stored.get(&position) else {
            return ChainVerdict::broken(position, Tampering::Inserted, &previous, verified);
        };
        if *hash != row.content_hash {
            let next_stored = stored.get(&(position + 1)).map(|r| r.content_hash.as_str());
            let next_in_log = log.get(index + 1).map(|(_, h)| h.as_str());
            let kind = if next_stored == Some(hash.as_str()) {
                Tampering::Deleted // the rest moved up to close the gap
            } else if next_in_log == Some(row.content_hash.as_str()) {
                Tampering::Inserted // the rest moved down to make room
            } else if by_content.contains_key(hash.as_str()) {
                Tampering::Reordered
            } else {
                Tampering::Altered
            };
            return ChainVerdict::broken(position, kind, &previous, verified);
        }
        let expected_link = link(&previous, position, hash);
        if expected_link != row.link {
            return ChainVerdict::broken(position, Tampering::ChainAltered, &previous, verified);
        }
        previous = expected_link;
        verified = position;
    }
    if verified < chain_head {
        return ChainVerdict::broken(verified + 1, Tampering::Deleted, &previous, verified);
    }
    ChainVerdict {
        verified_up_to: verified,
        head_link: (!previous.is_empty()).then_some(previous),
        first_problem: None,
        unchained: log.iter().filter(|(p, _)| *p > chain_head).count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Stored events are hashed from their text, exports from parsed values: both must
        /// give the same bytes, or an export of an intact log would not verify.
        #[test]
        fn stored_text_and_parsed_values_give_the_same_canonical_bytes(
            item_id in "\\PC{0,12}",
            sequence in any::<i64>(),
            event_type in "[A-Za-z\"\\\\]{0,12}",
            payload in r#"\{( *"[a-z]{1,3}" *: *(-?(0|[1-9][0-9]{0,3})(\.[0-9]{1,3})?|"[a-z é中/]{0,5}"|null|true|\[\]|\{\}) *,){0,4} *"z" *: *0 *\}"#,
            metadata in r#"\{( *"[a-z_]{1,6}" *: *"[a-z é中/]{0,6}" *,){0,3} *"actor" *: *"[a-z]{1,6}" *\}"#,
            recorded_at in "[0-9T:Z.-]{0,27}",
        ) {
            let from_text = canonical_bytes_of_parsed(
                &item_id, sequence, &event_type, "1", &canonical::parse(&payload)?,
                &canonical::parse(&metadata)?, &recorded_at,
            );
            let parsed = |text: &str| serde_json::from_str::<Value>(text);
            let from_values = canonical_bytes(
                &item_id, sequence, &event_type, "1", &parsed(&payload)?, &parsed(&metadata)?,
                &recorded_at,
            );
            prop_assert_eq!(from_text.ok(), Some(from_values));
        }
    }

    fn chain_of(hashes: &[&str]) -> Vec<ChainRow> {
        let mut previous = String::new();
        hashes
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let position = i as u64 + 1;
                previous = link(&previous, position, h);
                ChainRow {
                    position: position as i64,
                    content_hash: (*h).to_owned(),
                    link: previous.clone(),
                }
            })
            .collect()
    }

    fn log_of(hashes: &[&str]) -> Vec<(u64, String)> {
        hashes
            .iter()
            .enumerate()
            .map(|(i, h)| (i as u64 + 1, (*h).to_owned()))
            .collect()
    }

    const A: &str = "aa";
    const B: &str = "bb";
    const C: &str = "cc";
    const D: &str = "dd";
    const X: &str = "ee";

    #[test]
    fn an_untouched_log_verifies_to_its_head() {
        let chain = chain_of(&[A, B, C]);
        let verdict = compare(&log_of(&[A, B, C, D]), &chain);
        assert!(verdict.is_intact());
        assert_eq!(verdict.verified_up_to, 3);
        assert_eq!(verdict.unchained, 1);
        assert_eq!(verdict.head_link.as_deref(), Some(chain[2].link.as_str()));
    }

    #[test]
    fn each_kind_of_tampering_is_named_at_its_first_position() {
        let chain = chain_of(&[A, B, C, D]);
        let first = |log: &[(u64, String)]| compare(log, &chain).first_problem;
        assert_eq!(first(&log_of(&[A, X, C, D])), Some((2, Tampering::Altered)));
        assert_eq!(first(&log_of(&[A, C, D])), Some((2, Tampering::Deleted)));
        assert_eq!(
            first(&[(1, A.into()), (3, C.into()), (4, D.into())]),
            Some((2, Tampering::Deleted))
        );
        assert_eq!(
            first(&log_of(&[A, X, B, C, D])),
            Some((2, Tampering::Inserted))
        );
        assert_eq!(
            first(&log_of(&[A, D, C, B])),
            Some((2, Tampering::Reordered))
        );
        assert_eq!(first(&log_of(&[A, B, C])), Some((4, Tampering::Deleted)));
        let mut forged = chain.clone();
        forged[2].link = "00".repeat(32);
        assert_eq!(
            compare(&log_of(&[A, B, C, D]), &forged).first_problem,
            Some((3, Tampering::ChainAltered))
        );
    }
}
