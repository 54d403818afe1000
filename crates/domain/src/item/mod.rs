//! The `SuspenseItem` aggregate: the whole life of one item, from booking to clearing.
//!
//! `decide` checks a command against the current state and returns the events it produces
//! (pure, synchronous); `apply` folds an event into the state and never fails, because
//! events are facts that already happened.

mod command;
mod customer;
mod error;
mod event;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{ItemAction, ItemCommand, OpenItem, ResolutionRequest};
pub use customer::{Complaint, CustomerSide, Fee, Reminder, ReminderOutcome};
pub use error::ItemError;
pub use event::{Approval, Assignment, SuspenseItemEvent, EVENT_VERSION};

use crate::attribution::Attribution;
use crate::classification::{RootCause, RootCauseCategory};
use crate::identity::{Reference, UserId};
use crate::incident::IncidentReference;
use crate::money::Money;
use crate::policy::ApprovalRequirement;
use crate::services::ItemServices;
use crate::vocabulary::{EscalationLevel, ResolutionMethod};

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Open,
    /// A resolution was proposed and waits for a second person.
    PendingApproval,
    Resolved,
}

impl ItemStatus {
    pub const ALL: [Self; 3] = [Self::Open, Self::PendingApproval, Self::Resolved];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::PendingApproval => "pending_approval",
            Self::Resolved => "resolved",
        }
    }

    /// The status named `value` (`open`, `pending_approval`, `resolved`).
    pub fn parse(value: &str) -> Result<Self, crate::InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| {
                crate::InvalidInput::new(
                    "status",
                    format!("'{value}' is not one of open, pending_approval, resolved"),
                )
            })
    }
}

/// A proposal waiting for its checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingResolution {
    pub resolution: ResolutionRequest,
    pub proposed_by: UserId,
    pub proposed_at: DateTime<Utc>,
    /// The approvals it needs, fixed when proposed.
    pub required: ApprovalRequirement,
    /// Approvals recorded so far, with what each counts for.
    pub approvals: Vec<(UserId, u8)>,
}

/// The state of an opened item, rebuilt from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub opened: OpenItem,
    pub opened_at: DateTime<Utc>,
    pub opened_by: UserId,
    pub cause: Option<RootCause>,
    /// The responsible staff member or counterparty the cause is attributed to.
    pub attribution: Attribution,
    pub assignment: Option<Assignment>,
    pub escalation: Option<EscalationLevel>,
    /// Partial clearings by their clearing reference (one item, several clearings: 一挂多销).
    pub clearings: BTreeMap<Reference, Money>,
    /// Everything cleared so far, partial clearings and the resolution included.
    pub cleared: Money,
    pub pending: Option<PendingResolution>,
    pub resolution: Option<ResolutionRequest>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopen_count: u32,
    pub comment_count: u32,
    /// The incident the item counts under, if any (one at a time).
    #[serde(default)]
    pub incident: Option<IncidentReference>,
    /// The customer harmed, their fees, complaints and reminders.
    #[serde(default)]
    pub customer: CustomerSide,
}

impl ItemState {
    pub fn status(&self) -> ItemStatus {
        if self.resolution.is_some() {
            ItemStatus::Resolved
        } else if self.pending.is_some() {
            ItemStatus::PendingApproval
        } else {
            ItemStatus::Open
        }
    }

    /// Amount still in suspense. Never negative: `apply` only ever sees events that `decide`
    /// produced under the rule "cleared total never above the amount".
    pub fn outstanding(&self) -> Money {
        self.opened
            .amount
            .checked_sub(&self.cleared)
            .unwrap_or_else(|| Money::zero(self.opened.amount.currency()))
    }
}

/// One suspense item (掛賬). `Default` is the not-yet-opened item every stream starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspenseItem {
    state: Option<ItemState>,
}

impl SuspenseItem {
    /// The item's state, or `None` if it was never opened.
    pub fn state(&self) -> Option<&ItemState> {
        self.state.as_ref()
    }

