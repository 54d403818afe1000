//! Reports from a PostgreSQL streaming replica: a primary and a standby made by the test
//! (`initdb`, `pg_basebackup -R`, their own ports). Commands go to the primary, reports read the
//! standby, and `fresh=true` waits until the standby has replayed what the caller wrote.
//! `cargo test streaming_replica` runs this.

use std::time::{Duration, Instant};

use serde_json::Value;
use suspense_testkit::{PrivateCluster, TestDatabase};
use suspense_tests::app::spawn_app_configured;

/// Open items over every currency in an open-balance report.
async fn open_balance_items(body: &Value) -> i64 {
    body.as_array()
        .map(|rows| rows.iter().filter_map(|r| r["open_items"].as_i64()).sum())
        .unwrap_or_default()
}

#[tokio::test]
async fn streaming_replica_serves_reports_and_fresh_waits_for_its_replay() {
    let primary = PrivateCluster::start();
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&primary.url("postgres"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("CREATE DATABASE suspense")
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let standby = primary.standby();
    let settings = format!("read_database_url = \"{}\"", standby.url("suspense"));
    let app =
        spawn_app_configured(TestDatabase::External(primary.url("suspense")), &settings).await;

    app.open_item("REP-1", "10.00").await;
    let report = "/v1/reports/open-balance?fresh=true";
    let first: Value = app
        .get(report, "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(open_balance_items(&first).await, 1, "{first}");

    // With the standby's replay paused, a fresh report cannot see the new item: it waits
    // (and gives up with 503 after the refresh timeout rather than answer stale figures).
    standby.pause_replay();
    app.open_item("REP-2", "20.00").await;
    let started = Instant::now();
    let waiting = app.get(report, "rita").await;
    assert_eq!(
        waiting.status(),
        503,
        "a lagging replica is not read as fresh"
    );
    assert!(started.elapsed() >= Duration::from_secs(5));
    // Not fresh: the replica's figures as they stand, without the new item.
    let stale: Value = app
        .get("/v1/reports/open-balance", "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        open_balance_items(&stale).await,
        1,
        "read from the replica: {stale}"
    );

    standby.resume_replay();
    let caught_up: Value = app
        .get(report, "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(open_balance_items(&caught_up).await, 2, "{caught_up}");
}
