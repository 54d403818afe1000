//! The log's other streams: remediation plans, each branch's transaction volumes and the
//! escalation policy. They
//! share the items' table, positions, metadata and hash chain; a stream is loaded whole
//! (plans and volumes have few events) and written with the same optimistic concurrency.

use std::collections::BTreeMap;

use suspense_database::with_pool;
use suspense_domain::plan::PLAN_EVENT_VERSION;
use suspense_domain::policy::{
    EscalationPolicies, PolicyEvent, PolicyVersion, PublishPolicy, POLICY_EVENT_VERSION,
};
use suspense_domain::{
    BranchVolumes, PlanAction, PlanCommand, PlanEvent, PlanId, PlanState, RecordVolume,
    RemediationPlan, StreamKind, UserId, VolumeEvent,
};

use super::{EventLog, EVENT_COLUMNS};
use crate::append::{append_rows, stream_rows_of, AppendError, EventText, Stream};
use crate::error::StoreError;
use crate::metadata::RequestMetadata;
use crate::record::{EventRow, RecordedPlanEvent, RecordedPolicyEvent, RecordedVolumeEvent};

/// The result of a plan command that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutedPlan {
    pub plan_id: PlanId,
    /// The plan's version (its last event's sequence) after the command.
    pub version: u64,
    /// The events the command wrote. Empty for an idempotent repeat.
    pub events: Vec<PlanEvent>,
    pub state: Option<PlanState>,
}

impl EventLog {
    /// Runs one command against one remediation plan: load, decide, append. One attempt: a
    /// concurrent writer that got there first makes this return
    /// [`StoreError::StreamConflict`], and nothing is written.
    pub async fn execute_plan(
        &self,
        plan_id: PlanId,
        command: PlanCommand,
        metadata: &RequestMetadata,
    ) -> Result<ExecutedPlan, StoreError> {
        self.execute_plan_all(plan_id, &command.by, vec![command.action], metadata)
            .await
    }

    /// Runs several commands of one person against one plan as one: their events are
    /// appended in one statement, or none of them when one is refused.
    pub async fn execute_plan_all(
        &self,
        plan_id: PlanId,
        by: &UserId,
        actions: Vec<PlanAction>,
        metadata: &RequestMetadata,
    ) -> Result<ExecutedPlan, StoreError> {
        let metadata = metadata.to_map(by);
        let history = self.plan_history(plan_id).await?;
        let version = history.last().map_or(0, |e| e.sequence);
        let plan = RemediationPlan::from_events(history.iter().map(|e| &e.event));
        let events = plan.decide_all(by, actions, &self.services)?;
        let mut after = plan;
        if !events.is_empty() {
            let rows = stream_rows_of(&events, PlanEvent::name, PLAN_EVENT_VERSION)?;
            let id = plan_id.to_string();
            self.append_to(StreamKind::Plan, &id, version, &rows, &metadata)
                .await?;
            events.iter().for_each(|e| after.apply(e.clone()));
        }
        Ok(ExecutedPlan {
            plan_id,
            version: version + events.len() as u64,
            events,
            state: after.state,
        })
    }

    /// Every event of one plan, oldest first.
    pub async fn plan_history(
        &self,
        plan_id: PlanId,
    ) -> Result<Vec<RecordedPlanEvent>, StoreError> {
        let rows = self
            .stream_rows(StreamKind::Plan, Some(&plan_id.to_string()))
            .await?;
        rows.iter()
            .map(|row| row.decode_as(PlanEvent::name))
            .collect()
    }

    /// Every plan's events, by plan (oldest first within each).
    pub async fn plan_histories(
        &self,
    ) -> Result<BTreeMap<String, Vec<RecordedPlanEvent>>, StoreError> {
        let mut plans: BTreeMap<String, Vec<RecordedPlanEvent>> = BTreeMap::new();
        for row in self.stream_rows(StreamKind::Plan, None).await? {
            let event = row.decode_as(PlanEvent::name)?;
            plans.entry(event.stream.clone()).or_default().push(event);
        }
        Ok(plans)
    }