    /// Rebuilds an item from its history.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a SuspenseItemEvent>) -> Self {
        let mut item = Self::default();
        for event in events {
            item.apply(event.clone());
        }
        item
    }

    /// Checks `command` against the current state and returns the events it produces.
    /// An empty list means the command was an idempotent repeat and changes nothing.
    pub fn decide(
        &self,
        command: ItemCommand,
        services: &ItemServices,
    ) -> Result<Vec<SuspenseItemEvent>, ItemError> {
        let at = services.clock.now();
        let by = command.by;
        let (state, action) = match (&self.state, command.action) {
            (None, ItemAction::Open(item)) => return open(at, by, item, services),
            (None, _) => return Err(ItemError::NotOpened),
            (Some(state), action) => (state, action),
        };
        match action {
            ItemAction::Open(item) => repeated_open(state, &item),
            ItemAction::Comment { text } => Ok(vec![SuspenseItemEvent::Commented { at, by, text }]),
            // An incident counts items whatever their status: an outage's items may be cleared
            // before the incident is recorded.
            ItemAction::LinkIncident { incident, reason } => match &state.incident {
                Some(current) if *current == incident => Ok(vec![]),
                Some(current) => Err(ItemError::InAnotherIncident {
                    incident: current.clone(),
                }),
                None => Ok(vec![SuspenseItemEvent::LinkedToIncident {
                    at,
                    by,
                    incident,
                    reason,
                }]),
            },
            ItemAction::UnlinkIncident { incident, reason } => {
                if state.incident.as_ref() != Some(&incident) {
                    return Err(ItemError::NotInIncident { incident });
                }
                Ok(vec![SuspenseItemEvent::UnlinkedFromIncident {
                    at,
                    by,
                    incident,
                    reason,
                }])
            }
            ItemAction::RecordCustomerImpact {
                customer: reference,
                funds_held,
            } => customer::record_impact(state, at, by, reference, funds_held),
            ItemAction::RecordFee {
                fee_reference,
                amount,
            } => customer::record_fee(state, at, by, fee_reference, amount),
            ItemAction::RefundFee {
                fee_reference,
                amount,
            } => customer::refund_fee(state, at, by, fee_reference, amount),
            ItemAction::RecordComplaint {
                complaint,
                received_at,
                channel,
            } => customer::record_complaint(state, at, by, complaint, received_at, channel),
            ItemAction::CloseComplaint {
                complaint,
                closed_at,
                note,
            } => customer::close_complaint(state, at, by, complaint, closed_at, note),
            ItemAction::RecordReminderDue { day, due_on } => {
                customer::reminder_due(state, at, by, day, due_on)
            }
            ItemAction::RecordReminderOutcome { day, outcome } => {
                customer::reminder_outcome(state, at, by, day, outcome)
            }
            ItemAction::Reopen { reason } => {
                let Some(resolution) = &state.resolution else {
                    return Err(ItemError::NotResolved);
                };
                Ok(vec![SuspenseItemEvent::Reopened {
                    at,
                    by,
                    reason,
                    reversed: resolution.amount,
                }])
            }
            _ if state.resolution.is_some() => Err(ItemError::AlreadyResolved),
            ItemAction::Classify {
                category,
                code,
                reason,
                attribution,
            } => {
                let cause = services.catalogue.resolve(category, &code)?;
                check_attribution(&attribution, cause.category, services)?;
                let attributed = attribution.after(&state.attribution, cause.category);
                let mut events = match &state.cause {
                    None => vec![SuspenseItemEvent::Classified {
                        at,
                        by: by.clone(),
                        cause,
                    }],
                    Some(current) if *current == cause => vec![],
                    Some(current) => {
                        let reason = reason.ok_or(ItemError::Required {
                            field: "reason",
                            why: "changing an item's root cause restates statistics",
                        })?;
                        vec![SuspenseItemEvent::Reclassified {
                            at,
                            by: by.clone(),
                            from: current.clone(),
                            to: cause,
                            reason,
                        }]
                    }
                };
                if attributed != state.attribution {
                    events.push(SuspenseItemEvent::Attributed {
                        at,
                        by,
                        attribution: attributed,
                    });
                }
                Ok(events)
            }
            ItemAction::Assign {
                team,
                assignee,
                reason,
            } => {
                if let Some(reason) = services.organisation.team_refusal(&team, at.date_naive()) {
                    return Err(ItemError::UnknownTeam { reason });
                }
                let to = Assignment { team, assignee };
                match &state.assignment {
                    None => Ok(vec![SuspenseItemEvent::Assigned { at, by, to }]),
                    Some(current) if *current == to => Ok(vec![]),
                    Some(current) => Ok(vec![SuspenseItemEvent::Reassigned {
                        at,
                        by,
                        from: current.clone(),
                        to,
                        reason,
                    }]),
                }
            }
            ItemAction::Escalate {
                level,
                reason,
                note,
            } => match state.escalation {
                Some(current) if current == level => Ok(vec![]),
                Some(current) if current > level => Err(ItemError::EscalationNotRaised {
                    current,
                    requested: level,
                }),
                _ => Ok(vec![SuspenseItemEvent::Escalated {
                    at,
                    by,
                    level,
                    reason,
                    note,
                }]),
            },
            ItemAction::RecordClearing {
                clearing_reference,
                amount,
            } => record_clearing(state, at, by, clearing_reference, amount),
            ItemAction::Resolve(resolution) => {
                check_resolution(state, &resolution)?;
                let needed = services.approval_needed(
                    resolution.method,
                    &resolution.amount,
                    at.date_naive(),
                );
                if needed.approvals > 0 {
                    return Err(ItemError::ApprovalRequired {
                        method: resolution.method,
                        amount: resolution.amount,
                    });
                }
                Ok(vec![SuspenseItemEvent::Resolved {
                    at,
                    by,
                    resolution,
                    approval: None,
                }])
            }
            ItemAction::ProposeResolution(resolution) => {
                check_resolution(state, &resolution)?;
                let mut required = services.approval_needed(
                    resolution.method,
                    &resolution.amount,
                    at.date_naive(),
                );
                // A proposal is a request for approval, whatever the amount.
                required.approvals = required.approvals.max(1);
                Ok(vec![SuspenseItemEvent::ResolutionProposed {
                    at,
                    by,
                    resolution,
                    required: Some(required),
                }])
            }
            ItemAction::ApproveResolution { note } => {
                let pending = state.pending.as_ref().ok_or(ItemError::NoPendingProposal)?;
                if pending.proposed_by == by {
                    return Err(ItemError::SelfApproval);
                }
                if pending
                    .approvals
                    .iter()
                    .any(|(approver, _)| *approver == by)
                {
                    return Err(ItemError::AlreadyApproved);
                }
                let standing = &command.standing;
                if pending.required.another_branch
                    && standing.home_branch.as_ref() == Some(&state.opened.branch)
                {
                    return Err(ItemError::ApproverOfTheItemsBranch {
                        rule: pending.required.rule(),
                        branch: state.opened.branch.clone(),
                    });
                }
                let authority = standing.authority.max(1);
                let approved: u32 = pending
                    .approvals
                    .iter()
                    .map(|(_, counts)| u32::from(*counts))
                    .sum::<u32>()
                    + u32::from(authority);
                if approved < u32::from(pending.required.approvals) {
                    return Ok(vec![SuspenseItemEvent::ResolutionApprovalRecorded {
                        at,
                        by,
                        authority,
                        note,
                    }]);
                }
                Ok(vec![SuspenseItemEvent::Resolved {
                    at,
                    by,
                    resolution: pending.resolution.clone(),
                    approval: Some(Approval {
                        proposed_by: pending.proposed_by.clone(),
                        proposed_at: pending.proposed_at,
                        note,
                    }),
                }])
            }
            ItemAction::RejectResolution { reason } => {
                let pending = state.pending.as_ref().ok_or(ItemError::NoPendingProposal)?;
                Ok(vec![SuspenseItemEvent::ResolutionRejected {
                    at,
                    by,
                    proposed_by: pending.proposed_by.clone(),
                    reason,
                }])
            }
        }
    }
}

