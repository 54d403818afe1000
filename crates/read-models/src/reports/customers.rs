//! The customer side of the statistics: per period, cause, branch and currency, the items whose
//! customer impact began, fees customers incurred and the refunds of them, complaints received
//! and closed, and reminders fallen due, sent and failed. Read from the monthly cells the
//! root-cause report reads, so the two agree, and restated with them when a cause changes.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense_domain::BranchCode;

use super::root_causes::FlowKey;
use super::{format_minor_units, ReportError, Reports, RootCauseQuery};
use crate::calendar::Period;
use crate::statistics::CellCounts;

/// A key of a customer row: cause, branch and currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CustomerKey {
    pub category: String,
    pub code: String,
    pub branch: String,
    pub currency: String,
}

const CUSTOMER_KEY_COLUMNS: [&str; 4] = ["category", "code", "branch", "currency"];

impl FlowKey for CustomerKey {
    const COLUMNS: &'static [&'static str] = &CUSTOMER_KEY_COLUMNS;

    fn from_values(values: Vec<String>) -> Self {
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or_default();
        Self {
            category: next(),
            code: next(),
            branch: next(),
            currency: next(),
        }
    }
}

/// One row of the customer report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    #[serde(flatten)]
    pub key: CustomerKey,
    /// Items whose customer impact began in the period (a customer, held funds, or a fee).
    pub items_with_customer_impact: i64,
    /// Exact decimals in the row's currency.
    pub fees_incurred: String,
    pub fees_refunded: String,
    pub complaints_received: i64,
    pub complaints_closed: i64,
    pub reminders_due: i64,
    pub reminders_sent: i64,
    pub reminders_failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPeriod {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    pub rows: Vec<CustomerRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerReport {
    pub time_zone: String,
    pub periods: Vec<CustomerPeriod>,
}

impl Reports<'_> {
    /// The customer statistics per period (the same periods and branch filter as the
    /// root-cause report); rows with nothing on the customer side are left out.
    pub async fn customer_statistics(
        &self,
        query: &RootCauseQuery,
    ) -> Result<CustomerReport, ReportError> {
        let scope = self.branches_for(query.branch.as_ref().map(BranchCode::as_str));
        let branch = scope.as_deref();
        let periods = Period::range(
            query.period,
            query.from,
            query.to,
            RootCauseQuery::MAX_PERIODS,
        );
        let flows = futures::future::try_join_all(periods.iter().map(|p| {
            self.flows::<CustomerKey>(
                p.start,
                p.end(),
                branch,
                &CUSTOMER_KEY_COLUMNS,
                &CUSTOMER_KEY_COLUMNS,
            )
        }))
        .await?;
        let periods = periods
            .iter()
            .zip(flows)
            .map(|(period, flows)| {
                let mut rows: Vec<CustomerRow> = flows
                    .into_iter()
                    .filter(|(_, (counts, _))| has_customer_side(counts))
                    .map(|(key, (c, _))| CustomerRow {
                        items_with_customer_impact: c.customer_impacted,
                        fees_incurred: format_minor_units(c.fees_incurred_minor, &key.currency),
                        fees_refunded: format_minor_units(c.fees_refunded_minor, &key.currency),
                        complaints_received: c.complaints_received,
                        complaints_closed: c.complaints_closed,
                        reminders_due: c.reminders_due,
                        reminders_sent: c.reminders_sent,
                        reminders_failed: c.reminders_failed,
                        key,
                    })
                    .collect();
                rows.sort_by(|a, b| a.key.cmp(&b.key));
                CustomerPeriod {
                    period: period.label(),
                    start: period.start,
                    end: period.end(),
                    rows,
                }
            })
            .collect();
        Ok(CustomerReport {
            time_zone: self.calendar.time_zone().name().to_owned(),
            periods,
        })
    }
}

/// Whether a cell's flows hold anything of the customer side.
fn has_customer_side(counts: &CellCounts) -> bool {
    [
        counts.customer_impacted,
        counts.fees_incurred_minor,
        counts.fees_refunded_minor,
        counts.complaints_received,
        counts.complaints_closed,
        counts.reminders_due,
        counts.reminders_sent,
        counts.reminders_failed,
    ]
    .iter()
    .any(|value| *value != 0)
}
