//! Transaction volumes per branch and month: reference data for the suspense rate (掛賬率),
//! recorded by people, not derived from the log.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use suspense_database::{Pool, Statement};
use suspense_domain::{BranchCode, InvalidInput, UserId};

use super::{ReportError, Reports};
use crate::calendar::month_start;

/// Parameters: branch, month, transactions, recorded at, recorded by.
const RECORD_VOLUME: &str =
    "INSERT INTO transaction_volumes (branch, month, transactions, recorded_at, recorded_by)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (branch, month) DO UPDATE SET transactions = excluded.transactions,
        recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by";

#[derive(sqlx::FromRow)]
struct VolumeRow {
    branch: String,
    transactions: i64,
}

impl Reports<'_> {
    /// Records how many transactions a branch processed in a month (any day of it), for the
    /// suspense rate. Reference data, not an event: it survives read-model rebuilds; a second
    /// call for the same branch and month replaces the figure and records who changed it.
    pub async fn record_volume(
        &self,
        branch: &BranchCode,
        month: NaiveDate,
        transactions: u64,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<(), ReportError> {
        let transactions = i64::try_from(transactions)
            .map_err(|_| InvalidInput::new("transactions", "is too large"))?;
        let mut statement = Statement::new(RECORD_VOLUME);
        statement
            .bind(branch.as_str())
            .bind(month_start(month))
            .bind(transactions)
            .bind(at)
            .bind(by.as_str());
        statement.execute(self.pool).await?;
        Ok(())
    }
}

/// Each branch's transactions in the months `from..to` (only `branch`'s, if given).
pub(super) async fn volumes(
    pool: &Pool,
    from: NaiveDate,
    to: NaiveDate,
    branch: Option<&str>,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut q = Statement::new(
        "SELECT branch, CAST(SUM(transactions) AS BIGINT) AS transactions
           FROM transaction_volumes WHERE month >= ",
    );
    q.push_param(from).push(" AND month < ").push_param(to);
    if let Some(branch) = branch {
        q.push(" AND branch = ").push_param(branch);
    }
    q.push(" GROUP BY branch");
    let rows: Vec<VolumeRow> = q.fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|v| (v.branch, v.transactions))
        .collect())
}
