//! Early warning through the service and the CLI: the watch list and the provisioning report
//! answer as JSON and CSV, each entry saying why it is listed, to the roles that read them;
//! bad parameters are named.

use serde_json::{json, Value};
use suspense_testkit::Backend;
use suspense_tests::app::{booking, spawn_app, TestApp};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn book(app: &TestApp, reference: &str, amount: &str, booked: &str, direction: &str) {
    let mut body = booking(reference, amount);
    body["booked_on"] = json!(booked);
    body["direction"] = json!(direction);
    let response = app.post("/v1/items", "olivia", body).await;
    assert_eq!(response.status(), 201, "opening {reference}");
}

async fn json_of(app: &TestApp, path: &str, user: &str) -> Value {
    let response = app.get(path, user).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap_or_default()
}

/// A policy with clocks at 30 and 60 days and provisions for old debit items.
fn policy() -> Value {
    json!({
        "effective_from": "2025-01-01",
        "reason": "regulator's notice",
        "rules": [
            {"age_days": 30, "raise_to": "team_lead"},
            {"age_days": 60, "raise_to": "department"},
            {"direction": "debit", "age_days": 180, "raise_to": "management",
             "action": {"kind": "provision", "percent": "50"}},
            {"direction": "debit", "age_days": 365, "raise_to": "management",
             "action": {"kind": "provision", "percent": "100"}},
            {"direction": "credit", "age_days": 1825, "raise_to": "management",
             "action": {"kind": "move_to_blocked_account"}}
        ]
    })
}

#[tokio::test]
async fn watch_list_and_provisioning_over_http() {
    let app = spawn_app(Backend::Postgres).await;
    book(&app, "SOON", "1000.00", "2026-06-05", "credit").await;
    book(&app, "LATER", "1000.00", "2026-06-20", "credit").await;
    book(&app, "OLD-DEBIT", "100.01", "2025-01-01", "debit").await;
    book(&app, "HALF-DEBIT", "200.00", "2025-12-01", "debit").await;
    assert_eq!(app.post("/v1/policy", "sam", policy()).await.status(), 201);

    let path = "/v1/watchlist?as_of=2026-07-01&horizon_days=7&fresh=true";
    let list = json_of(&app, path, "olivia").await;
    assert_eq!(list["policy_version"], 1);
    let entries = list["currencies"][0]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let references: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["reference"].as_str())
        .collect();
    // OLD-DEBIT and HALF-DEBIT are past every age threshold and were never raised (no
    // sweep ran): due now, ranked by risk; SOON crosses 30 days on 2026-07-05.
    assert!(references.contains(&"SOON"), "{list:#}");
    assert!(!references.contains(&"LATER"), "{list:#}");
    let soon = entries
        .iter()
        .find(|e| e["reference"] == "SOON")
        .cloned()
        .unwrap_or_default();
    assert_eq!(soon["reasons"][0]["kind"], "threshold");
    assert_eq!(soon["reasons"][0]["on"], "2026-07-05");
    assert_eq!(soon["reasons"][0]["in_days"], 4);
    assert!(
        soon["reasons"][0]["why"]
            .as_str()
            .is_some_and(|w| w.contains("raise to team_lead on 2026-07-05 (in 4 days)")),
        "{soon:#}"
    );
    let risks: Vec<f64> = entries
        .iter()
        .filter_map(|e| e["risk"].as_str()?.parse().ok())
        .collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "ranked by risk");

    let csv = app
        .get(&format!("{path}&format=csv"), "sam")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(csv.starts_with("currency,rank,item_id"), "{csv}");
    assert_eq!(csv.lines().count(), entries.len() + 1);

    for (query, field) in [
        ("horizon_days=400", "horizon_days"),
        ("horizon_days=soon", "horizon_days"),
        ("limit=0", "limit"),
        ("as_of=yesterday", "as_of"),
        ("currency=XYZ", "currency"),
        ("format=pdf", "format"),
    ] {
        let refused = app.get(&format!("/v1/watchlist?{query}"), "sam").await;
        assert_eq!(refused.status(), 422, "{query}");
        let body: Value = refused.json().await.unwrap_or_default();
        assert_eq!(body["error"]["field"], field, "{query}");
    }

    let path = "/v1/reports/provisioning?as_of=2026-07-01";
    assert_eq!(app.get(path, "olivia").await.status(), 403);
    let report = json_of(&app, path, "rita").await;
    assert_eq!(report["totals"][0]["currency"], "CNY");
    assert_eq!(report["totals"][0]["items"], 2);
    assert_eq!(report["totals"][0]["outstanding"], "300.01");
    // 100 % of 100.01, 50 % of 200.00.
    assert_eq!(report["totals"][0]["provision"], "200.01");
    let csv = app
        .get(&format!("{path}&format=csv"), "ada")
        .await
        .text()
        .await
        .unwrap_or_default();
    let total = csv
        .lines()
        .find(|l| l.starts_with("total,"))
        .unwrap_or_default();
    assert!(total.contains(",300.01,,200.01,"), "{csv}");
    let earlier = json_of(&app, "/v1/reports/provisioning?as_of=2025-06-01", "ada").await;
    assert_eq!(
        earlier["items"].as_array().map(Vec::len),
        Some(0),
        "{earlier:#}"
    );
}

#[tokio::test]
async fn watch_list_and_provisioning_from_the_cli() {
    let app = spawn_app(Backend::Sqlite).await;
    book(&app, "SOON", "1000.00", "2026-06-05", "credit").await;
    book(&app, "OLD-DEBIT", "100.01", "2025-01-01", "debit").await;
    assert_eq!(app.post("/v1/policy", "sam", policy()).await.status(), 201);

    let watched = app.cli(&["items", "watch", "--as-of", "2026-07-01"]);
    assert!(watched.status.success(), "{watched:?}");
    let table = text(&watched.stdout);
    assert!(
        table.contains("SOON") && table.contains("in 4 days"),
        "{table}"
    );
    let json = app.cli(&[
        "items",
        "watch",
        "--as-of",
        "2026-07-01",
        "--format",
        "json",
    ]);
    let list: Value = serde_json::from_slice(&json.stdout).unwrap_or_default();
    assert_eq!(list["as_of"], "2026-07-01");
    let refused = app.cli(&["items", "watch", "--horizon-days", "999"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("horizon_days"),
        "{refused:?}"
    );

    let report = app.cli(&["report", "provisioning", "--as-of", "2026-07-01"]);
    assert!(report.status.success(), "{report:?}");
    let table = text(&report.stdout);
    assert!(table.contains("OLD-DEBIT"), "{table}");
    assert!(table.contains("provision 100.01"), "{table}");
    let csv = app.cli(&[
        "report",
        "provisioning",
        "--as-of",
        "2026-07-01",
        "--format",
        "csv",
    ]);
    assert!(
        text(&csv.stdout).starts_with("row,currency,items"),
        "{csv:?}"
    );
}
