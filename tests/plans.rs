//! Remediation plans through the public faces: the HTTP API (lifecycle, roles, evaluation as
//! JSON and CSV, bad input that writes nothing), the CLI (`suspense plan …`) and the
//! embedding library (an evaluation recorded, then reproduced as known at its time).

use std::sync::Arc;

use serde_json::{json, Value};
use suspense::domain::plan::{Metric, MetricFilter, Month, PlanAction, PlanId, PlanReference};
use suspense::domain::{
    BranchCode, FixedClock, ItemAction, RecordVolume, RootCauseCategory, RootCauseCode,
};
use suspense::{Actor, Suspense};
use suspense_testkit::{booking, plan_draft, plan_target, Backend, TestDatabase};
use suspense_tests::app::{spawn_app, TestApp};

fn document() -> Value {
    json!({
        "reference": "http-plan",
        "name": "掛賬整改方案",
        "owner": "head-of-ops",
        "baseline": {"from": "2026-01", "to": "2026-03"},
        "phases": [
            {"name": "months 1-3", "from": "2026-04", "to": "2026-06"},
            {"name": "months 4-6", "from": "2026-07", "to": "2026-09"}
        ],
        "targets": [
            {"id": "T1", "metric": "items_opened", "comparison": "at_most", "value": "5"},
            {"id": "T2", "metric": "items_opened", "category": "operational_error",
             "comparison": "at_most", "change_from_baseline": "-30"},
            {"id": "T3", "metric": "open_longer_than", "days": 90, "comparison": "at_most",
             "value": "10", "phase": 2}
        ],
        "measures": [
            {"id": "M1", "title": "teller training", "category": "operational_error",
             "owner_team": "training", "owner": "trainer", "due": "2026-05-31"}
        ]
    })
}

