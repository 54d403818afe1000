//! What happened to a suspense item: the only source of truth.
//!
//! Every event carries the business time it happened (`at`, from the injected clock) and the
//! acting person (`by`). Events are never changed once written; a new shape gets a new
//! `event_version` and an upcaster in the store.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::attribution::Attribution;
use crate::classification::RootCause;
use crate::customer::{
    ComplaintChannel, ComplaintReference, CustomerReference, FeeReference, ReminderChannel,
};
use crate::identity::{Note, Reference, UserId};
use crate::incident::IncidentReference;
use crate::item::command::{OpenItem, ResolutionRequest};
use crate::money::Money;
use crate::policy::ApprovalRequirement;
use crate::vocabulary::{EscalationLevel, EscalationReason};

/// Who holds an item: a team and, once picked, a person in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub team: crate::identity::TeamId,
    pub assignee: Option<UserId>,
}

/// The current version of every event payload; bump with an upcaster when a shape changes.
pub const EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SuspenseItemEvent {
    Opened {
        at: DateTime<Utc>,
        by: UserId,
        item: OpenItem,
    },
    Classified {
        at: DateTime<Utc>,
        by: UserId,
        cause: RootCause,
    },
    /// The cause changed; statistics restate the item under its new cause.
    Reclassified {
        at: DateTime<Utc>,
        by: UserId,
        from: RootCause,
        to: RootCause,
        reason: Note,
    },
    /// The cause's attribution changed: the responsible staff member, the counterparty.
    /// Written beside `Classified` / `Reclassified`, or alone when only it changed.
    Attributed {
        at: DateTime<Utc>,
        by: UserId,
        attribution: Attribution,
    },
    Assigned {
        at: DateTime<Utc>,
        by: UserId,
        to: Assignment,
    },
    Reassigned {
        at: DateTime<Utc>,
        by: UserId,
        from: Assignment,
        to: Assignment,
        reason: Option<Note>,
    },
    Escalated {
        at: DateTime<Utc>,
        by: UserId,
        level: EscalationLevel,
        reason: EscalationReason,
        note: Option<Note>,
    },
    ClearingRecorded {
        at: DateTime<Utc>,
        by: UserId,
        clearing_reference: Reference,
        amount: Money,
    },
    ResolutionProposed {
        at: DateTime<Utc>,
        by: UserId,
        resolution: ResolutionRequest,
        /// The approvals it needs (proposals recorded before approval bands needed one).
        #[serde(default)]
        required: Option<ApprovalRequirement>,
    },
    /// One approval of a proposal that needs more than one; the last approval resolves it.
    ResolutionApprovalRecorded {
        at: DateTime<Utc>,
        by: UserId,
        /// What the approval counts for.
        authority: u8,
        note: Option<Note>,
    },
    ResolutionRejected {
        at: DateTime<Utc>,
        by: UserId,
        proposed_by: UserId,
        reason: Note,
    },
    /// The item is cleared and closed. `approval` is set when a second person approved it.
    Resolved {
        at: DateTime<Utc>,
        by: UserId,
        resolution: ResolutionRequest,
        approval: Option<Approval>,
    },
    /// A resolution was wrong; the amount it cleared is outstanding again.
    Reopened {
        at: DateTime<Utc>,
        by: UserId,
        reason: Note,
        reversed: Money,
    },
    Commented {
        at: DateTime<Utc>,
        by: UserId,
        text: Note,
    },
    /// The item counts under an incident; written with the incident's `ItemsLinked`.
    LinkedToIncident {
        at: DateTime<Utc>,
        by: UserId,
        incident: IncidentReference,
        reason: Note,
    },
    /// The item no longer counts under the incident; written with its `ItemUnlinked`.
    UnlinkedFromIncident {
        at: DateTime<Utc>,
        by: UserId,
        incident: IncidentReference,
        reason: Note,
    },
    /// The customer the item harms (left as it was when `None`), and whether their funds are
    /// held.
    CustomerImpactRecorded {
        at: DateTime<Utc>,
        by: UserId,
        customer: Option<CustomerReference>,
        funds_held: bool,
    },
    /// A fee the customer incurred because of the item.
    CustomerFeeIncurred {
        at: DateTime<Utc>,
        by: UserId,
        fee_reference: FeeReference,
        amount: Money,
    },
    /// Part or all of a fee given back; the refunds of a fee never exceed it.
    CustomerFeeRefunded {
        at: DateTime<Utc>,
        by: UserId,
        fee_reference: FeeReference,
        amount: Money,
    },
    ComplaintReceived {
        at: DateTime<Utc>,
        by: UserId,
        complaint: ComplaintReference,
        received_at: DateTime<Utc>,
        channel: ComplaintChannel,
    },
    ComplaintClosed {
        at: DateTime<Utc>,
        by: UserId,
        complaint: ComplaintReference,
        closed_at: DateTime<Utc>,
        note: Option<Note>,
    },
    /// The customer must be reminded (`day` days after booking, under the policy's reminder
    /// rules); the delivery hands it to the bank's messaging gateway.
    ReminderDue {
        at: DateTime<Utc>,
        by: UserId,
        day: u32,
        due_on: NaiveDate,
    },
    /// The messaging gateway reached the customer.
    ReminderSent {
        at: DateTime<Utc>,
        by: UserId,
        day: u32,
        channel: ReminderChannel,
    },
    /// The messaging gateway could not reach the customer.
    ReminderFailed {
        at: DateTime<Utc>,
        by: UserId,
        day: u32,
        reason: Note,
    },
}

