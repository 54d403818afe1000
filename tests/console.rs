//! The web console, black box over HTTP as a browser without script uses it: signing in,
//! sessions, CSRF, the pages each role opens, forms that run the API's commands and refuse
//! bad input field by field with nothing written. (`cargo test browser` drives the same
//! pages in headless Chromium.)

use suspense_tests::app::{spawn_app, TestApp};
use suspense_tests::console::ConsoleSession;
use suspense_tests::Backend;

async fn an_item(app: &TestApp, reference: &str) -> String {
    app.open_item(reference, "1250.50").await
}

/// Books an item of `branch` on `booked_on` and answers its id.
async fn booked(app: &TestApp, reference: &str, branch: &str, booked_on: &str) -> String {
    let mut body = suspense_tests::app::booking(reference, "100.00");
    body["branch"] = serde_json::json!(branch);
    body["booked_on"] = serde_json::json!(booked_on);
    let opened = app.post("/v1/items", "olivia", body).await;
    assert_eq!(opened.status(), 201);
    let opened: serde_json::Value = opened.json().await.unwrap_or_default();
    opened["id"].as_str().unwrap_or_default().to_owned()
}

/// Raises an item to `level` as a supervisor.
async fn escalate(app: &TestApp, id: &str, level: &str) {
    let escalated = app
        .post(
            &format!("/v1/items/{id}/escalate"),
            "sam",
            serde_json::json!({"level": level, "reason": "aging"}),
        )
        .await;
    assert_eq!(escalated.status(), 200);
}

/// Brings the read models up to date, as a reporting job asks with `fresh=true`.
async fn refresh(app: &TestApp) {
    let fresh = app.get("/v1/reports/open-balance?fresh=true", "sam").await;
    assert_eq!(fresh.status(), 200);
}

/// The worklist's rows: booking date and reference, in the page's order.
fn worklist_rows(html: &str) -> Vec<(String, String)> {
    html.split("<tr>")
        .skip(2)
        .filter_map(|row| {
            let reference = row.split("CORE ").nth(1)?.split('<').next()?.to_owned();
            let date = row.split("<td>").nth(5)?.split('<').next()?.to_owned();
            Some((date, reference))
        })
        .collect()
}

/// The worklist's link to the next page.
fn next_page(html: &str) -> String {
    html.split("id=\"next-page\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The HTML of the element with `id` up to the end of its table.
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_default()
}

#[tokio::test]
async fn console_sign_in_takes_a_valid_token_only_and_sign_out_ends_the_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = ConsoleSession::new(&app);
    // No session: every page sends the person to sign in, and back afterwards.
    let page = browser.get("/console/worklist").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("/console/sign-in?reason=none&next=%2Fconsole%2Fworklist")
    );
    let refused = browser.sign_in("not-a-token").await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body.contains("令牌无效或已过期"),
        "{}",
        refused.body
    );
    assert_eq!(browser.get("/console/worklist").await.status, 303);

    let signed_in = browser.sign_in("token-operator-olivia").await;
    assert_eq!(signed_in.status, 303);
    let worklist = browser.get("/console/worklist").await;
    assert_eq!(worklist.status, 200);
    assert!(worklist.body.contains("olivia"));

    // Sign-out needs the session's CSRF token, then ends the session.
    let forged = browser
        .post("/console/sign-out", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(browser.get("/console/worklist").await.status, 200);
    let out = browser
        .post("/console/sign-out", &[("csrf", worklist.csrf().as_str())])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(browser.get("/console/worklist").await.status, 303);
}

