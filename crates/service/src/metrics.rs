//! `/metrics`: the `metrics` crate's recorder, rendered by its Prometheus exporter.
//!
//! Recorded as they happen: commands by type and outcome, with latency histograms per command,
//! and every request's latency per route (each report is a route). Set on each scrape
//! (`observe`): the projector's lag and totals, the database pool's connections, and whether
//! this instance leads the background work.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: from a cached read to the request timeout.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's metrics. The `metrics` macros record into one recorder per process, so it is
/// installed once and every `Metrics` renders it.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

/// What a scrape sets from the state of things.
pub struct Observed<'a> {
    /// (read model, events behind the log).
    pub lag: &'a [(String, u64)],
    pub events_applied: u64,
    pub poisoned: u64,
    /// The database pool's connections: in use, idle, at most.
    pub pool: (u32, u32, u32),
    pub instance: &'a str,
    pub leading: bool,
    /// Each subscription's delivery.
    pub subscriptions: &'a [suspense::delivery::SubscriptionStatus],
}

impl Metrics {
    /// The process's recorder, installed on first use.
    pub fn install() -> Result<Self, BuildError> {
        static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
        let mut installed = HANDLE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = installed.as_ref() {
            return Ok(Self {
                handle: handle.clone(),
            });
        }
        let handle = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)?
            .install_recorder()?;
        *installed = Some(handle.clone());
        Ok(Self { handle })
    }

    /// One command run: its outcome counted, its time in the command's histogram.
    pub fn record(&self, command: &'static str, outcome: &'static str, elapsed: Duration) {
        counter!("suspense_commands_total", "command" => command, "outcome" => outcome)
            .increment(1);
        histogram!("suspense_command_seconds", "command" => command).record(elapsed.as_secs_f64());
    }

    /// The text a scrape answers, after setting what it observes now.
    pub fn render(&self, observed: &Observed<'_>) -> String {
        for (model, lag) in observed.lag {
            gauge!("suspense_projector_lag_events", "read_model" => model.clone()).set(*lag as f64);
        }
        counter!("suspense_projector_events_applied_total").absolute(observed.events_applied);
        counter!("suspense_projector_poisoned_events_total").absolute(observed.poisoned);
        let (in_use, idle, max) = observed.pool;
        gauge!("suspense_db_pool_connections", "state" => "in_use").set(f64::from(in_use));
        gauge!("suspense_db_pool_connections", "state" => "idle").set(f64::from(idle));
        gauge!("suspense_db_pool_max_connections").set(f64::from(max));
        gauge!("suspense_leader", "instance" => observed.instance.to_owned())
            .set(if observed.leading { 1.0 } else { 0.0 });
        for s in observed.subscriptions {
            let name = s.name.clone();
            gauge!("suspense_delivery_lag_events", "subscription" => name.clone())
                .set(s.lag as f64);
            counter!("suspense_delivery_delivered_total", "subscription" => name.clone())
                .absolute(s.delivered);
            gauge!("suspense_delivery_failures", "subscription" => name.clone())
                .set(f64::from(s.failures));
            gauge!("suspense_delivery_parked", "subscription" => name)
                .set(if s.parked_at.is_some() { 1.0 } else { 0.0 });
        }
        self.handle.render()
    }
}

/// Times every request by its route (the path pattern, not the path: item ids would make a
/// series each), method and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    histogram!(
        "suspense_http_request_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}
