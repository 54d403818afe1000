//! Delivery to the bank's other systems, black box: the real service delivering to a real
//! webhook receiver on a random port (`cargo test webhook` selects those tests) and to a
//! private NATS server with JetStream (`cargo test jetstream`).

use std::time::Duration;

use serde_json::{json, Value};
use suspense::delivery::signature;
use suspense::delivery::WebhookSecret;
use suspense_tests::app::{binary, booking, spawn_app_configured, token, TestApp};
use suspense_tests::nats::{PrivateNats, Stored, SUBJECT};
use suspense_tests::webhook::{Received, WebhookReceiver};
use suspense_tests::{Backend, TestDatabase};

const SECRET: &str = "a-webhook-secret-of-32-bytes-or-more";

fn subscription(url: &str, extra: &str) -> String {
    format!(
        "[[subscriptions]]\nname = \"gateway\"\nwebhook_url = \"{url}\"\nwebhook_secret = \"{SECRET}\"\nstart = \"beginning\"\n{extra}\n"
    )
}

async fn booked(app: &TestApp, reference: &str, branch: &str) -> String {
    let mut body = booking(reference, "100.00");
    body["branch"] = json!(branch);
    let opened = app.post("/v1/items", "olivia", body).await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap_or_default();
    opened["id"].as_str().unwrap_or_default().to_owned()
}

async fn escalate(app: &TestApp, id: &str) {
    let escalated = app
        .post(
            &format!("/v1/items/{id}/escalate"),
            "sam",
            json!({"level": "department", "reason": "aging"}),
        )
        .await;
    assert_eq!(escalated.status(), 200);
}

async fn status(app: &TestApp) -> Value {
    let list = app.get("/v1/subscriptions", "sam").await;
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.unwrap_or_default();
    list[0].clone()
}

/// The subscription's status once `settled` holds, or as it stands after ten seconds. The
/// checkpoint is written after the target acknowledges, so it trails what the target received.
async fn status_when(app: &TestApp, settled: impl Fn(&Value) -> bool) -> Value {
    let mut now = status(app).await;
    for _ in 0..100 {
        if settled(&now) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = status(app).await;
    }
    now
}

/// The log positions of what arrived, in the order it arrived.
fn positions(received: &[Received]) -> Vec<u64> {
    received
        .iter()
        .map(|r| r.document["data"]["position"].as_u64().unwrap_or(0))
        .collect()
}

async fn webhook_receives_every_event_in_log_order_signed_as_cloud_events(backend: Backend) {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_app_configured(
        TestDatabase::create(backend).await,
        &subscription(&receiver.url, ""),
    )
    .await;
    let first = booked(&app, "HOOK-1", "SH-001").await;
    booked(&app, "HOOK-2", "BJ-001").await;
    escalate(&app, &first).await;
    // Not an item's event: the branch's transaction volume, another stream of the log.
    let volume = app
        .post(
            "/v1/volumes",
            "rita",
            json!({"branch": "SH-001", "month": "2026-03", "transactions": 40_000}),
        )
        .await;
    assert_eq!(volume.status(), 200);
    let received = receiver.wait_for(4).await;
    assert_eq!(
        positions(&received),
        vec![1, 2, 3, 4],
        "in log order, each once"
    );
    let secret = WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"));
    for r in &received {
        assert!(
            signature::verify(&secret, r.timestamp, &r.body, &r.signature),
            "signed: {r:?}"
        );
        assert_eq!(r.content_type, "application/cloudevents+json");
        assert_eq!(r.document["specversion"], "1.0");
        assert_eq!(r.document["id"], r.event_id.as_str());
    }
    for r in &received[..3] {
        assert_eq!(r.document["source"], "urn:suspense:items");
    }
    let recorded = &received[3].document;
    assert_eq!(recorded["type"], "bank.suspense.volumes.volume_recorded");
    assert_eq!(recorded["source"], "urn:suspense:volumes");
    assert_eq!(recorded["subject"], "SH-001");
    assert_eq!(recorded["id"], "volumes:SH-001:1");
    assert_eq!(
        recorded["data"]["event"]["VolumeRecorded"]["transactions"], 40_000,
        "{recorded}"
    );
    assert_eq!(recorded["data"]["metadata"]["actor"], "rita");
    let escalated = &received[2].document;
    assert_eq!(escalated["type"], "bank.suspense.item.escalated");
    assert_eq!(escalated["subject"], first.as_str());
    assert_eq!(escalated["id"], format!("{first}:2"));
    assert_eq!(
        escalated["data"]["event"]["Escalated"]["level"],
        "department"
    );
    assert_eq!(escalated["data"]["metadata"]["actor"], "sam");
    let now = status_when(&app, |s| s["delivered"] == 4).await;
    assert_eq!(now["name"], "gateway");
    assert_eq!(now["delivered"], 4, "{now}");
    assert_eq!(now["parked"], false);
}

