//! Response bodies: the service's own types, each built from the library value it shows.
//! Field names here are the API's contract (docs/api.md, and the OpenAPI document derived from them); the library's
//! structs and read-model columns may change without changing them.

use std::collections::{BTreeMap, HashMap};

use super::AllocatedView;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use suspense::{LoadedItem, RecordedEvent};
use suspense_domain::allocation::ClearingAllocation;
use suspense_domain::{
    Assignment, Attribution, ItemState, Money, OpenItem, PendingResolution, RecordVolume,
    Reference, ResolutionRequest, RootCause, SuspenseItemEvent, VolumeEvent,
};
use suspense_read_models::{
    AgingBasis, AgingReport, CountAmount, OpenBalance, PeriodReport, RegisterRow, RootCauseReport,
    RootCauseRow, RowChange, SuspenseRate,
};

/// An amount with its currency; the amount a decimal string with the currency's minor units.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MoneyView {
    pub amount: String,
    pub currency: &'static str,
}

impl From<&Money> for MoneyView {
    fn from(money: &Money) -> Self {
        Self {
            amount: money.amount().to_string(),
            currency: money.currency().code(),
        }
    }
}

/// An item as the API returns it: its current state from the log (never stale).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: String,
    pub version: u64,
    pub status: &'static str,
    pub amount: MoneyView,
    pub cleared: MoneyView,
    pub outstanding: MoneyView,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub detail: ItemDetail,
}

impl From<LoadedItem> for ItemView {
    fn from(item: LoadedItem) -> Self {
        let state = &item.state;
        Self {
            id: item.item_id.to_string(),
            version: item.version,
            status: state.status().as_str(),
            amount: (&state.opened.amount).into(),
            cleared: (&state.cleared).into(),
            outstanding: (&state.outstanding()).into(),
            opened_at: state.opened_at,
            resolved_at: state.resolved_at,
            detail: state.into(),
        }
    }
}

/// Everything known of an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    pub opened: BookingView,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub cause: Option<CauseView>,
    pub assignment: Option<AssignmentView>,
    pub escalation: Option<&'static str>,
    /// Partial clearings by clearing reference.
    pub clearings: BTreeMap<String, MoneyView>,
    pub cleared: MoneyView,
    pub pending: Option<PendingView>,
    pub resolution: Option<ResolutionView>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopen_count: u32,
    pub comment_count: u32,
    /// The incident the item counts under.
    pub incident: Option<String>,
    /// The customer harmed, their fees, complaints and reminders.
    pub customer: super::CustomerView,
}

impl From<&ItemState> for ItemDetail {
    fn from(state: &ItemState) -> Self {
        Self {
            opened: (&state.opened).into(),
            opened_at: state.opened_at,
            opened_by: state.opened_by.to_string(),
            cause: state
                .cause
                .as_ref()
                .map(|cause| CauseView::new(cause, &state.attribution)),
            assignment: state.assignment.as_ref().map(AssignmentView::from),
            escalation: state.escalation.as_ref().map(|level| level.as_str()),
            clearings: state
                .clearings
                .iter()
                .map(|(reference, amount)| (reference.to_string(), amount.into()))
                .collect(),
            cleared: (&state.cleared).into(),
            pending: state.pending.as_ref().map(PendingView::from),
            resolution: state.resolution.as_ref().map(ResolutionView::from),
            resolved_at: state.resolved_at,
            reopen_count: state.reopen_count,
            comment_count: state.comment_count,
            incident: state.incident.as_ref().map(ToString::to_string),
            customer: (&state.customer).into(),
        }
    }
}