async fn create(app: &TestApp, document: Value) -> (u16, Value) {
    let response = app.post("/v1/plans", "sam", document).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn plan_lifecycle(app: &TestApp) {
    let (status, plan) = create(app, document()).await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(plan["status"], "drafted");
    assert_eq!(plan["targets"].as_array().map(Vec::len), Some(3));
    assert_eq!(plan["phases"][1]["number"], 2);
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    // The same document again writes nothing.
    let (status, again) = create(app, document()).await;
    assert_eq!((status, &again["version"]), (200, &plan["version"]));

    // Its drafter cannot approve it; another supervisor can.
    let own = app
        .post(&format!("/v1/plans/{id}/approve"), "sam", json!({}))
        .await;
    assert_eq!(own.status(), 409);
    let own: Value = own.json().await.unwrap_or_default();
    assert_eq!(own["error"]["code"], "self_approval");
    let approved = app
        .post(
            &format!("/v1/plans/{id}/approve"),
            "max",
            json!({"note": "agreed"}),
        )
        .await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.unwrap_or_default();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], "max");

    let revised = app
        .post(
            &format!("/v1/plans/{id}/targets/T1/revise"),
            "sam",
            json!({"comparison": "at_most", "value": "4", "reason": "first quarter went well"}),
        )
        .await;
    assert_eq!(revised.status(), 200);
    let revised: Value = revised.json().await.unwrap_or_default();
    assert_eq!(revised["targets"][0]["value"], "4");
    assert_eq!(revised["revisions"][0]["reason"], "first quarter went well");

    for (path, body) in [
        ("start", json!({})),
        (
            "complete",
            json!({"completed_on": "2026-05-20", "evidence": "all tellers trained"}),
        ),
    ] {
        let response = app
            .post(&format!("/v1/plans/{id}/measures/M1/{path}"), "sam", body)
            .await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let added = app
        .post(
            &format!("/v1/plans/{id}/measures"),
            "sam",
            json!({"id": "M2", "title": "interface patch", "category": "system_failure",
                   "code": "SYS-INTERFACE", "owner_team": "it", "owner": "it-lead",
                   "due": "2026-08-31"}),
        )
        .await;
    assert_eq!(added.status(), 200);
    let dropped = app
        .post(
            &format!("/v1/plans/{id}/measures/M2/drop"),
            "sam",
            json!({"reason": "vendor fixed it"}),
        )
        .await;
    let dropped: Value = dropped.json().await.unwrap_or_default();
    assert_eq!(dropped["measures"][1]["status"], "dropped");

    // Reporters and auditors read; operators do not; reporters do not write.
    let listed: Value = app
        .get("/v1/plans", "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(listed[0]["reference"], "http-plan");
    assert_eq!(app.get("/v1/plans", "olivia").await.status(), 403);
    assert_eq!(
        app.post("/v1/plans", "rita", document()).await.status(),
        403
    );

    let evaluation = app
        .get(
            &format!("/v1/plans/{id}/evaluation?phase=1&as_of=2026-07-15&fresh=true"),
            "ada",
        )
        .await;
    assert_eq!(evaluation.status(), 200);
    let evaluation: Value = evaluation.json().await.unwrap_or_default();
    assert_eq!(evaluation["progress"], "ended");
    assert_eq!(evaluation["phase"]["from"], "2026-04");
    // T1 and T2 apply to every phase; T3 only to phase 2.
    let targets: Vec<&str> = evaluation["targets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["target"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(targets, ["T1", "T2"]);
    // Items count in the month of their booking date: the one item was booked in the
    // baseline (2026-03-02), one in three months.
    assert_eq!(evaluation["targets"][0]["baseline"], "0.33");
    assert_eq!(evaluation["targets"][0]["actual"], "0.00");
    assert_eq!(evaluation["targets"][0]["target_value"], "4");
    assert_eq!(evaluation["targets"][0]["verdict"], "met");
    assert_eq!(evaluation["measures"][0]["effect"], "too_few_items");

    let csv = app
        .get(
            &format!("/v1/plans/{id}/evaluation?phase=1&as_of=2026-07-15&format=csv"),
            "rita",
        )
        .await
        .text()
        .await
        .unwrap_or_default();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .is_some_and(|h| h.starts_with("plan_id,phase,as_of,progress,target,metric")));
    assert!(lines
        .next()
        .is_some_and(|l| l.contains(",T1,items_opened,")));
    let by_accept = app
        .request(
            reqwest::Method::GET,
            &format!("/v1/plans/{id}/evaluation?phase=1&as_of=2026-07-15"),
            "rita",
        )
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_accept.text().await.unwrap_or_default(), csv);

    let recorded = app
        .post(
            &format!("/v1/plans/{id}/evaluations"),
            "max",
            json!({"phase": 1, "as_of": "2026-07-15"}),
        )
        .await;
    assert_eq!(recorded.status(), 201);
    let history: Value = app
        .get(&format!("/v1/plans/{id}/history"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    let types: Vec<&str> = history
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["event_type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            "PlanDrafted",
            "PlanTargetSet",
            "PlanTargetSet",
            "PlanTargetSet",
            "PlanMeasureAdded",
            "PlanApproved",
            "PlanTargetRevised",
            "PlanMeasureStarted",
            "PlanMeasureCompleted",
            "PlanMeasureAdded",
            "PlanMeasureDropped",
            "PlanPhaseEvaluated"
        ]
    );
    assert_eq!(history[5]["actor"], "max");
    let shown: Value = app
        .get(&format!("/v1/plans/{id}"), "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(shown["evaluations"][0]["phase"], 1);
    assert!(shown["evaluations"][0]["chain_head"].is_string());

    let closed = app
        .post(
            &format!("/v1/plans/{id}/close"),
            "sam",
            json!({"reason": "targets met"}),
        )
        .await;
    assert_eq!(closed.status(), 200);
    let late = app
        .post(
            &format!("/v1/plans/{id}/targets/T1/revise"),
            "sam",
            json!({"comparison": "at_most", "value": "3", "reason": "too late"}),
        )
        .await;
    assert_eq!(late.status(), 409);
}

async fn book_items(app: &TestApp) {
    app.open_item("PL-1", "100.00").await;
}

#[tokio::test]
async fn plan_lifecycle_over_http_on_sqlite() {
    let app = spawn_app(Backend::Sqlite).await;
    book_items(&app).await;
    plan_lifecycle(&app).await;
}

#[tokio::test]
async fn plan_lifecycle_over_http_on_postgres() {
    let app = spawn_app(Backend::Postgres).await;
    book_items(&app).await;
    plan_lifecycle(&app).await;
}

async fn refused(app: &TestApp, path: &str, user: &str, body: Value) -> (u16, Value) {
    let response = app.post(path, user, body).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    (status, body["error"].clone())
}

#[tokio::test]
async fn plan_bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let head = app.log_head().await;
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut document = document();
        edit(&mut document);
        document
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(&|d| d["phases"][1]["from"] = json!("2026-06")),
            422,
            "phases",
        ),
        (
            with(&|d| d["baseline"]["to"] = json!("2026-05")),
            422,
            "baseline",
        ),
        (
            with(&|d| d["targets"][0]["metric"] = json!("happiness")),
            422,
            "targets[0].metric",
        ),
        (
            with(&|d| d["targets"][1]["code"] = json!("NO-SUCH-CODE")),
            422,
            "code",
        ),
        (
            with(&|d| d["targets"][0]["change_from_baseline"] = json!("-10")),
            422,
            "targets[0].value",
        ),
        (with(&|d| d["targets"][2]["phase"] = json!(7)), 422, "phase"),
        (
            with(&|d| d["baseline"]["from"] = json!("2026-13")),
            422,
            "baseline.from",
        ),
        (
            with(&|d| d["measures"][0]["due"] = json!("tomorrow")),
            422,
            "measures[0].due",
        ),
    ];
    for (document, status, field) in cases {
        let (got, error) = refused(&app, "/v1/plans", "sam", document).await;
        assert_eq!(
            (got, error["field"].as_str()),
            (status, Some(field)),
            "{error}"
        );
    }
    let (status, _) = refused(
        &app,
        "/v1/plans",
        "sam",
        with(&|d| d["surprise"] = json!(1)),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(app.log_head().await, head, "nothing was written");

    let (status, plan) = create(&app, document()).await;
    assert_eq!(status, 201);
    let id = plan["id"].as_str().unwrap_or_default();
    let unknown = app
        .get("/v1/plans/00000000-0000-0000-0000-000000000000", "rita")
        .await;
    assert_eq!(unknown.status(), 404);
    for (query, field) in [
        ("as_of=2026-02-30", "as_of"),
        ("phase=0", "phase"),
        ("phase=9", "phase"),
        ("as_known_at=yesterday", "as_known_at"),
        ("format=xml", "format"),
    ] {
        let response = app
            .get(&format!("/v1/plans/{id}/evaluation?{query}"), "rita")
            .await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let (status, error) = refused(
        &app,
        &format!("/v1/plans/{id}/targets/T1/revise"),
        "sam",
        json!({"comparison": "at_most", "value": "4", "reason": ""}),
    )
    .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("reason")));
    let head = app.log_head().await;
    let (status, error) = refused(
        &app,
        &format!("/v1/plans/{id}/measures/M9/start"),
        "sam",
        json!({}),
    )
    .await;
    assert_eq!((status, error["field"].as_str()), (422, Some("id")));
    assert_eq!(app.log_head().await, head, "nothing was written");
}

