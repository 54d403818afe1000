//! What people and systems ask of a suspense item.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::ApproverStanding;

use crate::attribution::Attribution;
use crate::classification::{RootCauseCategory, RootCauseCode};
use crate::customer::{ComplaintChannel, ComplaintReference, CustomerReference, FeeReference};
use crate::identity::{
    AccountNumber, BranchCode, Note, Reference, SourceReference, TeamId, UserId,
};
use crate::incident::IncidentReference;
use crate::item::customer::ReminderOutcome;
use crate::money::Money;
use crate::vocabulary::{
    Channel, CustomerImpact, Direction, EscalationLevel, EscalationReason, ResolutionMethod,
};

/// A request to change an item, made by a known person (`by`).
///
/// `by` is the authenticated actor, set by whoever authenticated the request (the service, or
/// the embedding application); it is copied into every event the command produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemCommand {
    pub by: UserId,
    pub action: ItemAction,
    /// What the actor's approval counts for (approval bands): their authority and branch.
    #[serde(default = "ApproverStanding::one")]
    pub standing: ApproverStanding,
}

impl ItemCommand {
    /// A command by a head-office person whose approval counts once.
    pub fn new(by: UserId, action: ItemAction) -> Self {
        Self {
            by,
            action,
            standing: ApproverStanding::one(),
        }
    }

    #[must_use]
    pub fn with_standing(mut self, standing: ApproverStanding) -> Self {
        self.standing = standing;
        self
    }
}

/// The facts of a booking to suspense, as the booking system knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    pub reference: SourceReference,
    /// The suspense account the amount was booked to.
    pub account: AccountNumber,
    pub branch: BranchCode,
    pub channel: Channel,
    pub amount: Money,
    pub direction: Direction,
    /// The bank's posting date (aging may count from it).
    pub booked_on: NaiveDate,
    /// The value date of the underlying transaction (aging may count from it instead).
    pub value_date: NaiveDate,
    pub description: Note,
    #[serde(default)]
    pub customer_impact: CustomerImpact,
}

/// How an item is to be cleared in the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionRequest {
    pub method: ResolutionMethod,
    /// The amount this resolution clears: always the item's whole outstanding amount.
    pub amount: Money,
    /// The account the amount went to; required for `posted_to_account`.
    #[serde(default)]
    pub posted_to: Option<AccountNumber>,
    #[serde(default)]
    pub note: Option<Note>,
}

/// Everything that can be done to an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ItemAction {
    /// Book a new item. Idempotent on the source reference.
    Open(OpenItem),
    /// Set the root cause; changing an existing one is a reclassification and needs a reason.
    Classify {
        category: RootCauseCategory,
        code: RootCauseCode,
        #[serde(default)]
        reason: Option<Note>,
        /// The staff member responsible (operational errors) or the counterparty (external
        /// causes); parts not given stay as they were.
        #[serde(default)]
        attribution: Attribution,
    },
    /// Give the item to a team (and optionally a person); again later = reassignment.
    Assign {
        team: TeamId,
        #[serde(default)]
        assignee: Option<UserId>,
        #[serde(default)]
        reason: Option<Note>,
    },
    /// Raise the item to a higher level of attention.
    Escalate {
        level: EscalationLevel,
        reason: EscalationReason,
        #[serde(default)]
        note: Option<Note>,
    },
    /// Record a partial clearing, identified by the clearing posting's own reference.
    RecordClearing {
        clearing_reference: Reference,
        amount: Money,
    },
    /// Clear the rest of the item and close it (when no approval is needed).
    Resolve(ResolutionRequest),
    /// Propose a resolution that a different person must approve (maker).
    ProposeResolution(ResolutionRequest),
    /// Approve the pending proposal (checker); resolves the item.
    ApproveResolution {
        #[serde(default)]
        note: Option<Note>,
    },
    /// Turn the pending proposal down; the item stays open.
    RejectResolution { reason: Note },
    /// Reopen a wrongly resolved item.
    Reopen { reason: Note },
    /// Add a remark to the item's history.
    Comment { text: Note },
    /// Count the item under an incident (its own or a resolved one). Only the incident's
    /// command gives it, in the same transaction as the incident's own event
    /// (`IncidentAction::Link`); `Suspense::execute` refuses it.
    LinkIncident {
        incident: IncidentReference,
        reason: Note,
    },
    /// Take the item out of the incident it counts under (`IncidentAction::Unlink`).
    UnlinkIncident {
        incident: IncidentReference,
        reason: Note,
    },
    /// Record the customer the item harms (by pseudonymous reference) and whether their funds
    /// are held.
    RecordCustomerImpact {
        #[serde(default)]
        customer: Option<CustomerReference>,
        funds_held: bool,
    },
    /// Record a fee the customer incurred because of the item. Idempotent on the reference.
    RecordFee {
        fee_reference: FeeReference,
        amount: Money,
    },
    /// Refund part or all of a recorded fee.
    RefundFee {
        fee_reference: FeeReference,
        amount: Money,
    },
    /// Record a customer complaint about the item. Idempotent on the complaint reference.
    RecordComplaint {
        complaint: ComplaintReference,
        received_at: DateTime<Utc>,
        channel: ComplaintChannel,
    },
    /// Close a complaint (handled, answered).
    CloseComplaint {
        complaint: ComplaintReference,
        closed_at: DateTime<Utc>,
        #[serde(default)]
        note: Option<Note>,
    },
    /// A reminder of the customer falls due `day` days after booking (given by the sweep,
    /// under the policy's reminder rules).
    RecordReminderDue { day: u32, due_on: NaiveDate },
    /// The messaging gateway's report on a reminder that fell due.
    RecordReminderOutcome {
        day: u32,
        #[serde(flatten)]
        outcome: ReminderOutcome,
    },
}

impl ItemAction {
    /// A stable name for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ItemAction::Open(_) => "open",
            ItemAction::Classify { .. } => "classify",
            ItemAction::Assign { .. } => "assign",
            ItemAction::Escalate { .. } => "escalate",
            ItemAction::RecordClearing { .. } => "record_clearing",
            ItemAction::Resolve(_) => "resolve",
            ItemAction::ProposeResolution(_) => "propose_resolution",
            ItemAction::ApproveResolution { .. } => "approve_resolution",
            ItemAction::RejectResolution { .. } => "reject_resolution",
            ItemAction::Reopen { .. } => "reopen",
            ItemAction::Comment { .. } => "comment",
            ItemAction::LinkIncident { .. } => "link_incident",
            ItemAction::UnlinkIncident { .. } => "unlink_incident",
            ItemAction::RecordCustomerImpact { .. } => "record_customer_impact",
            ItemAction::RecordFee { .. } => "record_fee",
            ItemAction::RefundFee { .. } => "refund_fee",
            ItemAction::RecordComplaint { .. } => "record_complaint",
            ItemAction::CloseComplaint { .. } => "close_complaint",
            ItemAction::RecordReminderDue { .. } => "record_reminder_due",
            ItemAction::RecordReminderOutcome { .. } => "record_reminder_outcome",
        }
    }

    /// Given by an incident's command only, never on its own (see `LinkIncident`).
    pub fn is_incident_link(&self) -> bool {
        matches!(
            self,
            ItemAction::LinkIncident { .. } | ItemAction::UnlinkIncident { .. }
        )
    }
}
