//! The organisation registry through the service and the CLI: supervisors publish it, every
//! role reads it, a bad version is refused naming its place with nothing stored, and once it
//! is published a booking to an unknown branch or an assignment to an unknown team is refused
//! with nothing stored.

use serde_json::{json, Value};
use suspense_testkit::Backend;
use suspense_tests::app::{booking, spawn_app};

fn examples(name: &str) -> String {
    format!("{}/../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn registry() -> Value {
    json!({
        "effective_from": "2026-01-01",
        "reason": "branch codes circular",
        "branches": [
            {"code": "HO", "name": "總行", "jurisdiction": "CN"},
            {"code": "SH-001", "name": "上海分行", "parent": "HO", "region": "East China"},
            {"code": "SH-002", "parent": "SH-001"}
        ],
        "teams": [{"id": "recon", "branch": "SH-001"}]
    })
}

#[tokio::test]
async fn organisation_registry_refuses_unknown_branches_and_teams_over_http() {
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(
        app.post("/v1/organisation", "olivia", registry())
            .await
            .status(),
        403
    );
    let mut cyclic = registry();
    cyclic["branches"][0]["parent"] = json!("SH-002");
    let refused = app.post("/v1/organisation", "sam", cyclic).await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["code"], "organisation_refused");
    assert_eq!(refused["error"]["field"], "branches[0].parent");
    let mut blank = registry();
    blank["branches"][1]["code"] = json!("  ");
    let refused: Value = app
        .post("/v1/organisation", "sam", blank)
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(refused["error"]["field"], "branches[1].code");
    let shown: Value = app
        .get("/v1/organisation", "olivia")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(shown["versions"].as_array().map(Vec::len), Some(0));

    let published = app.post("/v1/organisation", "sam", registry()).await;
    assert_eq!(published.status(), 201);
    let published: Value = published.json().await.unwrap_or_default();
    assert_eq!(published["version"], 1);
    assert_eq!(published["branches"][1]["name"], "上海分行");

    // Filters are checked against the registry too: a typo is an error, not an empty list.
    for (path, field) in [
        ("/v1/items?branch=SH-0O1", "branch"),
        ("/v1/items?team=recon-typo", "team"),
        ("/v1/watchlist?branch=SH-0O1", "branch"),
        (
            "/v1/reports/root-causes?period=month&from=2026-03-01&to=2026-03-31&branch=SH-0O1",
            "branch",
        ),
    ] {
        let refused = app.get(path, "sam").await;
        assert_eq!(refused.status(), 422, "{path}");
        let refused: Value = refused.json().await.unwrap_or_default();
        assert_eq!(refused["error"]["field"], field, "{path}");
    }
    assert_eq!(
        app.get("/v1/items?branch=SH-002", "sam").await.status(),
        200
    );

    let head = app.log_head().await;
    let mut typo = booking("TYPO", "10.00");
    typo["branch"] = json!("SH-0O1");
    let refused = app.post("/v1/items", "olivia", typo).await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["code"], "unknown_branch");
    assert_eq!(refused["error"]["field"], "branch");
    assert_eq!(app.log_head().await, head, "nothing stored");

    let mut sub_branch = booking("SUB", "10.00");
    sub_branch["branch"] = json!("SH-002");
    let opened: Value = app
        .post("/v1/items", "olivia", sub_branch)
        .await
        .json()
        .await
        .unwrap_or_default();
    let item = format!("/v1/items/{}", opened["id"].as_str().unwrap_or_default());
    let refused = app
        .post(
            &format!("{item}/assign"),
            "olivia",
            json!({"team": "recon-typo"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["field"], "team");
    let assigned = app
        .post(
            &format!("{item}/assign"),
            "olivia",
            json!({"team": "recon"}),
        )
        .await;
    assert_eq!(assigned.status(), 200);
}

#[tokio::test]
async fn organisation_registry_from_the_cli() {
    let app = spawn_app(Backend::Sqlite).await;
    let published = app.cli(&[
        "org",
        "publish",
        "--file",
        &examples("organisation.toml"),
        "--as",
        "org.admin",
    ]);
    assert!(published.status.success(), "{published:?}");
    assert!(String::from_utf8_lossy(&published.stdout).contains("version 1"));
    let again = app.cli(&["org", "publish", "--file", &examples("organisation.toml")]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the same registry: nothing to publish"
    );
    let shown = app.cli(&["org", "show"]);
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
    assert_eq!(shown["in_force"], 1);
    assert_eq!(shown["versions"][0]["branches"][2]["parent"], "SH-001");
    // The service follows the registry the CLI published (every projector interval): a
    // booking to an unknown branch is refused once it has read it.
    let mut status = 0;
    for attempt in 0..120 {
        let mut unknown = booking(&format!("UNKNOWN-{attempt}"), "10.00");
        unknown["branch"] = json!("XX-999");
        status = app
            .post("/v1/items", "olivia", unknown)
            .await
            .status()
            .as_u16();
        if status == 422 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(status, 422);
}

fn branches_of(rows: &Value, field: &str) -> Vec<String> {
    let mut branches: Vec<String> = rows
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r[field].as_str().map(str::to_owned))
        .collect();
    branches.sort();
    branches.dedup();
    branches
}

/// A user with a home branch sees and acts on it and the branches under it only: lists,
/// items, history, commands and reports alike; the whole-log export needs head office.
#[tokio::test]
async fn organisation_scopes_what_branch_users_see_and_do() {
    let app = spawn_app(Backend::Postgres).await;
    let mut bank = registry();
    if let Some(branches) = bank["branches"].as_array_mut() {
        branches.push(json!({"code": "BJ-001", "parent": "HO"}));
    }
    assert_eq!(
        app.post("/v1/organisation", "sam", bank).await.status(),
        201
    );
    let mut ids = Vec::new();
    for (reference, branch) in [("SH-A", "SH-001"), ("SH-B", "SH-002"), ("BJ-A", "BJ-001")] {
        let mut body = booking(reference, "10.00");
        body["branch"] = json!(branch);
        let opened: Value = app
            .post("/v1/items", "olivia", body)
            .await
            .json()
            .await
            .unwrap_or_default();
        ids.push(opened["id"].as_str().unwrap_or_default().to_owned());
    }
    let (sh_b, bj_a) = (&ids[1], &ids[2]);
    // Bring the read models up to the bookings (the item list reads the register).
    let refreshed = app.get("/v1/reports/open-balance?fresh=true", "rita").await;
    assert_eq!(refreshed.status(), 200);

    let listed: Value = app
        .get("/v1/items", "shen")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        branches_of(&listed["items"], "branch"),
        ["SH-001", "SH-002"]
    );
    let listed: Value = app
        .get("/v1/items", "bei")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(branches_of(&listed["items"], "branch"), ["BJ-001"]);
    assert_eq!(
        app.get(&format!("/v1/items/{bj_a}"), "shen").await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/v1/items/{bj_a}/events"), "shen")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/v1/items/{sh_b}"), "shen").await.status(),
        200
    );
    let comment = json!({"text": "called the remitter"});
    let head = app.log_head().await;
    assert_eq!(
        app.post(
            &format!("/v1/items/{bj_a}/comments"),
            "shen",
            comment.clone()
        )
        .await
        .status(),
        404,
        "another branch's item reads as absent"
    );
    assert_eq!(app.log_head().await, head, "nothing stored");
    assert_eq!(
        app.post(&format!("/v1/items/{sh_b}/comments"), "shen", comment)
            .await
            .status(),
        200
    );
    let mut elsewhere = booking("SH-BOOKS-BJ", "10.00");
    elsewhere["branch"] = json!("BJ-001");
    let refused = app.post("/v1/items", "shen", elsewhere).await;
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["code"], "out_of_scope");
    assert_eq!(refused["error"]["field"], "branch");

    let balance: Value = app
        .get("/v1/reports/open-balance?fresh=true", "shen")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(balance[0]["open_items"], 2);
    let balance: Value = app
        .get("/v1/reports/open-balance", "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(balance[0]["open_items"], 3);
    let report: Value = app
        .get(
            "/v1/reports/root-causes?period=year&from=2026-01-01&to=2026-12-31",
            "shen",
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        branches_of(&report["periods"][0]["rows"], "branch"),
        ["SH-001", "SH-002"]
    );
    let aging: Value = app
        .get("/v1/reports/aging", "bei")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(branches_of(&aging["rows"], "branch"), ["BJ-001"]);
    let export = app.get("/v1/audit/export", "shen").await;
    assert_eq!(export.status(), 403);
    assert_eq!(app.get("/v1/audit/export", "ada").await.status(), 200);
}

