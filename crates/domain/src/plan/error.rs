//! Every rule a plan command can break.

use crate::classification::CatalogueError;
use crate::identity::UserId;
use crate::plan::model::{MonthSpan, PlanEntryId, PlanReference};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no remediation plan has been drafted under this id")]
    NotDrafted,
    #[error("plan {reference} is already drafted with different content")]
    ReferenceConflict { reference: PlanReference },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{field}: {source}")]
    Catalogue {
        field: &'static str,
        source: CatalogueError,
    },
    #[error("the plan is {status}: {why}")]
    WrongStatus {
        status: &'static str,
        why: &'static str,
    },
    #[error("{kind} '{id}' already exists in this plan")]
    DuplicateEntry { kind: &'static str, id: PlanEntryId },
    #[error("{kind} '{id}' is not in this plan")]
    UnknownEntry { kind: &'static str, id: PlanEntryId },
    #[error("phase {phase} is not in this plan")]
    UnknownPhase { phase: u32 },
    #[error("the baseline {baseline} must end before the first phase starts ({first})")]
    BaselineNotBefore {
        baseline: MonthSpan,
        first: MonthSpan,
    },
    #[error("{by} drafted this plan and cannot approve it: a second person approves")]
    SelfApproval { by: UserId },
    #[error("measure '{id}' is {status}: {why}")]
    MeasureStatus {
        id: PlanEntryId,
        status: &'static str,
        why: &'static str,
    },
}

impl PlanError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A stable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotDrafted => "plan_not_found",
            Self::ReferenceConflict { .. } => "reference_conflict",
            Self::Invalid { .. } => "invalid_field",
            Self::Catalogue { .. } => "unknown_root_cause_code",
            Self::WrongStatus { .. } => "plan_status",
            Self::DuplicateEntry { .. } => "duplicate_entry",
            Self::UnknownEntry { .. } => "unknown_entry",
            Self::UnknownPhase { .. } => "unknown_phase",
            Self::BaselineNotBefore { .. } => "baseline_not_before_plan",
            Self::SelfApproval { .. } => "self_approval",
            Self::MeasureStatus { .. } => "measure_status",
        }
    }

    /// The field a caller should fix, when one field is at fault.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. } | Self::Catalogue { field, .. } => Some(field),
            Self::DuplicateEntry { .. } | Self::UnknownEntry { .. } => Some("id"),
            Self::UnknownPhase { .. } => Some("phase"),
            Self::BaselineNotBefore { .. } => Some("baseline"),
            _ => None,
        }
    }

    /// True when the command itself is malformed (as opposed to not allowed in the plan's
    /// current state).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Invalid { .. }
                | Self::Catalogue { .. }
                | Self::UnknownEntry { .. }
                | Self::UnknownPhase { .. }
                | Self::BaselineNotBefore { .. }
        )
    }
}
