//! Every derived row of every read model in a fixed order: to check that a model kept
//! incrementally equals one rebuilt from scratch (tests, and operators verifying a rebuild).
//! Rows whose counters are all zero are left out: they carry no information, and whether one
//! exists depends on how events were batched.

use suspense_store::EventLog;

use crate::register::RegisterRow;
use crate::statistics::StatsItem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadModelSnapshot {
    pub register: Vec<RegisterRow>,
    pub rows: Vec<String>,
}

// Fields are compared through their Debug text.
#[allow(dead_code)]
#[derive(Debug, sqlx::FromRow)]
struct Monthly {
    month: chrono::NaiveDate,
    category: String,
    code: String,
    branch: String,
    channel: String,
    currency: String,
    opened_count: i64,
    opened_minor: i64,
    resolved_count: i64,
    resolved_minor: i64,
    reopened_count: i64,
    reopened_minor: i64,
    escalations: i64,
    restated_items: i64,
    open_at_end_count: i64,
    open_at_end_minor: i64,
}

// Fields are compared through their Debug text.
#[allow(dead_code)]
#[derive(Debug, sqlx::FromRow)]
struct Open {
    category: String,
    code: String,
    branch: String,
    channel: String,
    currency: String,
    open_count: i64,
    open_minor: i64,
}

// Fields are compared through their Debug text.
#[allow(dead_code)]
#[derive(Debug, sqlx::FromRow)]
struct Histogram {
    month: chrono::NaiveDate,
    category: String,
    code: String,
    branch: String,
    channel: String,
    currency: String,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
    resolved_count: i64,
    median_hours: Option<i64>,
    p90_hours: Option<i64>,
}

// Fields are compared through their Debug text.
#[allow(dead_code)]
#[derive(Debug, sqlx::FromRow)]
struct Balance {
    currency: String,
    open_items: i64,
    outstanding_minor: i64,
}

// Fields are compared through their Debug text.
#[allow(dead_code)]
#[derive(Debug, sqlx::FromRow)]
struct MovementRow {
    item_id: String,
    sequence: i64,
    on_date: chrono::NaiveDate,
    outstanding_delta_minor: i64,
    open_delta: i32,
}

macro_rules! snapshot_sql {
    ($module:ident, $db:ty) => {
        mod $module {
            use super::*;

            pub(super) async fn take(pool: &sqlx::Pool<$db>) -> Result<ReadModelSnapshot, sqlx::Error> {
                let register: Vec<RegisterRow> =
                    sqlx::query_as("SELECT * FROM item_register ORDER BY item_id").fetch_all(pool).await?;
                let mut rows = Vec::new();
                let monthly: Vec<Monthly> = sqlx::query_as(
                    "SELECT * FROM root_cause_monthly
                      WHERE opened_count <> 0 OR opened_minor <> 0 OR resolved_count <> 0 OR resolved_minor <> 0
                         OR reopened_count <> 0 OR reopened_minor <> 0 OR escalations <> 0 OR restated_items <> 0
                         OR open_at_end_count <> 0 OR open_at_end_minor <> 0
                      ORDER BY month, category, code, branch, channel, currency",
                )
                .fetch_all(pool)
                .await?;
                rows.extend(monthly.iter().map(|r| format!("{r:?}")));
                let open: Vec<Open> = sqlx::query_as(
                    "SELECT * FROM root_cause_open WHERE open_count <> 0 OR open_minor <> 0
                      ORDER BY category, code, branch, channel, currency",
                )
                .fetch_all(pool)
                .await?;
                rows.extend(open.iter().map(|r| format!("{r:?}")));
                let histogram: Vec<Histogram> = sqlx::query_as(
                    "SELECT * FROM resolution_time_histogram WHERE resolved_count <> 0
                      ORDER BY month, category, code, branch, channel, currency",
                )
                .fetch_all(pool)
                .await?;
                rows.extend(histogram.iter().map(|r| format!("{r:?}")));
                let balances: Vec<Balance> = sqlx::query_as(
                    "SELECT * FROM open_balance WHERE open_items <> 0 OR outstanding_minor <> 0 ORDER BY currency",
                )
                .fetch_all(pool)
                .await?;
                rows.extend(balances.iter().map(|r| format!("{r:?}")));
                let movements: Vec<MovementRow> =
                    sqlx::query_as("SELECT * FROM balance_movements ORDER BY item_id, sequence")
                        .fetch_all(pool)
                        .await?;
                rows.extend(movements.iter().map(|r| format!("{r:?}")));
                let items: Vec<StatsItem> =
                    sqlx::query_as("SELECT * FROM stats_items ORDER BY item_id").fetch_all(pool).await?;
                rows.extend(items.iter().map(|r| format!("{r:?}")));
                Ok(ReadModelSnapshot { register, rows })
            }
        }
    };
}

snapshot_sql!(sqlite, sqlx::Sqlite);
snapshot_sql!(postgres, sqlx::Postgres);

impl ReadModelSnapshot {
    pub async fn take(log: &EventLog) -> Result<Self, sqlx::Error> {
        on_backend!(log.pool(), [] take())
    }
}
