//! The fold's maps and sets, keyed by item ids and cause cells: hashed with foldhash instead of
//! std's SipHash, which was a seventh of the fold's time (`benches/fold.rs`). Still seeded per
//! process, so a batch's keys cannot be chosen to collide.

pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
