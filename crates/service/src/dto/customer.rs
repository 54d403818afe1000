//! The customer side of an item on the wire: the bodies of its commands and its view.

use crate::openapi::wire;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use suspense_domain::{
    ComplaintChannel, ComplaintReference, CustomerReference, CustomerSide, FeeReference,
    InvalidInput, ItemAction, Money, Note, ReminderChannel, ReminderOutcome,
};

use super::{instant, MoneyView};

/// `POST /v1/items/{id}/customer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CustomerImpact)]
#[serde(deny_unknown_fields)]
pub struct CustomerImpactBody {
    /// The bank's pseudonymous customer reference; left as recorded when absent.
    #[schema(value_type = Option<wire::CustomerReference>)]
    pub customer: Option<String>,
    pub funds_held: bool,
}

impl CustomerImpactBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::RecordCustomerImpact {
            customer: self
                .customer
                .as_deref()
                .map(CustomerReference::parse)
                .transpose()?,
            funds_held: self.funds_held,
        })
    }
}

/// `POST /v1/items/{id}/fees` and `/fees/refunds`: a fee, or a refund of it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Fee)]
#[serde(deny_unknown_fields)]
pub struct FeeBody {
    #[schema(value_type = wire::Reference)]
    pub fee_reference: String,
    #[schema(value_type = wire::Amount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
}

impl FeeBody {
    fn parts(self) -> Result<(FeeReference, Money), InvalidInput> {
        Ok((
            FeeReference::parse(&self.fee_reference)?,
            Money::parse(&self.amount, &self.currency)?,
        ))
    }

    pub fn incurred(self) -> Result<ItemAction, InvalidInput> {
        let (fee_reference, amount) = self.parts()?;
        Ok(ItemAction::RecordFee {
            fee_reference,
            amount,
        })
    }

    pub fn refund(self) -> Result<ItemAction, InvalidInput> {
        let (fee_reference, amount) = self.parts()?;
        Ok(ItemAction::RefundFee {
            fee_reference,
            amount,
        })
    }
}

/// `POST /v1/items/{id}/complaints`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Complaint)]
#[serde(deny_unknown_fields)]
pub struct ComplaintBody {
    #[schema(value_type = wire::ComplaintReference)]
    pub complaint: String,
    #[schema(value_type = wire::Instant)]
    pub received_at: String,
    #[schema(value_type = wire::ComplaintChannel)]
    pub channel: String,
}

impl ComplaintBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::RecordComplaint {
            complaint: ComplaintReference::parse(&self.complaint)?,
            received_at: instant("received_at", &self.received_at)?,
            channel: ComplaintChannel::parse(&self.channel)?,
        })
    }
}

/// `POST /v1/items/{id}/complaints/close`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CloseComplaint)]
#[serde(deny_unknown_fields)]
pub struct CloseComplaintBody {
    #[schema(value_type = wire::ComplaintReference)]
    pub complaint: String,
    #[schema(value_type = wire::Instant)]
    pub closed_at: String,
    #[schema(value_type = Option<wire::Text>)]
    pub note: Option<String>,
}

impl CloseComplaintBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::CloseComplaint {
            complaint: ComplaintReference::parse(&self.complaint)?,
            closed_at: instant("closed_at", &self.closed_at)?,
            note: self
                .note
                .as_deref()
                .map(|n| Note::parse(n).map_err(|e| e.for_field("note")))
                .transpose()?,
        })
    }
}

/// `POST /v1/items/{id}/reminders/outcome`: the messaging gateway's report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ReminderOutcome)]
#[serde(deny_unknown_fields)]
pub struct ReminderOutcomeBody {
    /// The reminder, by the days after booking it fell due at (`ReminderDue.day`).
    #[serde(deserialize_with = "super::whole::number")]
    pub day: u32,
    /// `sent` or `failed`.
    #[schema(value_type = wire::ReminderResult)]
    pub outcome: String,
    /// With `sent`: `sms`, `phone` or `email`.
    #[schema(value_type = Option<wire::ReminderChannel>)]
    pub channel: Option<String>,
    /// With `failed`: why.
    #[schema(value_type = Option<wire::Text>)]
    pub reason: Option<String>,
}

impl ReminderOutcomeBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        let outcome =
            match self.outcome.as_str() {
                "sent" => {
                    if self.reason.is_some() {
                        return Err(InvalidInput::in_context(
                            "reason",
                            "is given only with failed",
                        ));
                    }
                    let channel = self.channel.as_deref().ok_or_else(|| {
                        InvalidInput::in_context("channel", "is required with sent")
                    })?;
                    ReminderOutcome::Sent {
                        channel: ReminderChannel::parse(channel)?,
                    }
                }
                "failed" => {
                    if self.channel.is_some() {
                        return Err(InvalidInput::in_context(
                            "channel",
                            "is given only with sent",
                        ));
                    }
                    let reason = self.reason.as_deref().ok_or_else(|| {
                        InvalidInput::in_context("reason", "is required with failed")
                    })?;
                    ReminderOutcome::Failed {
                        reason: Note::parse(reason).map_err(|e| e.for_field("reason"))?,
                    }
                }
                other => {
                    return Err(InvalidInput::new(
                        "outcome",
                        format!(
                            "'{other}' is not one of {}",
                            super::REMINDER_OUTCOMES.join(", ")
                        ),
                    ))
                }
            };
        Ok(ItemAction::RecordReminderOutcome {
            day: self.day,
            outcome,
        })
    }
}

