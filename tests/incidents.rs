//! Incidents through the embedding library, on both backends: one outage, many items; linked
//! by a person, never on their own; suggestions of items not linked yet; the incident's
//! figures; the share of a period's items that belong to an incident.

use chrono::NaiveDate;
use suspense::domain::incident::{IncidentAction, IncidentError, IncidentReference, OpenIncident};
use suspense::domain::{
    Attribution, Channel, ItemAction, ItemId, Note, RootCauseCategory, RootCauseCode,
};
use suspense::{Actor, Error, Suspense};
use suspense_testkit::{booking, on_both_backends, user, Backend, TestDatabase};

fn note(text: &str) -> Note {
    Note::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default()
}

fn outage() -> OpenIncident {
    OpenIncident {
        reference: IncidentReference::parse("INC-0412").unwrap_or_else(|e| panic!("{e}")),
        title: note("core banking interface down"),
        category: RootCauseCategory::SystemFailure,
        code: RootCauseCode::parse("SYS-OUTAGE").unwrap_or_else(|e| panic!("{e}")),
        window_from: day(29),
        window_to: day(30),
        channels: vec![Channel::OnlineBanking],
        counterparty: None,
        owner: user("it-ops"),
    }
}

async fn incident_links_items_and_reports_them(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let ledger = Suspense::open(&db.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let lead = Actor::new(user("lead"));
    let mut ids: Vec<ItemId> = Vec::new();
    for (i, code) in ["SYS-OUTAGE", "SYS-OUTAGE", "SYS-INTERFACE", "CUS-REFERENCE"]
        .into_iter()
        .enumerate()
    {
        let opened = ledger
            .open_item(&lead, booking(&format!("OUT-{i}"), "100.00"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let category = if code.starts_with("SYS") {
            RootCauseCategory::SystemFailure
        } else {
            RootCauseCategory::CustomerCause
        };
        ledger
            .execute(
                &lead,
                opened.item_id,
                ItemAction::Classify {
                    category,
                    code: RootCauseCode::parse(code).unwrap_or_else(|e| panic!("{e}")),
                    reason: None,
                    attribution: Attribution::default(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(opened.item_id);
    }
    let reference = outage().reference;
    let run = |action: IncidentAction| {
        let (ledger, lead, reference) = (&ledger, &lead, &reference);
        async move { ledger.execute_incident(lead, reference, action).await }
    };
    assert!(matches!(
        run(IncidentAction::Link {
            items: vec![ids[0]],
            reason: note("booked in the outage"),
        })
        .await,
        Err(Error::IncidentRejected(IncidentError::NotOpened))
    ));
    run(IncidentAction::Open(outage()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // Suggestions: nothing is linked on its own; the outage's own code ranks first.
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let suggested = ledger
        .incident_suggestions(&lead, &reference, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<(String, u32)> = suggested
        .iter()
        .map(|c| (c.reference.clone(), c.score))
        .collect();
    assert_eq!(
        order,
        vec![
            (String::from("OUT-0"), 4),
            (String::from("OUT-1"), 4),
            (String::from("OUT-2"), 2),
            (String::from("OUT-3"), 1),
        ],
        "same code and channel, same category and channel, the channel alone"
    );
    let nothing_linked = ledger
        .incident_report(&lead, &reference)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(nothing_linked.state.linked.is_empty());

    // A supervisor links the first three at once; an unknown item refuses the whole link.
    let unknown = ItemId::for_reference(&booking("NEVER", "1.00").reference);
    assert!(matches!(
        run(IncidentAction::Link {
            items: vec![ids[0], unknown],
            reason: note("booked in the outage"),
        })
        .await,
        Err(Error::IncidentRejected(IncidentError::UnknownItem {
            index: 1,
            ..
        }))
    ));
    let state = run(IncidentAction::Link {
        items: ids[..3].to_vec(),
        reason: note("booked in the outage"),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|| panic!("opened"));
    assert_eq!(state.linked.len(), 3);
    run(IncidentAction::Unlink {
        item: ids[2],
        reason: note("an interface fault of its own"),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    // Each item carries its link in its own history, and counts under one incident only.
    let incident_of = |id: ItemId| {
        let ledger = &ledger;
        async move {
            let item = ledger.item(id).await.unwrap_or_else(|e| panic!("{e}"));
            item.and_then(|i| i.state.incident.map(|r| r.to_string()))
        }
    };
    assert_eq!(incident_of(ids[0]).await.as_deref(), Some("INC-0412"));
    assert_eq!(incident_of(ids[2]).await, None, "unlinked");
    let history: Vec<String> = ledger
        .history(ids[2])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        &history[history.len() - 2..],
        ["LinkedToIncident", "UnlinkedFromIncident"]
    );
    let other = IncidentReference::parse("INC-0413").unwrap_or_else(|e| panic!("{e}"));
    let mut second = outage();
    second.reference = other.clone();
    ledger
        .execute_incident(&lead, &other, IncidentAction::Open(second))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let taken = ledger
        .execute_incident(
            &lead,
            &other,
            IncidentAction::Link {
                items: vec![ids[2], ids[1]],
                reason: note("the second outage"),
            },
        )
        .await;
    assert!(
        matches!(
            taken,
            Err(Error::IncidentRejected(
                IncidentError::ItemInAnotherIncident { index: 1, .. }
            ))
        ),
        "{taken:?}"
    );
    assert_eq!(
        incident_of(ids[2]).await,
        None,
        "nothing of the link written"
    );
    let direct = ledger
        .execute(
            &lead,
            ids[3],
            ItemAction::LinkIncident {
                incident: other,
                reason: note("around the incident"),
            },
        )
        .await;
    assert!(
        matches!(
            direct,
            Err(Error::Rejected(
                suspense::domain::ItemError::LinkedThroughIncident
            ))
        ),
        "{direct:?}"
    );

    // Resolve one linked item: the figures show it cleared.
    ledger
        .execute(
            &lead,
            ids[0],
            ItemAction::Resolve(suspense::domain::ResolutionRequest {
                method: suspense::domain::ResolutionMethod::Refunded,
                amount: suspense::domain::Money::parse("100.00", "CNY")
                    .unwrap_or_else(|e| panic!("{e}")),
                posted_to: None,
                note: None,
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ledger.refresh().await.unwrap_or_else(|e| panic!("{e}"));
    let report = ledger
        .incident_report(&lead, &reference)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.figures.items, 2);
    assert_eq!(report.figures.resolved_items, 1);
    assert_eq!(report.figures.open_items, 1);
    assert_eq!(
        report.figures.amounts,
        vec![("CNY".into(), 2, "200.00".into(), "100.00".into())]
    );
    assert!(report.figures.median_hours_to_clear.is_some());
    let suggested: Vec<String> = ledger
        .incident_suggestions(&lead, &reference, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|c| c.reference)
        .collect();
    assert_eq!(
        suggested,
        vec!["OUT-2", "OUT-3"],
        "linked items are not suggested"
    );

    let share = ledger
        .incident_share(&lead, day(1), day(31))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let share: Vec<(String, i64, i64, String)> = share
        .into_iter()
        .map(|s| (s.category, s.items, s.in_incidents, s.share))
        .collect();
    assert_eq!(
        share,
        vec![
            ("customer_cause".into(), 1, 0, "0.0".into()),
            ("system_failure".into(), 3, 2, "66.7".into()),
        ]
    );

    run(IncidentAction::Resolve {
        note: note("interface patched"),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        run(IncidentAction::Link {
            items: vec![ids[3]],
            reason: note("late"),
        })
        .await,
        Err(Error::IncidentRejected(IncidentError::Resolved))
    ));
    assert_eq!(ledger.incidents().await.map(|all| all.len()).ok(), Some(2));
    ledger.close().await;
}
on_both_backends!(
    incident_links_items_and_reports_them,
    super::incident_links_items_and_reports_them
);

/// The same over HTTP: supervisors open, link, unlink and resolve; bad input is named and
/// writes nothing; readers see the incident with its figures and the share report.
#[tokio::test]
async fn incident_over_http() {
    use serde_json::{json, Value};
    let app = suspense_tests::app::spawn_app(Backend::Sqlite).await;
    let a = app.open_item("INC-A", "100.00").await;
    let b = app.open_item("INC-B", "50.00").await;
    let body = json!({
        "reference": "INC-0412", "title": "core banking interface down",
        "category": "system_failure", "code": "SYS-OUTAGE",
        "window_from": "2026-03-01", "window_to": "2026-03-31",
        "channels": ["online_banking"], "owner": "it-ops"
    });
    let head = app.log_head().await;
    let mut backwards = body.clone();
    backwards["window_to"] = json!("2026-02-01");
    let mut twice = body.clone();
    twice["channels"] = json!(["atm", "atm"]);
    for (bad, field) in [(backwards, "window_to"), (twice, "channels[1]")] {
        let refused = app.post("/v1/incidents", "sam", bad).await;
        assert_eq!(refused.status(), 422);
        let refused: Value = refused.json().await.unwrap_or_default();
        assert_eq!(refused["error"]["field"], field, "{refused}");
    }
    assert_eq!(app.log_head().await, head, "refusals write nothing");
    assert_eq!(
        app.post("/v1/incidents", "olivia", body.clone())
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post("/v1/incidents", "sam", body.clone())
            .await
            .status(),
        201
    );

    let suggested: Value = app
        .get("/v1/incidents/INC-0412/suggestions", "sam")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(suggested.as_array().map(Vec::len), Some(2), "{suggested}");
    assert_eq!(suggested[0]["matched"], json!(["channel"]));

    let unknown = "00000000-0000-4000-8000-000000000000";
    let refused = app
        .post(
            "/v1/incidents/INC-0412/links",
            "sam",
            json!({"items": [a, unknown], "reason": "booked in the outage"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap_or_default();
    assert_eq!(refused["error"]["field"], "items[1]", "{refused}");
    let linked: Value = app
        .post(
            "/v1/incidents/INC-0412/links",
            "sam",
            json!({"items": [a, b], "reason": "booked in the outage"}),
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(linked["linked_items"].as_array().map(Vec::len), Some(2));
    let unlinked = app
        .post(
            "/v1/incidents/INC-0412/unlink",
            "sam",
            json!({"item_id": b, "reason": "a keying error of its own"}),
        )
        .await;
    assert_eq!(unlinked.status(), 200);
    let shown: Value = app
        .get("/v1/incidents/INC-0412", "rita")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(shown["figures"]["items"], 1);
    assert_eq!(shown["figures"]["amounts"][0]["amount"], "100.00");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let suggested = app.cli(&["incidents", "suggest", "INC-0412"]);
    assert!(
        text(&suggested.stdout).contains("INC-B"),
        "the unlinked item is suggested again: {}",
        text(&suggested.stdout)
    );
    assert_eq!(
        app.post(
            "/v1/incidents/INC-0412/resolve",
            "sam",
            json!({"note": "interface patched"}),
        )
        .await
        .status(),
        200
    );
    let late = app
        .post(
            "/v1/incidents/INC-0412/links",
            "sam",
            json!({"items": [b], "reason": "late"}),
        )
        .await;
    assert_eq!(late.status(), 409);
    assert_eq!(
        app.get("/v1/incidents/INC-NONE", "rita").await.status(),
        404
    );
    // The command line: open the documented example, list, suggest.
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/incident.toml"
    );
    let opened = app.cli(&["incidents", "open", "--file", example, "--as", "lead"]);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    let listed = text(&app.cli(&["incidents", "list"]).stdout);
    assert!(
        listed.contains("INC-0412") && listed.contains("INC-2026-0412"),
        "{listed}"
    );
    let suggested = text(&app.cli(&["incidents", "suggest", "INC-0412"]).stdout);
    assert!(
        !suggested.contains("INC-B"),
        "a resolved incident suggests nothing: {suggested}"
    );
    let unknown = app.cli(&["incidents", "show", "INC-NONE"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown.stderr));

    let share: Value = app
        .get(
            "/v1/reports/incident-share?from=2026-03-01&to=2026-03-31",
            "rita",
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(share[0]["category"], "unclassified");
    assert_eq!(share[0]["items"], 2);
    assert_eq!(share[0]["in_incidents"], 1);
    assert_eq!(share[0]["share_percent"], "50.0");
}
