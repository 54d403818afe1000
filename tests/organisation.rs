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
