//! Bad input gets the exact status and error code, names the field, and writes nothing.

use reqwest::Method;
use serde_json::{json, Value};
use suspense_tests::app::{booking, spawn_app};
use suspense_tests::Backend;

fn with(field: &str, value: Value) -> Value {
    let mut body = booking("BAD-1", "10.00");
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = booking("BAD-1", "10.00");
    if let Some(map) = body.as_object_mut() {
        map.remove(field);
    }
    body
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    user: &'static str,
    body: Option<String>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(
    name: &'static str,
    path: &str,
    body: &str,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        name,
        method: Method::POST,
        path: path.to_owned(),
        user: "max",
        body: Some(body.to_owned()),
        status,
        code,
        field,
    }
}

/// A plan document a supervisor sends that is not well formed JSON of a plan.
fn malformed_plan(name: &'static str, document: Value) -> Case {
    Case {
        user: "sam",
        ..case(
            name,
            "/v1/plans",
            &document.to_string(),
            400,
            "malformed_request",
            None,
        )
    }
}

#[tokio::test]
async fn every_bad_request_is_refused_precisely_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let open = app.open_item("OPEN-1", "100.00").await;
    let resolved = app.open_item("DONE-1", "100.00").await;
    for (path, body) in [
        (
            format!("/v1/items/{resolved}/classify"),
            json!({"category": "system_failure", "code": "SYS-OUTAGE"}),
        ),
        (
            format!("/v1/items/{resolved}/resolve"),
            json!({"method": "refunded", "amount": "100.00", "currency": "CNY"}),
        ),
    ] {
        assert_eq!(app.post(&path, "max", body).await.status(), 200);
    }
    let item = |suffix: &str| format!("/v1/items/{open}/{suffix}");
    let done = |suffix: &str| format!("/v1/items/{resolved}/{suffix}");
    let ghost = "/v1/items/6f1c2a8e-57b3-4d0e-9a41-c3e28d5f0b17";
    let huge = format!("{{\"text\": \"{}\"}}", "x".repeat(70 * 1024));
    let cases = vec![
        case(
            "malformed JSON",
            "/v1/items",
            "{\"reference\": ",
            400,
            "malformed_request",
            None,
        ),
        case(
            "empty body",
            "/v1/items",
            "",
            400,
            "malformed_request",
            None,
        ),
        case(
            "wrong type",
            "/v1/items",
            &with("amount", json!(10.5)).to_string(),
            400,
            "malformed_request",
            None,
        ),
        case(
            "missing field",
            "/v1/items",
            &without("reference").to_string(),
            400,
            "malformed_request",
            Some("reference"),
        ),
        case(
            "unknown field",
            "/v1/items",
            &with("colour", json!("red")).to_string(),
            400,
            "malformed_request",
            Some("colour"),
        ),
        case(
            "zero amount",
            "/v1/items",
            &with("amount", json!("0")).to_string(),
            422,
            "amount_not_positive",
            Some("amount"),
        ),
        case(
            "negative amount",
            "/v1/items",
            &with("amount", json!("-5.00")).to_string(),
            422,
            "invalid_field",
            Some("amount"),
        ),
        case(
            "not a plain decimal",
            "/v1/items",
            &with("amount", json!("1_000.00")).to_string(),
            422,
            "invalid_field",
            Some("amount"),
        ),
        case(
            "an array for an object",
            "/v1/items",
            "[]",
            400,
            "malformed_request",
            None,
        ),
        case(
            "an array for a nested object",
            "/v1/items",
            &with("fee", json!(["1.00", "CNY"])).to_string(),
            400,
            "malformed_request",
            None,
        ),
        malformed_plan(
            "an array for a plan's baseline",
            json!({"reference": "bad-plan", "name": "plan", "owner": "head-of-ops",
                   "baseline": ["2026-01", "2026-03"]}),
        ),
        malformed_plan(
            "an array for one of a plan's phases",
            json!({"reference": "bad-plan", "name": "plan", "owner": "head-of-ops",
                   "baseline": {"from": "2026-01", "to": "2026-03"},
                   "phases": [["months 1-3", "2026-04", "2026-06"]]}),
        ),
        case(
            "too precise for its currency",
            "/v1/items",
            &with("amount", json!("10.001")).to_string(),
            422,
            "invalid_in_context",
            Some("amount"),
        ),
        case(
            "not a number",
            "/v1/items",
            &with("amount", json!("ten")).to_string(),
            422,
            "invalid_field",
            Some("amount"),
        ),
        case(
            "unknown currency",
            "/v1/items",
            &with("currency", json!("XYZ")).to_string(),
            422,
            "invalid_field",
            Some("currency"),
        ),
        case(
            "unknown channel",
            "/v1/items",
            &with("channel", json!("fax")).to_string(),
            422,
            "invalid_field",
            Some("channel"),
        ),
        case(
            "bad date",
            "/v1/items",
            &with("booked_on", json!("31/03/2026")).to_string(),
            422,
            "invalid_field",
            Some("booked_on"),
        ),
        case(
            "a booking dated far in the future",
            "/v1/items",
            &with("booked_on", json!("9999-12-31")).to_string(),
            422,
            "implausible_date",
            Some("booked_on"),
        ),
        case(
            "a value date before the accepted window",
            "/v1/items",
            &with("value_date", json!("0001-01-01")).to_string(),
            422,
            "implausible_date",
            Some("value_date"),
        ),
        case(
            "empty reference",
            "/v1/items",
            &with("reference", json!("  ")).to_string(),
            422,
            "invalid_field",
            Some("reference"),
        ),
        case(
            "oversize body",
            &item("comments"),
            &huge,
            413,
            "payload_too_large",
            None,
        ),
        case(
            "unknown item",
            &format!("{ghost}/comments"),
            "{\"text\": \"hi\"}",
            404,
            "item_not_found",
            None,
        ),
        case(
            "not a uuid",
            "/v1/items/nope/comments",
            "{\"text\": \"hi\"}",
            404,
            "not_found",
            None,
        ),
        case(
            "unknown code",
            &item("classify"),
            "{\"category\": \"system_failure\", \"code\": \"SYS-NOPE\"}",
            422,
            "unknown_root_cause_code",
            Some("code"),
        ),
        case(
            "code of another category",
            &item("classify"),
            "{\"category\": \"customer_cause\", \"code\": \"SYS-OUTAGE\"}",
            422,
            "root_cause_category_mismatch",
            Some("code"),
        ),
        case(
            "resolve unclassified",
            &item("resolve"),
            "{\"method\": \"refunded\", \"amount\": \"100.00\", \"currency\": \"CNY\"}",
            422,
            "item_not_classified",
            None,
        ),
        case(
            "clear too much",
            &item("clearings"),
            "{\"clearing_reference\": \"C1\", \"amount\": \"100.01\", \"currency\": \"CNY\"}",
            422,
            "clearing_exceeds_outstanding",
            Some("amount"),
        ),
        case(
            "clear other currency",
            &item("clearings"),
            "{\"clearing_reference\": \"C1\", \"amount\": \"1.00\", \"currency\": \"USD\"}",
            422,
            "currency_mismatch",
            Some("amount"),
        ),
        case(
            "reopen open item",
            &item("reopen"),
            "{\"reason\": \"why\"}",
            422,
            "item_not_resolved",
            None,
        ),
        case(
            "approve nothing",
            &item("resolution/approve"),
            "{}",
            422,
            "no_pending_proposal",
            None,
        ),
        case(
            "classify resolved",
            &done("classify"),
            "{\"category\": \"process_gap\", \"code\": \"PRC-WORKFLOW\", \"reason\": \"x\"}",
            422,
            "item_resolved",
            None,
        ),
        case(
            "clear resolved",
            &done("clearings"),
            "{\"clearing_reference\": \"C9\", \"amount\": \"1.00\", \"currency\": \"CNY\"}",
            422,
            "item_resolved",
            None,
        ),
        case(
            "escalate resolved",
            &done("escalate"),
            "{\"level\": \"management\", \"reason\": \"manual\"}",
            422,
            "item_resolved",
            None,
        ),
        case(
            "unknown level",
            &item("escalate"),
            "{\"level\": \"ceo\", \"reason\": \"manual\"}",
            422,
            "invalid_field",
            Some("level"),
        ),
        case(
            "unknown endpoint",
            "/v1/nothing",
            "{}",
            404,
            "not_found",
            None,
        ),
    ];
    let before = app.log_head().await;
    let client = reqwest::Client::new();
    for c in cases {
        let mut request = client
            .request(c.method.clone(), app.url(&c.path))
            .bearer_auth(suspense_tests::app::token(c.user));
        if let Some(body) = &c.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, c.status, "{}: {value}", c.name);
        assert_eq!(value["error"]["code"], c.code, "{}: {value}", c.name);
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}: {value}",
            c.name
        );
        if let Some(field) = c.field {
            assert_eq!(value["error"]["field"], field, "{}: {value}", c.name);
        }
    }
    assert_eq!(
        app.log_head().await,
        before,
        "no bad request wrote to the log"
    );
}

