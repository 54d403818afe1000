//! Remediation plans and transaction volumes through the facade: the plan's commands, its
//! state and history, and its evaluation (now, as known at a past time, or recorded as
//! signed).

use chrono::{DateTime, NaiveDate, Utc};
use suspense_domain::plan::{DraftPlan, PlanAction, PlanId, PlanState};
use suspense_domain::{RecordVolume, RemediationPlan, VolumeEvent};
use suspense_read_models::{PlanEvaluation, ProjectionError, Replica, ReportError};
use suspense_store::{EventLog, ExecutedPlan, RecordedPlanEvent, StoreError};

use crate::actor::Actor;
use crate::ledger::Suspense;

/// A plan as it stands, with its version (its last event's sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPlan {
    pub plan_id: PlanId,
    pub version: u64,
    pub state: PlanState,
}

/// Why a plan could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("no remediation plan has been drafted under this id")]
    NoSuchPlan,
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Log(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

impl Suspense {
    /// Drafts a plan, with the targets and measures written down with it (`then`): all of it
    /// is written, or nothing when any part is refused. Idempotent: the same plan under the
    /// same reference again writes nothing; other content under it is refused
    /// (`PlanError::ReferenceConflict`).
    pub async fn draft_plan(
        &self,
        actor: &Actor,
        draft: DraftPlan,
        then: Vec<PlanAction>,
    ) -> Result<ExecutedPlan, StoreError> {
        let plan_id = PlanId::for_reference(&draft.reference);
        let actions = std::iter::once(PlanAction::Draft(draft))
            .chain(then)
            .collect();
        self.execute_plan_all(actor, plan_id, actions).await
    }

    /// Runs a command on a plan's current state, retrying on a concurrent change as
    /// [`Suspense::execute`] does for items.
    pub async fn execute_plan(
        &self,
        actor: &Actor,
        plan_id: PlanId,
        action: PlanAction,
    ) -> Result<ExecutedPlan, StoreError> {
        self.execute_plan_all(actor, plan_id, vec![action]).await
    }

    /// Runs several commands on a plan as one: all their events, or none.
    pub async fn execute_plan_all(
        &self,
        actor: &Actor,
        plan_id: PlanId,
        actions: Vec<PlanAction>,
    ) -> Result<ExecutedPlan, StoreError> {
        self.retrying_conflicts(|| {
            self.log()
                .execute_plan_all(plan_id, &actor.user, actions.clone(), &actor.metadata)
        })
        .await
    }

    /// The plan's current state, or `None` if none was drafted under `plan_id`.
    pub async fn plan(&self, plan_id: PlanId) -> Result<Option<LoadedPlan>, StoreError> {
        Ok(loaded(plan_id, &self.log().plan_history(plan_id).await?))
    }

    /// Every plan, by id.
    pub async fn plans(&self) -> Result<Vec<LoadedPlan>, StoreError> {
        let histories = self.log().plan_histories().await?;
        Ok(histories
            .iter()
            .filter_map(|(id, events)| loaded(PlanId::parse(id).ok()?, events))
            .collect())
    }

    /// Every event of the plan, with who recorded it and when.
    pub async fn plan_history(
        &self,
        plan_id: PlanId,
    ) -> Result<Vec<RecordedPlanEvent>, StoreError> {
        self.log().plan_history(plan_id).await
    }

    /// Evaluates a phase of the plan on the read models as they stand (call
    /// [`Suspense::refresh`] first to include every command that returned).
    pub async fn evaluate_plan(
        &self,
        plan_id: PlanId,
        phase: Option<u32>,
        as_of: NaiveDate,
    ) -> Result<PlanEvaluation, EvaluationError> {
        let plan = self
            .plan(plan_id)
            .await?
            .ok_or(EvaluationError::NoSuchPlan)?;
        Ok(self
            .reports()
            .evaluate_plan(&plan.state, phase, as_of)
            .await?)
    }

    /// The evaluation as it could be made at the recorded time `at`: the plan and the read
    /// models rebuilt from the events recorded by then (as the root-cause report's
    /// `as_known_at`).
    pub async fn evaluate_plan_as_known_at(
        &self,
        plan_id: PlanId,
        phase: Option<u32>,
        as_of: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<PlanEvaluation, EvaluationError> {
        let settings = *self.projector().settings();
        let replica = Replica::as_known_at(self.log(), settings, at).await?;
        let plan = loaded(plan_id, &replica.log().plan_history(plan_id).await?)
            .ok_or(EvaluationError::NoSuchPlan)?;
        Ok(replica
            .reports()
            .evaluate_plan(&plan.state, phase, as_of)
            .await?)
    }

    /// Evaluates a phase on read models brought up to date, and records the figures with
    /// the log position and chain head they were computed at (a manager's signature on the
    /// evaluation). Returns the evaluation and the command's result.
    pub async fn record_plan_evaluation(
        &self,
        actor: &Actor,
        plan_id: PlanId,
        phase: Option<u32>,
        as_of: NaiveDate,
    ) -> Result<(PlanEvaluation, ExecutedPlan), EvaluationError> {
        let position = self.refresh().await?;
        let evaluation = self.evaluate_plan(plan_id, phase, as_of).await?;
        let head = chain_head(self.log()).await?;
        let record = evaluation.to_record(position, head);
        let executed = self
            .execute_plan(
                actor,
                plan_id,
                PlanAction::RecordEvaluation { evaluation: record },
            )
            .await?;
        Ok((evaluation, executed))
    }

    /// Records a branch's transactions for a month (the suspense rate's denominator), or
    /// corrects the figure recorded; nothing is written when the month has that figure.
    pub async fn record_volume(
        &self,
        actor: &Actor,
        volume: RecordVolume,
    ) -> Result<Option<VolumeEvent>, StoreError> {
        self.retrying_conflicts(|| {
            self.log()
                .record_volume(volume.clone(), actor.user.clone(), &actor.metadata)
        })
        .await
    }
}

/// The chain head as `position:link`, the form reports carry it in.
async fn chain_head(log: &EventLog) -> Result<Option<String>, StoreError> {
    Ok(log
        .chain_head()
        .await?
        .map(|(position, link)| format!("{position}:{link}")))
}

fn loaded(plan_id: PlanId, events: &[RecordedPlanEvent]) -> Option<LoadedPlan> {
    let plan = RemediationPlan::from_events(events.iter().map(|e| &e.event));
    Some(LoadedPlan {
        plan_id,
        version: events.last()?.sequence,
        state: plan.state?,
    })
}