#[tokio::test]
async fn plan_cli_creates_approves_and_evaluates_from_a_file() {
    let app = spawn_app(Backend::Sqlite).await;
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/examples/plan.toml");
    let created = app.cli(&["plan", "create", "--file", example, "--as", "sam"]);
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("drafted plan "));
    let listed = String::from_utf8_lossy(&app.cli(&["plan", "list"]).stdout).into_owned();
    assert!(listed.contains("2027-suspense-remediation"), "{listed}");
    let own = app.cli(&[
        "plan",
        "approve",
        "2027-suspense-remediation",
        "--as",
        "sam",
    ]);
    assert_eq!(own.status.code(), Some(2), "{own:?}");
    let approved = app.cli(&[
        "plan",
        "approve",
        "2027-suspense-remediation",
        "--as",
        "max",
    ]);
    assert!(approved.status.success(), "{approved:?}");

    let table = app.cli(&[
        "plan",
        "evaluate",
        "2027-suspense-remediation",
        "--phase",
        "1",
        "--as-of",
        "2027-02-10",
    ]);
    assert!(table.status.success(), "{table:?}");
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.starts_with("phase 1 \"months 1-3"), "{table}");
    assert!(table.contains("running, as of 2027-02-10"), "{table}");
    assert!(table.contains("suspense_rate"), "{table}");
    let json = app.cli(&[
        "plan",
        "evaluate",
        "2027-suspense-remediation",
        "--phase",
        "2",
        "--as-of",
        "2027-02-10",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap_or_default();
    assert_eq!(json["progress"], "not_started");
    assert_eq!(json["targets"][0]["verdict"], "not_started");
    let csv = app.cli(&[
        "plan",
        "evaluate",
        "2027-suspense-remediation",
        "--format",
        "csv",
        "--as-of",
        "2027-02-10",
    ]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("plan_id,phase,as_of"));

    let unknown = app.cli(&["plan", "evaluate", "no-such-plan"]);
    assert_eq!(unknown.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(example)
        .unwrap_or_else(|e| panic!("{e}"))
        .replace("metric = \"suspense_rate\"", "metric = \"happiness\"");
    std::fs::write(&bad, text).unwrap_or_else(|e| panic!("{e}"));
    let refused = app.cli(&["plan", "create", "--file", bad.to_str().unwrap_or_default()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("targets[0].metric"));
}

/// A phase evaluation recorded by a manager is reproduced figure for figure from the events
/// recorded by then, though items booked and a volume corrected later change today's figures.
async fn plan_evaluation_recorded_is_reproduced_as_known_at_its_time(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    // After the bookings below (a booking is never dated far ahead of its day).
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 7, 20, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let ledger = Suspense::builder(&db.url())
        .clock(Arc::new(FixedClock(now)))
        .open()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let actor = |name: &str| Actor::new(suspense_testkit::user(name));
    let open = |reference: &str, booked: &str| {
        let mut item = booking(reference, "10.00");
        item.booked_on = suspense_testkit::date(booked);
        item.value_date = item.booked_on;
        item
    };
    let classify = ItemAction::Classify {
        category: RootCauseCategory::OperationalError,
        code: RootCauseCode::parse("OP-KEYING").unwrap_or_else(|e| panic!("{e}")),
        reason: None,
        attribution: Default::default(),
    };
    for (n, booked) in ["2026-02-03", "2026-04-03", "2026-05-03"]
        .iter()
        .enumerate()
    {
        let id = ledger
            .open_item(&actor("teller"), open(&format!("K-{n}"), booked))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .item_id;
        ledger
            .execute(&actor("ops"), id, classify.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let volume = |transactions: u64| {
        RecordVolume::new(
            BranchCode::parse("SH-001").unwrap_or_else(|e| panic!("{e}")),
            Month::parse("month", "2026-03").unwrap_or_else(|e| panic!("{e}")),
            transactions,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    ledger
        .record_volume(&actor("reporter"), volume(10_000))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id =
        PlanId::for_reference(&PlanReference::parse("repro").unwrap_or_else(|e| panic!("{e}")));
    let targets = vec![
        plan_target(
            "OPENED",
            Metric::ItemsOpened,
            MetricFilter::default(),
            rust_decimal::Decimal::ONE,
        ),
        plan_target(
            "RATE",
            Metric::SuspenseRate,
            MetricFilter::default(),
            rust_decimal::Decimal::ONE,
        ),
    ];
    ledger
        .draft_plan(&actor("maker"), plan_draft("repro"), targets)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ledger
        .execute_plan(&actor("checker"), id, PlanAction::Approve { note: None })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let as_of = suspense_testkit::date("2026-07-15");
    let (signed, _) = ledger
        .record_plan_evaluation(&actor("checker"), id, Some(1), as_of)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let history = ledger
        .plan_history(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let recorded_at = history.last().map(|e| e.recorded_at).unwrap_or_default();
    let suspense::domain::PlanEvent::PlanPhaseEvaluated { evaluation, .. } =
        &history.last().unwrap_or_else(|| panic!("recorded")).event
    else {
        panic!("the last event records the evaluation");
    };
    assert_eq!(evaluation.targets, signed.to_record(0, None).targets);
    assert!(evaluation.chain_head.is_some());

    // Later: another item in phase 1 and a corrected volume.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    ledger
        .open_item(&actor("teller"), open("K-late", "2026-06-03"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ledger
        .record_volume(&actor("reporter"), volume(20_000))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let today = ledger
        .evaluate_plan(id, Some(1), as_of)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        today.to_record(0, None).targets,
        evaluation.targets,
        "the figures moved since"
    );
    let reproduced = ledger
        .evaluate_plan_as_known_at(id, Some(1), evaluation.as_of, recorded_at)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reproduced.to_record(0, None).targets, evaluation.targets);
    assert_eq!(
        serde_json::to_string(
            &reproduced.to_record(evaluation.log_position, evaluation.chain_head.clone())
        )
        .unwrap_or_default(),
        serde_json::to_string(evaluation).unwrap_or_default(),
        "byte for byte"
    );
}

suspense_testkit::on_both_backends!(
    plan_evaluation_recorded_is_reproduced_as_known_at_its_time,
    super::plan_evaluation_recorded_is_reproduced_as_known_at_its_time
);

/// Volumes are events: an auditor's export carries them, so the suspense rate recomputed
/// from the file alone, and replayed as known now, divides by them.
#[tokio::test]
async fn plan_suspense_rates_replay_from_exports_with_their_volumes() {
    use std::io::Write;
    let app = spawn_app(Backend::Sqlite).await;
    app.open_item("VOL-1", "100.00").await;
    for transactions in [10_000, 40_000] {
        let recorded = app
            .post(
                "/v1/volumes",
                "rita",
                json!({"branch": "SH-001", "month": "2026-03", "transactions": transactions,
                       "reason": "the core system's count"}),
            )
            .await;
        assert_eq!(recorded.status(), 200);
    }
    let corrected: Value = app
        .post(
            "/v1/volumes",
            "rita",
            json!({"branch": "SH-001", "month": "2026-03", "transactions": 40_000}),
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        corrected["recorded"], false,
        "the same figure writes nothing"
    );
    let export = app.cli(&["audit", "export"]);
    let lines = String::from_utf8_lossy(&export.stdout).into_owned();
    assert_eq!(lines.lines().count(), 3);
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
    assert!(offline.status.success(), "{offline:?}");
    let stdout = String::from_utf8_lossy(&offline.stdout).into_owned();
    let report: Value =
        serde_json::from_str(stdout.lines().nth(1).unwrap_or_default()).unwrap_or_default();
    let rate = &report["periods"][0]["suspense_rates"][0];
    assert_eq!(rate["transactions"], 40_000, "{report}");
    assert_eq!(rate["per_10000"], "0.25");
    let served: Value = app
        .get(
            "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&fresh=true",
            "rita",
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(report, served);
}
