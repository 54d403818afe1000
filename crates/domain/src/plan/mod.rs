//! The remediation plan (整改方案): phases, targets against a baseline, the measures the bank
//! takes, approval by a second person, and evaluations as signed. An event-sourced aggregate
//! beside the suspense item, in the same log.
//!
//! `RemediationPlan::decide` is the only place plan rules live; `apply` never fails.

mod command;
mod error;
mod evaluation;
mod event;
mod model;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

pub use command::{DraftPlan, PlanAction, PlanCommand};
pub use error::PlanError;
pub use evaluation::{MeasureEffect, PhaseProgress, RecordedEvaluation, TargetFigures, Verdict};
pub use event::{PlanEvent, PLAN_EVENT_VERSION};
pub use model::{
    Comparison, MeasureSpec, MeasureStatus, Metric, MetricFilter, Month, MonthSpan, Phase,
    PlanEntryId, PlanId, PlanName, PlanReference, PlanScope, Target, TargetValue, METRIC_NAMES,
};

use crate::identity::{Note, UserId};
use crate::services::ItemServices;

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    Drafted,
    Approved,
    Closed,
}

impl PlanStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Drafted => "drafted",
            Self::Approved => "approved",
            Self::Closed => "closed",
        }
    }
}

/// A measure as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub spec: MeasureSpec,
    pub status: MeasureStatus,
    pub completed_on: Option<NaiveDate>,
    /// Evidence and notes, oldest first.
    pub notes: Vec<Note>,
}

/// A target revision, kept for the plan's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub target: PlanEntryId,
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub reason: Note,
}

/// A drafted plan's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanState {
    pub draft: DraftPlan,
    pub drafted_by: UserId,
    pub drafted_at: DateTime<Utc>,
    pub status: PlanStatus,
    pub approved_by: Option<UserId>,
    pub targets: Vec<Target>,
    pub revisions: Vec<Revision>,
    pub measures: Vec<Measure>,
    /// The evaluations recorded, per phase, latest last.
    pub evaluations: BTreeMap<u32, Vec<RecordedEvaluation>>,
}

impl PlanState {
    pub fn phase(&self, number: u32) -> Option<&Phase> {
        self.draft.phases.iter().find(|p| p.number == number)
    }

    pub fn target(&self, id: &PlanEntryId) -> Option<&Target> {
        self.targets.iter().find(|t| &t.id == id)
    }

    pub fn measure(&self, id: &PlanEntryId) -> Option<&Measure> {
        self.measures.iter().find(|m| &m.spec.id == id)
    }

    /// The months the plan runs: its first phase's first month to its last phase's last.
    pub fn span(&self) -> Option<MonthSpan> {
        let first = self.draft.phases.first()?;
        let last = self.draft.phases.last()?;
        MonthSpan::new(first.months.from, last.months.to).ok()
    }
}

/// The remediation plan aggregate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemediationPlan {
    pub state: Option<PlanState>,
}

impl RemediationPlan {
    /// The aggregate type its events are stored under.
    pub const TYPE: &'static str = "RemediationPlan";

