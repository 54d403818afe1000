//! Reports as known at a past recorded time: later events are ignored, including ones
//! backdated into the reported period; the current report shows the restatement.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use suspense_domain::RootCauseCategory;
use suspense_read_models::{PeriodKind, Replica, RootCauseQuery};

async fn an_issued_report_can_be_reproduced_byte_for_byte(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let march = RootCauseQuery::new(
        PeriodKind::Month,
        date("2026-03-01"),
        date("2026-03-31"),
        None,
    )
    .expect("query");
    let a = h
        .open(
            "2026-03-02T02:00:00Z",
            "KA-1",
            "100.00",
            "SH-001",
            "2026-03-02",
        )
        .await;
    let b = h
        .open(
            "2026-03-03T02:00:00Z",
            "KA-2",
            "250.00",
            "BJ-001",
            "2026-03-03",
        )
        .await;
    h.run(
        "2026-03-04T02:00:00Z",
        "ops",
        a,
        classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
    )
    .await;
    h.run(
        "2026-03-04T03:00:00Z",
        "ops",
        b,
        classify(RootCauseCategory::SystemFailure, "SYS-OUTAGE", None),
    )
    .await;
    h.run("2026-03-20T03:00:00Z", "ops", b, refund("250")).await;
    h.refresh().await;
    let issued = serde_json::to_string(&h.reports().root_causes(&march).await.expect("report"))
        .expect("json");
    let issued_at = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;

    // After issue: a backdated March booking, a reclassification restating March, April work.
    h.open(
        "2026-04-02T02:00:00Z",
        "KA-3",
        "75.50",
        "SH-001",
        "2026-03-15",
    )
    .await;
    h.run(
        "2026-04-03T02:00:00Z",
        "lead",
        a,
        classify(
            RootCauseCategory::OperationalError,
            "OP-KEYING",
            Some("wrong account keyed"),
        ),
    )
    .await;
    h.run("2026-04-10T02:00:00Z", "ops", a, refund("100")).await;
    h.refresh().await;

    let current = h.reports().root_causes(&march).await.expect("report");
    assert_eq!(
        current.periods[0].restated_items, 1,
        "the current report shows the restatement"
    );
    assert_ne!(serde_json::to_string(&current).expect("json"), issued);

    let replica = Replica::as_known_at(&h.log, *h.projector.settings(), issued_at)
        .await
        .expect("replica");
    let reproduced =
        serde_json::to_string(&replica.reports().root_causes(&march).await.expect("report"))
            .expect("json");
    assert_eq!(
        reproduced, issued,
        "as known at the issue time, byte for byte"
    );

    // And as known now, the replica agrees with the live read models.
    let now = Replica::as_known_at(&h.log, *h.projector.settings(), Utc::now())
        .await
        .expect("replica");
    assert_eq!(
        serde_json::to_string(&now.reports().root_causes(&march).await.expect("report"))
            .expect("json"),
        serde_json::to_string(&current).expect("json")
    );
}
on_both_backends!(
    an_issued_report_can_be_reproduced_byte_for_byte,
    super::an_issued_report_can_be_reproduced_byte_for_byte
);

/// An export carries everything needed to recompute the reports with no database.
async fn an_export_recomputes_the_same_report(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let id = h
        .open(
            "2026-03-02T02:00:00Z",
            "EX-1",
            "10.00",
            "SH-001",
            "2026-03-02",
        )
        .await;
    h.run(
        "2026-03-04T02:00:00Z",
        "ops",
        id,
        classify(RootCauseCategory::ProcessGap, "PRC-RULE-GAP", None),
    )
    .await;
    h.run("2026-03-05T02:00:00Z", "ops", id, clear("C-1", "4"))
        .await;
    h.refresh().await;
    h.log.extend_chain().await.expect("chains");
    let export = h.log.export_after(0, 1_000).await.expect("exports");
    let replica = Replica::from_export(export.clone(), *h.projector.settings())
        .await
        .expect("replica");
    let query = RootCauseQuery::new(
        PeriodKind::Quarter,
        date("2026-01-01"),
        date("2026-03-31"),
        None,
    )
    .expect("query");
    assert_eq!(
        replica.reports().root_causes(&query).await.expect("report"),
        h.reports().root_causes(&query).await.expect("report")
    );
    // The replica's own chain reproduces the original links: the export is faithful.
    replica.log().extend_chain().await.expect("chains");
    let copied = replica.log().export_after(0, 1_000).await.expect("exports");
    let links = |events: &[suspense_store::ExportedEvent]| {
        events.iter().map(|e| e.link.clone()).collect::<Vec<_>>()
    };
    assert_eq!(links(&copied), links(&export));
}
on_both_backends!(
    an_export_recomputes_the_same_report,
    super::an_export_recomputes_the_same_report
);