#[tokio::test]
async fn webhook_receives_every_event_in_log_order_signed_as_cloud_events_on_sqlite() {
    webhook_receives_every_event_in_log_order_signed_as_cloud_events(Backend::Sqlite).await;
}

#[tokio::test]
async fn webhook_receives_every_event_in_log_order_signed_as_cloud_events_on_postgres() {
    webhook_receives_every_event_in_log_order_signed_as_cloud_events(Backend::Postgres).await;
}

#[tokio::test]
async fn webhook_filter_takes_only_its_event_types_and_branches() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_app_configured(
        TestDatabase::create(Backend::Sqlite).await,
        &subscription(
            &receiver.url,
            "event_types = [\"Escalated\"]\nbranches = [\"BJ-001\"]",
        ),
    )
    .await;
    let shanghai = booked(&app, "HOOK-SH", "SH-001").await;
    let beijing = booked(&app, "HOOK-BJ", "BJ-001").await;
    escalate(&app, &shanghai).await;
    escalate(&app, &beijing).await;
    let received = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received = if receiver.received().len() > received.len() {
        receiver.received()
    } else {
        received
    };
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].document["subject"], beijing.as_str());
    assert_eq!(received[0].document["type"], "bank.suspense.item.escalated");
    // The checkpoint passes the events the filter leaves out.
    let now = status_when(&app, |s| s["position"] == 4).await;
    assert_eq!(now["position"], 4, "{now}");
    assert_eq!(now["delivered"], 1);
}