/// Query strings are parsed into domain values like bodies: a bad one is a 422 naming its
/// parameter (or a 400 when it is not a query string at all), never a dropped connection.
#[tokio::test]
async fn every_bad_query_string_is_refused_precisely() {
    let app = spawn_app(Backend::Sqlite).await;
    app.open_item("QUERY-1", "100.00").await;
    let cases: [(&str, &str, u16, Option<&str>); 10] = [
        // Days back past the calendar's first date (about 264,000 years back from any date
        // this service will see): an overflow before, now refused.
        (
            "/v1/items?min_age_days=100000000",
            "olivia",
            422,
            Some("min_age_days"),
        ),
        (
            "/v1/items?min_age_days=18446744073709551616",
            "olivia",
            422,
            Some("min_age_days"),
        ),
        (
            "/v1/items?min_age_days=-3",
            "olivia",
            422,
            Some("min_age_days"),
        ),
        ("/v1/items?status=closed", "olivia", 422, Some("status")),
        (
            "/v1/items?category=weather",
            "olivia",
            422,
            Some("category"),
        ),
        ("/v1/items?after=nothing", "olivia", 422, Some("after")),
        ("/v1/items?limit=10&limit=20", "olivia", 400, None),
        (
            "/v1/reports/open-balance?fresh=maybe",
            "rita",
            422,
            Some("fresh"),
        ),
        (
            "/v1/reports/aging?as_of=2026-02-30",
            "rita",
            422,
            Some("as_of"),
        ),
        (
            "/v1/audit/export?from_position=-1",
            "ada",
            422,
            Some("from_position"),
        ),
    ];
    for (path, user, status, field) in cases {
        let response = app.get(path, user).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}: {value}"
        );
        if let Some(field) = field {
            assert_eq!(value["error"]["field"], field, "{path}: {value}");
        }
    }
    // The service still answers afterwards.
    let listed = app.get("/v1/items?min_age_days=0", "olivia").await;
    assert_eq!(listed.status().as_u16(), 200);
}

