//! Items by whom or what their cause is attributed to, over the items booked in a period as the
//! register holds them now: per responsible staff member (operational errors, for assessment,
//! 考核) and per counterparty (external causes, to manage the bank's partners). Ranked by
//! items, amounts per currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense_database::Statement;
use suspense_domain::InvalidInput;

use super::{format_minor_units, ReportError, Reports};

/// What a cause is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributedTo {
    /// The staff member responsible for an operational error.
    Responsible,
    /// The counterparty behind an external cause.
    Counterparty,
}

impl AttributedTo {
    fn column(self) -> &'static str {
        match self {
            Self::Responsible => "responsible",
            Self::Counterparty => "counterparty",
        }
    }
}

/// Items booked from `from` to `to` (both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributionQuery {
    pub attributed_to: AttributedTo,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl AttributionQuery {
    pub fn new(
        attributed_to: AttributedTo,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Self, InvalidInput> {
        if to < from {
            return Err(InvalidInput::in_context("to", "must not be before from"));
        }
        Ok(Self {
            attributed_to,
            from,
            to,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionReport {
    pub attributed_to: AttributedTo,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ranked by items, most first (ties by name).
    pub rows: Vec<AttributionRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionRow {
    /// The staff member or counterparty.
    pub name: String,
    pub items: i64,
    pub open_items: i64,
    /// Root-cause codes with their item counts, most first.
    pub codes: Vec<(String, i64)>,
    /// Per currency, in code order.
    pub amounts: Vec<AttributedAmounts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributedAmounts {
    pub currency: String,
    pub items: i64,
    /// Booked amounts.
    pub amount: String,
    /// Still outstanding.
    pub outstanding: String,
}

#[derive(sqlx::FromRow)]
struct Cell {
    name: String,
    code: String,
    currency: String,
    items: i64,
    open_items: i64,
    amount_minor: i64,
    outstanding_minor: i64,
}

impl Reports<'_> {
    /// Items booked in the query's period whose cause is attributed now, per staff member or
    /// counterparty.
    pub async fn attribution(
        &self,
        query: &AttributionQuery,
    ) -> Result<AttributionReport, ReportError> {
        let column = query.attributed_to.column();
        let mut q = Statement::new(format!(
            "SELECT {column} AS name, COALESCE(code, '') AS code, currency,
                    CAST(COUNT(*) AS BIGINT) AS items,
                    CAST(SUM(CASE WHEN status = 'resolved' THEN 0 ELSE 1 END) AS BIGINT)
                        AS open_items,
                    CAST(SUM(amount_minor) AS BIGINT) AS amount_minor,
                    CAST(SUM(outstanding_minor) AS BIGINT) AS outstanding_minor
               FROM item_register WHERE {column} IS NOT NULL AND booked_on >= "
        ));
        q.push_param(query.from)
            .push(" AND booked_on <= ")
            .push_param(query.to);
        self.push_scope(&mut q, "branch");
        q.push(&format!(" GROUP BY {column}, code, currency"));
        let cells: Vec<Cell> = q.fetch_all(self.pool).await?;
        Ok(AttributionReport {
            attributed_to: query.attributed_to,
            from: query.from,
            to: query.to,
            rows: rank(cells),
        })
    }
}

/// Sums the cells per name: items and codes across currencies, amounts per currency.
fn rank(cells: Vec<Cell>) -> Vec<AttributionRow> {
    #[derive(Default)]
    struct Sum {
        items: i64,
        open_items: i64,
        codes: BTreeMap<String, i64>,
        amounts: BTreeMap<String, (i64, i64, i64)>,
    }
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    for cell in cells {
        let sum = sums.entry(cell.name).or_default();
        sum.items += cell.items;
        sum.open_items += cell.open_items;
        *sum.codes.entry(cell.code).or_default() += cell.items;
        let amounts = sum.amounts.entry(cell.currency).or_default();
        amounts.0 += cell.items;
        amounts.1 += cell.amount_minor;
        amounts.2 += cell.outstanding_minor;
    }
    let mut rows: Vec<AttributionRow> = sums
        .into_iter()
        .map(|(name, sum)| {
            let mut codes: Vec<(String, i64)> = sum.codes.into_iter().collect();
            codes.sort_by_key(|(_, items)| std::cmp::Reverse(*items));
            AttributionRow {
                name,
                items: sum.items,
                open_items: sum.open_items,
                codes,
                amounts: sum
                    .amounts
                    .into_iter()
                    .map(
                        |(currency, (items, amount, outstanding))| AttributedAmounts {
                            amount: format_minor_units(amount, &currency),
                            outstanding: format_minor_units(outstanding, &currency),
                            currency,
                            items,
                        },
                    )
                    .collect(),
            }
        })
        .collect();
    // Stable: equal counts stay in name order.
    rows.sort_by_key(|row| std::cmp::Reverse(row.items));
    rows
}
