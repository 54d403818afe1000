//! The kinds of stream the log holds. Every event type name belongs to exactly one kind, so
//! a reader of the log tells them apart by the name alone (an export carries no aggregate
//! type column).

use crate::allocation::AllocationEvent;
use crate::incident::IncidentEvent;
use crate::item::SuspenseItem;
use crate::organisation::{OrganisationEvent, Organisations};
use crate::plan::{PlanEvent, RemediationPlan};
use crate::policy::{EscalationPolicies, PolicyEvent};
use crate::volume::{BranchVolumes, VolumeEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// A suspense item's events.
    Item,
    /// A remediation plan's events.
    Plan,
    /// One branch's transaction volumes.
    Volumes,
    /// The escalation policy's published versions.
    Policy,
    /// The organisation registry's published versions.
    Organisation,
    /// A clearing allocated across several items (its reference is the stream's id).
    Allocation,
    /// An incident that caused many items (its reference is the stream's id).
    Incident,
}

impl StreamKind {
    pub const ALL: [Self; 7] = [
        Self::Item,
        Self::Plan,
        Self::Volumes,
        Self::Policy,
        Self::Organisation,
        Self::Allocation,
        Self::Incident,
    ];

    /// The kind of stream an event type belongs to.
    pub fn of_event_type(event_type: &str) -> Self {
        Self::ALL[1..]
            .iter()
            .copied()
            .find(|kind| kind.event_names().contains(&event_type))
            .unwrap_or(Self::Item)
    }

    /// The names of the event types of this kind of stream.
    pub fn event_names(&self) -> &'static [&'static str] {
        match self {
            Self::Item => &crate::SuspenseItemEvent::NAMES,
            Self::Plan => &PlanEvent::NAMES,
            Self::Volumes => &VolumeEvent::NAMES,
            Self::Policy => &PolicyEvent::NAMES,
            Self::Organisation => &OrganisationEvent::NAMES,
            Self::Allocation => &AllocationEvent::NAMES,
            Self::Incident => &IncidentEvent::NAMES,
        }
    }

    /// The kind in one lower-case word, as the bank's other systems see it (`item`, `plan`,
    /// `volumes`, `policy`, `organisation`, `allocation`, `incident`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Item => "item",
            Self::Plan => "plan",
            Self::Volumes => "volumes",
            Self::Policy => "policy",
            Self::Organisation => "organisation",
            Self::Allocation => "allocation",
            Self::Incident => "incident",
        }
    }

    /// The `aggregate_type` its events are stored under.
    pub fn aggregate_type(&self) -> &'static str {
        use cqrs_es::Aggregate;
        match self {
            Self::Item => SuspenseItem::TYPE,
            Self::Plan => RemediationPlan::TYPE,
            Self::Volumes => BranchVolumes::TYPE,
            Self::Policy => EscalationPolicies::TYPE,
            Self::Organisation => Organisations::TYPE,
            Self::Allocation => AllocationEvent::TYPE,
            Self::Incident => IncidentEvent::TYPE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_name_belongs_to_one_kind_of_stream() {
        let item_names = [
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
        ];
        for name in item_names {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Item, "{name}");
        }
        for name in PlanEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Plan);
            assert!(!item_names.contains(&name));
        }
        for name in VolumeEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Volumes);
        }
        for name in PolicyEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Policy);
        }
        for name in AllocationEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Allocation);
        }
        for name in OrganisationEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Organisation);
        }
        for name in IncidentEvent::NAMES {
            assert_eq!(StreamKind::of_event_type(name), StreamKind::Incident);
            assert!(!item_names.contains(&name));
        }
    }
}
