//! What happened to a remediation plan. Like an item's events, each carries the business
//! time (`at`) and the acting person (`by`), and is never changed once written.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::evaluation::RecordedEvaluation;
use super::model::{
    Comparison, MeasureSpec, MonthSpan, Phase, PlanEntryId, PlanName, PlanReference, PlanScope,
    Target, TargetValue,
};
use crate::identity::{Note, UserId};

/// The current version of every plan event payload.
pub const PLAN_EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PlanEvent {
    PlanDrafted {
        at: DateTime<Utc>,
        by: UserId,
        reference: PlanReference,
        name: PlanName,
        owner: UserId,
        scope: PlanScope,
        baseline: MonthSpan,
        phases: Vec<Phase>,
    },
    PlanPhasesSet {
        at: DateTime<Utc>,
        by: UserId,
        phases: Vec<Phase>,
    },
    PlanTargetSet {
        at: DateTime<Utc>,
        by: UserId,
        target: Target,
    },
    /// The plan says: evaluate regularly and adjust; every adjustment names its reason.
    PlanTargetRevised {
        at: DateTime<Utc>,
        by: UserId,
        target: PlanEntryId,
        comparison: Comparison,
        value: TargetValue,
        reason: Note,
    },
    PlanMeasureAdded {
        at: DateTime<Utc>,
        by: UserId,
        measure: MeasureSpec,
    },
    PlanMeasureStarted {
        at: DateTime<Utc>,
        by: UserId,
        measure: PlanEntryId,
        note: Option<Note>,
    },
    PlanMeasureCompleted {
        at: DateTime<Utc>,
        by: UserId,
        measure: PlanEntryId,
        /// The bank-calendar date it took effect: the evaluation compares the months before
        /// and after it.
        completed_on: NaiveDate,
        evidence: Note,
    },
    PlanMeasureDropped {
        at: DateTime<Utc>,
        by: UserId,
        measure: PlanEntryId,
        reason: Note,
    },
    /// A second person approved the plan (maker-checker).
    PlanApproved {
        at: DateTime<Utc>,
        by: UserId,
        note: Option<Note>,
    },
    /// A phase's evaluation as a manager signed it: its figures and the log position and
    /// chain head they were computed at, so it can be reproduced later.
    PlanPhaseEvaluated {
        at: DateTime<Utc>,
        by: UserId,
        evaluation: RecordedEvaluation,
    },
    PlanClosed {
        at: DateTime<Utc>,
        by: UserId,
        note: Note,
    },
}

impl PlanEvent {
    /// Every plan event's type name. Distinct from every other event type of the log: the
    /// log tells its kinds of stream apart by these names.
    pub const NAMES: [&'static str; 11] = [
        "PlanDrafted",
        "PlanPhasesSet",
        "PlanTargetSet",
        "PlanTargetRevised",
        "PlanMeasureAdded",
        "PlanMeasureStarted",
        "PlanMeasureCompleted",
        "PlanMeasureDropped",
        "PlanApproved",
        "PlanPhaseEvaluated",
        "PlanClosed",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::PlanDrafted { .. } => "PlanDrafted",
            Self::PlanPhasesSet { .. } => "PlanPhasesSet",
            Self::PlanTargetSet { .. } => "PlanTargetSet",
            Self::PlanTargetRevised { .. } => "PlanTargetRevised",
            Self::PlanMeasureAdded { .. } => "PlanMeasureAdded",
            Self::PlanMeasureStarted { .. } => "PlanMeasureStarted",
            Self::PlanMeasureCompleted { .. } => "PlanMeasureCompleted",
            Self::PlanMeasureDropped { .. } => "PlanMeasureDropped",
            Self::PlanApproved { .. } => "PlanApproved",
            Self::PlanPhaseEvaluated { .. } => "PlanPhaseEvaluated",
            Self::PlanClosed { .. } => "PlanClosed",
        }
    }

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::PlanDrafted { at, .. }
            | Self::PlanPhasesSet { at, .. }
            | Self::PlanTargetSet { at, .. }
            | Self::PlanTargetRevised { at, .. }
            | Self::PlanMeasureAdded { at, .. }
            | Self::PlanMeasureStarted { at, .. }
            | Self::PlanMeasureCompleted { at, .. }
            | Self::PlanMeasureDropped { at, .. }
            | Self::PlanApproved { at, .. }
            | Self::PlanPhaseEvaluated { at, .. }
            | Self::PlanClosed { at, .. } => *at,
        }
    }

    pub fn by(&self) -> &UserId {
        match self {
            Self::PlanDrafted { by, .. }
            | Self::PlanPhasesSet { by, .. }
            | Self::PlanTargetSet { by, .. }
            | Self::PlanTargetRevised { by, .. }
            | Self::PlanMeasureAdded { by, .. }
            | Self::PlanMeasureStarted { by, .. }
            | Self::PlanMeasureCompleted { by, .. }
            | Self::PlanMeasureDropped { by, .. }
            | Self::PlanApproved { by, .. }
            | Self::PlanPhaseEvaluated { by, .. }
            | Self::PlanClosed { by, .. } => by,
        }
    }
}