#[tokio::test]
async fn console_sign_in_needs_the_form_it_was_given() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = ConsoleSession::new(&app);
    // A sign-in posted from elsewhere (no form token of ours): refused, no session.
    let forged = browser
        .post(
            "/console/sign-in",
            &[("csrf", "x"), ("token", "token-operator-olivia")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(browser.get("/console/worklist").await.status, 303);
}

#[tokio::test]
async fn console_pages_carry_a_strict_content_security_policy_and_hashed_assets() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = reqwest::get(app.url("/console/sign-in"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let body = response.text().await.unwrap_or_default();
    assert!(!body.contains("<script>"), "no inline script");
    let css = body
        .split("href=\"/console/assets/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        css.starts_with("console.") && css.ends_with(".css"),
        "{css}"
    );
    let asset = reqwest::get(app.url(&format!("/console/assets/{css}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(asset.status(), 200);
    assert!(asset
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("immutable")));
    let stale = reqwest::get(app.url("/console/assets/console.css"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stale.status(), 404);
}

#[tokio::test]
async fn console_works_an_item_from_booking_to_an_approved_write_off() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = an_item(&app, "CONSOLE-1").await;
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    let done = olivia
        .submit(
            &id,
            "form-classify",
            &[("category", "system_failure"), ("code", "SYS-OUTAGE")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/console/items/{id}?done=ok").as_str())
    );
    let done = olivia
        .submit(&id, "form-comment", &[("text", "核实中：已致电分行")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    // A write-off needs a supervisor: proposed, not resolved.
    let proposed = olivia
        .submit(
            &id,
            "form-resolve",
            &[("method", "written_off"), ("amount", "1250.50")],
        )
        .await;
    assert_eq!(
        proposed.location.as_deref(),
        Some(format!("/console/items/{id}?done=proposed").as_str())
    );
    let page = olivia.get(&format!("/console/items/{id}")).await;
    assert!(page.body.contains("待审批"), "pending approval");
    assert!(
        !page.body.contains("id=\"form-approve\""),
        "an operator is not offered the approval"
    );

    let sam = ConsoleSession::signed_in(&app, "sam").await;
    let queue = sam.get("/console/approvals").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains(&id), "the item waits in the queue");
    let approved = sam
        .submit(&id, "form-approve", &[("note", "同意核销")])
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    let page = sam.get(&format!("/console/items/{id}")).await;
    assert!(page.body.contains("已结清"), "{}", page.body);
    // The timeline: who did what, why, and the request each came from.
    let timeline = page
        .body
        .split("id=\"timeline\"")
        .nth(1)
        .unwrap_or_default();
    for expected in [
        "挂账登记",
        "归因分类",
        "备注",
        "提请结清",
        "结清",
        "olivia",
        "sam",
        "核实中：已致电分行",
        "console-",
    ] {
        assert!(timeline.contains(expected), "timeline shows {expected}");
    }
    let events = app.get(&format!("/v1/items/{id}/events"), "sam").await;
    let events: serde_json::Value = events.json().await.unwrap_or_default();
    let sources: Vec<&str> = events
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|e| e["metadata"]["source"].as_str())
                .collect()
        })
        .unwrap_or_default();
    // Classified, commented, proposed, resolved: the console's; opened: the API's.
    assert_eq!(sources.iter().filter(|s| **s == "console").count(), 4);
}

#[tokio::test]
async fn console_forms_refuse_bad_input_beside_the_field_and_write_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = an_item(&app, "CONSOLE-2").await;
    let head = app.log_head().await;
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    let too_long = "t".repeat(65);
    for (form, fields, field, status) in [
        (
            "form-clearing",
            vec![("clearing_reference", "CLR-1"), ("amount", "abc")],
            "amount",
            422,
        ),
        (
            "form-clearing",
            vec![("clearing_reference", "CLR-1"), ("amount", "99999")],
            "amount",
            422,
        ),
        ("form-comment", vec![("text", "")], "text", 400),
        (
            "form-assign",
            vec![("team", too_long.as_str())],
            "team",
            422,
        ),
    ] {
        let refused = olivia.submit(&id, form, &fields).await;
        assert_eq!(
            refused.status, status,
            "{form} {fields:?}: {}",
            refused.body
        );
        assert!(
            refused.body.contains("class=\"field-error\"")
                || refused.body.contains("class=\"error\""),
            "{form}: the reason is shown"
        );
        assert!(
            refused.body.contains("aria-invalid=\"true\""),
            "{form}: {field} is marked: {}",
            refused.body
        );
    }
    // In Chinese, the rule the refusal's code names, with the API's particulars.
    let over = olivia
        .submit(
            &id,
            "form-clearing",
            &[("clearing_reference", "CLR-2"), ("amount", "99999")],
        )
        .await;
    assert!(
        over.body
            .contains("冲销金额超过未结金额（clearing of 99999.00 CNY exceeds"),
        "{}",
        over.body
    );
    // A form without this session's token: refused before anything runs.
    let page = olivia.get(&format!("/console/items/{id}")).await;
    let forged = olivia
        .post(
            &format!("/console/items/{id}"),
            &[
                ("csrf", "forged"),
                ("command", "/comments"),
                ("text", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!page.body.is_empty());
    assert_eq!(app.log_head().await, head, "nothing was written");
}

#[tokio::test]
async fn console_shows_each_role_only_what_the_api_lets_it_do() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = an_item(&app, "CONSOLE-3").await;
    // A reporter reads the overview, not the worklist or an item's actions.
    let rita = ConsoleSession::signed_in(&app, "rita").await;
    assert_eq!(
        rita.get("/console").await.location.as_deref(),
        Some("/console/overview")
    );
    let overview = rita.get("/console/overview").await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("data-chart="));
    assert!(!overview.body.contains("href=\"/console/worklist\""));
    assert_eq!(rita.get("/console/worklist").await.status, 403);
    let item = rita.get(&format!("/console/items/{id}")).await;
    assert_eq!(item.status, 403);
    assert!(!item
        .body
        .contains("<form method=\"post\" action=\"/console/items"));
    let csv = rita.get("/console/reports/root-causes.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("period,"));

    // An auditor reads the item and its timeline but is offered no command.
    let ada = ConsoleSession::signed_in(&app, "ada").await;
    let item = ada.get(&format!("/console/items/{id}")).await;
    assert_eq!(item.status, 200);
    assert!(item.body.contains("id=\"timeline\""));
    assert!(item.body.contains("id=\"read-only\""));
    // An operator works the item but does not see its timeline (the API's events route
    // is for supervisors and auditors).
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    let item = olivia.get(&format!("/console/items/{id}")).await;
    assert!(item.body.contains("id=\"form-classify\""));
    assert!(!item.body.contains("id=\"form-escalate\""));
    assert!(!item.body.contains("id=\"timeline\""));
    assert_eq!(olivia.get("/console/approvals").await.status, 403);
    // A person at one branch does not find another branch's item.
    let bei = ConsoleSession::signed_in(&app, "bei").await;
    assert_eq!(bei.get(&format!("/console/items/{id}")).await.status, 404);
}

#[tokio::test]
async fn console_speaks_chinese_until_asked_for_english() {
    let app = spawn_app(Backend::Sqlite).await;
    let sam = ConsoleSession::signed_in(&app, "sam").await;
    let page = sam.get("/console/worklist").await;
    assert!(page.body.contains("lang=\"zh-CN\""));
    assert!(page.body.contains("待办清单"));
    let switched = sam
        .get("/console/language?to=en&back=%2Fconsole%2Fworklist")
        .await;
    assert_eq!(switched.location.as_deref(), Some("/console/worklist"));
    let page = sam.get("/console/worklist").await;
    assert!(page.body.contains("lang=\"en\""));
    assert!(page.body.contains("Worklist"));
    // Back to another site is never a place the switch returns to.
    let elsewhere = sam
        .get("/console/language?to=en&back=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(elsewhere.location.as_deref(), Some("/console"));
}

#[tokio::test]
async fn console_audit_page_verifies_the_chain_exports_the_log_and_replays_a_past_report() {
    let app = spawn_app(Backend::Sqlite).await;
    an_item(&app, "CONSOLE-AUDIT-1").await;
    an_item(&app, "CONSOLE-AUDIT-2").await;
    let ada = ConsoleSession::signed_in(&app, "ada").await;
    let page = ada.get("/console/audit?verify=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"verdict\""));
    assert!(page.body.contains("日志完整，未被篡改"), "{}", page.body);
    let export = ada.get("/console/audit/export").await;
    assert_eq!(export.status, 200);
    assert_eq!(
        export.body.lines().count() as u64,
        app.log_head().await,
        "every event, one line each"
    );
    // A report as known at a time: bad input named, good input answered.
    let refused = ada.get("/console/audit?at=yesterday&month=2026-03").await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let known = ada
        .get("/console/audit?at=2099-01-01T00%3A00&month=2026-03")
        .await;
    assert_eq!(known.status, 200, "{}", known.body);
    assert!(known.body.contains("id=\"known\""));
    // Operators and branch auditors do not get the whole log.
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    assert_eq!(olivia.get("/console/audit").await.status, 403);
    let bei = ConsoleSession::signed_in(&app, "bei").await;
    assert_eq!(bei.get("/console/audit/export").await.status, 403);
}

#[tokio::test]
async fn console_plan_page_shows_targets_against_actual_and_the_measures() {
    let app = spawn_app(Backend::Sqlite).await;
    let rita = ConsoleSession::signed_in(&app, "rita").await;
    // No plan yet: the overview has no plan section.
    assert!(!rita
        .get("/console/overview")
        .await
        .body
        .contains("id=\"plans\""));
    let document = serde_json::json!({
        "reference": "console-plan",
        "name": "挂账整改方案",
        "owner": "head-of-ops",
        "baseline": {"from": "2026-01", "to": "2026-03"},
        "phases": [{"name": "months 1-3", "from": "2026-04", "to": "2026-06"}],
        "targets": [
            {"id": "T1", "metric": "items_opened", "comparison": "at_most", "value": "5"}
        ],
        "measures": [
            {"id": "M1", "title": "teller training", "category": "operational_error",
             "owner_team": "training", "owner": "trainer", "due": "2026-05-31"}
        ]
    });
    let created = app.post("/v1/plans", "sam", document).await;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap_or_default();
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let overview = rita.get("/console/overview").await;
    assert!(overview
        .body
        .contains(&format!("href=\"/console/plans/{id}\"")));
    let page = rita.get(&format!("/console/plans/{id}?phase=1")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("挂账整改方案"));
    let targets = page.body.split("id=\"targets\"").nth(1).unwrap_or_default();
    assert!(targets.contains("T1") && targets.contains("items_opened"));
    assert!(page.body.contains("teller training"));
    let bad = rita.get(&format!("/console/plans/{id}?phase=x")).await;
    assert_eq!(bad.status, 422);
    assert_eq!(rita.get("/console/plans/not-a-plan").await.status, 404);
    // Operators do not read plans; a branch user reads the plan but not the bank-wide
    // evaluation.
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    assert_eq!(
        olivia.get(&format!("/console/plans/{id}")).await.status,
        403
    );
    let bei = ConsoleSession::signed_in(&app, "bei").await;
    let page = bei.get(&format!("/console/plans/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"no-evaluation\""));
}

#[tokio::test]
async fn console_worklist_runs_oldest_first_and_pages_without_gaps_or_repeats() {
    let app = spawn_app(Backend::Sqlite).await;
    for n in 0..55 {
        let mut body = suspense_tests::app::booking(&format!("CONSOLE-PAGE-{n:02}"), "10.00");
        body["booked_on"] = serde_json::json!(format!("2026-01-{:02}", 1 + (n * 7) % 28));
        let opened = app.post("/v1/items", "olivia", body).await;
        assert_eq!(opened.status(), 201);
    }
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    // The worklist reads the register: wait until it holds every item.
    let mut first = olivia.get("/console/worklist").await;
    for _ in 0..50 {
        if first.body.contains("id=\"next-page\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        first = olivia.get("/console/worklist").await;
    }
    let mut seen = worklist_rows(&first.body);
    assert_eq!(seen.len(), 50, "{}", first.body);
    let next = next_page(&first.body);
    let second = olivia.get(&next).await;
    assert_eq!(second.status, 200, "{next}");
    seen.extend(worklist_rows(&second.body));
    assert_eq!(seen.len(), 55);
    let dates: Vec<&str> = seen.iter().map(|(date, _)| date.as_str()).collect();
    assert!(dates.iter().all(|d| d.starts_with("2026-01-")), "{dates:?}");
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {dates:?}"
    );
    let mut references: Vec<&str> = seen.iter().map(|(_, r)| r.as_str()).collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 55, "each item once");
    let refused = olivia
        .get("/console/worklist?after_booked_on=yesterday")
        .await;
    assert_eq!(refused.status, 422);
}

#[tokio::test]
async fn console_overview_filters_by_branch_and_month_with_rates_breaches_and_csv() {
    let app = spawn_app(Backend::Sqlite).await;
    let first = booked(&app, "CONSOLE-OV-1", "SH-001", "2026-01-10").await;
    booked(&app, "CONSOLE-OV-2", "SH-001", "2026-01-12").await;
    booked(&app, "CONSOLE-OV-3", "BJ-001", "2026-01-15").await;
    escalate(&app, &first, "department").await;
    let volume = app
        .post(
            "/v1/volumes",
            "rita",
            serde_json::json!({"branch": "SH-001", "month": "2026-01", "transactions": 20000}),
        )
        .await;
    assert_eq!(volume.status(), 200);
    refresh(&app).await;
    let rita = ConsoleSession::signed_in(&app, "rita").await;

    let page = rita.get("/console/overview?month=2026-01").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The suspense rate of the month: 2 items per 20,000 transactions is 1.00 per 10,000;
    // Beijing recorded no volume, so it has items but no rate.
    let rates = table(&page.body, "rates");
    assert!(rates.contains("<caption>2026-01</caption>"), "{rates}");
    assert!(
        rates.contains(">SH-001</a></td><td class=\"num\">2</td><td class=\"num\">20000</td><td class=\"num\">1.00</td>"),
        "{rates}"
    );
    assert!(
        rates.contains(">BJ-001</a></td><td class=\"num\">1</td><td class=\"num\"></td><td class=\"num\"></td>"),
        "{rates}"
    );
    assert!(!page.body.contains("id=\"no-volumes\""));
    // The item the policy raised, linked to the worklist in order of risk.
    let breaching = table(&page.body, "breaching");
    assert!(breaching.contains("<td>部门 (2)</td>"), "{breaching}");
    assert!(breaching.contains("order=risk"), "{breaching}");
    assert!(page
        .body
        .contains("href=\"/console/reports/aging.csv?month=2026-01\""));

    // One branch: its balance, its rate only, and links that keep the filter.
    let shanghai = rita
        .get("/console/overview?branch=SH-001&month=2026-01")
        .await;
    assert_eq!(shanghai.status, 200);
    assert!(table(&shanghai.body, "balances").contains(">2</a>"));
    assert!(!table(&shanghai.body, "rates").contains("BJ-001"));
    assert!(shanghai
        .body
        .contains("/console/reports/aging.csv?branch=SH-001&#38;month=2026-01"));

    // The aging as the API's CSV, of the chosen branch.
    let csv = rita.get("/console/reports/aging.csv?branch=BJ-001").await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(lines[0].starts_with("as_of,basis,branch,"));
    assert!(
        lines[1].contains(",BJ-001,unclassified,CNY,"),
        "{}",
        lines[1]
    );
    let pareto = rita
        .get("/console/reports/root-causes.csv?month=2026-01")
        .await;
    assert!(pareto
        .body
        .lines()
        .nth(1)
        .unwrap_or_default()
        .starts_with("2026-01,"));

    // A month that is not one, or not yet, is refused by name.
    for month in ["2026-13", "2999-01"] {
        let refused = rita.get(&format!("/console/overview?month={month}")).await;
        assert_eq!(refused.status, 422, "{month}");
        assert!(refused.body.contains("month"), "{}", refused.body);
    }
}

#[tokio::test]
async fn console_worklist_in_order_of_risk_puts_escalated_items_first_and_pages() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ids = Vec::new();
    for n in 0..53 {
        let day = format!("2026-02-{:02}", 1 + (n * 5) % 28);
        ids.push(booked(&app, &format!("CONSOLE-RISK-{n:02}"), "SH-001", &day).await);
    }
    // The youngest items carry the policy's highest verdicts.
    escalate(&app, &ids[11], "management").await; // booked 2026-02-28
    escalate(&app, &ids[5], "team_lead").await; // booked 2026-02-26
    refresh(&app).await;
    let olivia = ConsoleSession::signed_in(&app, "olivia").await;
    let first = olivia.get("/console/worklist?order=risk").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("<option value=\"risk\" selected>"));
    let mut seen = worklist_rows(&first.body);
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[0].1, "CONSOLE-RISK-11");
    assert_eq!(seen[1].1, "CONSOLE-RISK-05");
    let dates: Vec<&str> = seen[2..].iter().map(|(d, _)| d.as_str()).collect();
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]),
        "then oldest first: {dates:?}"
    );
    let next = next_page(&first.body);
    assert!(
        next.contains("order=risk") && next.contains("after_level=0"),
        "{next}"
    );
    let second = olivia.get(&next).await;
    assert_eq!(second.status, 200, "{next}");
    seen.extend(worklist_rows(&second.body));
    let mut references: Vec<&str> = seen.iter().map(|(_, r)| r.as_str()).collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 53, "each item once");
    let refused = olivia
        .get("/console/worklist?order=risk&after=x&after_booked_on=2026-02-01&after_level=high")
        .await;
    assert_eq!(refused.status, 422);
}
