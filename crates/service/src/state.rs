//! What every request handler shares: the ledger, the settings and the metrics.

use std::sync::Arc;

use suspense::Suspense;

use crate::config::Settings;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub ledger: Arc<Suspense>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
}
