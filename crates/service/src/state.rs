//! What every request handler shares: the ledger, the settings, the metrics, and whether this
//! instance leads the background work.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use suspense::Suspense;

use crate::config::Settings;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub ledger: Arc<Suspense>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    /// Whether this instance runs the background work now (`Suspense::lead_background`).
    pub leading: Arc<AtomicBool>,
    /// The subscriptions' deliverers, and where each stands.
    pub delivery: Arc<suspense::delivery::Delivery>,
    /// This instance, as `/readyz` and `/metrics` name it: its address and process id.
    pub instance: String,
}
