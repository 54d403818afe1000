//! What people ask of a remediation plan.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::evaluation::RecordedEvaluation;
use super::model::{
    Comparison, MeasureSpec, MonthSpan, Phase, PlanEntryId, PlanName, PlanReference, PlanScope,
    Target, TargetValue,
};
use crate::identity::{Note, UserId};

/// A request to change a plan, made by a known person (`by`, set by whoever authenticated it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCommand {
    pub by: UserId,
    pub action: PlanAction,
}

impl PlanCommand {
    pub fn new(by: UserId, action: PlanAction) -> Self {
        Self { by, action }
    }
}

/// A plan as first written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftPlan {
    pub reference: PlanReference,
    pub name: PlanName,
    pub owner: UserId,
    #[serde(default)]
    pub scope: PlanScope,
    pub baseline: MonthSpan,
    #[serde(default)]
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlanAction {
    /// Write the plan down. Idempotent on its reference with the same content.
    Draft(DraftPlan),
    /// Replace the phases (only while drafted).
    SetPhases {
        phases: Vec<Phase>,
    },
    /// Add a target (only while drafted; afterwards targets are revised).
    SetTarget {
        target: Target,
    },
    /// Change a target's figure, with the reason.
    ReviseTarget {
        target: PlanEntryId,
        comparison: Comparison,
        value: TargetValue,
        reason: Note,
    },
    AddMeasure {
        measure: MeasureSpec,
    },
    StartMeasure {
        measure: PlanEntryId,
        note: Option<Note>,
    },
    CompleteMeasure {
        measure: PlanEntryId,
        completed_on: NaiveDate,
        evidence: Note,
    },
    DropMeasure {
        measure: PlanEntryId,
        reason: Note,
    },
    /// A second person approves the plan (maker-checker).
    Approve {
        note: Option<Note>,
    },
    /// Record a phase's evaluation as signed.
    RecordEvaluation {
        evaluation: RecordedEvaluation,
    },
    Close {
        note: Note,
    },
}