    /// Records a branch's transactions for a month, or corrects the figure recorded; nothing
    /// is written when the month already has that figure. Returns the event written.
    pub async fn record_volume(
        &self,
        command: RecordVolume,
        by: UserId,
        metadata: &RequestMetadata,
    ) -> Result<Option<VolumeEvent>, StoreError> {
        let metadata = metadata.to_map(&by);
        let branch = command.branch.to_string();
        let rows = self.stream_rows(StreamKind::Volumes, Some(&branch)).await?;
        let mut volumes = BranchVolumes::default();
        for row in &rows {
            volumes.apply(&row.decode_as(VolumeEvent::name)?.event);
        }
        let version = rows
            .last()
            .map_or(0, |r| u64::try_from(r.sequence).unwrap_or(0));
        let events = volumes.decide(command, by, self.services.clock.now());
        let Some(event) = events.into_iter().next() else {
            return Ok(None);
        };
        let rows = stream_rows_of(
            std::slice::from_ref(&event),
            VolumeEvent::name,
            suspense_domain::volume::VOLUME_EVENT_VERSION,
        )?;
        self.append_to(StreamKind::Volumes, &branch, version, &rows, &metadata)
            .await?;
        Ok(Some(event))
    }

    /// Publishes `command` as the policy's next version; returns the version published.
    pub async fn publish_policy(
        &self,
        command: PublishPolicy,
        by: UserId,
        metadata: &RequestMetadata,
    ) -> Result<PolicyVersion, StoreError> {
        let metadata = metadata.to_map(&by);
        let (mut policies, version) = self.policies().await?;
        let event = policies.decide(command, by, self.services.clock.now())?;
        let rows = stream_rows_of(
            std::slice::from_ref(&event),
            PolicyEvent::name,
            POLICY_EVENT_VERSION,
        )?;
        self.append_to(
            StreamKind::Policy,
            EscalationPolicies::STREAM,
            version,
            &rows,
            &metadata,
        )
        .await?;
        policies.apply(&event);
        self.services.policies.replace(policies);
        let PolicyEvent::PolicyPublished { policy, .. } = event;
        Ok(policy)
    }

    /// Every published version of the escalation policy, and the stream's version.
    pub async fn policies(&self) -> Result<(EscalationPolicies, u64), StoreError> {
        let history = self.policy_history().await?;
        let mut policies = EscalationPolicies::default();
        for event in &history {
            policies.apply(&event.event);
        }
        Ok((policies, history.last().map_or(0, |e| e.sequence)))
    }

    /// The policy's events: who published each version, when and why.
    pub async fn policy_history(&self) -> Result<Vec<RecordedPolicyEvent>, StoreError> {
        self.stream_rows(StreamKind::Policy, Some(EscalationPolicies::STREAM))
            .await?
            .iter()
            .map(|row| row.decode_as(PolicyEvent::name))
            .collect()
    }

    /// Every transaction volume event, by branch and in order.
    pub async fn volume_events(&self) -> Result<Vec<RecordedVolumeEvent>, StoreError> {
        self.stream_rows(StreamKind::Volumes, None)
            .await?
            .iter()
            .map(|row| row.decode_as(VolumeEvent::name))
            .collect()
    }

    pub(super) async fn append_to(
        &self,
        kind: StreamKind,
        id: &str,
        version: u64,
        rows: &[EventText],
        metadata: &std::collections::HashMap<String, String>,
    ) -> Result<(), StoreError> {
        let stream = Stream {
            aggregate_type: kind.aggregate_type(),
            aggregate_id: id,
        };
        let writing = self.write_turn().await;
        let appended = append_rows(&self.pool, &self.lanes, stream, version, rows, metadata).await;
        drop(writing);
        match appended {
            Ok(()) => Ok(()),
            Err(AppendError::Taken) => Err(StoreError::StreamConflict {
                stream: format!("{} {id}", kind.aggregate_type()),
            }),
            Err(AppendError::Store(e)) => Err(e),
        }
    }

    /// The rows of one stream of `kind` (or of every stream of that kind), by stream and
    /// sequence, with their positions where assigned. Nothing is sequenced first: on
    /// PostgreSQL an event committed a moment ago may not have its position yet (readers of
    /// plans and volumes need their content, not their place).
    pub(super) async fn stream_rows(
        &self,
        kind: StreamKind,
        id: Option<&str>,
    ) -> Result<Vec<EventRow>, StoreError> {
        let filter = if id.is_some() {
            " AND e.aggregate_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "{EVENT_COLUMNS}
  LEFT JOIN event_log l
         ON l.aggregate_type = e.aggregate_type AND l.aggregate_id = e.aggregate_id
        AND l.sequence = e.sequence
 WHERE e.aggregate_type = $1{filter}
 ORDER BY e.aggregate_id, e.sequence"
        );
        let rows: Vec<EventRow> = with_pool!(&self.pool, p => {
            let mut q = sqlx::query_as(&sql).bind(kind.aggregate_type());
            if let Some(id) = id {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        });
        Ok(rows)
    }
}
