//! Upgrading a database that an earlier version built: a migration that changes how a read
//! model stores its rows rebuilds that model from the log, and nothing of the old layout stays.

mod common;

use std::sync::Arc;

use common::*;
use suspense_domain::RootCauseCategory;
use suspense_read_models::{PeriodKind, Projector, ReadModel, ReadModelSnapshot, RootCauseQuery};

/// The statistics as version 1001 stored them: one histogram row per key *and bucket*, and
/// each item's contributions in `stats_facts`.
const LAYOUT_1001: &str = "
    DROP TABLE resolution_time_histogram;
    CREATE TABLE resolution_time_histogram
    (
        month           date    NOT NULL,
        category        text    NOT NULL,
        code            text    NOT NULL,
        branch          text    NOT NULL,
        channel         text    NOT NULL,
        currency        text    NOT NULL,
        bucket          integer NOT NULL,
        resolved_count  bigint  NOT NULL,
        PRIMARY KEY (month, category, code, branch, channel, currency, bucket)
    );
    INSERT INTO resolution_time_histogram
        VALUES ('2026-01-01', 'customer_cause', 'CUS-REFERENCE', 'SH-001', 'counter', 'CNY', 5, 99);
    CREATE TABLE stats_facts
    (
        item_id          text    NOT NULL,
        sequence         bigint  NOT NULL,
        kind             text    NOT NULL,
        month            date    NOT NULL,
        amount_minor     bigint  NOT NULL,
        duration_bucket  integer,
        PRIMARY KEY (item_id, sequence)
    );
    ALTER TABLE root_cause_monthly DROP COLUMN open_at_end_count;
    ALTER TABLE root_cause_monthly DROP COLUMN open_at_end_minor;
    DELETE FROM _sqlx_migrations WHERE version IN (1002, 1003, 1004, 1008);
";

async fn per_cell_histograms_replace_the_old_layout_by_a_rebuild(backend: Backend) {
    let h = Harness::new(backend, "Asia/Shanghai").await;
    let classify = classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None);
    for (n, resolved_at) in [
        "2026-01-03T10:00:00Z",
        "2026-01-04T10:00:00Z",
        "2026-02-20T10:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        let reference = format!("UP-{n}");
        let id = h
            .open(
                "2026-01-02T02:00:00Z",
                &reference,
                "100.00",
                "SH-001",
                "2026-01-02",
            )
            .await;
        h.run("2026-01-02T03:00:00Z", "ops", id, classify.clone())
            .await;
        h.run(resolved_at, "ops", id, refund("100.00")).await;
    }
    h.refresh().await;
    let before = ReadModelSnapshot::take(&h.log).await.expect("snapshot");

    // The database as the previous version left it: old table, old row, caught up.
    h.db.execute(LAYOUT_1001, true)
        .await
        .expect("old layout restored");

    let upgraded = Projector::new(Arc::clone(&h.log), settings("Asia/Shanghai"))
        .await
        .expect("migrates");
    let status = upgraded.status().await.expect("status");
    let stats = status
        .iter()
        .find(|s| s.read_model == ReadModel::ROOT_CAUSE_STATISTICS.name())
        .expect("statistics status");
    assert_eq!(stats.position, 0, "the statistics are rebuilt: {status:?}");
    upgraded.catch_up().await.expect("catches up");
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        before,
        "the rebuilt statistics equal what the old layout held, in the new layout"
    );
    let report = h
        .reports()
        .root_causes(
            &RootCauseQuery::new(
                PeriodKind::Month,
                date("2026-01-01"),
                date("2026-01-01"),
                None,
            )
            .expect("query"),
        )
        .await
        .expect("report");
    let row = &report.periods[0].rows[0];
    assert_eq!(row.resolved.count, 2, "the old row's 99 is gone");
    // Resolved 42 and 66 hours after the start of the booking date in Shanghai (16:00 UTC
    // the day before); reported as the hour bucket's upper bound.
    assert_eq!(row.median_hours_to_resolve, Some(43));
    assert_eq!(row.p90_hours_to_resolve, Some(67));
    if let suspense_database::Pool::Postgres(pool) = h.log.pool() {
        assert_eq!(
            tables_with_room_for_updates(pool).await,
            [
                "item_register",
                "open_balance",
                "resolution_time_histogram",
                "root_cause_monthly",
                "root_cause_open"
            ],
            "migrations 1004 and 1006 leave room on the pages of the rows updated in place"
        );
    }
}

/// PostgreSQL tables created or altered with `fillfactor = 70`.
async fn tables_with_room_for_updates(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT relname::text FROM pg_class
          WHERE relkind = 'r' AND 'fillfactor=70' = ANY (reloptions) ORDER BY relname",
    )
    .fetch_all(pool)
    .await
    .expect("catalogue reads")
}
on_both_backends!(
    per_cell_histograms_replace_the_old_layout_by_a_rebuild,
    super::per_cell_histograms_replace_the_old_layout_by_a_rebuild
);

