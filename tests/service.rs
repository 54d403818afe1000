//! The HTTP service through its front door: the real binary on a random port.

use reqwest::Method;
use serde_json::{json, Value};
use suspense_tests::app::{booking, spawn_app, TestApp};
use suspense_tests::{on_both_backends, Backend};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap_or(Value::Null)
}

async fn expect(response: reqwest::Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let value = body(response).await;
    assert_eq!(actual, status, "{value}");
    if !code.is_empty() {
        assert_eq!(value["error"]["code"], code, "{value}");
    }
    value
}

async fn an_item_is_worked_to_an_approved_write_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.open_item("LIFE-1", "1250.00").await;
    let item = format!("/v1/items/{id}");

    expect(
        app.post(
            &format!("{item}/classify"),
            "olivia",
            json!({"category": "customer_cause", "code": "CUS-REFERENCE"}),
        )
        .await,
        200,
        "",
    )
    .await;
    expect(
        app.post(
            &format!("{item}/assign"),
            "olivia",
            json!({"team": "recon", "assignee": "olivia"}),
        )
        .await,
        200,
        "",
    )
    .await;
    // Reassigning is a supervisor's call.
    expect(
        app.post(
            &format!("{item}/assign"),
            "olivia",
            json!({"team": "recon", "assignee": "oscar"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect(
        app.post(
            &format!("{item}/assign"),
            "sam",
            json!({"team": "recon", "assignee": "oscar"}),
        )
        .await,
        200,
        "",
    )
    .await;
    expect(
        app.post(
            &format!("{item}/escalate"),
            "olivia",
            json!({"level": "department", "reason": "aging"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect(
        app.post(
            &format!("{item}/escalate"),
            "sam",
            json!({"level": "department", "reason": "aging"}),
        )
        .await,
        200,
        "",
    )
    .await;
    let cleared = expect(
        app.post(
            &format!("{item}/clearings"),
            "oscar",
            json!({"clearing_reference": "CLR-1", "amount": "1000.00", "currency": "CNY"}),
        )
        .await,
        200,
        "",
    )
    .await;
    assert_eq!(cleared["outstanding"]["amount"], "250.00");

    // A write-off is proposed by the operator and waits for a supervisor.
    let proposed = expect(
        app.post(
            &format!("{item}/resolve"),
            "oscar",
            json!({"method": "written_off", "amount": "250.00", "currency": "CNY"}),
        )
        .await,
        202,
        "",
    )
    .await;
    assert_eq!(proposed["status"], "pending_approval");
    // The operator cannot approve; a supervisor can.
    expect(
        app.post(&format!("{item}/resolution/approve"), "oscar", json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let resolved = expect(
        app.post(
            &format!("{item}/resolution/approve"),
            "sam",
            json!({"note": "ok"}),
        )
        .await,
        200,
        "",
    )
    .await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["outstanding"]["amount"], "0.00");

    // Both people are on the record, and every event names the authenticated user.
    let events = expect(app.get(&format!("{item}/events"), "ada").await, 200, "").await;
    let events = events.as_array().cloned().unwrap_or_default();
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!(last["event_type"], "Resolved");
    assert_eq!(last["metadata"]["actor"], "sam");
    assert_eq!(
        last["event"]["Resolved"]["approval"]["proposed_by"],
        "oscar"
    );
    assert!(events.iter().all(|e| e["metadata"]["source"] == "http"));
    // Operators do not read the audit history.
    expect(
        app.get(&format!("{item}/events"), "olivia").await,
        403,
        "forbidden",
    )
    .await;

    // Reopen is a supervisor's; comments are anyone's who works items.
    expect(
        app.post(
            &format!("{item}/reopen"),
            "olivia",
            json!({"reason": "bounced"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let reopened = expect(
        app.post(
            &format!("{item}/reopen"),
            "sam",
            json!({"reason": "bounced"}),
        )
        .await,
        200,
        "",
    )
    .await;
    assert_eq!(reopened["outstanding"]["amount"], "250.00");
    expect(
        app.post(
            &format!("{item}/comments"),
            "olivia",
            json!({"text": "called the remitter"}),
        )
        .await,
        200,
        "",
    )
    .await;
}
on_both_backends!(
    an_item_is_worked_to_an_approved_write_off,
    super::an_item_is_worked_to_an_approved_write_off
);

#[tokio::test]
async fn the_proposer_cannot_approve_and_a_rejection_keeps_the_item_open() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("MC-1", "500000.00").await;
    let item = format!("/v1/items/{id}");
    expect(
        app.post(
            &format!("{item}/classify"),
            "max",
            json!({"category": "system_failure", "code": "SYS-OUTAGE"}),
        )
        .await,
        200,
        "",
    )
    .await;
    // Above the configured 100000 CNY threshold: a refund needs approval too.
    expect(
        app.post(
            &format!("{item}/resolve"),
            "max",
            json!({"method": "refunded", "amount": "500000.00", "currency": "CNY"}),
        )
        .await,
        202,
        "",
    )
    .await;
    expect(
        app.post(&format!("{item}/resolution/approve"), "max", json!({}))
            .await,
        422,
        "self_approval",
    )
    .await;
    let rejected = expect(
        app.post(
            &format!("{item}/resolution/reject"),
            "sam",
            json!({"reason": "refund not confirmed"}),
        )
        .await,
        200,
        "",
    )
    .await;
    assert_eq!(rejected["status"], "open");
    expect(
        app.post(&format!("{item}/resolution/approve"), "sam", json!({}))
            .await,
        422,
        "no_pending_proposal",
    )
    .await;
}

async fn opening_is_idempotent_on_the_reference(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .post("/v1/items", "olivia", booking("IDEM-1", "10.00"))
        .await;
    assert_eq!(first.status(), 201);
    let first = body(first).await;
    let again = app
        .post("/v1/items", "oscar", booking("IDEM-1", "10.00"))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(body(again).await["id"], first["id"]);
    expect(
        app.post("/v1/items", "olivia", booking("IDEM-1", "11.00"))
            .await,
        409,
        "reference_conflict",
    )
    .await;
    assert_eq!(app.log_head().await, 1);
}
on_both_backends!(
    opening_is_idempotent_on_the_reference,
    super::opening_is_idempotent_on_the_reference
);

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("KEY-1", "10.00").await;
    let path = format!("/v1/items/{id}/comments");
    let send = |text: &str| {
        app.request(Method::POST, &path, "olivia")
            .header("Idempotency-Key", "retry-42")
            .json(&json!({"text": text}))
            .send()
    };
    let first = send("once").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.status(), 200);
    let first = body(first).await;
    let retry = send("once").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(body(retry).await, first);
    expect(
        send("something else")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(
        app.log_head().await,
        2,
        "one comment, however often it was sent"
    );
}

#[tokio::test]
async fn if_match_guards_against_acting_on_a_stale_version() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("ETAG-1", "10.00").await;
    let shown = app.get(&format!("/v1/items/{id}"), "olivia").await;
    assert_eq!(
        shown.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"1\"")
    );
    let comment = |version: &str| {
        app.request(Method::POST, &format!("/v1/items/{id}/comments"), "olivia")
            .header("If-Match", version)
            .json(&json!({"text": "hello"}))
            .send()
    };
    let ok = comment("\"1\"").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    expect(
        comment("\"1\"").await.unwrap_or_else(|e| panic!("{e}")),
        412,
        "version_mismatch",
    )
    .await;
    expect(
        comment("one").await.unwrap_or_else(|e| panic!("{e}")),
        400,
        "malformed_request",
    )
    .await;
    assert_eq!(app.log_head().await, 2);
}

async fn reports_come_as_json_and_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.open_item("REP-1", "300.00").await;
    expect(
        app.post(
            &format!("/v1/items/{id}/classify"),
            "olivia",
            json!({"category": "external_cause", "code": "EXT-PARTNER"}),
        )
        .await,
        200,
        "",
    )
    .await;
    expect(
        app.post(
            "/v1/volumes",
            "rita",
            json!({"branch": "SH-001", "month": "2026-03", "transactions": 30000}),
        )
        .await,
        200,
        "",
    )
    .await;
    let query = "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&fresh=true";
    let report = expect(app.get(query, "rita").await, 200, "").await;
    let period = &report["periods"][0];
    assert_eq!(period["period"], "2026-03");
    assert_eq!(period["rows"][0]["code"], "EXT-PARTNER");
    assert_eq!(period["rows"][0]["opened"]["amount"], "300.00");
    assert_eq!(period["suspense_rates"][0]["per_10000"], "0.33");
    let csv = app
        .request(Method::GET, query, "rita")
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = csv.text().await.unwrap_or_default();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap_or_default()
        .starts_with("period,category,code,branch,channel,currency,opened_count,opened_amount"));
    assert!(lines
        .next()
        .unwrap_or_default()
        .starts_with("2026-03,external_cause,EXT-PARTNER,SH-001,online_banking,CNY,1,300.00"));
    let same = app
        .get(&format!("{query}&format=csv"), "ada")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert_eq!(same, text);
    let aging = expect(
        app.get("/v1/reports/aging?as_of=2026-03-31&fresh=true", "rita")
            .await,
        200,
        "",
    )
    .await;
    assert_eq!(aging["rows"][0]["bucket"], "0-30");
    let aging_csv = app
        .get("/v1/reports/aging?as_of=2026-03-31&format=csv", "rita")
        .await
        .text()
        .await
        .unwrap_or_default();
    let mut lines = aging_csv.lines();
    assert_eq!(
        lines.next(),
        Some("as_of,basis,branch,category,currency,bucket,count,amount")
    );
    assert_eq!(
        lines.next(),
        Some("2026-03-31,booking_date,SH-001,external_cause,CNY,0-30,1,300.00")
    );
    let balance = expect(
        app.get("/v1/reports/open-balance?fresh=true", "sam").await,
        200,
        "",
    )
    .await;
    assert_eq!(balance[0]["outstanding"], "300.00");
    // Reports are not for operators; item lists are.
    expect(app.get(query, "olivia").await, 403, "forbidden").await;
    let list = expect(
        app.get("/v1/items?status=open&branch=SH-001", "olivia")
            .await,
        200,
        "",
    )
    .await;
    assert_eq!(list["items"][0]["item_id"], id);
    expect(
        app.get("/v1/items?limit=0", "olivia").await,
        422,
        "invalid_field",
    )
    .await;
}
on_both_backends!(
    reports_come_as_json_and_csv,
    super::reports_come_as_json_and_csv
);

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let health = client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health.status(), 200);
    let ready: Value = client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(ready["database"], "ok");
    assert_eq!(
        ready["leader"], true,
        "one instance on SQLite leads: {ready}"
    );
    app.open_item("MET-1", "1.00").await;
    let report = app.get("/v1/reports/open-balance?fresh=true", "rita").await;
    assert_eq!(report.status(), 200);
    let metrics = client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains("suspense_commands_total{command=\"open\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("suspense_projector_lag_events{read_model=\"item_register\"}"),
        "{metrics}"
    );
    // Latency as histograms: per command, and per route (each report is one).
    for series in [
        "suspense_command_seconds_bucket{command=\"open\",le=\"",
        "suspense_command_seconds_count{command=\"open\"} 1",
        "suspense_http_request_seconds_bucket{route=\"/v1/reports/open-balance\",method=\"GET\",status=\"200\",le=\"",
        "suspense_http_request_seconds_count{route=\"/v1/items\",method=\"POST\",status=\"201\"} 1",
        "suspense_db_pool_connections{state=\"idle\"}",
        "suspense_db_pool_max_connections",
        "suspense_leader{instance=\"",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
    assert!(
        !metrics.contains("suspense_http_request_seconds_count{route=\"/v1/items/"),
        "routes are patterns, not paths"
    );
}

#[tokio::test]
async fn tokens_and_roles_are_enforced() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let anonymous = client
        .post(app.url("/v1/items"))
        .json(&booking("AUTH-1", "1"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    expect(anonymous, 401, "unauthenticated").await;
    let wrong = client
        .post(app.url("/v1/items"))
        .bearer_auth("not-a-token")
        .json(&booking("AUTH-1", "1"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    expect(wrong, 401, "unauthenticated").await;
    expect(
        app.post("/v1/items", "rita", booking("AUTH-1", "1")).await,
        403,
        "forbidden",
    )
    .await;
    expect(
        app.post("/v1/items", "ada", booking("AUTH-1", "1")).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.log_head().await, 0);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // The router's own routes, and the item commands' table it adds below `/v1/items/{id}`.
    let router = include_str!("../crates/service/src/app.rs");
    let commands = include_str!("../crates/service/src/routes/commands.rs");
    let plans = include_str!("../crates/service/src/routes/plans.rs");
    let quoted_after = |text: &'static str, marker: &str| -> Vec<&'static str> {
        text.split(marker)
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"'))
            .filter_map(|rest| rest.split('"').next())
            .collect()
    };
    let mut routed: Vec<String> = quoted_after(router, ".route(")
        .into_iter()
        .map(String::from)
        .collect();
    let command_paths = quoted_after(commands, "CommandRoute { path:");
    assert!(!command_paths.is_empty());
    routed.extend(command_paths.iter().map(|p| format!("/v1/items/{{id}}{p}")));
    let plan_paths = quoted_after(plans, "PlanRoute { path:");
    assert!(!plan_paths.is_empty());
    routed.extend(plan_paths.iter().map(|p| format!("/v1/plans/{{id}}{p}")));
    let routed: Vec<&str> = routed.iter().map(String::as_str).collect();
    assert!(!routed.is_empty());
    for route in &routed {
        assert!(
            paths.contains(route),
            "{route} is served but not documented"
        );
    }
    for path in &paths {
        assert!(routed.contains(path), "{path} is documented but not served");
    }
    // Every schema the document refers to is in it.
    let text = doc.to_string();
    let schemas = &doc["components"]["schemas"];
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            schemas.get(name).is_some(),
            "{name} is referred to but not described"
        );
    }
    // The constraints the service enforces are stated: a text's length and characters, a
    // closed set of names, the form of an amount and of `If-Match`.
    assert_eq!(schemas["BranchCode"]["maxLength"], 32);
    assert!(schemas["Text"]["pattern"].is_string());
    assert!(schemas["Currency"]["enum"]
        .as_array()
        .is_some_and(|codes| codes.iter().any(|c| c == "CNY")));
    assert!(schemas["Amount"]["pattern"].is_string());
    let classify = &doc["paths"]["/v1/items/{id}/classify"]["post"];
    assert_eq!(
        classify["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Classify"
    );
    assert!(classify["parameters"].as_array().is_some_and(|ps| ps
        .iter()
        .any(|p| p["name"] == "If-Match" && p["schema"]["pattern"].is_string())));
}

/// SIGTERM while commands are in flight: the service stops cleanly, and every command that was
/// acknowledged with a 2xx is in the log.
#[tokio::test]
async fn a_graceful_shutdown_loses_no_acknowledged_command() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("STOP-1", "1.00").await;
    let client = reqwest::Client::new();
    let (answer, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..40 {
        let request = client
            .post(app.url(&format!("/v1/items/{id}/comments")))
            .bearer_auth(suspense_tests::app::token("olivia"))
            .json(&json!({"text": format!("note {n}")}))
            .send();
        let answer = answer.clone();
        tokio::spawn(async move {
            let success = matches!(request.await, Ok(response) if response.status().is_success());
            let _ = answer.send(success);
        });
    }
    drop(answer);
    // SIGTERM as soon as the first command is answered, the others still in flight. (A fixed
    // pause was sometimes too short on a loaded machine for any command to be answered.)
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), answers.recv()).await;
    let code = app.terminate().await;
    let mut acknowledged = u64::from(matches!(first, Ok(Some(true))));
    while let Some(success) = answers.recv().await {
        acknowledged += u64::from(success);
    }
    assert_eq!(code, Some(0), "the service exits cleanly on SIGTERM");
    assert!(
        acknowledged > 0,
        "some commands were answered before the shutdown"
    );
    // Every acknowledged comment is in the log (plus the opening).
    assert!(
        app.log_head().await > acknowledged,
        "no acknowledged command may be lost"
    );
    assert_eq!(app.log_head().await, acknowledged + 1);
}

/// Every role rule: each user calls each endpoint; those without the role get 403 and nothing
/// else does (what they get otherwise depends on the item's state, and is tested above).
#[tokio::test]
async fn the_role_matrix_holds_for_every_endpoint() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("ROLES-1", "10.00").await;
    let item = |suffix: &str| format!("/v1/items/{id}{suffix}");
    let report = "/v1/reports/root-causes?from=2026-03-01&to=2026-03-31".to_owned();
    let endpoints: Vec<(Method, String, Value, &[&str])> = vec![
        (
            Method::POST,
            "/v1/items".into(),
            booking("ROLES-2", "1.00"),
            &["olivia", "oscar", "max"],
        ),
        (
            Method::GET,
            "/v1/items".into(),
            Value::Null,
            &["olivia", "oscar", "max", "sam", "ada"],
        ),
        (
            Method::GET,
            item(""),
            Value::Null,
            &["olivia", "oscar", "max", "sam", "ada"],
        ),
        (
            Method::GET,
            item("/events"),
            Value::Null,
            &["sam", "max", "ada"],
        ),
        (
            Method::POST,
            item("/classify"),
            json!({"category": "process_gap", "code": "PRC-WORKFLOW"}),
            &["olivia", "oscar", "max", "sam"],
        ),
        (
            Method::POST,
            item("/escalate"),
            json!({"level": "team_lead", "reason": "manual"}),
            &["sam", "max"],
        ),
        (
            Method::POST,
            item("/clearings"),
            json!({"clearing_reference": "R1", "amount": "1.00", "currency": "CNY"}),
            &["olivia", "oscar", "max"],
        ),
        (
            Method::POST,
            item("/resolve"),
            json!({"method": "refunded", "amount": "9.00", "currency": "CNY"}),
            &["olivia", "oscar", "max"],
        ),
        (
            Method::POST,
            item("/resolution/approve"),
            json!({}),
            &["sam", "max"],
        ),
        (
            Method::POST,
            item("/resolution/reject"),
            json!({"reason": "no"}),
            &["sam", "max"],
        ),
        (
            Method::POST,
            item("/reopen"),
            json!({"reason": "no"}),
            &["sam", "max"],
        ),
        (
            Method::POST,
            item("/comments"),
            json!({"text": "hi"}),
            &["olivia", "oscar", "max", "sam"],
        ),
        (
            Method::GET,
            report,
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::GET,
            "/v1/reports/aging".into(),
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::GET,
            "/v1/reports/open-balance".into(),
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::GET,
            "/v1/reports/accountability?from=2026-03-01&to=2026-03-31".into(),
            Value::Null,
            &["sam", "max"],
        ),
        (
            Method::GET,
            "/v1/reports/counterparties?from=2026-03-01&to=2026-03-31".into(),
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::POST,
            "/v1/incidents".into(),
            json!({"reference": "INC-1", "title": "outage", "category": "system_failure",
                   "code": "SYS-OUTAGE", "window_from": "2026-03-01",
                   "window_to": "2026-03-02", "owner": "it-ops"}),
            &["sam", "max"],
        ),
        (
            Method::GET,
            "/v1/incidents".into(),
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::GET,
            "/v1/reports/incident-share?from=2026-03-01&to=2026-03-31".into(),
            Value::Null,
            &["rita", "ada", "sam", "max"],
        ),
        (
            Method::POST,
            "/v1/volumes".into(),
            json!({"branch": "SH-001", "month": "2026-03", "transactions": 1}),
            &["rita", "sam", "max"],
        ),
    ];
    for (method, path, body, allowed) in endpoints {
        for (user, _, _) in suspense_tests::app::USERS {
            let mut request = app.request(method.clone(), &path, user);
            if !body.is_null() {
                request = request.json(&body);
            }
            let status = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .status()
                .as_u16();
            if allowed.contains(user) {
                assert_ne!(status, 403, "{user} may {method} {path}");
            } else {
                assert_eq!(status, 403, "{user} may not {method} {path}");
            }
        }
        // The scope dimension: users holding every role at the item's branch (SH-001) may
        // do everything; at another branch the item reads as absent, a booking to SH-001
        // is refused, and reports answer within their branch.
        for (user, _, _, home) in suspense_tests::app::BRANCH_USERS {
            let mut request = app.request(method.clone(), &path, user);
            if !body.is_null() {
                request = request.json(&body);
            }
            let status = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .status()
                .as_u16();
            if *home == "SH-001" {
                assert!(
                    status != 403 && status != 404,
                    "{user} at the item's branch may {method} {path}: {status}"
                );
            } else if path.contains(&id) {
                assert_eq!(status, 404, "{user} at {home} does not see {path}");
            } else if path == "/v1/items" && method == Method::POST {
                assert_eq!(status, 403, "{user} at {home} may not book to SH-001");
            } else {
                assert_ne!(status, 403, "{user} at {home} may {method} {path}");
            }
        }
    }
}

/// `by=` sums the root-cause report over the dimensions named: ranked with shares, the vital
/// few, subtotals and the year-earlier count, in JSON and CSV; a bad dimension is named.
async fn root_cause_summary_ranks_and_subtotals(backend: Backend) {
    let app = spawn_app(backend).await;
    let classify = |id: String, category: &'static str, code: &'static str| {
        let app = &app;
        async move {
            expect(
                app.post(
                    &format!("/v1/items/{id}/classify"),
                    "olivia",
                    json!({"category": category, "code": code}),
                )
                .await,
                200,
                "",
            )
            .await;
        }
    };
    let mut ids = Vec::new();
    for (i, (category, code)) in [
        ("operational_error", "OP-KEYING"),
        ("operational_error", "OP-KEYING"),
        ("operational_error", "OP-REVIEW"),
        ("external_cause", "EXT-PARTNER"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = app.open_item(&format!("SUM-{i}"), "100.00").await;
        classify(id.clone(), category, code).await;
        ids.push(id);
    }
    let mut last_year = booking("SUM-2025", "7.00");
    last_year["booked_on"] = json!("2025-03-10");
    let old = expect(app.post("/v1/items", "olivia", last_year).await, 201, "").await;
    classify(
        old["id"].as_str().unwrap_or_default().to_owned(),
        "operational_error",
        "OP-KEYING",
    )
    .await;

    let query = "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&fresh=true";
    let summary = expect(
        app.get(&format!("{query}&by=category,code"), "rita").await,
        200,
        "",
    )
    .await;
    assert_eq!(summary["by"], json!(["category", "code"]));
    let period = &summary["periods"][0];
    assert_eq!(period["items_opened"], 4);
    assert_eq!(
        period["vital_few"], 3,
        "50 %, then 75 %: the third row reaches 80 %"
    );
    assert_eq!(period["rows"][0]["key"]["code"], "OP-KEYING");
    assert_eq!(period["rows"][0]["share_percent"], "50.0");
    assert_eq!(period["rows"][0]["year_earlier_opened"], 1);
    assert_eq!(
        period["rows"][0]["amounts"][0]["opened"]["amount"],
        "200.00"
    );
    assert_eq!(
        period["subtotals"][1]["key"]["category"],
        "operational_error"
    );
    assert_eq!(period["subtotals"][1]["opened"], 3);
    assert_eq!(period["total"]["amounts"][0]["opened"]["amount"], "400.00");

    let csv = app
        .get(&format!("{query}&by=category&format=csv"), "rita")
        .await
        .text()
        .await
        .unwrap_or_default();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("period,level,rank,category,currency,opened_count,opened_amount"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("2026-03,row,1,operational_error,CNY,3,300.00"),
        "{csv}"
    );
    assert!(
        lines[3].starts_with("2026-03,total,,,CNY,4,400.00"),
        "{csv}"
    );

    // The team handling the items, the counterparty and the incident behind them: each item
    // counts under its current ones.
    for id in &ids[..2] {
        let assign = json!({"team": "recon"});
        let path = format!("/v1/items/{id}/assign");
        expect(app.post(&path, "olivia", assign).await, 200, "").await;
    }
    let partner =
        json!({"category": "external_cause", "code": "EXT-PARTNER", "counterparty": "ALIPAY"});
    let path = format!("/v1/items/{}/classify", ids[3]);
    expect(app.post(&path, "olivia", partner).await, 200, "").await;
    let incident = json!({
        "reference": "INC-SUM", "title": "review queue stalled",
        "category": "operational_error", "code": "OP-REVIEW",
        "window_from": "2026-03-01", "window_to": "2026-03-31", "owner": "sam"
    });
    expect(app.post("/v1/incidents", "sam", incident).await, 201, "").await;
    let link = json!({"items": [ids[2]], "reason": "stuck in the stalled queue"});
    expect(
        app.post("/v1/incidents/INC-SUM/links", "sam", link).await,
        200,
        "",
    )
    .await;
    for (by, expected) in [
        ("team", json!([["recon", 2], ["unassigned", 2]])),
        ("counterparty", json!([["none", 3], ["ALIPAY", 1]])),
        ("incident", json!([["none", 3], ["INC-SUM", 1]])),
    ] {
        let summary = expect(app.get(&format!("{query}&by={by}"), "rita").await, 200, "").await;
        let rows: Vec<Value> = summary["periods"][0]["rows"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| json!([r["key"][by], r["opened"]]))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(Value::Array(rows), expected, "by {by}: {summary}");
    }

    let refused = expect(
        app.get(&format!("{query}&by=category,teams"), "rita").await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(refused["error"]["field"], "by");
    let output = app.cli(&[
        "report",
        "root-causes",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains(
            "2026-03 (Asia/Shanghai) by category, code: 4 items opened; the first 3 of 3 rows"
        ),
        "{table}"
    );
}
on_both_backends!(
    root_cause_summary_ranks_and_subtotals,
    super::root_cause_summary_ranks_and_subtotals
);