#[tokio::test]
async fn webhook_target_failing_is_retried_parks_and_resumes_or_replays() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_app_configured(
        TestDatabase::create(Backend::Sqlite).await,
        &subscription(&receiver.url, "max_attempts = 3"),
    )
    .await;
    // Away for two attempts: tried again, nothing lost, order kept.
    receiver.fail_next(2);
    booked(&app, "HOOK-R1", "SH-001").await;
    booked(&app, "HOOK-R2", "SH-001").await;
    let received = receiver.wait_for(2).await;
    assert_eq!(positions(&received), vec![1, 2]);
    assert_eq!(receiver.refused(), 2);

    // Away for good: three attempts, then the subscription parks and says why.
    receiver.fail_all(true);
    booked(&app, "HOOK-R3", "SH-001").await;
    let parked = status_when(&app, |s| s["parked"] == true).await;
    assert_eq!(parked["parked"], true, "{parked}");
    assert_eq!(parked["failures"], 3);
    assert_eq!(parked["position"], 2);
    assert!(parked["last_error"]
        .as_str()
        .unwrap_or_default()
        .contains("HTTP 500"));
    let ready: Value = reqwest::get(app.url("/readyz"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(ready["subscriptions"][0]["parked"], true, "{ready}");
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains("suspense_delivery_parked{subscription=\"gateway\"} 1"),
        "{metrics}"
    );

    // Only a supervisor resumes; then the waiting event goes out.
    let refused = app
        .post("/v1/subscriptions/gateway/resume", "olivia", json!({}))
        .await;
    assert_eq!(refused.status(), 403);
    receiver.fail_all(false);
    let resumed = app
        .post("/v1/subscriptions/gateway/resume", "sam", json!({}))
        .await;
    assert_eq!(resumed.status(), 200);
    let received = receiver.wait_for(3).await;
    assert_eq!(positions(&received), vec![1, 2, 3]);

    // A replay from a position delivers every later event again, in order.
    let replayed = app
        .post(
            "/v1/subscriptions/gateway/resume",
            "sam",
            json!({"from_position": 1}),
        )
        .await;
    assert_eq!(replayed.status(), 200);
    let received = receiver.wait_for(5).await;
    assert_eq!(positions(&received), vec![1, 2, 3, 2, 3]);
    let unknown = app
        .post("/v1/subscriptions/nobody/resume", "sam", json!({}))
        .await;
    assert_eq!(unknown.status(), 404);
    let bad = app
        .post(
            "/v1/subscriptions/gateway/resume",
            "sam",
            json!({"from_position": -1}),
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn webhook_delivery_loses_nothing_across_a_kill_of_the_service() {
    let receiver = WebhookReceiver::start().await;
    let mut app = spawn_app_configured(
        TestDatabase::create(Backend::Postgres).await,
        &subscription(&receiver.url, ""),
    )
    .await;
    // A slow target (a fifth of a second a request), so that the kill falls while events
    // are being handed over: what arrived before it is only a part of the log.
    receiver.slow(200);
    for n in 0..20 {
        booked(&app, &format!("HOOK-K{n}"), "SH-001").await;
    }
    receiver.wait_for(1).await;
    app.kill9().await;
    receiver.slow(0);
    app.restart().await;
    for n in 20..30 {
        booked(&app, &format!("HOOK-K{n}"), "SH-001").await;
    }
    let mut received = receiver.wait_for(30).await;
    for _ in 0..50 {
        let mut ids: Vec<&str> = received.iter().map(|r| r.event_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        received = receiver.received();
    }
    // Every event arrived; a repeat is only of an event delivered before the kill and not
    // yet checkpointed, and after the first arrival of each event the order is the log's.
    let arrived = positions(&received);
    let mut first_seen = Vec::new();
    for p in &arrived {
        if !first_seen.contains(p) {
            first_seen.push(*p);
        }
    }
    assert_eq!(first_seen, (1..=30).collect::<Vec<u64>>(), "{arrived:?}");
}

/// A supervisor's request for a webhook subscription to `url`.
fn requested(name: &str, url: &str) -> Value {
    json!({
        "name": name,
        "webhook_url": url,
        "webhook_secret": SECRET,
        "start": "beginning",
    })
}

async fn names(app: &TestApp) -> Vec<String> {
    let list = app.get("/v1/subscriptions", "sam").await;
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.unwrap_or_default();
    list.as_array()
        .map(|all| {
            all.iter()
                .filter_map(|s| s["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Subscriptions over HTTP, end to end: a head-office supervisor adds one to a service that
/// has none configured, it delivers, it survives a restart, and it is removed; what is wrong
/// is refused by field and nothing is kept.
#[tokio::test]
async fn webhook_subscriptions_added_and_removed_over_http() {
    let receiver = WebhookReceiver::start().await;
    let mut app = spawn_app_configured(TestDatabase::create(Backend::Sqlite).await, "").await;
    booked(&app, "HOOK-API-1", "SH-001").await;

    let added = app
        .post(
            "/v1/subscriptions",
            "sam",
            requested("gateway", &receiver.url),
        )
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap_or_default();
    assert_eq!(added["origin"], "api");
    assert_eq!(added["created_by"], "sam");
    assert_eq!(added["target"], "webhook");
    assert_eq!(added["webhook_url"], receiver.url.as_str());
    assert!(added.get("webhook_secret").is_none(), "{added}");
    booked(&app, "HOOK-API-2", "BJ-001").await;
    assert_eq!(positions(&receiver.wait_for(2).await), vec![1, 2]);

    // Wrong requests: refused with the field, nothing kept.
    let mut unknown_type = requested("audit", &receiver.url);
    unknown_type["event_types"] = json!(["Exploded"]);
    let mut short_secret = requested("audit", &receiver.url);
    short_secret["webhook_secret"] = json!("short");
    let mut both_targets = requested("audit", &receiver.url);
    both_targets["nats_server"] = json!("127.0.0.1:4222");
    let mut unknown_field = requested("audit", &receiver.url);
    unknown_field["secret"] = json!(SECRET);
    for (user, body, status, field) in [
        (
            "sam",
            requested("audit", "ftp://host/x"),
            422,
            "webhook_url",
        ),
        ("sam", unknown_type, 422, "event_types"),
        ("sam", short_secret, 422, "webhook_secret"),
        ("sam", both_targets, 422, "webhook_url"),
        ("sam", unknown_field, 400, ""),
        ("sam", requested("Audit Trail", &receiver.url), 422, "name"),
        ("sam", requested("gateway", &receiver.url), 409, "name"),
        ("ada", requested("audit", &receiver.url), 403, ""),
        ("olivia", requested("audit", &receiver.url), 403, ""),
        ("shen", requested("audit", &receiver.url), 403, ""),
    ] {
        let refused = app.post("/v1/subscriptions", user, body.clone()).await;
        assert_eq!(refused.status(), status, "{user}: {body}");
        let error: Value = refused.json().await.unwrap_or_default();
        if !field.is_empty() {
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        }
    }
    assert_eq!(names(&app).await, vec!["gateway".to_owned()]);

    // Kept in the database: a restarted service delivers it where it stood.
    app.kill9().await;
    app.restart().await;
    assert_eq!(names(&app).await, vec!["gateway".to_owned()]);
    booked(&app, "HOOK-API-3", "SH-001").await;
    let mut arrived = positions(&receiver.wait_for(3).await);
    // An event handed over just before the kill may come again; each once after that.
    arrived.dedup();
    assert_eq!(arrived, vec![1, 2, 3]);
    status_when(&app, |s| s["position"] == 3).await;

    // Removed: only by a head-office supervisor; then it is gone.
    let remove = |user: &'static str| {
        app.request(reqwest::Method::DELETE, "/v1/subscriptions/gateway", user)
            .send()
    };
    for user in ["olivia", "shen"] {
        let refused = remove(user).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refused.status(), 403, "{user}");
    }
    let removed = remove("sam").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(removed.status(), 200);
    let removed: Value = removed.json().await.unwrap_or_default();
    assert_eq!(removed["position"], 3);
    assert!(names(&app).await.is_empty());
    let again = remove("sam").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status(), 404);
}

/// A configured subscription is the configuration file's: the API neither removes it nor
/// takes its name.
#[tokio::test]
async fn webhook_subscriptions_in_the_configuration_stay_there() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_app_configured(
        TestDatabase::create(Backend::Sqlite).await,
        &subscription(&receiver.url, ""),
    )
    .await;
    let taken = app
        .post(
            "/v1/subscriptions",
            "sam",
            requested("gateway", &receiver.url),
        )
        .await;
    assert_eq!(taken.status(), 409);
    let removed = app
        .request(reqwest::Method::DELETE, "/v1/subscriptions/gateway", "sam")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(removed.status(), 409);
    let error: Value = removed.json().await.unwrap_or_default();
    assert_eq!(error["error"]["code"], "subscription_configured");
    assert_eq!(status(&app).await["origin"], "configuration");
}

/// Added on an instance that does not lead: the leader, another process on the same
/// database, starts delivering it.
#[tokio::test]
async fn webhook_subscription_added_on_any_instance_is_delivered_by_the_leader() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_app_configured(TestDatabase::create(Backend::Postgres).await, "").await;
    let other = app.another_instance().await;
    booked(&app, "HOOK-LEAD-1", "SH-001").await;
    for instance in [other.url("/v1/subscriptions"), app.url("/v1/subscriptions")] {
        let name = if instance.contains(&other.address) {
            "from-other"
        } else {
            "from-first"
        };
        let added = reqwest::Client::new()
            .post(&instance)
            .bearer_auth(token("sam"))
            .json(&requested(name, &receiver.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(added.status(), 201, "{name}");
    }
    booked(&app, "HOOK-LEAD-2", "SH-001").await;
    // Both subscriptions deliver both events: four requests, each event to each once.
    let received = receiver.wait_for(4).await;
    let mut seen = positions(&received);
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 1, 2, 2], "{received:?}");
}

#[tokio::test]
async fn webhook_subscriptions_that_are_wrong_keep_the_service_from_starting() {
    for (extra, field) in [
        (
            "[[subscriptions]]\nname = \"g\"\nwebhook_url = \"ftp://host/x\"\nwebhook_secret = \"a-webhook-secret-of-32-bytes-or-more\"",
            "subscriptions[0].webhook_url",
        ),
        (
            "[[subscriptions]]\nname = \"g\"\nwebhook_url = \"http://127.0.0.1:9/\"\nwebhook_secret = \"a-webhook-secret-of-32-bytes-or-more\"\nevent_types = [\"Exploded\"]",
            "subscriptions[0].event_types",
        ),
        (
            "[[subscriptions]]\nname = \"g\"\nwebhook_url = \"http://127.0.0.1:9/\"\nwebhook_secret = \"short\"",
            "subscriptions[0].webhook_secret",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = dir.path().join("suspense.toml");
        std::fs::write(&config, extra).unwrap_or_else(|e| panic!("{e}"));
        let output = std::process::Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("s.db").display()))
            .env("SUSPENSE_CONFIG", &config)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!output.status.success(), "{field}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(field), "{field}: {stderr}");
    }
}

fn jetstream_subscription(nats: &PrivateNats) -> String {
    format!(
        "[[subscriptions]]\nname = \"warehouse\"\nnats_server = \"{}\"\njetstream_subject = \"{SUBJECT}\"\nstart = \"beginning\"\nmax_attempts = 100\n",
        nats.url()
    )
}

/// The stream's messages are the log's item events, each once, in log order.
fn assert_exactly_the_log(stored: &[Stored], events: u64) {
    let positions: Vec<u64> = stored
        .iter()
        .map(|m| m.document["data"]["position"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        positions,
        (1..=events).collect::<Vec<u64>>(),
        "{positions:?}"
    );
    for m in stored {
        assert_eq!(m.message_id, m.document["id"].as_str().unwrap_or_default());
    }
}

#[tokio::test]
async fn jetstream_stream_holds_each_event_once_in_log_order() {
    let nats = PrivateNats::start().await;
    let app = spawn_app_configured(
        TestDatabase::create(Backend::Sqlite).await,
        &jetstream_subscription(&nats),
    )
    .await;
    let first = booked(&app, "JS-1", "SH-001").await;
    booked(&app, "JS-2", "BJ-001").await;
    escalate(&app, &first).await;
    let stored = nats.wait_for(3).await;
    assert_exactly_the_log(&stored, 3);
    assert_eq!(stored[2].document["type"], "bank.suspense.item.escalated");
    // A replay publishes again; the stream's duplicate window keeps one of each.
    let replayed = app
        .post(
            "/v1/subscriptions/warehouse/resume",
            "sam",
            json!({"from_position": 0}),
        )
        .await;
    assert_eq!(replayed.status(), 200);
    status_when(&app, |s| s["delivered"].as_u64() >= Some(6)).await;
    assert_exactly_the_log(&nats.stored().await, 3);
}

#[tokio::test]
async fn jetstream_survives_the_server_stopping_and_the_service_being_killed() {
    let mut nats = PrivateNats::start().await;
    let mut app = spawn_app_configured(
        TestDatabase::create(Backend::Postgres).await,
        &jetstream_subscription(&nats),
    )
    .await;
    for n in 0..10 {
        booked(&app, &format!("JS-A{n}"), "SH-001").await;
    }
    nats.wait_for(10).await;
    // The NATS server away: commands go on, the events wait in the log.
    nats.stop().await;
    for n in 10..20 {
        booked(&app, &format!("JS-B{n}"), "SH-001").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = status_when(&app, |s| s["position"] == 10).await;
    assert_eq!(waiting["position"], 10, "{waiting}");
    nats.run().await;
    nats.wait_for(20).await;
    // Killed while publishing, started again: the stream still holds each event once.
    for n in 20..60 {
        booked(&app, &format!("JS-C{n}"), "SH-001").await;
    }
    app.kill9().await;
    app.restart().await;
    for n in 60..70 {
        booked(&app, &format!("JS-D{n}"), "SH-001").await;
    }
    let stored = nats.wait_for(70).await;
    assert_exactly_the_log(&stored, 70);
}
