//! Fault tests, bounded in time and on loopback only: `cargo test crash`, `cargo test outage`
//! and `cargo test contention` select them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use suspense_testkit::{PrivateCluster, TestDatabase};
use suspense_tests::app::{assert_consistent, booking, spawn_app, spawn_app_on, token, TestApp};
use suspense_tests::{on_both_backends, Backend};
use tokio::sync::Mutex;

/// Clients open items and comment on a shared one until the service dies under them.
async fn load_until_killed(app: &mut TestApp, hot: &str) -> (Vec<String>, usize) {
    let opened = Arc::new(Mutex::new(Vec::new()));
    let comments = Arc::new(Mutex::new(0usize));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (opened, comments, client) =
            (Arc::clone(&opened), Arc::clone(&comments), client.clone());
        let (base, hot) = (app.url(""), hot.to_owned());
        clients.push(tokio::spawn(async move {
            for n in 0..10_000 {
                let open = client
                    .post(format!("{base}/v1/items"))
                    .bearer_auth(token("olivia"))
                    .json(&booking(&format!("CRASH-{c}-{n}"), "3.00"))
                    .send()
                    .await;
                let Ok(response) = open else { return };
                if response.status().is_success() {
                    let body: Value = response.json().await.unwrap_or_default();
                    opened
                        .lock()
                        .await
                        .push(body["id"].as_str().unwrap_or_default().to_owned());
                }
                let comment = client
                    .post(format!("{base}/v1/items/{hot}/comments"))
                    .bearer_auth(token("olivia"))
                    .json(&json!({"text": format!("{c}-{n}")}))
                    .send()
                    .await;
                let Ok(response) = comment else { return };
                if response.status().is_success() {
                    *comments.lock().await += 1;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    app.kill9().await;
    for client in clients {
        let _ = client.await;
    }
    let opened = opened.lock().await.clone();
    let comments = *comments.lock().await;
    (opened, comments)
}

async fn crash_under_load_loses_no_acknowledged_command(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let hot = app.open_item("CRASH-HOT", "1.00").await;
    let (opened, comments) = load_until_killed(&mut app, &hot).await;
    assert!(
        !opened.is_empty() && comments > 0,
        "the load ran before the kill"
    );
    app.restart().await;

    for id in &opened {
        assert_eq!(
            app.get(&format!("/v1/items/{id}"), "olivia").await.status(),
            200,
            "acknowledged item {id} survives"
        );
    }
    let history: Value = app
        .get(&format!("/v1/items/{hot}/events"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    let events = history.as_array().cloned().unwrap_or_default();
    let sequences: Vec<u64> = events
        .iter()
        .filter_map(|e| e["sequence"].as_u64())
        .collect();
    assert_eq!(
        sequences,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "gapless, no half-written command"
    );
    // Unanswered commands may or may not have been written, but never partly: every answered one is.
    assert!(
        events.len() > comments,
        "{} events for {comments} acknowledged comments",
        events.len()
    );
    assert_consistent(&app).await;
}
on_both_backends!(
    crash_under_load_loses_no_acknowledged_command,
    super::crash_under_load_loses_no_acknowledged_command
);

async fn contention_on_one_item_applies_or_refuses_every_command(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let id = app.open_item("CONTENDED", "20.00").await;
    let mut clients = Vec::new();
    for c in 0..32 {
        let app = Arc::clone(&app);
        let id = id.clone();
        clients.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for k in 0..3 {
                let clearing = json!({"clearing_reference": format!("C-{c}-{k}"), "amount": "1.00", "currency": "CNY"});
                let response = app.post(&format!("/v1/items/{id}/clearings"), "olivia", clearing).await;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or_default();
                outcomes.push(("clearing", status, body["error"]["code"].as_str().unwrap_or("").to_owned()));
                let response = app.post(&format!("/v1/items/{id}/comments"), "oscar", json!({"text": format!("{c}/{k}")})).await;
                outcomes.push(("comment", response.status().as_u16(), String::new()));
            }
            outcomes
        }));
    }
    let mut cleared = 0;
    let mut comments = 0;
    for client in clients {
        for (kind, status, code) in client.await.unwrap_or_default() {
            match (kind, status) {
                ("clearing", 200) => cleared += 1,
                ("clearing", 422) => assert_eq!(code, "clearing_exceeds_outstanding"),
                ("comment", 200) => comments += 1,
                other => {
                    panic!("a command was neither applied nor refused by a rule: {other:?} {code}")
                }
            }
        }
    }
    assert_eq!(cleared, 20, "exactly the amount could be cleared");
    assert_eq!(comments, 96, "every comment was applied once");
    let history: Value = app
        .get(&format!("/v1/items/{id}/events"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    let sequences: Vec<u64> = history
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["sequence"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(
        sequences,
        (1..=(1 + 20 + 96)).collect::<Vec<u64>>(),
        "gapless, nothing lost or doubled"
    );
    let balance: Value = app
        .get("/v1/reports/open-balance?fresh=true", "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(balance[0]["outstanding"], "0.00");
    let item: Value = app
        .get(&format!("/v1/items/{id}"), "olivia")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(item["cleared"]["amount"], "20.00");
    // With a stale If-Match the client is told, and nothing is written.
    let stale = app
        .request(Method::POST, &format!("/v1/items/{id}/comments"), "olivia")
        .header("If-Match", "\"5\"")
        .json(&json!({"text": "late"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stale.status(), 412);
    assert_consistent(&app).await;
}
on_both_backends!(
    contention_on_one_item_applies_or_refuses_every_command,
    super::contention_on_one_item_applies_or_refuses_every_command
);

/// The database goes away under the service and comes back: the service answers 503 within
/// its timeout, never crashes, and recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_of_the_database_is_survived_without_a_restart() {
    let cluster = PrivateCluster::start();
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("CREATE DATABASE suspense")
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let app = spawn_app_on(TestDatabase::External(cluster.url("suspense"))).await;
    let mut acknowledged = HashSet::new();
    acknowledged.insert(app.open_item("OUT-BEFORE", "1.00").await);

    cluster.stop_server();
    let started = Instant::now();
    let during = app
        .post("/v1/items", "olivia", booking("OUT-DURING", "1.00"))
        .await;
    assert_eq!(during.status(), 503);
    let body: Value = during.json().await.unwrap_or_default();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(31),
        "answered within the request timeout"
    );
    let ready = reqwest::get(app.url("/readyz"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ready.status(), 503);
    assert_eq!(
        reqwest::get(app.url("/healthz"))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0),
        200,
        "still alive"
    );

    cluster.start_server();
    let deadline = Instant::now() + Duration::from_secs(60);
    let recovered = loop {
        let response = app
            .post("/v1/items", "olivia", booking("OUT-AFTER", "1.00"))
            .await;
        if response.status().is_success() {
            let body: Value = response.json().await.unwrap_or_default();
            break body["id"].as_str().unwrap_or_default().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the service did not recover within 60s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    acknowledged.insert(recovered);
    for id in &acknowledged {
        assert_eq!(
            app.get(&format!("/v1/items/{id}"), "olivia").await.status(),
            200
        );
    }
    assert_eq!(
        reqwest::get(app.url("/readyz"))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0),
        200
    );
}
