//! What the service tells about itself besides `/metrics`: log lines on standard error, and,
//! when an OpenTelemetry collector is configured, a span per request exported over OTLP
//! (HTTP, protobuf). The export is off unless one of the OpenTelemetry SDKs' own variables
//! names a collector (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
//! the SDKs' other variables apply as well (`OTEL_SERVICE_NAME`, `OTEL_BSP_SCHEDULE_DELAY`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, …). See docs/operations.md.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Instrument, Level};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// The variables that switch the export on.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The service's name in the traces unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "suspense";

/// The exporter of traces, if one runs: `shutdown` sends what it still holds.
#[must_use = "shut down at exit, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter. Call it outside the async
    /// runtime: the exporter blocks.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(err) = provider.shutdown() {
                eprintln!("warning: the last traces were not exported: {err}");
            }
        }
    }
}

/// Installs the log lines (`RUST_LOG`, or the level `verbose` asks for) and, if configured,
/// the export of spans. Call it before the async runtime starts: the exporter's HTTP client
/// blocks on a thread of its own.
pub fn init(verbose: u8) -> Telemetry {
    let default = match verbose {
        0 => "warn,suspense_service=info",
        1 => "info",
        _ => "debug",
    };
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(logs);
    let (provider, problem) = match exporter() {
        Ok(provider) => (provider, None),
        Err(err) => (None, Some(err)),
    };
    // The spans exported are the product's own at INFO and above, whatever `RUST_LOG` keeps
    // for the log lines.
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(SERVICE_NAME))
            .with_filter(filter::filter_fn(|meta| {
                meta.target().starts_with("suspense") && *meta.level() <= Level::INFO
            }))
    });
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(spans)
        .try_init();
    if let Some(problem) = problem {
        tracing::warn!(error = %problem, "traces are not exported");
    }
    Telemetry { provider }
}

/// The OTLP exporter if a collector is named.
fn exporter() -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    let configured = ENDPOINT_VARIABLES
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

/// A span around every request: its route (the pattern, not the path with its ids), method,
/// request id (`X-Request-Id`, which the events written also carry) and status.
pub async fn span_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let request_id = crate::extract::request_id(request.headers()).unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        request_id = %request_id,
        http.response.status_code = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}