/// The booking that opened an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookingView {
    pub reference: ReferenceView,
    pub account: String,
    pub branch: String,
    pub channel: &'static str,
    pub amount: MoneyView,
    pub direction: &'static str,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    pub description: String,
    pub customer_impact: CustomerImpactView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferenceView {
    pub source_system: String,
    pub reference: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerImpactView {
    pub funds_held: bool,
    pub fee: Option<MoneyView>,
    pub customer: Option<String>,
}

impl From<&OpenItem> for BookingView {
    fn from(item: &OpenItem) -> Self {
        Self {
            reference: ReferenceView {
                source_system: item.reference.source_system.to_string(),
                reference: item.reference.reference.to_string(),
            },
            account: item.account.to_string(),
            branch: item.branch.to_string(),
            channel: item.channel.as_str(),
            amount: (&item.amount).into(),
            direction: item.direction.as_str(),
            booked_on: item.booked_on,
            value_date: item.value_date,
            description: item.description.to_string(),
            customer_impact: CustomerImpactView {
                funds_held: item.customer_impact.funds_held,
                fee: item.customer_impact.fee.as_ref().map(MoneyView::from),
                customer: item
                    .customer_impact
                    .customer
                    .as_ref()
                    .map(ToString::to_string),
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CauseView {
    pub category: &'static str,
    pub code: String,
    /// The staff member an operational error is attributed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
    /// The counterparty an external cause is attributed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
}

impl CauseView {
    fn new(cause: &RootCause, attribution: &Attribution) -> Self {
        Self {
            category: cause.category.as_str(),
            code: cause.code.to_string(),
            responsible: attribution.responsible.as_ref().map(ToString::to_string),
            counterparty: attribution.counterparty.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentView {
    pub team: String,
    pub assignee: Option<String>,
}

impl From<&Assignment> for AssignmentView {
    fn from(assignment: &Assignment) -> Self {
        Self {
            team: assignment.team.to_string(),
            assignee: assignment.assignee.as_ref().map(ToString::to_string),
        }
    }
}

/// A resolution, proposed or done.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResolutionView {
    pub method: &'static str,
    pub amount: MoneyView,
    pub posted_to: Option<String>,
    pub note: Option<String>,
}

impl From<&ResolutionRequest> for ResolutionView {
    fn from(resolution: &ResolutionRequest) -> Self {
        Self {
            method: resolution.method.as_str(),
            amount: (&resolution.amount).into(),
            posted_to: resolution.posted_to.as_ref().map(ToString::to_string),
            note: resolution.note.as_ref().map(ToString::to_string),
        }
    }
}

/// A resolution waiting for its checker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingView {
    pub resolution: ResolutionView,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    /// The approvals it needs (their authority added up), and the rule that asks for them.
    pub approvals_required: u8,
    pub another_branch: bool,
    pub rule: String,
    /// Approvals recorded so far: who, and what each counts for.
    pub approved_by: Vec<ApprovalView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalView {
    pub user: String,
    pub counts: u8,
}

impl From<&PendingResolution> for PendingView {
    fn from(pending: &PendingResolution) -> Self {
        Self {
            resolution: (&pending.resolution).into(),
            proposed_by: pending.proposed_by.to_string(),
            proposed_at: pending.proposed_at,
            approvals_required: pending.required.approvals,
            another_branch: pending.required.another_branch,
            rule: pending.required.rule(),
            approved_by: pending
                .approvals
                .iter()
                .map(|(user, counts)| ApprovalView {
                    user: user.to_string(),
                    counts: *counts,
                })
                .collect(),
        }
    }
}

/// One event of an item's history.
///
/// `event` is the event in the log's own JSON form, current version (older shapes are
/// upcast on reading): that form is the log's versioned contract with auditors and
/// exports, not a library struct's layout.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub position: Option<u64>,
    pub item_id: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    #[schema(value_type = Object)]
    pub event: Box<serde_json::value::RawValue>,
    pub metadata: EventMetadataView,
    pub recorded_at: DateTime<Utc>,
    /// For a clearing allocated across items: the whole allocation, with the sibling shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocatedView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventMetadataView {
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub source: Option<String>,
    /// The escalation policy version a sweep's escalation was decided under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}

impl EventView {
    /// `allocations` are the allocations the item's clearings belong to, by reference.
    pub fn new(
        recorded: RecordedEvent,
        allocations: &HashMap<Reference, ClearingAllocation>,
    ) -> Result<Self, serde_json::Error> {
        let allocation = match &recorded.event {
            SuspenseItemEvent::ClearingRecorded {
                clearing_reference, ..
            } => allocations.get(clearing_reference).map(AllocatedView::from),
            _ => None,
        };
        Ok(Self {
            allocation,
            position: recorded.position,
            item_id: recorded.item_id.to_string(),
            sequence: recorded.sequence,
            event_type: recorded.event_type,
            event_version: recorded.event_version,
            event: serde_json::value::to_raw_value(&recorded.event)?,
            metadata: EventMetadataView {
                actor: recorded.metadata.actor,
                request_id: recorded.metadata.request_id,
                source: recorded.metadata.source,
                policy_version: recorded.metadata.policy_version,
            },
            recorded_at: recorded.recorded_at,
        })
    }
}

/// One page of the item register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemRow>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// An item as the register lists it: amounts in minor units of `currency`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemRow {
    pub item_id: String,
    pub version: i64,
    pub source_system: String,
    pub reference: String,
    pub account: String,
    pub branch: String,
    pub channel: String,
    pub direction: String,
    pub currency: String,
    pub minor_units: i32,
    pub amount_minor: i64,
    pub cleared_minor: i64,
    pub outstanding_minor: i64,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    pub description: String,
    pub status: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub reclassifications: i32,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub escalation_level: i32,
    pub funds_held: bool,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub classified_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_method: Option<String>,
    pub reopen_count: i32,
    pub comment_count: i32,
    pub last_event_at: DateTime<Utc>,
    pub responsible: Option<String>,
    pub counterparty: Option<String>,
    pub incident: Option<String>,
}

impl From<RegisterRow> for ItemRow {
    fn from(row: RegisterRow) -> Self {
        Self {
            item_id: row.item_id,
            version: row.version,
            source_system: row.source_system,
            reference: row.reference,
            account: row.account,
            branch: row.branch,
            channel: row.channel,
            direction: row.direction,
            currency: row.currency,
            minor_units: row.minor_units,
            amount_minor: row.amount_minor,
            cleared_minor: row.cleared_minor,
            outstanding_minor: row.outstanding_minor,
            booked_on: row.booked_on,
            value_date: row.value_date,
            description: row.description,
            status: row.status,
            category: row.category,
            code: row.code,
            reclassifications: row.reclassifications,
            team: row.team,
            assignee: row.assignee,
            escalation_level: row.escalation_level,
            funds_held: row.funds_held,
            fee_minor: row.fee_minor,
            fee_currency: row.fee_currency,
            opened_at: row.opened_at,
            opened_by: row.opened_by,
            classified_at: row.classified_at,
            resolved_at: row.resolved_at,
            resolution_method: row.resolution_method,
            reopen_count: row.reopen_count,
            comment_count: row.comment_count,
            last_event_at: row.last_event_at,
            responsible: row.responsible,
            counterparty: row.counterparty,
            incident: row.incident,
        }
    }
}

/// The root-cause report: one entry per period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RootCauseReportView {
    pub time_zone: String,
    pub periods: Vec<PeriodView>,
}

impl From<RootCauseReport> for RootCauseReportView {
    fn from(report: RootCauseReport) -> Self {
        Self {
            time_zone: report.time_zone,
            periods: report.periods.into_iter().map(PeriodView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    pub period: String,
    pub start: NaiveDate,
    /// First day after the period.
    pub end: NaiveDate,
    pub rows: Vec<RootCauseRowView>,
    pub restated_items: i64,
    pub suspense_rates: Vec<SuspenseRateView>,
}

impl From<PeriodReport> for PeriodView {
    fn from(period: PeriodReport) -> Self {
        Self {
            period: period.period,
            start: period.start,
            end: period.end,
            rows: period
                .rows
                .into_iter()
                .map(RootCauseRowView::from)
                .collect(),
            restated_items: period.restated_items,
            suspense_rates: period
                .suspense_rates
                .into_iter()
                .map(SuspenseRateView::from)
                .collect(),
        }
    }
}

/// One cause key's figures in a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RootCauseRowView {
    pub category: String,
    pub code: String,
    pub branch: String,
    pub channel: String,
    pub currency: String,
    pub opened: CountAmountView,
    pub resolved: CountAmountView,
    pub reopened: CountAmountView,
    pub open_at_end: CountAmountView,
    pub escalations: i64,
    pub restated_items: i64,
    pub median_hours_to_resolve: Option<i64>,
    pub p90_hours_to_resolve: Option<i64>,
    pub change: RowChangeView,
}

impl From<RootCauseRow> for RootCauseRowView {
    fn from(row: RootCauseRow) -> Self {
        Self {
            category: row.key.category,
            code: row.key.code,
            branch: row.key.branch,
            channel: row.key.channel,
            currency: row.key.currency,
            opened: row.opened.into(),
            resolved: row.resolved.into(),
            reopened: row.reopened.into(),
            open_at_end: row.open_at_end.into(),
            escalations: row.escalations,
            restated_items: row.restated_items,
            median_hours_to_resolve: row.median_hours_to_resolve,
            p90_hours_to_resolve: row.p90_hours_to_resolve,
            change: row.change.into(),
        }
    }
}

/// A count and its amount (exact decimal string) in the row's currency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CountAmountView {
    pub count: i64,
    pub amount: String,
}

impl From<CountAmount> for CountAmountView {
    fn from(figures: CountAmount) -> Self {
        Self {
            count: figures.count,
            amount: figures.amount,
        }
    }
}

/// Against the previous period of the same length.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowChangeView {
    pub opened: i64,
    pub resolved: i64,
    pub open_at_end: i64,
    pub escalations: i64,
}

impl From<RowChange> for RowChangeView {
    fn from(change: RowChange) -> Self {
        Self {
            opened: change.opened,
            resolved: change.resolved,
            open_at_end: change.open_at_end,
            escalations: change.escalations,
        }
    }
}

/// Items opened per 10,000 transactions (掛賬率) of a branch in the period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuspenseRateView {
    pub branch: String,
    pub items_opened: i64,
    pub transactions: i64,
    pub per_10000: Option<String>,
}

impl From<SuspenseRate> for SuspenseRateView {
    fn from(rate: SuspenseRate) -> Self {
        Self {
            branch: rate.branch,
            items_opened: rate.items_opened,
            transactions: rate.transactions,
            per_10000: rate.per_10000,
        }
    }
}

/// Open items by age bucket as of a date.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgingReportView {
    pub as_of: NaiveDate,
    pub basis: &'static str,
    pub buckets: Vec<String>,
    pub rows: Vec<AgingRowView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgingRowView {
    pub branch: String,
    pub category: String,
    pub currency: String,
    pub bucket: String,
    pub count: i64,
    pub amount: String,
}

impl From<AgingReport> for AgingReportView {
    fn from(report: AgingReport) -> Self {
        Self {
            as_of: report.as_of,
            basis: match report.basis {
                AgingBasis::BookingDate => "booking_date",
                AgingBasis::ValueDate => "value_date",
            },
            buckets: report.buckets,
            rows: report
                .rows
                .into_iter()
                .map(|row| AgingRowView {
                    branch: row.branch,
                    category: row.category,
                    currency: row.currency,
                    bucket: row.bucket,
                    count: row.count,
                    amount: row.amount,
                })
                .collect(),
        }
    }
}

/// One line per branch, cause category, currency and bucket, as the JSON rows; the date and
/// basis repeat on each line so that a file stands alone.
pub fn aging_csv(report: &AgingReportView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "as_of", "basis", "branch", "category", "currency", "bucket", "count", "amount",
    ])?;
    let as_of = report.as_of.to_string();
    for row in &report.rows {
        out.write_record([
            as_of.as_str(),
            report.basis,
            &row.branch,
            &row.category,
            &row.currency,
            &row.bucket,
            &row.count.to_string(),
            &row.amount,
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Items open and the amount outstanding in one currency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenBalanceView {
    pub currency: String,
    pub open_items: i64,
    pub outstanding: String,
}

impl From<OpenBalance> for OpenBalanceView {
    fn from(balance: OpenBalance) -> Self {
        Self {
            currency: balance.currency,
            open_items: balance.open_items,
            outstanding: balance.outstanding,
        }
    }
}

/// A branch's recorded transaction count for a month.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VolumeView {
    pub branch: String,
    /// The month's first day.
    pub month: NaiveDate,
    pub transactions: u64,
    /// False when the month already had this figure (nothing was written).
    pub recorded: bool,
    /// The figure this one corrects, if the month had another.
    pub replaces: Option<u64>,
}

impl VolumeView {
    pub fn new(volume: &RecordVolume, written: Option<&VolumeEvent>) -> Self {
        let replaces = written.and_then(|VolumeEvent::VolumeRecorded { replaces, .. }| *replaces);
        Self {
            branch: volume.branch.to_string(),
            month: volume.month.first_day(),
            transactions: volume.transactions,
            recorded: written.is_some(),
            replaces,
        }
    }
}
