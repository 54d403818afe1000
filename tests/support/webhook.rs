//! A webhook receiver on a random port, as a bank's system would run one: it keeps every
//! request it answered 2xx (headers and body), and can be told to answer 500 to the next
//! requests, or to all of them, to play a target that is away.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub timestamp: i64,
    pub signature: String,
    pub content_type: String,
    pub body: Bytes,
    pub document: Value,
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    fail_next: AtomicU32,
    fail_all: AtomicBool,
    refused: AtomicU32,
    /// Milliseconds each request takes.
    delay_ms: AtomicU32,
}

pub struct WebhookReceiver {
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let state = Arc::clone(&inner);
        let app = axum::Router::new().route(
            "/hooks/suspense",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&state);
                async move {
                    let delay = state.delay_ms.load(Ordering::SeqCst);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
                    }
                    if state.fail_all.load(Ordering::SeqCst)
                        || state
                            .fail_next
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                    {
                        state.refused.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let received = Received {
                        event_id: header(&headers, "x-suspense-event-id"),
                        timestamp: header(&headers, "x-suspense-timestamp")
                            .parse()
                            .unwrap_or(0),
                        signature: header(&headers, "x-suspense-signature"),
                        content_type: header(&headers, "content-type"),
                        document: serde_json::from_slice(&body).unwrap_or_default(),
                        body,
                    };
                    if let Ok(mut all) = state.received.lock() {
                        all.push(received);
                    }
                    StatusCode::NO_CONTENT
                }
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
            url: format!("http://{address}/hooks/suspense"),
            inner,
            task,
        }
    }

    /// Takes `ms` milliseconds over each request, as a busy system does.
    pub fn slow(&self, ms: u32) {
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Answers 500 to the next `n` requests.
    pub fn fail_next(&self, n: u32) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers 500 to every request from now on (`false`: accept again).
    pub fn fail_all(&self, fail: bool) {
        self.inner.fail_all.store(fail, Ordering::SeqCst);
    }

    /// Requests answered 500 so far.
    pub fn refused(&self) -> u32 {
        self.inner.refused.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits (up to 30 s) until at least `n` requests were accepted, and answers them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let received = self.received();
        panic!(
            "{} of {n} webhook requests arrived: {:?}",
            received.len(),
            received.iter().map(|r| &r.event_id).collect::<Vec<_>>()
        )
    }
}