fn open(
    at: DateTime<Utc>,
    by: UserId,
    item: OpenItem,
    services: &ItemServices,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if item.amount.is_zero() {
        return Err(ItemError::AmountNotPositive { field: "amount" });
    }
    if let Some(fee) = &item.customer_impact.fee {
        // Fees are counted beside the item's amount, so they are in its currency.
        if fee.currency() != item.amount.currency() {
            return Err(ItemError::CurrencyMismatch {
                field: "fee.currency",
                expected: item.amount.currency(),
                got: fee.currency(),
            });
        }
    }
    let today = at.date_naive();
    for (field, date) in [
        ("booked_on", item.booked_on),
        ("value_date", item.value_date),
    ] {
        if let Some(reason) = services.dates.refusal(date, today) {
            return Err(ItemError::ImplausibleDate { field, reason });
        }
    }
    // The branch as the registry stood on the business date: a late booking to a branch
    // since closed is still its own.
    if let Some(reason) = services
        .organisation
        .branch_refusal(&item.branch, item.booked_on)
    {
        return Err(ItemError::UnknownBranch { reason });
    }
    Ok(vec![SuspenseItemEvent::Opened { at, by, item }])
}

/// A repeated open: the same facts are a retry (nothing to do), other facts are a conflict.
fn repeated_open(state: &ItemState, item: &OpenItem) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if state.opened == *item {
        Ok(vec![])
    } else {
        Err(ItemError::ReferenceConflict {
            reference: item.reference.clone(),
        })
    }
}

