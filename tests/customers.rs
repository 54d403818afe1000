//! The customer side over HTTP: the customer harmed, fees and refunds, complaints, reminders
//! that a sweep makes due and the delivery hands to the messaging gateway (a webhook here),
//! the gateway's reports, and the customer statistics. Bad input is refused with the field
//! and the reason, and writes nothing.

use serde_json::{json, Value};
use suspense_testkit::{Backend, TestDatabase};
use suspense_tests::app::{booking, spawn_app_configured, TestApp};
use suspense_tests::webhook::WebhookReceiver;

async fn refused_on(app: &TestApp, path: &str, user: &str, body: Value, field: &str) {
    let head = app.log_head().await;
    let refused = app.post(path, user, body.clone()).await;
    assert_eq!(refused.status(), 422, "{path} {body}");
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["field"], field, "{refused}");
    assert_eq!(app.log_head().await, head, "a refusal writes nothing");
}

async fn ok(app: &TestApp, path: &str, user: &str, body: Value) -> Value {
    let reply = app.post(path, user, body.clone()).await;
    let status = reply.status();
    let reply: Value = reply.json().await.unwrap_or_default();
    assert_eq!(status, 200, "{path} {body}: {reply}");
    reply
}

#[tokio::test]
async fn customer_side_over_http_with_reminders_handed_to_the_gateway() {
    let gateway = WebhookReceiver::start().await;
    let subscription = format!(
        "[[subscriptions]]\nname = \"messaging-gateway\"\nwebhook_url = \"{}\"\nwebhook_secret = \"a-webhook-secret-of-32-bytes-or-more\"\nevent_types = [\"ReminderDue\"]\n",
        gateway.url
    );
    let app =
        spawn_app_configured(TestDatabase::create(Backend::Sqlite).await, &subscription).await;

    // A booking that names a phone number as the customer is refused.
    let mut phone = booking("CUST-0", "100.00");
    phone["customer"] = json!("13800138000");
    refused_on(&app, "/v1/items", "olivia", phone, "customer").await;

    let mut body = booking("CUST-1", "100.00");
    body["customer"] = json!("C-8F3A-0042");
    let opened = app.post("/v1/items", "olivia", body).await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap_or_default();
    let id = opened["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(opened["detail"]["customer"]["customer"], "C-8F3A-0042");
    let item = |path: &str| format!("/v1/items/{id}{path}");
    ok(
        &app,
        &item("/classify"),
        "olivia",
        json!({"category": "customer_cause", "code": "CUS-REFERENCE"}),
    )
    .await;

    // Fees and refunds: never more than the fee, and only by operators.
    let fee = json!({"fee_reference": "LATE-1", "amount": "25.00", "currency": "CNY"});
    assert_eq!(
        app.post(&item("/fees"), "rita", fee.clone()).await.status(),
        403
    );
    ok(&app, &item("/fees"), "olivia", fee.clone()).await;
    ok(&app, &item("/fees"), "olivia", fee).await;
    let refund = json!({"fee_reference": "LATE-1", "amount": "10.00", "currency": "CNY"});
    ok(&app, &item("/fees/refunds"), "olivia", refund).await;
    refused_on(
        &app,
        &item("/fees/refunds"),
        "olivia",
        json!({"fee_reference": "LATE-1", "amount": "15.01", "currency": "CNY"}),
        "amount",
    )
    .await;
    refused_on(
        &app,
        &item("/fees/refunds"),
        "olivia",
        json!({"fee_reference": "LATE-9", "amount": "1.00", "currency": "CNY"}),
        "fee_reference",
    )
    .await;

    // A complaint, closed: never before it was received.
    ok(
        &app,
        &item("/complaints"),
        "olivia",
        json!({"complaint": "CMP-7", "received_at": "2026-03-03T09:00:00+08:00", "channel": "phone"}),
    )
    .await;
    refused_on(
        &app,
        &item("/complaints"),
        "olivia",
        json!({"complaint": "CMP-8", "received_at": "yesterday", "channel": "phone"}),
        "received_at",
    )
    .await;
    refused_on(
        &app,
        &item("/complaints/close"),
        "olivia",
        json!({"complaint": "CMP-7", "closed_at": "2026-03-03T08:00:00+08:00"}),
        "closed_at",
    )
    .await;
    ok(
        &app,
        &item("/complaints/close"),
        "sam",
        json!({"complaint": "CMP-7", "closed_at": "2026-03-04T10:00:00+08:00", "note": "refunded the fee"}),
    )
    .await;
    refused_on(
        &app,
        &item("/customer"),
        "olivia",
        json!({"customer": "li.lei@example.com", "funds_held": true}),
        "customer",
    )
    .await;

    // The policy's reminder rules, checked; then sweeps make the reminders due.
    let mut policy = json!({
        "effective_from": "2026-01-01",
        "reason": "customers reminded on days 3 and 10",
        "rules": [{"age_days": 365, "raise_to": "management"}],
        "reminders": [{"category": "customer_cause", "days_after_booking": [10, 3]}]
    });
    refused_on(&app, "/v1/policy", "sam", policy.clone(), "reminders[0]").await;
    policy["reminders"][0]["days_after_booking"] = json!([3, 10]);
    assert_eq!(app.post("/v1/policy", "sam", policy).await.status(), 201);
    let swept = ok(&app, "/v1/sweep", "sam", json!({"as_of": "2026-03-04"})).await;
    assert_eq!(swept["reminded"], json!([]), "not due before day 3");
    let swept = ok(&app, "/v1/sweep", "sam", json!({"as_of": "2026-03-06"})).await;
    assert_eq!(swept["reminded"][0]["item_id"], id.as_str());
    assert_eq!(swept["reminded"][0]["day"], 3);
    let again = ok(&app, "/v1/sweep", "sam", json!({"as_of": "2026-03-06"})).await;
    assert_eq!(again["reminded"], json!([]), "a sweep again writes nothing");

    // The gateway receives the reminder as a CloudEvent and reports back.
    let handed = gateway.wait_for(1).await;
    assert_eq!(
        handed[0].document["type"],
        "bank.suspense.item.reminder_due"
    );
    assert_eq!(handed[0].document["subject"], id.as_str());
    refused_on(
        &app,
        &item("/reminders/outcome"),
        "olivia",
        json!({"day": 3, "outcome": "sent"}),
        "channel",
    )
    .await;
    refused_on(
        &app,
        &item("/reminders/outcome"),
        "olivia",
        json!({"day": 10, "outcome": "sent", "channel": "sms"}),
        "day",
    )
    .await;
    ok(
        &app,
        &item("/reminders/outcome"),
        "olivia",
        json!({"day": 3, "outcome": "failed", "reason": "number unreachable"}),
    )
    .await;
    let shown = ok(
        &app,
        &item("/reminders/outcome"),
        "olivia",
        json!({"day": 3, "outcome": "sent", "channel": "sms"}),
    )
    .await;
    let customer = &shown["detail"]["customer"];
    assert_eq!(customer["reminders"]["3"]["status"], "sent");
    assert_eq!(customer["fees"]["LATE-1"]["refunded"]["amount"], "10.00");
    assert_eq!(customer["complaints"]["CMP-7"]["channel"], "phone");

    let swept = ok(&app, "/v1/sweep", "sam", json!({"as_of": "2026-03-13"})).await;
    assert_eq!(swept["reminded"][0]["day"], 10);
    assert_eq!(gateway.wait_for(2).await.len(), 2);

    // The customer statistics, JSON and CSV, for the reporter.
    let report: Value = app
        .get(
            "/v1/reports/customers?period=year&from=2026-01-01&to=2026-12-31&fresh=true",
            "rita",
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    let row = &report["periods"][0]["rows"][0];
    assert_eq!(row["category"], "customer_cause", "{report}");
    assert_eq!(row["items_with_customer_impact"], 1);
    assert_eq!(row["fees_incurred"], "25.00");
    assert_eq!(row["fees_refunded"], "10.00");
    assert_eq!(row["complaints_received"], 1);
    assert_eq!(row["complaints_closed"], 1);
    assert_eq!(row["reminders_due"], 2);
    assert_eq!(row["reminders_sent"], 1);
    assert_eq!(row["reminders_failed"], 1);
    let csv = app
        .get(
            "/v1/reports/customers?period=year&from=2026-01-01&to=2026-12-31&format=csv",
            "rita",
        )
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(csv.starts_with("period,category,code,branch,currency,items_with_customer_impact"));
    assert!(
        csv.contains("2026,customer_cause,CUS-REFERENCE,SH-001,CNY,1,25.00,10.00,1,1,2,1,1"),
        "{csv}"
    );
    assert_eq!(
        app.get(
            "/v1/reports/customers?period=year&from=2026-01-01&to=2026-12-31",
            "olivia"
        )
        .await
        .status(),
        403
    );
}
