//! The open balance: funds occupied per currency, and its tie-out with the register.

use serde::{Deserialize, Serialize};
use suspense_database::Statement;

use super::{format_minor_units, ReportError, Reports};

const OPEN_BALANCE: &str =
    "SELECT currency, open_items, outstanding_minor FROM open_balance ORDER BY currency";

const REGISTER_BALANCE: &str = "SELECT currency,
        CAST(SUM(CASE WHEN status = 'resolved' THEN 0 ELSE 1 END) AS BIGINT) AS open_items,
        CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
   FROM item_register WHERE 1 = 1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBalance {
    pub currency: String,
    pub open_items: i64,
    pub outstanding: String,
}

#[derive(sqlx::FromRow)]
struct BalanceRow {
    currency: String,
    open_items: i64,
    outstanding_minor: i64,
}

impl Reports<'_> {
    /// Funds occupied: open items and outstanding amount per currency (the `open_balance`
    /// table, kept incrementally).
    pub async fn open_balance(&self) -> Result<Vec<OpenBalance>, ReportError> {
        // The table is kept per currency only: within some branches, the register's sums.
        if self.is_scoped() {
            return self.register_balance().await;
        }
        Ok(balances(
            Statement::new(OPEN_BALANCE).fetch_all(self.pool).await?,
        ))
    }

    /// The same figures summed over the item register: equal to [`Reports::open_balance`]
    /// whenever both are at the same log position (the tie-out).
    pub async fn register_balance(&self) -> Result<Vec<OpenBalance>, ReportError> {
        let mut q = Statement::new(REGISTER_BALANCE);
        self.push_scope(&mut q, "branch");
        q.push(" GROUP BY currency ORDER BY currency");
        Ok(balances(q.fetch_all(self.pool).await?))
    }
}

fn balances(rows: Vec<BalanceRow>) -> Vec<OpenBalance> {
    rows.into_iter()
        .filter(|r| r.open_items != 0 || r.outstanding_minor != 0)
        .map(|r| OpenBalance {
            outstanding: format_minor_units(r.outstanding_minor, &r.currency),
            currency: r.currency,
            open_items: r.open_items,
        })
        .collect()
}