fn record_clearing(
    state: &ItemState,
    at: DateTime<Utc>,
    by: UserId,
    clearing_reference: Reference,
    amount: Money,
) -> Result<Vec<SuspenseItemEvent>, ItemError> {
    if let Some(recorded) = state.clearings.get(&clearing_reference) {
        return if *recorded == amount {
            Ok(vec![])
        } else {
            Err(ItemError::ClearingReferenceConflict { clearing_reference })
        };
    }
    if state.pending.is_some() {
        return Err(ItemError::ProposalPending);
    }
    check_currency(state, "amount", &amount)?;
    if amount.is_zero() {
        return Err(ItemError::AmountNotPositive { field: "amount" });
    }
    let outstanding = state.outstanding();
    if amount.amount() > outstanding.amount() {
        return Err(ItemError::ClearingExceedsOutstanding {
            outstanding,
            requested: amount,
        });
    }
    Ok(vec![SuspenseItemEvent::ClearingRecorded {
        at,
        by,
        clearing_reference,
        amount,
    }])
}

/// Rules shared by a direct resolution and a proposal.
fn check_resolution(state: &ItemState, resolution: &ResolutionRequest) -> Result<(), ItemError> {
    if state.pending.is_some() {
        return Err(ItemError::ProposalPending);
    }
    if state.cause.is_none() {
        return Err(ItemError::NotClassified);
    }
    check_currency(state, "amount", &resolution.amount)?;
    let outstanding = state.outstanding();
    if resolution.amount != outstanding {
        return Err(ItemError::ResolutionAmountMismatch {
            outstanding,
            requested: resolution.amount,
        });
    }
    if resolution.method == ResolutionMethod::PostedToAccount && resolution.posted_to.is_none() {
        return Err(ItemError::Required {
            field: "posted_to",
            why: "a posted_to_account resolution names the account it was posted to",
        });
    }
    Ok(())
}

fn check_currency(state: &ItemState, field: &'static str, money: &Money) -> Result<(), ItemError> {
    let expected = state.opened.amount.currency();
    if money.currency() != expected {
        return Err(ItemError::CurrencyMismatch {
            field,
            expected,
            got: money.currency(),
        });
    }
    Ok(())
}

/// Adds without failing: `decide` already proved the sum is in range and in one currency.
fn add(total: &Money, amount: &Money) -> Money {
    total.checked_add(amount).unwrap_or(*total)
}

fn subtract(total: &Money, amount: &Money) -> Money {
    total
        .checked_sub(amount)
        .unwrap_or_else(|| Money::zero(total.currency()))
}

/// Refuses an attribution the cause's category does not admit, or a counterparty outside the
/// bank's list.
fn check_attribution(
    attribution: &Attribution,
    category: RootCauseCategory,
    services: &ItemServices,
) -> Result<(), ItemError> {
    if attribution.responsible.is_some() && !Attribution::admits_responsible(category) {
        return Err(ItemError::AttributionNotAdmitted {
            field: "responsible",
            category,
        });
    }
    if let Some(counterparty) = &attribution.counterparty {
        if !Attribution::admits_counterparty(category) {
            return Err(ItemError::AttributionNotAdmitted {
                field: "counterparty",
                category,
            });
        }
        if !services.counterparties.contains(counterparty) {
            return Err(ItemError::UnknownCounterparty {
                counterparty: counterparty.clone(),
            });
        }
    }
    Ok(())
}