/// The same rules for a bank service embedding the library: the scope lives in the
/// application layer, not in the HTTP handlers.
#[tokio::test]
async fn organisation_scope_holds_in_the_embedded_library() {
    use suspense::domain::organisation::{AccessScope, Branch, PublishOrganisation};
    use suspense::domain::{BranchCode, ItemAction, ItemError, Note, UserId};
    use suspense::{Actor, Error, Suspense};
    use suspense_testkit::TestDatabase;

    let code = |c: &str| BranchCode::parse(c).unwrap_or_else(|e| panic!("{e}"));
    let db = TestDatabase::create(Backend::Sqlite).await;
    let ledger = Suspense::open(&db.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let head_office = Actor::new(UserId::parse("ho").unwrap_or_else(|e| panic!("{e}")));
    let branch = |c: &str, parent: Option<&str>| Branch {
        code: code(c),
        name: None,
        parent: parent.map(code),
        region: None,
        jurisdiction: None,
    };
    ledger
        .publish_organisation(
            &head_office,
            PublishOrganisation {
                effective_from: suspense_testkit::date("2026-01-01"),
                reason: Note::parse("circular").unwrap_or_else(|e| panic!("{e}")),
                branches: vec![
                    branch("HO", None),
                    branch("SH-001", Some("HO")),
                    branch("BJ-001", Some("HO")),
                ],
                teams: Vec::new(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut beijing_item = suspense_testkit::booking("BJ-1", "10.00");
    beijing_item.branch = code("BJ-001");
    let opened = ledger
        .open_item(&head_office, beijing_item.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let shanghai = Actor::new(UserId::parse("shen").unwrap_or_else(|e| panic!("{e}")))
        .with_scope(AccessScope::Branch(code("SH-001")));
    let comment = ItemAction::Comment {
        text: Note::parse("hello").unwrap_or_else(|e| panic!("{e}")),
    };
    let refused = ledger.execute(&shanghai, opened.item_id, comment).await;
    assert!(matches!(
        refused,
        Err(Error::Rejected(ItemError::NotOpened))
    ));
    assert!(ledger
        .item_for(&shanghai, opened.item_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    assert!(ledger
        .history_for(&shanghai, opened.item_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_none());
    let mut booking = beijing_item;
    booking.reference = suspense::domain::SourceReference::parse("CORE", "SH-BOOKS-BJ")
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = ledger.open_item(&shanghai, booking).await;
    assert!(
        matches!(refused, Err(Error::OutOfScope { .. })),
        "{refused:?}"
    );
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let filter = suspense::read_models::ItemFilter {
        limit: 10,
        ..Default::default()
    };
    let seen = ledger
        .reports_for(&shanghai)
        .items(&filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(seen.is_empty());
    let all = ledger
        .reports_for(&head_office)
        .items(&filter)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 1);
}

/// Approval bands published with the escalation policy: a resolution above the second band
/// needs two approvals from outside the item's branch; the answer shows who has approved.
#[tokio::test]
async fn approval_bands_need_two_approvers_from_another_branch_over_http() {
    let app = spawn_app(Backend::Sqlite).await;
    let policy = json!({
        "effective_from": "2026-01-01",
        "reason": "approval limits",
        "rules": [{"age_days": 30, "raise_to": "team_lead"}],
        "approval_bands": [
            {"currency": "CNY", "above": "100000", "approvals": 1},
            {"currency": "CNY", "above": "1000000", "approvals": 2, "another_branch": true}
        ]
    });
    let mut bad = policy.clone();
    bad["approval_bands"][1]["approvals"] = json!(0);
    let refused: Value = app
        .post("/v1/policy", "sam", bad)
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(refused["error"]["field"], "approval_bands[1]");
    assert_eq!(app.post("/v1/policy", "sam", policy).await.status(), 201);

    let id = app.open_item("HUGE", "2000000.00").await;
    let item = format!("/v1/items/{id}");
    let classified = app
        .post(
            &format!("{item}/classify"),
            "olivia",
            json!({"category": "customer_cause", "code": "CUS-REFERENCE"}),
        )
        .await;
    assert_eq!(classified.status(), 200);
    let proposed = app
        .post(
            &format!("{item}/resolve"),
            "olivia",
            json!({"method": "refunded", "amount": "2000000.00", "currency": "CNY"}),
        )
        .await;
    assert_eq!(proposed.status(), 202);
    let proposed: Value = proposed.json().await.unwrap_or_default();
    assert_eq!(proposed["detail"]["pending"]["approvals_required"], 2);
    assert_eq!(
        proposed["detail"]["pending"]["rule"],
        "approval_bands[1] of policy version 1"
    );
    let same_branch = app
        .post(&format!("{item}/resolution/approve"), "shen", json!({}))
        .await;
    assert_eq!(same_branch.status(), 422);
    let same_branch: Value = same_branch.json().await.unwrap_or_default();
    assert_eq!(same_branch["error"]["code"], "approver_of_the_items_branch");
    let first: Value = app
        .post(&format!("{item}/resolution/approve"), "sam", json!({}))
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(first["status"], "pending_approval");
    assert_eq!(first["detail"]["pending"]["approved_by"][0]["user"], "sam");
    let again = app
        .post(&format!("{item}/resolution/approve"), "sam", json!({}))
        .await;
    assert_eq!(again.status(), 422, "the same approver twice");
    let again: Value = again.json().await.unwrap_or_default();
    assert_eq!(again["error"]["code"], "already_approved");
    let second: Value = app
        .post(&format!("{item}/resolution/approve"), "max", json!({}))
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(second["status"], "resolved");
}

/// Escalation rules can name jurisdictions: the sweep raises the items of branches the
/// registry puts in them, and no others.
#[tokio::test]
async fn organisation_jurisdictions_select_the_sweeps_items() {
    use suspense::domain::organisation::{Branch, Jurisdiction, PublishOrganisation};
    use suspense::domain::policy::{EscalationRule, PublishPolicy};
    use suspense::domain::{BranchCode, EscalationLevel, Note, UserId};
    use suspense::{Actor, Suspense};
    use suspense_testkit::TestDatabase;

    let code = |c: &str| BranchCode::parse(c).unwrap_or_else(|e| panic!("{e}"));
    let db = TestDatabase::create(Backend::Postgres).await;
    let ledger = Suspense::open(&db.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = Actor::new(UserId::parse("admin").unwrap_or_else(|e| panic!("{e}")));
    let branch = |c: &str, j: &str| Branch {
        code: code(c),
        name: None,
        parent: None,
        region: None,
        jurisdiction: Some(Jurisdiction::parse(j).unwrap_or_else(|e| panic!("{e}"))),
    };
    ledger
        .publish_organisation(
            &admin,
            PublishOrganisation {
                effective_from: suspense_testkit::date("2026-01-01"),
                reason: Note::parse("circular").unwrap_or_else(|e| panic!("{e}")),
                branches: vec![branch("SH-001", "CN"), branch("HK-001", "HK")],
                teams: Vec::new(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut ids = Vec::new();
    for (reference, at) in [("IN-SH", "SH-001"), ("IN-HK", "HK-001")] {
        let mut item = suspense_testkit::booking(reference, "10.00");
        item.branch = code(at);
        ids.push(
            ledger
                .open_item(&admin, item)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .item_id,
        );
    }
    ledger
        .publish_policy(
            &admin,
            PublishPolicy {
                effective_from: suspense_testkit::date("2026-01-01"),
                reason: Note::parse("HKMA clocks").unwrap_or_else(|e| panic!("{e}")),
                rules: vec![EscalationRule {
                    jurisdictions: vec![Jurisdiction::parse("HK").unwrap_or_else(|e| panic!("{e}"))],
                    ..EscalationRule::after_days(10, EscalationLevel::TeamLead)
                }],
                approval_bands: Vec::new(),
                reminders: Vec::new(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let swept = ledger.sweep(at).await.unwrap_or_else(|e| panic!("{e}"));
    let escalated: Vec<_> = swept.escalated.iter().map(|(id, _)| *id).collect();
    assert_eq!(escalated, [ids[1]], "only the Hong Kong item");
}
