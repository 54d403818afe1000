//! Every business rule a command can break, as a typed error.

use crate::attribution::CounterpartyCode;
use crate::classification::{CatalogueError, RootCauseCategory, RootCauseCode};
use crate::customer::{ComplaintReference, CustomerReference, FeeReference};
use crate::identity::{Reference, SourceReference};
use crate::incident::IncidentReference;
use crate::money::{Currency, Money};
use crate::vocabulary::{EscalationLevel, ResolutionMethod};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("no suspense item has been opened under this id")]
    NotOpened,
    #[error("reference {reference} is already used by an item with different content")]
    ReferenceConflict { reference: SourceReference },
    #[error("{field} must be greater than zero")]
    AmountNotPositive { field: &'static str },
    #[error("{field} is in {got}, but the item is in {expected}")]
    CurrencyMismatch {
        field: &'static str,
        expected: Currency,
        got: Currency,
    },
    #[error("root-cause code '{code}' is not in the catalogue")]
    UnknownRootCauseCode { code: RootCauseCode },
    #[error("root-cause code '{code}' belongs to {actual}, not {requested}")]
    RootCauseCategoryMismatch {
        code: RootCauseCode,
        requested: RootCauseCategory,
        actual: RootCauseCategory,
    },
    #[error("{field}: {reason}")]
    ImplausibleDate { field: &'static str, reason: String },
    #[error("branch: {reason}")]
    UnknownBranch { reason: String },
    #[error("team: {reason}")]
    UnknownTeam { reason: String },
    #[error("{field}: a {category} cause is not attributed to one")]
    AttributionNotAdmitted {
        field: &'static str,
        category: RootCauseCategory,
    },
    #[error("counterparty {counterparty} is not in the bank's list of counterparties")]
    UnknownCounterparty { counterparty: CounterpartyCode },
    #[error("{field} is required: {why}")]
    Required {
        field: &'static str,
        why: &'static str,
    },
    #[error("the item is resolved: only reopen and comment are allowed")]
    AlreadyResolved,
    #[error("the item is not resolved, so it cannot be reopened")]
    NotResolved,
    #[error("the item has no root cause yet: classify it before resolving")]
    NotClassified,
    #[error("escalation can only rise: the item is at {current}, {requested} is not higher")]
    EscalationNotRaised {
        current: EscalationLevel,
        requested: EscalationLevel,
    },
    #[error("clearing of {requested} exceeds the outstanding {outstanding}")]
    ClearingExceedsOutstanding {
        outstanding: Money,
        requested: Money,
    },
    #[error("clearing {clearing_reference} was already recorded with a different amount")]
    ClearingReferenceConflict { clearing_reference: Reference },
    #[error("a resolution must clear the whole outstanding {outstanding}, not {requested}")]
    ResolutionAmountMismatch {
        outstanding: Money,
        requested: Money,
    },
    #[error("a {method} resolution of {amount} needs approval: propose it instead")]
    ApprovalRequired {
        method: ResolutionMethod,
        amount: Money,
    },
    #[error("a resolution proposal is pending: approve or reject it first")]
    ProposalPending,
    #[error("there is no pending resolution proposal")]
    NoPendingProposal,
    #[error("the proposer of a resolution cannot approve it (segregation of duties)")]
    SelfApproval,
    #[error("you have approved this proposal already: it needs another approver")]
    AlreadyApproved,
    #[error("the item counts under incident {incident}: unlink it there first")]
    InAnotherIncident { incident: IncidentReference },
    #[error("the item does not count under incident {incident}")]
    NotInIncident { incident: IncidentReference },
    #[error("items are linked to an incident, and unlinked, through the incident's commands")]
    LinkedThroughIncident,
    #[error("the item's customer is {current}: a recorded customer is not replaced")]
    CustomerConflict { current: CustomerReference },
    #[error("fee {fee_reference} was already recorded with a different amount")]
    FeeReferenceConflict { fee_reference: FeeReference },
    #[error("no fee {fee_reference} is recorded on the item")]
    UnknownFee { fee_reference: FeeReference },
    #[error("a refund of {requested} exceeds what remains of the fee of {fee} ({refundable})")]
    RefundExceedsFee {
        fee: Money,
        refundable: Money,
        requested: Money,
    },
    #[error("complaint {complaint} was already recorded with a different time or channel")]
    ComplaintConflict { complaint: ComplaintReference },
    #[error("no complaint {complaint} is recorded on the item")]
    UnknownComplaint { complaint: ComplaintReference },
    #[error("a complaint cannot be closed before it was received ({received_at})")]
    ComplaintClosedBeforeReceived {
        received_at: chrono::DateTime<chrono::Utc>,
    },
    #[error("complaint {complaint} was already closed at {closed}")]
    ComplaintAlreadyClosed {
        complaint: ComplaintReference,
        closed: chrono::DateTime<chrono::Utc>,
    },
    #[error("the item has no customer to remind: record the customer first")]
    NoCustomer,
    #[error("a reminder at day {day} is not later than the last one (day {last})")]
    ReminderNotLater { day: u32, last: u32 },
    #[error("no reminder fell due at day {day}")]
    ReminderNotDue { day: u32 },
    #[error("the reminder at day {day} was already reported sent")]
    ReminderAlreadySent { day: u32 },
    #[error("{rule}: the approver must work at another branch than the item's ({branch})")]
    ApproverOfTheItemsBranch {
        rule: String,
        branch: crate::identity::BranchCode,
    },
}

impl ItemError {
    /// A stable machine-readable code for APIs, exit codes and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotOpened => "item_not_found",
            Self::ReferenceConflict { .. } => "reference_conflict",
            Self::AmountNotPositive { .. } => "amount_not_positive",
            Self::CurrencyMismatch { .. } => "currency_mismatch",
            Self::UnknownRootCauseCode { .. } => "unknown_root_cause_code",
            Self::RootCauseCategoryMismatch { .. } => "root_cause_category_mismatch",
            Self::Required { .. } => "required",
            Self::ImplausibleDate { .. } => "implausible_date",
            Self::UnknownBranch { .. } => "unknown_branch",
            Self::UnknownTeam { .. } => "unknown_team",
            Self::AttributionNotAdmitted { .. } => "attribution_not_admitted",
            Self::UnknownCounterparty { .. } => "unknown_counterparty",
            Self::AlreadyResolved => "item_resolved",
            Self::NotResolved => "item_not_resolved",
            Self::NotClassified => "item_not_classified",
            Self::EscalationNotRaised { .. } => "escalation_not_raised",
            Self::ClearingExceedsOutstanding { .. } => "clearing_exceeds_outstanding",
            Self::ClearingReferenceConflict { .. } => "clearing_reference_conflict",
            Self::ResolutionAmountMismatch { .. } => "resolution_amount_mismatch",
            Self::ApprovalRequired { .. } => "approval_required",
            Self::ProposalPending => "proposal_pending",
            Self::NoPendingProposal => "no_pending_proposal",
            Self::SelfApproval => "self_approval",
            Self::AlreadyApproved => "already_approved",
            Self::ApproverOfTheItemsBranch { .. } => "approver_of_the_items_branch",
            Self::InAnotherIncident { .. } => "item_in_another_incident",
            Self::NotInIncident { .. } => "item_not_linked",
            Self::LinkedThroughIncident => "linked_through_incident",
            Self::CustomerConflict { .. } => "customer_conflict",
            Self::FeeReferenceConflict { .. } => "fee_reference_conflict",
            Self::UnknownFee { .. } => "unknown_fee",
            Self::RefundExceedsFee { .. } => "refund_exceeds_fee",
            Self::ComplaintConflict { .. } => "complaint_conflict",
            Self::UnknownComplaint { .. } => "unknown_complaint",
            Self::ComplaintClosedBeforeReceived { .. } => "complaint_closed_before_received",
            Self::ComplaintAlreadyClosed { .. } => "complaint_closed",
            Self::NoCustomer => "no_customer",
            Self::ReminderNotLater { .. } => "reminder_not_later",
            Self::ReminderNotDue { .. } => "reminder_not_due",
            Self::ReminderAlreadySent { .. } => "reminder_already_sent",
        }
    }

    /// The request field the error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::AmountNotPositive { field }
            | Self::CurrencyMismatch { field, .. }
            | Self::Required { field, .. }
            | Self::ImplausibleDate { field, .. } => Some(field),
            Self::ReferenceConflict { .. } => Some("reference"),
            Self::UnknownBranch { .. } => Some("branch"),
            Self::UnknownTeam { .. } => Some("team"),
            Self::AttributionNotAdmitted { field, .. } => Some(field),
            Self::UnknownCounterparty { .. } => Some("counterparty"),
            Self::UnknownRootCauseCode { .. } | Self::RootCauseCategoryMismatch { .. } => {
                Some("code")
            }
            Self::EscalationNotRaised { .. } => Some("level"),
            Self::ClearingExceedsOutstanding { .. } | Self::ResolutionAmountMismatch { .. } => {
                Some("amount")
            }
            Self::ClearingReferenceConflict { .. } => Some("clearing_reference"),
            Self::ApprovalRequired { .. } => Some("method"),
            Self::InAnotherIncident { .. } | Self::NotInIncident { .. } => Some("incident"),
            Self::CustomerConflict { .. } | Self::NoCustomer => Some("customer"),
            Self::FeeReferenceConflict { .. } | Self::UnknownFee { .. } => Some("fee_reference"),
            Self::RefundExceedsFee { .. } => Some("amount"),
            Self::ComplaintConflict { .. } | Self::UnknownComplaint { .. } => Some("complaint"),
            Self::ComplaintClosedBeforeReceived { .. } | Self::ComplaintAlreadyClosed { .. } => {
                Some("closed_at")
            }
            Self::ReminderNotLater { .. }
            | Self::ReminderNotDue { .. }
            | Self::ReminderAlreadySent { .. } => Some("day"),
            _ => None,
        }
    }
}

impl From<CatalogueError> for ItemError {
    fn from(err: CatalogueError) -> Self {
        match err {
            CatalogueError::UnknownCode { code } => Self::UnknownRootCauseCode { code },
            CatalogueError::WrongCategory {
                code,
                requested,
                actual,
            } => Self::RootCauseCategoryMismatch {
                code,
                requested,
                actual,
            },
        }
    }
}