impl Aggregate for SuspenseItem {
    const TYPE: &'static str = "SuspenseItem";
    type Command = ItemCommand;
    type Event = SuspenseItemEvent;
    type Error = ItemError;
    type Services = ItemServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let SuspenseItemEvent::Opened { at, by, item } = event {
            let cleared = Money::zero(item.amount.currency());
            let customer = CustomerSide::at_opening(&item.customer_impact);
            self.state = Some(ItemState {
                opened: item,
                opened_at: at,
                opened_by: by,
                cause: None,
                attribution: Attribution::default(),
                assignment: None,
                escalation: None,
                clearings: BTreeMap::new(),
                cleared,
                pending: None,
                resolution: None,
                resolved_at: None,
                reopen_count: 0,
                comment_count: 0,
                incident: None,
                customer,
            });
            return;
        }
        // Any other event before Opened cannot come from `decide`; ignoring it keeps `apply`
        // total, and the store's replay check reports such a stream as corrupt.
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            SuspenseItemEvent::Opened { .. } => {}
            SuspenseItemEvent::Classified { cause, .. } => state.cause = Some(cause),
            SuspenseItemEvent::Reclassified { to, .. } => state.cause = Some(to),
            SuspenseItemEvent::Attributed { attribution, .. } => state.attribution = attribution,
            SuspenseItemEvent::Assigned { to, .. } | SuspenseItemEvent::Reassigned { to, .. } => {
                state.assignment = Some(to)
            }
            SuspenseItemEvent::Escalated { level, .. } => state.escalation = Some(level),
            SuspenseItemEvent::ClearingRecorded {
                clearing_reference,
                amount,
                ..
            } => {
                state.cleared = add(&state.cleared, &amount);
                state.clearings.insert(clearing_reference, amount);
            }
            SuspenseItemEvent::ResolutionProposed {
                at,
                by,
                resolution,
                required,
            } => {
                state.pending = Some(PendingResolution {
                    resolution,
                    proposed_by: by,
                    proposed_at: at,
                    required: required.unwrap_or(ApprovalRequirement::ONE),
                    approvals: Vec::new(),
                })
            }
            SuspenseItemEvent::ResolutionApprovalRecorded { by, authority, .. } => {
                if let Some(pending) = state.pending.as_mut() {
                    pending.approvals.push((by, authority));
                }
            }
            SuspenseItemEvent::ResolutionRejected { .. } => state.pending = None,
            SuspenseItemEvent::Resolved { at, resolution, .. } => {
                state.cleared = add(&state.cleared, &resolution.amount);
                state.pending = None;
                state.resolution = Some(resolution);
                state.resolved_at = Some(at);
            }
            SuspenseItemEvent::Reopened { reversed, .. } => {
                state.cleared = subtract(&state.cleared, &reversed);
                state.resolution = None;
                state.resolved_at = None;
                state.reopen_count += 1;
            }
            SuspenseItemEvent::Commented { .. } => state.comment_count += 1,
            SuspenseItemEvent::LinkedToIncident { incident, .. } => state.incident = Some(incident),
            SuspenseItemEvent::UnlinkedFromIncident { .. } => state.incident = None,
            SuspenseItemEvent::CustomerImpactRecorded { .. }
            | SuspenseItemEvent::CustomerFeeIncurred { .. }
            | SuspenseItemEvent::CustomerFeeRefunded { .. }
            | SuspenseItemEvent::ComplaintReceived { .. }
            | SuspenseItemEvent::ComplaintClosed { .. }
            | SuspenseItemEvent::ReminderDue { .. }
            | SuspenseItemEvent::ReminderSent { .. }
            | SuspenseItemEvent::ReminderFailed { .. } => state.customer.apply(&event),
        }
    }
}

#[cfg(test)]
mod tests;
