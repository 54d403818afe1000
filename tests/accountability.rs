//! Accountability and partners: classifying attributes an operational error to the staff
//! member responsible and an external cause to a counterparty from the configured list; the
//! per-staff report is for supervisors only, the per-counterparty one for report readers.

use serde_json::{json, Value};
use suspense_tests::app::{spawn_app, TestApp};
use suspense_tests::{on_both_backends, Backend};

async fn classify(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/v1/items/{id}/classify"), "olivia", body)
        .await
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap_or_default()
}

async fn attribution_reports_rank_staff_and_counterparties(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.open_item(&format!("ACC-{i}"), "100.00").await);
    }
    for (id, who) in [
        (&ids[0], "teller-7"),
        (&ids[1], "teller-7"),
        (&ids[2], "teller-9"),
    ] {
        let response = classify(
            &app,
            id,
            json!({"category": "operational_error", "code": "OP-KEYING", "responsible": who}),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    let item = json_of(classify(
        &app,
        &ids[3],
        json!({"category": "external_cause", "code": "EXT-TPP-SETTLEMENT", "counterparty": "ALIPAY"}),
    )
    .await)
    .await;
    assert_eq!(item["detail"]["cause"]["counterparty"], "ALIPAY", "{item}");

    // Refusals name the field and write nothing.
    let head = app.log_head().await;
    for (body, field, code) in [
        (
            json!({"category": "system_failure", "code": "SYS-OUTAGE", "responsible": "teller-7"}),
            "responsible",
            "attribution_not_admitted",
        ),
        (
            json!({"category": "external_cause", "code": "EXT-PARTNER", "counterparty": "PAYPAL"}),
            "counterparty",
            "unknown_counterparty",
        ),
        (
            json!({"category": "external_cause", "code": "EXT-PARTNER", "counterparty": " "}),
            "counterparty",
            "invalid_field",
        ),
    ] {
        let refused = classify(&app, &ids[4], body).await;
        assert_eq!(refused.status(), 422);
        let refused = json_of(refused).await;
        assert_eq!(refused["error"]["field"], field, "{refused}");
        assert_eq!(refused["error"]["code"], code, "{refused}");
    }
    assert_eq!(app.log_head().await, head, "refusals write nothing");

    let query = "from=2026-03-01&to=2026-03-31&fresh=true";
    assert_eq!(
        app.get(&format!("/v1/reports/accountability?{query}"), "rita")
            .await
            .status(),
        403,
        "reporters do not see the assessment of staff"
    );
    let staff = json_of(
        app.get(&format!("/v1/reports/accountability?{query}"), "sam")
            .await,
    )
    .await;
    assert_eq!(staff["rows"][0]["name"], "teller-7");
    assert_eq!(staff["rows"][0]["items"], 2);
    assert_eq!(staff["rows"][0]["amounts"][0]["amount"], "200.00");
    assert_eq!(staff["rows"][0]["codes"][0]["code"], "OP-KEYING");
    assert_eq!(staff["rows"][1]["name"], "teller-9");
    let partners = app
        .get(
            &format!("/v1/reports/counterparties?{query}&format=csv"),
            "rita",
        )
        .await
        .text()
        .await
        .unwrap_or_default();
    let lines: Vec<&str> = partners.lines().collect();
    assert_eq!(
        lines,
        vec![
            "counterparty,rank,items,open_items,currency,currency_items,amount,outstanding,codes",
            "ALIPAY,1,1,1,CNY,1,100.00,100.00,EXT-TPP-SETTLEMENT:1",
        ]
    );
    let output = app.cli(&[
        "report",
        "accountability",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(table.contains("teller-7"), "{table}");

    // Reclassified away from an operational error, the item leaves the staff member's count.
    let moved = classify(
        &app,
        &ids[2],
        json!({"category": "system_failure", "code": "SYS-OUTAGE", "reason": "core outage"}),
    )
    .await;
    assert_eq!(moved.status(), 200);
    let staff = json_of(
        app.get(&format!("/v1/reports/accountability?{query}"), "sam")
            .await,
    )
    .await;
    assert_eq!(staff["rows"].as_array().map(Vec::len), Some(1), "{staff}");
}
on_both_backends!(
    attribution_reports_rank_staff_and_counterparties,
    super::attribution_reports_rank_staff_and_counterparties
);
