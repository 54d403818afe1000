//! Every derived row of every read model in a fixed order: to check that a model kept
//! incrementally equals one rebuilt from scratch (tests, and operators verifying a rebuild).
//! Rows whose counters are all zero are left out: they carry no information, and whether one
//! exists depends on how events were batched.

use suspense_database::{Pool, Statement};
use suspense_store::EventLog;

use crate::register::{AgingStockRow, RegisterRow};
use crate::statistics::columns::{MonthlyRow, CELL_COLUMNS, MONTHLY_COLUMNS, MONTHLY_NOT_ALL_ZERO};
use crate::statistics::StatsItem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadModelSnapshot {
    pub register: Vec<RegisterRow>,
    pub rows: Vec<String>,
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

const REGISTER: &str = "SELECT * FROM item_register ORDER BY item_id";

const OPEN: &str = "SELECT * FROM root_cause_open WHERE open_count <> 0 OR open_minor <> 0
  ORDER BY category, code, branch, channel, currency";

const HISTOGRAM: &str = "SELECT * FROM resolution_time_histogram WHERE resolved_count <> 0
  ORDER BY month, category, code, branch, channel, currency";

const BALANCES: &str = "SELECT * FROM open_balance WHERE open_items <> 0 OR outstanding_minor <> 0
  ORDER BY currency";

const MOVEMENTS: &str = "SELECT * FROM balance_movements ORDER BY item_id, sequence";

const AGING: &str = "SELECT * FROM aging_month_end
  WHERE open_count <> 0 OR outstanding_minor <> 0
  ORDER BY month, branch, category, currency, booked_on, value_date";

const STATS_ITEMS: &str = "SELECT * FROM stats_items ORDER BY item_id";

/// The rows of `sql`, each as its Debug text.
async fn rows_of<T>(pool: &Pool, sql: &str) -> Result<Vec<String>, sqlx::Error>
where
    T: std::fmt::Debug
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let rows: Vec<T> = Statement::new(sql).fetch_all(pool).await?;
    Ok(rows.iter().map(|row| format!("{row:?}")).collect())
}

impl ReadModelSnapshot {
    pub async fn take(log: &EventLog) -> Result<Self, sqlx::Error> {
        let pool = log.pool();
        let register: Vec<RegisterRow> = Statement::new(REGISTER).fetch_all(pool).await?;
        let monthly = format!(
            "SELECT {} FROM root_cause_monthly WHERE {} ORDER BY month, {}",
            *MONTHLY_COLUMNS,
            *MONTHLY_NOT_ALL_ZERO,
            CELL_COLUMNS.join(", ")
        );
        let mut rows = rows_of::<MonthlyRow>(pool, &monthly).await?;
        rows.extend(rows_of::<Open>(pool, OPEN).await?);
        rows.extend(rows_of::<Histogram>(pool, HISTOGRAM).await?);
        rows.extend(rows_of::<Balance>(pool, BALANCES).await?);
        rows.extend(rows_of::<MovementRow>(pool, MOVEMENTS).await?);
        rows.extend(rows_of::<StatsItem>(pool, STATS_ITEMS).await?);
        rows.extend(rows_of::<AgingStockRow>(pool, AGING).await?);
        Ok(ReadModelSnapshot { register, rows })
    }
}
