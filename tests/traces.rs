//! Traces over OTLP, black box: the service started with the OpenTelemetry SDK's variable
//! naming a collector (a fake one on a random port that keeps every export it receives)
//! exports a span per request, named by its route, carrying the request id the events carry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use suspense_tests::app::{booking, spawn_app_with_env};
use suspense_tests::{Backend, TestDatabase};

/// A collector of OTLP/HTTP exports: the protobuf bodies of `POST /v1/traces`, undecoded
/// (the strings a span carries appear in them as they are).
struct Collector {
    url: String,
    exports: Arc<Mutex<Vec<Bytes>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Collector {
    async fn start() -> Self {
        let exports: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let kept = Arc::clone(&exports);
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: Bytes| {
                if let Ok(mut exports) = kept.lock() {
                    exports.push(body);
                }
                async { axum::http::StatusCode::OK }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{address}"),
            exports,
            task,
        }
    }

    /// Waits until an export holds every one of `needles`.
    async fn wait_for(&self, needles: &[&str]) -> Bytes {
        for _ in 0..300 {
            let found = self.exports.lock().ok().and_then(|exports| {
                exports
                    .iter()
                    .find(|body| needles.iter().all(|n| contains(body, n.as_bytes())))
                    .cloned()
            });
            if let Some(body) = found {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let count = self.exports.lock().map(|e| e.len()).unwrap_or(0);
        panic!("no export of {count} holds {needles:?}")
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn traces_of_requests_are_exported_over_otlp_to_the_collector_named() {
    let collector = Collector::start().await;
    let app = spawn_app_with_env(
        TestDatabase::create(Backend::Sqlite).await,
        "",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;
    let opened = app
        .request(reqwest::Method::POST, "/v1/items", "olivia")
        .header("X-Request-Id", "trace-me-0042")
        .json(&booking("TRACE-1", "10.00"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.status(), 201);
    let export = collector
        .wait_for(&["POST /v1/items", "trace-me-0042", "suspense"])
        .await;
    assert!(contains(&export, b"http.route"), "the route's attribute");
    assert!(contains(&export, b"http.response.status_code"));

    // The events of the request carry the same id: a span leads to what it wrote.
    let id = opened.json::<serde_json::Value>().await.unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let events: serde_json::Value = app
        .get(&format!("/v1/items/{id}/events"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        events[0]["metadata"]["request_id"], "trace-me-0042",
        "{events}"
    );
}
