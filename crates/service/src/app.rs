//! The HTTP service: the router, opening the ledger, and `serve` with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::serve::ListenerExt;
use axum::Router;
use suspense::Suspense;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::routes;
use crate::routes::commands::COMMAND_ROUTES;
use crate::routes::plans::PLAN_ROUTES;
use crate::state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The request body limit of `POST /v1/clearings`, whose 1,000 shares take about 100 KiB.
pub const MAX_ALLOCATION_BODY_BYTES: usize = 256 * 1024;
/// A request still running after this is answered 503 (a database that hangs, say).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts of a command without `If-Match` that keeps losing the race for its item.
pub const COMMAND_ATTEMPTS: u32 = 50;

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for command in COMMAND_ROUTES {
        router = router.route(
            &format!("/v1/items/{{id}}{}", command.path),
            command.handler(),
        );
    }
    for command in PLAN_ROUTES {
        router = router.route(
            &format!("/v1/plans/{{id}}{}", command.path),
            command.handler(),
        );
    }
    router
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/openapi.json", get(routes::ops::openapi))
        .route(
            "/v1/items",
            post(routes::items::open).get(routes::items::list),
        )
        .route("/v1/items/{id}", get(routes::items::show))
        .route("/v1/items/{id}/events", get(routes::items::events))
        .route("/v1/reports/root-causes", get(routes::reports::root_causes))
        .route("/v1/reports/customers", get(routes::reports::customers))
        .route("/v1/reports/aging", get(routes::reports::aging))
        .route(
            "/v1/subscriptions",
            get(routes::subscriptions::list).post(routes::subscriptions::create),
        )
        .route(
            "/v1/subscriptions/{name}",
            delete(routes::subscriptions::remove),
        )
        .route(
            "/v1/subscriptions/{name}/resume",
            post(routes::subscriptions::resume),
        )
        .route(
            "/v1/incidents",
            get(routes::incidents::list).post(routes::incidents::open),
        )
        .route("/v1/incidents/{id}", get(routes::incidents::show))
        .route("/v1/incidents/{id}/links", post(routes::incidents::link))
        .route("/v1/incidents/{id}/unlink", post(routes::incidents::unlink))
        .route(
            "/v1/incidents/{id}/resolve",
            post(routes::incidents::resolve),
        )
        .route(
            "/v1/incidents/{id}/suggestions",
            get(routes::incidents::suggestions),
        )
        .route("/v1/reports/incident-share", get(routes::incidents::share))
        .route(
            "/v1/reports/accountability",
            get(routes::reports::accountability),
        )
        .route(
            "/v1/reports/counterparties",
            get(routes::reports::counterparties),
        )
        .route(
            "/v1/reports/open-balance",
            get(routes::reports::open_balance),
        )
        .route("/v1/volumes", post(routes::reports::record_volume))
        .route(
            "/v1/clearings",
            post(routes::clearings::allocate)
                .layer(DefaultBodyLimit::max(MAX_ALLOCATION_BODY_BYTES)),
        )
        .route(
            "/v1/policy",
            get(routes::policy::show).post(routes::policy::publish),
        )
        .route("/v1/sweep", post(routes::policy::sweep))
        .route(
            "/v1/organisation",
            get(routes::organisation::show).post(routes::organisation::publish),
        )
        .route("/v1/watchlist", get(routes::policy::watch_list))
        .route(
            "/v1/reports/provisioning",
            get(routes::policy::provisioning),
        )
        .route(
            "/v1/plans",
            post(routes::plans::create).get(routes::plans::list),
        )
        .route("/v1/plans/{id}", get(routes::plans::show))
        .route("/v1/plans/{id}/history", get(routes::plans::history))
        .route("/v1/plans/{id}/evaluation", get(routes::plans::evaluation))
        .route(
            "/v1/plans/{id}/evaluations",
            post(routes::plans::record_evaluation),
        )
        .route("/v1/audit/export", get(routes::audit::export))
        .merge(crate::console::router())
        // Every matched route timed by its pattern (`/metrics`).
        .route_layer(axum::middleware::from_fn(crate::metrics::track_requests))
        // Outermost of the two, so that the span also covers the timing.
        .route_layer(axum::middleware::from_fn(crate::telemetry::span_requests))
        .fallback(routes::ops::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Opens the ledger for `settings`, migrating the log and the read models.
pub async fn open_ledger(settings: &Settings) -> Result<Suspense, suspense::ProjectionError> {
    open_ledger_with_clock(settings, Arc::new(suspense::SystemClock)).await
}

/// `open_ledger` with another business clock (the demo replays a year).
pub async fn open_ledger_with_clock(
    settings: &Settings,
    clock: Arc<dyn suspense_domain::Clock>,
) -> Result<Suspense, suspense::ProjectionError> {
    let mut builder = Suspense::builder(&settings.database_url);
    if let Some(replica) = &settings.read_database_url {
        builder = builder.read_replica(replica);
    }
    builder
        .clock(clock)
        // Many people on one busy item: keep re-deciding rather than bouncing them (docs/api.md).
        .conflict_attempts(COMMAND_ATTEMPTS)
        .catalogue(settings.catalogue.clone())
        .approval(settings.approval.clone())
        .counterparties(settings.counterparties.clone())
        .business_dates(settings.business_dates)
        .reporting_calendar(settings.calendar)
        .open()
        .await
}

/// Serves `ledger` until ctrl-c or SIGTERM; requests in flight finish before it returns.
pub async fn serve_ledger(
    ledger: Arc<Suspense>,
    settings: Settings,
    listener: TcpListener,
) -> Result<(), Box<dyn std::error::Error>> {
    let delivery = Arc::new(
        suspense::delivery::Delivery::new(
            Arc::clone(ledger.log()),
            settings.subscriptions.clone(),
            suspense::delivery::DeliverySettings::default(),
        )
        .await?,
    );
    // Every instance takes commands; the background work runs on the one that leads.
    let leadership = ledger.lead_background(suspense::BackgroundWork {
        interval: settings.projector_interval,
        sweep: settings.sweep_interval,
        // Always: a supervisor may add subscriptions through the API at any time.
        delivery: Some(Arc::clone(&delivery)),
    });
    let address = listener.local_addr()?;
    let state = AppState {
        ledger: Arc::clone(&ledger),
        settings: Arc::new(settings),
        metrics: Arc::new(Metrics::install()?),
        leading: leadership.leading_flag(),
        delivery,
        instance: format!("{address} pid {}", std::process::id()),
    };
    tracing::info!(address = %address, "serving");
    // Small responses go out at once instead of waiting on Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    leadership.stop();
    ledger.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