/// The customer side of an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    pub customer: Option<String>,
    pub funds_held: bool,
    /// Fees by reference (`opening`: the fee the item was booked with).
    pub fees: BTreeMap<String, FeeView>,
    pub complaints: BTreeMap<String, ComplaintView>,
    /// Reminders fallen due, by days after booking.
    pub reminders: BTreeMap<u32, ReminderView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeeView {
    pub incurred: MoneyView,
    pub refunded: MoneyView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintView {
    pub received_at: DateTime<Utc>,
    pub channel: &'static str,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderView {
    pub due_on: NaiveDate,
    /// `due` until the gateway reports, then `sent` or `failed`.
    pub status: &'static str,
    pub channel: Option<&'static str>,
    pub reason: Option<String>,
}

impl From<&CustomerSide> for CustomerView {
    fn from(side: &CustomerSide) -> Self {
        Self {
            customer: side.customer.as_ref().map(ToString::to_string),
            funds_held: side.funds_held,
            fees: side
                .fees
                .iter()
                .map(|(reference, fee)| {
                    (
                        reference.to_string(),
                        FeeView {
                            incurred: (&fee.incurred).into(),
                            refunded: (&fee.refunded).into(),
                        },
                    )
                })
                .collect(),
            complaints: side
                .complaints
                .iter()
                .map(|(reference, complaint)| {
                    (
                        reference.to_string(),
                        ComplaintView {
                            received_at: complaint.received_at,
                            channel: complaint.channel.as_str(),
                            closed_at: complaint.closed_at,
                        },
                    )
                })
                .collect(),
            reminders: side
                .reminders
                .iter()
                .map(|(day, reminder)| {
                    let (status, channel, reason) = match &reminder.outcome {
                        None => ("due", None, None),
                        Some(ReminderOutcome::Sent { channel }) => {
                            ("sent", Some(channel.as_str()), None)
                        }
                        Some(ReminderOutcome::Failed { reason }) => {
                            ("failed", None, Some(reason.to_string()))
                        }
                    };
                    (
                        *day,
                        ReminderView {
                            due_on: reminder.due_on,
                            status,
                            channel,
                            reason,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// `GET /v1/reports/customers`: the root-cause report's periods and branch filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerReportParams {
    #[param(value_type = Option<wire::PeriodKind>)]
    pub period: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub from: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub to: Option<String>,
    #[param(value_type = Option<wire::BranchCode>)]
    pub branch: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
}

/// A parsed `CustomerReportParams`.
pub struct CustomerReportRequest {
    pub query: suspense_read_models::RootCauseQuery,
    pub format: Option<super::ReportFormat>,
    pub fresh: bool,
}

impl CustomerReportParams {
    pub fn parse(self) -> Result<CustomerReportRequest, InvalidInput> {
        let request = super::RootCauseParams {
            period: self.period,
            from: self.from,
            to: self.to,
            branch: self.branch,
            format: self.format,
            fresh: self.fresh,
            as_known_at: None,
            by: None,
        }
        .parse()?;
        Ok(CustomerReportRequest {
            query: request.query,
            format: request.format,
            fresh: request.fresh,
        })
    }
}

/// The customer statistics: one entry per period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerReportView {
    pub time_zone: String,
    pub periods: Vec<CustomerPeriodView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerPeriodView {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    pub rows: Vec<CustomerRowView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerRowView {
    pub category: String,
    pub code: String,
    pub branch: String,
    pub currency: String,
    pub items_with_customer_impact: i64,
    pub fees_incurred: String,
    pub fees_refunded: String,
    pub complaints_received: i64,
    pub complaints_closed: i64,
    pub reminders_due: i64,
    pub reminders_sent: i64,
    pub reminders_failed: i64,
}

impl From<suspense_read_models::CustomerReport> for CustomerReportView {
    fn from(report: suspense_read_models::CustomerReport) -> Self {
        Self {
            time_zone: report.time_zone,
            periods: report
                .periods
                .into_iter()
                .map(|period| CustomerPeriodView {
                    period: period.period,
                    start: period.start,
                    end: period.end,
                    rows: period
                        .rows
                        .into_iter()
                        .map(|row| CustomerRowView {
                            category: row.key.category,
                            code: row.key.code,
                            branch: row.key.branch,
                            currency: row.key.currency,
                            items_with_customer_impact: row.items_with_customer_impact,
                            fees_incurred: row.fees_incurred,
                            fees_refunded: row.fees_refunded,
                            complaints_received: row.complaints_received,
                            complaints_closed: row.complaints_closed,
                            reminders_due: row.reminders_due,
                            reminders_sent: row.reminders_sent,
                            reminders_failed: row.reminders_failed,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One CSV row per period and key; amounts as exact decimals.
pub fn customer_report_csv(report: &CustomerReportView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "period",
        "category",
        "code",
        "branch",
        "currency",
        "items_with_customer_impact",
        "fees_incurred",
        "fees_refunded",
        "complaints_received",
        "complaints_closed",
        "reminders_due",
        "reminders_sent",
        "reminders_failed",
    ])?;
    for period in &report.periods {
        for row in &period.rows {
            out.write_record([
                period.period.clone(),
                row.category.clone(),
                row.code.clone(),
                row.branch.clone(),
                row.currency.clone(),
                row.items_with_customer_impact.to_string(),
                row.fees_incurred.clone(),
                row.fees_refunded.clone(),
                row.complaints_received.to_string(),
                row.complaints_closed.to_string(),
                row.reminders_due.to_string(),
                row.reminders_sent.to_string(),
                row.reminders_failed.to_string(),
            ])?;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