/// Items open at each month's end are added to the monthly rows by migration 1008, which
/// empties the statistics: the projector rebuilds them with the stock filled in.
async fn month_end_stock_is_filled_in_by_a_rebuild(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let classify = classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None);
    for (n, booked) in ["2026-01-02", "2026-02-02", "2026-03-02"]
        .into_iter()
        .enumerate()
    {
        let id = h
            .open(
                &format!("{booked}T02:00:00Z"),
                &format!("UP-{n}"),
                "100.00",
                "SH-001",
                booked,
            )
            .await;
        h.run(&format!("{booked}T03:00:00Z"), "ops", id, classify.clone())
            .await;
    }
    h.refresh().await;
    let before = ReadModelSnapshot::take(&h.log).await.expect("snapshot");

    h.db.execute(
        "ALTER TABLE root_cause_monthly DROP COLUMN open_at_end_count;
         ALTER TABLE root_cause_monthly DROP COLUMN open_at_end_minor;
         ALTER TABLE resolution_time_histogram DROP COLUMN median_hours;
         ALTER TABLE resolution_time_histogram DROP COLUMN p90_hours;
         DELETE FROM _sqlx_migrations WHERE version = 1008;",
        true,
    )
    .await
    .expect("layout before 1008 restored");
    let upgraded = Projector::new(Arc::clone(&h.log), settings("UTC"))
        .await
        .expect("migrates");
    upgraded.catch_up().await.expect("catches up");
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        before,
        "the rebuilt statistics hold the stock as a model kept since 1008 does"
    );
    assert_eq!(
        month_end_stock_mismatches(&h.log).await,
        Vec::<String>::new()
    );
    let report = h
        .reports()
        .root_causes(
            &RootCauseQuery::new(
                PeriodKind::Month,
                date("2026-02-01"),
                date("2026-02-01"),
                None,
            )
            .expect("query"),
        )
        .await
        .expect("report");
    assert_eq!(report.periods[0].rows[0].open_at_end.count, 2);
}
on_both_backends!(
    month_end_stock_is_filled_in_by_a_rebuild,
    super::month_end_stock_is_filled_in_by_a_rebuild
);

/// Migration 1009 gives PostgreSQL's item id columns byte order (collation "C") over the rows
/// already there; the register still joins the log's events, whose ids are in the database's
/// collation.
#[tokio::test]
async fn item_ids_take_byte_order_on_postgres_and_still_join_the_log() {
    let h = Harness::new(Backend::Postgres, "UTC").await;
    for reference in ["C-1", "C-2", "C-3"] {
        let id = h
            .open(
                "2026-01-02T02:00:00Z",
                reference,
                "100.00",
                "SH-001",
                "2026-01-02",
            )
            .await;
        h.run(
            "2026-01-03T02:00:00Z",
            "ops",
            id,
            classify(RootCauseCategory::CustomerCause, "CUS-REFERENCE", None),
        )
        .await;
    }
    h.refresh().await;
    let before = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    h.db.execute(
        "ALTER TABLE item_register ALTER COLUMN item_id TYPE text COLLATE \"default\";
         ALTER TABLE stats_items ALTER COLUMN item_id TYPE text COLLATE \"default\";
         ALTER TABLE balance_movements ALTER COLUMN item_id TYPE text COLLATE \"default\";
         DELETE FROM _sqlx_migrations WHERE version = 1009;",
        true,
    )
    .await
    .expect("layout before 1009 restored");
    let suspense_database::Pool::Postgres(pool) = h.log.pool() else {
        panic!("a PostgreSQL harness");
    };
    assert_eq!(item_id_collations(pool).await, ["", "", ""]);

    Projector::new(Arc::clone(&h.log), settings("UTC"))
        .await
        .expect("migrates");
    assert_eq!(item_id_collations(pool).await, ["C", "C", "C"]);
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        before,
        "the rows stay as they were"
    );
    let joined: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_register r
           JOIN events e ON e.aggregate_id = r.item_id AND e.sequence = 1
          WHERE r.item_id >= e.aggregate_id",
    )
    .fetch_one(pool)
    .await
    .expect("a join with the log's ids runs");
    assert_eq!(joined, 3);
}

/// The collation of `item_id` in `balance_movements`, `item_register` and `stats_items`
/// ("" for the database's default).
async fn item_id_collations(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT coalesce(collation_name::text, '') FROM information_schema.columns
          WHERE table_schema = current_schema() AND column_name = 'item_id'
            AND table_name IN ('balance_movements', 'item_register', 'stats_items')
          ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .expect("catalogue reads")
}
