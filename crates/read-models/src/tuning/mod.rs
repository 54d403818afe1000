//! Mechanisms that make the read models fast to build without changing what they hold, each
//! measured (docs/performance.md) and private to the crate:
//!
//! - `binary_copy`: PostgreSQL rows a batch creates copied in as a binary `COPY` stream;
//! - `sqlite_chunks`: SQLite's multi-row statements, each built while the one before runs;
//! - `deferred_indexes`: a build from empty loads its tables without their secondary
//!   indexes and creates them again at the end.

pub(crate) mod binary_copy;
pub(crate) mod deferred_indexes;
pub(crate) mod sqlite_chunks;
