//! Items by the staff member or counterparty their cause is attributed to
//! (`GET /v1/reports/accountability`, `GET /v1/reports/counterparties`).

use crate::openapi::wire;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense_domain::InvalidInput;
use suspense_read_models::{AttributedTo, AttributionQuery, AttributionReport};

use super::query::required;
use super::{date, fresh, ReportFormat};

/// The query string of both attribution reports.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributionParams {
    #[param(value_type = wire::Date, required = true)]
    pub from: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub to: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
}

pub struct AttributionRequest {
    pub query: AttributionQuery,
    pub format: Option<ReportFormat>,
    pub fresh: bool,
}

impl AttributionParams {
    pub fn parse(self, attributed_to: AttributedTo) -> Result<AttributionRequest, InvalidInput> {
        let from = required("from", self.from.as_deref())?;
        let to = required("to", self.to.as_deref())?;
        Ok(AttributionRequest {
            query: AttributionQuery::new(attributed_to, date("from", from)?, date("to", to)?)?,
            format: ReportFormat::parse(self.format.as_deref())?,
            fresh: fresh(self.fresh.as_deref())?,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionReportView {
    /// `responsible` or `counterparty`.
    pub attributed_to: &'static str,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ranked by items, most first.
    pub rows: Vec<AttributionRowView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributionRowView {
    /// The staff member or counterparty code.
    pub name: String,
    pub items: i64,
    pub open_items: i64,
    pub codes: Vec<CodeCountView>,
    pub amounts: Vec<AttributedAmountsView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodeCountView {
    pub code: String,
    pub items: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributedAmountsView {
    pub currency: String,
    pub items: i64,
    pub amount: String,
    pub outstanding: String,
}

impl From<&AttributionReport> for AttributionReportView {
    fn from(report: &AttributionReport) -> Self {
        Self {
            attributed_to: match report.attributed_to {
                AttributedTo::Responsible => "responsible",
                AttributedTo::Counterparty => "counterparty",
            },
            from: report.from,
            to: report.to,
            rows: report
                .rows
                .iter()
                .map(|row| AttributionRowView {
                    name: row.name.clone(),
                    items: row.items,
                    open_items: row.open_items,
                    codes: row
                        .codes
                        .iter()
                        .map(|(code, items)| CodeCountView {
                            code: code.clone(),
                            items: *items,
                        })
                        .collect(),
                    amounts: row
                        .amounts
                        .iter()
                        .map(|a| AttributedAmountsView {
                            currency: a.currency.clone(),
                            items: a.items,
                            amount: a.amount.clone(),
                            outstanding: a.outstanding.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One line per name and currency; `items` and `open_items` are the name's across currencies.
pub fn attribution_csv(report: &AttributionReportView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        report.attributed_to,
        "rank",
        "items",
        "open_items",
        "currency",
        "currency_items",
        "amount",
        "outstanding",
        "codes",
    ])?;
    for (rank, row) in report.rows.iter().enumerate() {
        let codes = row
            .codes
            .iter()
            .map(|c| format!("{}:{}", c.code, c.items))
            .collect::<Vec<_>>()
            .join(" ");
        for amounts in &row.amounts {
            out.write_record([
                row.name.as_str(),
                &(rank + 1).to_string(),
                &row.items.to_string(),
                &row.open_items.to_string(),
                &amounts.currency,
                &amounts.items.to_string(),
                &amounts.amount,
                &amounts.outstanding,
                &codes,
            ])?;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