    /// The plan after `events`, oldest first.
    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e PlanEvent>) -> Self {
        let mut plan = Self::default();
        for event in events {
            plan.apply(event.clone());
        }
        plan
    }

    /// The events `command` produces, or the rule it breaks. Empty for an idempotent repeat.
    pub fn decide(
        &self,
        command: PlanCommand,
        services: &ItemServices,
    ) -> Result<Vec<PlanEvent>, PlanError> {
        let at = services.clock.now();
        let by = command.by;
        let state = match (&self.state, command.action) {
            (None, PlanAction::Draft(draft)) => return draft_plan(at, by, draft, services),
            (Some(state), PlanAction::Draft(draft)) => {
                return if state.draft == draft {
                    Ok(Vec::new())
                } else {
                    Err(PlanError::ReferenceConflict {
                        reference: draft.reference,
                    })
                };
            }
            (None, _) => return Err(PlanError::NotDrafted),
            (Some(state), action) => (state, action),
        };
        let (state, action) = state;
        if state.status == PlanStatus::Closed {
            return Err(PlanError::WrongStatus {
                status: "closed",
                why: "a closed plan does not change",
            });
        }
        let event = match action {
            PlanAction::Draft(_) => return Ok(Vec::new()), // handled above
            PlanAction::SetPhases { phases } => {
                require_drafted(state, "phases are set while the plan is drafted")?;
                check_phases(&state.draft.baseline, &phases)?;
                for target in &state.targets {
                    if let Some(phase) = target.phase {
                        if !phases.iter().any(|p| p.number == phase) {
                            return Err(PlanError::invalid(
                                "phases",
                                format!("target '{}' applies to phase {phase}", target.id),
                            ));
                        }
                    }
                }
                if phases == state.draft.phases {
                    return Ok(Vec::new());
                }
                PlanEvent::PlanPhasesSet { at, by, phases }
            }
            PlanAction::SetTarget { target } => {
                require_drafted(
                    state,
                    "targets are set while drafted; afterwards they are revised",
                )?;
                if let Some(existing) = state.target(&target.id) {
                    return if *existing == target {
                        Ok(Vec::new())
                    } else {
                        Err(PlanError::DuplicateEntry {
                            kind: "target",
                            id: target.id,
                        })
                    };
                }
                check_target(state, &target, services)?;
                PlanEvent::PlanTargetSet { at, by, target }
            }
            PlanAction::ReviseTarget {
                target,
                comparison,
                value,
                reason,
            } => {
                let Some(existing) = state.target(&target) else {
                    return Err(PlanError::UnknownEntry {
                        kind: "target",
                        id: target,
                    });
                };
                if existing.comparison == comparison && existing.value == value {
                    return Err(PlanError::invalid(
                        "value",
                        "is the target's current figure: nothing to revise",
                    ));
                }
                Target::new(
                    existing.id.clone(),
                    existing.metric.clone(),
                    existing.filter.clone(),
                    comparison,
                    value,
                    existing.phase,
                )
                .map_err(invalid_input)?;
                PlanEvent::PlanTargetRevised {
                    at,
                    by,
                    target,
                    comparison,
                    value,
                    reason,
                }
            }
            PlanAction::AddMeasure { measure } => {
                if let Some(existing) = state.measure(&measure.id) {
                    return if existing.spec == measure {
                        Ok(Vec::new())
                    } else {
                        Err(PlanError::DuplicateEntry {
                            kind: "measure",
                            id: measure.id,
                        })
                    };
                }
                if let Some(code) = &measure.code {
                    services
                        .catalogue
                        .resolve(measure.category, code)
                        .map_err(|source| PlanError::Catalogue {
                            field: "code",
                            source,
                        })?;
                }
                PlanEvent::PlanMeasureAdded { at, by, measure }
            }
            PlanAction::StartMeasure { measure, note } => {
                let current = known_measure(state, &measure)?;
                match current.status {
                    MeasureStatus::InProgress => return Ok(Vec::new()),
                    MeasureStatus::Planned => {}
                    other => return Err(measure_status(measure, other, "it cannot start again")),
                }
                PlanEvent::PlanMeasureStarted {
                    at,
                    by,
                    measure,
                    note,
                }
            }
            PlanAction::CompleteMeasure {
                measure,
                completed_on,
                evidence,
            } => {
                let current = known_measure(state, &measure)?;
                match current.status {
                    MeasureStatus::Planned | MeasureStatus::InProgress => {}
                    MeasureStatus::Done if current.completed_on == Some(completed_on) => {
                        return Ok(Vec::new())
                    }
                    other => return Err(measure_status(measure, other, "it cannot be completed")),
                }
                PlanEvent::PlanMeasureCompleted {
                    at,
                    by,
                    measure,
                    completed_on,
                    evidence,
                }
            }
            PlanAction::DropMeasure { measure, reason } => {
                let current = known_measure(state, &measure)?;
                match current.status {
                    MeasureStatus::Planned | MeasureStatus::InProgress => {}
                    MeasureStatus::Dropped => return Ok(Vec::new()),
                    other => return Err(measure_status(measure, other, "it cannot be dropped")),
                }
                PlanEvent::PlanMeasureDropped {
                    at,
                    by,
                    measure,
                    reason,
                }
            }
            PlanAction::Approve { note } => {
                if state.status == PlanStatus::Approved {
                    return Ok(Vec::new());
                }
                if by == state.drafted_by {
                    return Err(PlanError::SelfApproval { by });
                }
                if state.draft.phases.is_empty() {
                    return Err(PlanError::invalid(
                        "phases",
                        "a plan needs phases to be approved",
                    ));
                }
                if state.targets.is_empty() {
                    return Err(PlanError::invalid(
                        "targets",
                        "a plan needs at least one target to be approved",
                    ));
                }
                PlanEvent::PlanApproved { at, by, note }
            }
            PlanAction::RecordEvaluation { evaluation } => {
                if state.status != PlanStatus::Approved {
                    return Err(PlanError::WrongStatus {
                        status: state.status.as_str(),
                        why: "only an approved plan is evaluated",
                    });
                }
                if state.phase(evaluation.phase).is_none() {
                    return Err(PlanError::UnknownPhase {
                        phase: evaluation.phase,
                    });
                }
                if state
                    .evaluations
                    .get(&evaluation.phase)
                    .and_then(|e| e.last())
                    == Some(&evaluation)
                {
                    return Ok(Vec::new());
                }
                PlanEvent::PlanPhaseEvaluated { at, by, evaluation }
            }
            PlanAction::Close { note } => PlanEvent::PlanClosed { at, by, note },
        };
        Ok(vec![event])
    }

    /// The events of several commands by one person, each decided on the state the ones
    /// before it leave: all of them, or the first rule broken (a plan document drafted with
    /// its targets and measures is written whole or not at all).
    pub fn decide_all(
        &self,
        by: &UserId,
        actions: Vec<PlanAction>,
        services: &ItemServices,
    ) -> Result<Vec<PlanEvent>, PlanError> {
        let mut scratch = self.clone();
        let mut all = Vec::new();
        for action in actions {
            let events = scratch.decide(PlanCommand::new(by.clone(), action), services)?;
            for event in &events {
                scratch.apply(event.clone());
            }
            all.extend(events);
        }
        Ok(all)
    }

    /// Folds one event into the state. Never fails: events are facts.
    pub fn apply(&mut self, event: PlanEvent) {
        if let PlanEvent::PlanDrafted {
            at,
            by,
            reference,
            name,
            owner,
            scope,
            baseline,
            phases,
        } = event
        {
            self.state = Some(PlanState {
                draft: DraftPlan {
                    reference,
                    name,
                    owner,
                    scope,
                    baseline,
                    phases,
                },
                drafted_by: by,
                drafted_at: at,
                status: PlanStatus::Drafted,
                approved_by: None,
                targets: Vec::new(),
                revisions: Vec::new(),
                measures: Vec::new(),
                evaluations: BTreeMap::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            PlanEvent::PlanDrafted { .. } => {}
            PlanEvent::PlanPhasesSet { phases, .. } => state.draft.phases = phases,
            PlanEvent::PlanTargetSet { target, .. } => state.targets.push(target),
            PlanEvent::PlanTargetRevised {
                at,
                by,
                target,
                comparison,
                value,
                reason,
            } => {
                if let Some(t) = state.targets.iter_mut().find(|t| t.id == target) {
                    t.comparison = comparison;
                    t.value = value;
                }
                state.revisions.push(Revision {
                    target,
                    at,
                    by,
                    reason,
                });
            }
            PlanEvent::PlanMeasureAdded { measure, .. } => state.measures.push(Measure {
                spec: measure,
                status: MeasureStatus::Planned,
                completed_on: None,
                notes: Vec::new(),
            }),
            PlanEvent::PlanMeasureStarted { measure, note, .. } => {
                if let Some(m) = measure_mut(state, &measure) {
                    m.status = MeasureStatus::InProgress;
                    m.notes.extend(note);
                }
            }
            PlanEvent::PlanMeasureCompleted {
                measure,
                completed_on,
                evidence,
                ..
            } => {
                if let Some(m) = measure_mut(state, &measure) {
                    m.status = MeasureStatus::Done;
                    m.completed_on = Some(completed_on);
                    m.notes.push(evidence);
                }
            }
            PlanEvent::PlanMeasureDropped {
                measure, reason, ..
            } => {
                if let Some(m) = measure_mut(state, &measure) {
                    m.status = MeasureStatus::Dropped;
                    m.notes.push(reason);
                }
            }
            PlanEvent::PlanApproved { by, .. } => {
                state.status = PlanStatus::Approved;
                state.approved_by = Some(by);
            }
            PlanEvent::PlanPhaseEvaluated { evaluation, .. } => state
                .evaluations
                .entry(evaluation.phase)
                .or_default()
                .push(evaluation),
            PlanEvent::PlanClosed { .. } => state.status = PlanStatus::Closed,
        }
    }
}

fn draft_plan(
    at: DateTime<Utc>,
    by: UserId,
    draft: DraftPlan,
    _services: &ItemServices,
) -> Result<Vec<PlanEvent>, PlanError> {
    check_phases(&draft.baseline, &draft.phases)?;
    Ok(vec![PlanEvent::PlanDrafted {
        at,
        by,
        reference: draft.reference,
        name: draft.name,
        owner: draft.owner,
        scope: draft.scope,
        baseline: draft.baseline,
        phases: draft.phases,
    }])
}

fn require_drafted(state: &PlanState, why: &'static str) -> Result<(), PlanError> {
    if state.status == PlanStatus::Drafted {
        Ok(())
    } else {
        Err(PlanError::WrongStatus {
            status: state.status.as_str(),
            why,
        })
    }
}

/// Phases are numbered 1, 2, … in month order, do not overlap, and start after the baseline.
fn check_phases(baseline: &MonthSpan, phases: &[Phase]) -> Result<(), PlanError> {
    for (index, phase) in phases.iter().enumerate() {
        let expected = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if phase.number != expected {
            return Err(PlanError::invalid(
                "phases",
                format!("phase {} is listed where phase {expected} belongs: number them 1, 2, … in month order", phase.number),
            ));
        }
        if let Some(before) = index.checked_sub(1).and_then(|i| phases.get(i)) {
            if before.months.overlaps(&phase.months) || phase.months.from < before.months.from {
                return Err(PlanError::invalid(
                    "phases",
                    format!(
                        "phase {} ({}) overlaps or precedes phase {} ({})",
                        phase.number, phase.months, before.number, before.months
                    ),
                ));
            }
        }
    }
    if let Some(first) = phases.first() {
        if baseline.to >= first.months.from {
            return Err(PlanError::BaselineNotBefore {
                baseline: *baseline,
                first: first.months,
            });
        }
    }
    Ok(())
}

/// A target's phase exists, its filters lie within the plan's scope, its code is in the
/// catalogue (and in its category).
fn check_target(
    state: &PlanState,
    target: &Target,
    services: &ItemServices,
) -> Result<(), PlanError> {
    if let Some(phase) = target.phase {
        if state.phase(phase).is_none() {
            return Err(PlanError::UnknownPhase { phase });
        }
    }
    let scope = &state.draft.scope;
    let filter = &target.filter;
    if let Some(branch) = &filter.branch {
        if !scope.branches.is_empty() && !scope.branches.contains(branch) {
            return Err(PlanError::invalid(
                "branch",
                format!("{branch} is outside the plan's scope"),
            ));
        }
    }
    if let Some(category) = filter.category {
        if !scope.categories.is_empty() && !scope.categories.contains(&category) {
            return Err(PlanError::invalid(
                "category",
                format!("{category} is outside the plan's scope"),
            ));
        }
    }
    if let Some(code) = &filter.code {
        let Some(entry) = services.catalogue.entries().get(code) else {
            return Err(PlanError::Catalogue {
                field: "code",
                source: crate::classification::CatalogueError::UnknownCode { code: code.clone() },
            });
        };
        if let Some(category) = filter.category {
            services
                .catalogue
                .resolve(category, code)
                .map_err(|source| PlanError::Catalogue {
                    field: "code",
                    source,
                })?;
        } else if !scope.categories.is_empty() && !scope.categories.contains(&entry.category) {
            return Err(PlanError::invalid(
                "code",
                format!(
                    "{code} belongs to {}, outside the plan's scope",
                    entry.category
                ),
            ));
        }
    }
    Ok(())
}

fn known_measure<'s>(state: &'s PlanState, id: &PlanEntryId) -> Result<&'s Measure, PlanError> {
    state.measure(id).ok_or_else(|| PlanError::UnknownEntry {
        kind: "measure",
        id: id.clone(),
    })
}

fn measure_mut<'s>(state: &'s mut PlanState, id: &PlanEntryId) -> Option<&'s mut Measure> {
    state.measures.iter_mut().find(|m| &m.spec.id == id)
}

fn measure_status(id: PlanEntryId, status: MeasureStatus, why: &'static str) -> PlanError {
    PlanError::MeasureStatus {
        id,
        status: status.as_str(),
        why,
    }
}

fn invalid_input(e: crate::input::InvalidInput) -> PlanError {
    PlanError::Invalid {
        field: match e.field.as_str() {
            "value" => "value",
            "category" => "category",
            "channel" => "channel",
            _ => "target",
        },
        reason: e.reason,
    }
}
