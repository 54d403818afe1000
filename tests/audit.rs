//! Auditors' toolkit through the binary: export, chain verification (database and file),
//! reports as known at a past time.

use std::io::Write;

use reqwest::Method;
use serde_json::{json, Value};
use suspense_tests::app::{spawn_app, TestApp};
use suspense_tests::{on_both_backends, Backend};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn some_work(app: &TestApp) -> String {
    let id = app.open_item("AUD-1", "500.00").await;
    for (path, user, body) in [
        (
            "classify",
            "olivia",
            json!({"category": "external_cause", "code": "EXT-PARTNER"}),
        ),
        (
            "clearings",
            "olivia",
            json!({"clearing_reference": "C-1", "amount": "200.00", "currency": "CNY"}),
        ),
        (
            "comments",
            "olivia",
            json!({"text": "partner confirmed the rest"}),
        ),
    ] {
        assert_eq!(
            app.post(&format!("/v1/items/{id}/{path}"), user, body)
                .await
                .status(),
            200
        );
    }
    id
}

async fn an_auditor_exports_verifies_and_replays(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = some_work(&app).await;

    // The database's chain verifies.
    let verify = app.cli(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).starts_with("intact: positions 1..=4 match the chain"),
        "{}",
        text(&verify.stdout)
    );

    // The export has one line per event, and matches what the HTTP endpoint streams.
    let export = app.cli(&["audit", "export"]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let lines = text(&export.stdout);
    assert_eq!(lines.lines().count(), 4);
    let first: Value =
        serde_json::from_str(lines.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(first["position"], 1);
    assert_eq!(first["item_id"], id);
    assert_eq!(first["event_type"], "Opened");
    assert_eq!(first["metadata"]["actor"], "olivia");
    assert!(first["link"].as_str().is_some_and(|l| l.len() == 64));
    let streamed = app.get("/v1/audit/export", "ada").await;
    assert_eq!(
        streamed
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-ndjson")
    );
    assert_eq!(streamed.text().await.unwrap_or_default(), lines);
    assert_eq!(app.get("/v1/audit/export", "sam").await.status(), 403);
    let tail = app
        .get("/v1/audit/export?from_position=3", "ada")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert_eq!(tail.lines().count(), 1);

    // The export verifies offline and recomputes the service's report.
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    file.write_all(lines.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let path = file.path().display().to_string();
    let offline = app.cli(&[
        "audit",
        "verify",
        "--file",
        &path,
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    let stdout = text(&offline.stdout);
    let recomputed: Value =
        serde_json::from_str(stdout.lines().nth(1).unwrap_or_default()).unwrap_or_default();
    let served: Value = app
        .get(
            "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&fresh=true",
            "rita",
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(recomputed, served);

    // An edited export is caught at the edited line.
    let edited = lines.replacen("200.00", "20.00", 1);
    let mut bad = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    bad.write_all(edited.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let caught = app.cli(&[
        "audit",
        "verify",
        "--file",
        &bad.path().display().to_string(),
    ]);
    assert_eq!(caught.status.code(), Some(4));
    assert!(
        text(&caught.stderr).contains("at position 3: event altered"),
        "{}",
        text(&caught.stderr)
    );
}
on_both_backends!(
    an_auditor_exports_verifies_and_replays,
    super::an_auditor_exports_verifies_and_replays
);

#[tokio::test]
async fn a_report_is_reproduced_as_known_at_its_issue_time_and_anchored() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = some_work(&app).await;
    let query = "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31";
    let issued = app.get(&format!("{query}&fresh=true"), "rita").await;
    let anchor = issued
        .headers()
        .get("x-suspense-chain-head")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        anchor.as_deref().is_some_and(|a| a.starts_with("4:")),
        "{anchor:?}"
    );
    let issued = issued.text().await.unwrap_or_default();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let issued_at = chrono_now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    // A backdated March booking and a reclassification after the report was issued.
    let mut late = suspense_tests::app::booking("AUD-LATE", "75.00");
    late["booked_on"] = json!("2026-03-20");
    assert_eq!(app.post("/v1/items", "olivia", late).await.status(), 201);
    let reclassify = json!({"category": "operational_error", "code": "OP-KEYING", "reason": "wrong account keyed"});
    assert_eq!(
        app.post(&format!("/v1/items/{id}/classify"), "sam", reclassify)
            .await
            .status(),
        200
    );

    let current = app
        .get(&format!("{query}&fresh=true"), "rita")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert_ne!(current, issued);
    let current: Value = serde_json::from_str(&current).unwrap_or_default();
    assert_eq!(current["periods"][0]["restated_items"], 1);

    let at = format!("{query}&as_known_at={}", issued_at.replace('+', "%2B"));
    let reproduced = app
        .request(Method::GET, &at, "ada")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reproduced.status(), 200);
    assert_eq!(
        reproduced.text().await.unwrap_or_default(),
        issued,
        "byte for byte"
    );
    let cli = app.cli(&[
        "audit",
        "replay",
        "--as-of",
        &issued_at,
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    assert_eq!(text(&cli.stdout).trim_end(), issued);
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