/// A code, a number, a date or an id is the value the API document spells, without blanks
/// around it: the document's enums and patterns have none, so a client generated from it never
/// sends one, and a value that slipped past its own client's checks is refused, not guessed at.
/// (Free texts may carry blanks around them; they are kept trimmed.)
#[tokio::test]
async fn values_with_blanks_around_them_are_refused_and_nothing_is_written() {
    let app = spawn_app(Backend::Sqlite).await;
    let open = app.open_item("BLANK-1", "100.00").await;
    let before = app.log_head().await;
    let bodies: Vec<(String, Value, &str)> = vec![
        (
            "/v1/items".into(),
            with("channel", json!(" atm")),
            "channel",
        ),
        (
            "/v1/items".into(),
            with("amount", json!("10.00 ")),
            "amount",
        ),
        (
            "/v1/items".into(),
            with("currency", json!(" CNY")),
            "currency",
        ),
        (
            "/v1/items".into(),
            with("direction", json!("credit\n")),
            "direction",
        ),
        (
            "/v1/items".into(),
            with("booked_on", json!(" 2026-03-02")),
            "booked_on",
        ),
        (
            "/v1/items".into(),
            with("customer", json!(" C-8F3A-0042")),
            "customer",
        ),
        (
            format!("/v1/items/{open}/classify"),
            json!({"category": " system_failure", "code": "SYS-OUTAGE"}),
            "category",
        ),
        (
            format!("/v1/items/{open}/escalate"),
            json!({"level": "department ", "reason": "aging"}),
            "level",
        ),
        (
            "/v1/volumes".into(),
            json!({"branch": "SH-001", "month": " 2026-03", "transactions": 10}),
            "month",
        ),
    ];
    for (path, body, field) in bodies {
        let user = if path == "/v1/volumes" { "rita" } else { "max" };
        let response = app.post(&path, user, body.clone()).await;
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 422, "{body}: {value}");
        assert_eq!(value["error"]["field"], field, "{body}: {value}");
    }
    for (path, user, field) in [
        ("/v1/items?status=%20open", "olivia", "status"),
        ("/v1/items?limit=%2010", "olivia", "limit"),
        ("/v1/items?min_age_days=30%20", "olivia", "min_age_days"),
        ("/v1/reports/open-balance?fresh=%20true", "rita", "fresh"),
        ("/v1/reports/aging?as_of=2026-03-31%20", "rita", "as_of"),
        (
            "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&by=category,%20code",
            "rita",
            "by",
        ),
        (
            "/v1/reports/root-causes?period=%20month&from=2026-03-01&to=2026-03-31",
            "rita",
            "period",
        ),
    ] {
        let response = app.get(path, user).await;
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 422, "{path}: {value}");
        assert_eq!(value["error"]["field"], field, "{path}: {value}");
    }
    assert_eq!(app.log_head().await, before, "nothing refused was written");
    // A free text keeps working with blanks around it, stored without them.
    let mut booking = booking(" BLANK-2 ", "10.00");
    booking["description"] = json!("  held for review  ");
    let opened = app.post("/v1/items", "max", booking).await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap_or_default();
    let opening = &opened["detail"]["opened"];
    assert_eq!(opening["reference"]["reference"], "BLANK-2", "{opened}");
    assert_eq!(opening["description"], "held for review", "{opened}");
}