/// The maker-checker trail of an approved resolution: `Resolved.by` is the checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub proposed_by: UserId,
    pub proposed_at: DateTime<Utc>,
    pub note: Option<Note>,
}

impl SuspenseItemEvent {
    /// Every event's name, as `name` gives it.
    pub const NAMES: [&'static str; 24] = [
        "Opened",
        "Classified",
        "Reclassified",
        "Attributed",
        "Assigned",
        "Reassigned",
        "Escalated",
        "ClearingRecorded",
        "ResolutionProposed",
        "ResolutionApprovalRecorded",
        "ResolutionRejected",
        "Resolved",
        "Reopened",
        "Commented",
        "LinkedToIncident",
        "UnlinkedFromIncident",
        "CustomerImpactRecorded",
        "CustomerFeeIncurred",
        "CustomerFeeRefunded",
        "ComplaintReceived",
        "ComplaintClosed",
        "ReminderDue",
        "ReminderSent",
        "ReminderFailed",
    ];

    /// The event's name as stored in the log's `event_type` column.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "Opened",
            Self::Classified { .. } => "Classified",
            Self::Reclassified { .. } => "Reclassified",
            Self::Attributed { .. } => "Attributed",
            Self::Assigned { .. } => "Assigned",
            Self::Reassigned { .. } => "Reassigned",
            Self::Escalated { .. } => "Escalated",
            Self::ClearingRecorded { .. } => "ClearingRecorded",
            Self::ResolutionProposed { .. } => "ResolutionProposed",
            Self::ResolutionApprovalRecorded { .. } => "ResolutionApprovalRecorded",
            Self::ResolutionRejected { .. } => "ResolutionRejected",
            Self::Resolved { .. } => "Resolved",
            Self::Reopened { .. } => "Reopened",
            Self::Commented { .. } => "Commented",
            Self::LinkedToIncident { .. } => "LinkedToIncident",
            Self::UnlinkedFromIncident { .. } => "UnlinkedFromIncident",
            Self::CustomerImpactRecorded { .. } => "CustomerImpactRecorded",
            Self::CustomerFeeIncurred { .. } => "CustomerFeeIncurred",
            Self::CustomerFeeRefunded { .. } => "CustomerFeeRefunded",
            Self::ComplaintReceived { .. } => "ComplaintReceived",
            Self::ComplaintClosed { .. } => "ComplaintClosed",
            Self::ReminderDue { .. } => "ReminderDue",
            Self::ReminderSent { .. } => "ReminderSent",
            Self::ReminderFailed { .. } => "ReminderFailed",
        }
    }

    /// Business time of the event.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Opened { at, .. }
            | Self::Classified { at, .. }
            | Self::Reclassified { at, .. }
            | Self::Attributed { at, .. }
            | Self::Assigned { at, .. }
            | Self::Reassigned { at, .. }
            | Self::Escalated { at, .. }
            | Self::ClearingRecorded { at, .. }
            | Self::ResolutionProposed { at, .. }
            | Self::ResolutionApprovalRecorded { at, .. }
            | Self::ResolutionRejected { at, .. }
            | Self::Resolved { at, .. }
            | Self::Reopened { at, .. }
            | Self::Commented { at, .. }
            | Self::LinkedToIncident { at, .. }
            | Self::UnlinkedFromIncident { at, .. }
            | Self::CustomerImpactRecorded { at, .. }
            | Self::CustomerFeeIncurred { at, .. }
            | Self::CustomerFeeRefunded { at, .. }
            | Self::ComplaintReceived { at, .. }
            | Self::ComplaintClosed { at, .. }
            | Self::ReminderDue { at, .. }
            | Self::ReminderSent { at, .. }
            | Self::ReminderFailed { at, .. } => *at,
        }
    }

    /// The person who acted.
    pub fn by(&self) -> &UserId {
        match self {
            Self::Opened { by, .. }
            | Self::Classified { by, .. }
            | Self::Reclassified { by, .. }
            | Self::Attributed { by, .. }
            | Self::Assigned { by, .. }
            | Self::Reassigned { by, .. }
            | Self::Escalated { by, .. }
            | Self::ClearingRecorded { by, .. }
            | Self::ResolutionProposed { by, .. }
            | Self::ResolutionApprovalRecorded { by, .. }
            | Self::ResolutionRejected { by, .. }
            | Self::Resolved { by, .. }
            | Self::Reopened { by, .. }
            | Self::Commented { by, .. }
            | Self::LinkedToIncident { by, .. }
            | Self::UnlinkedFromIncident { by, .. }
            | Self::CustomerImpactRecorded { by, .. }
            | Self::CustomerFeeIncurred { by, .. }
            | Self::CustomerFeeRefunded { by, .. }
            | Self::ComplaintReceived { by, .. }
            | Self::ComplaintClosed { by, .. }
            | Self::ReminderDue { by, .. }
            | Self::ReminderSent { by, .. }
            | Self::ReminderFailed { by, .. } => by,
        }
    }
}

impl DomainEvent for SuspenseItemEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        EVENT_VERSION.to_owned()
    }
}
