//! Helpers shared by the black-box tests: a ledger on a fresh database of either backend
//! (`spawn_ledger`), and the real service on a random port (`spawn_app`).

pub mod app;
pub mod console;
pub mod nats;
pub mod webhook;

use std::sync::Arc;

use suspense::Suspense;
use suspense_testkit::fixed_now as now;
pub use suspense_testkit::{booking, fixed_now, on_both_backends, user, Backend, TestDatabase};

/// A ledger at a fixed business time on a fresh database; keep the guard alive while using it.
pub async fn spawn_ledger(backend: Backend) -> (Suspense, TestDatabase) {
    let db = TestDatabase::create(backend).await;
    let ledger = Suspense::builder(&db.url())
        .clock(Arc::new(suspense::domain::FixedClock(now())))
        .conflict_attempts(64)
        .open()
        .await
        .unwrap_or_else(|e| panic!("ledger opens on {backend:?}: {e}"));
    (ledger, db)
}
