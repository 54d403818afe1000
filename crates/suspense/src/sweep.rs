//! The escalation policy through the facade, and the sweep that applies it: every open item
//! a rule raises above its level gets an `Escalated` event from the `system` principal, with
//! the policy version in its metadata; regulatory actions due are listed; and every item whose
//! customer a reminder rule says must be reminded gets a `ReminderDue` event, which the
//! delivery hands to the bank's messaging gateway.

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use suspense_domain::organisation::OrganisationVersion;
use suspense_domain::policy::{
    due_within, reminder_due, DueAction, DueEscalation, DueReminder, EscalationPolicies,
    PolicyVersion, PublishPolicy,
};
use suspense_domain::{ItemAction, ItemCommand, ItemError, ItemId, Note, UserId};
use suspense_read_models::{ProjectionError, ReportError};
use suspense_store::{LoadedItem, StoreError};

use crate::actor::Actor;
use crate::ledger::Suspense;

/// The principal the sweep acts as: never a person.
pub const SYSTEM_USER: &str = "system";

/// Items loaded at once by a sweep.
const SWEEP_CONCURRENCY: usize = 16;

/// Items whose escalations a sweep appends in one statement.
const SWEEP_BATCH: usize = 256;

/// Attempts on one item that keeps changing under the sweep.
const SWEEP_ATTEMPTS: u32 = 5;

/// Why a sweep stopped (what it wrote before stays written: each escalation is its own
/// command, and a sweep run again goes on where this one stopped).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Log(#[from] StoreError),
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SweepOutcome {
    /// The bank-calendar date swept.
    pub as_of: Option<NaiveDate>,
    /// The policy version in force on it (`None`: no policy yet, nothing done).
    pub policy_version: Option<u32>,
    /// Open items the register named as possibly due.
    pub candidates: usize,
    /// Escalations written.
    pub escalated: Vec<(ItemId, DueEscalation)>,
    /// Regulatory actions due on the items looked at.
    pub actions_due: Vec<(ItemId, DueAction)>,
    /// Reminders of customers written.
    pub reminded: Vec<(ItemId, DueReminder)>,
}

impl Suspense {
    /// Publishes the next version of the escalation policy.
    pub async fn publish_policy(
        &self,
        actor: &Actor,
        command: PublishPolicy,
    ) -> Result<PolicyVersion, StoreError> {
        self.log()
            .publish_policy(command, actor.user.clone(), &actor.metadata)
            .await
    }

    /// Every version published.
    pub async fn policies(&self) -> Result<EscalationPolicies, StoreError> {
        Ok(self.log().policies().await?.0)
    }

    /// Applies the policy in force at `at` (in the bank's calendar) to every open item it
    /// raises: the read models are brought up to date, the register names the candidates,
    /// and each is decided on its own current state (`policy::due`) and escalated at that
    /// version. Idempotent: a second sweep at the same instant writes nothing; sweeps racing
    /// each other, or a person escalating meanwhile, never escalate an item twice to a level.
    pub async fn sweep(&self, at: DateTime<Utc>) -> Result<SweepOutcome, SweepError> {
        self.refresh().await?;
        let as_of = self.projector().settings().calendar.local_date(at);
        let policies = self.policies().await?;
        let Some(policy) = policies.in_force(as_of) else {
            return Ok(SweepOutcome {
                as_of: Some(as_of),
                ..SweepOutcome::default()
            });
        };
        // The registry in force on the date resolves the policy's jurisdiction rules, for the
        // candidates and for each item's decision alike.
        let registry = self.log().services().organisation.in_force(as_of);
        let candidates = self
            .reports()
            .with_registry(registry.clone())
            .sweep_candidates(policy, as_of)
            .await?;
        let system = UserId::parse(SYSTEM_USER).map_err(ReportError::from)?;
        let mut actor = Actor::new(system).with_source("sweep");
        actor.metadata.policy_version = Some(policy.version);
        let mut results = Vec::with_capacity(candidates.len());
        for chunk in candidates.chunks(SWEEP_BATCH) {
            results.extend(
                self.sweep_chunk(&actor, policy, registry.as_ref(), chunk, as_of)
                    .await?,
            );
        }
        let mut outcome = SweepOutcome {
            as_of: Some(as_of),
            policy_version: Some(policy.version),
            candidates: candidates.len(),
            ..SweepOutcome::default()
        };
        for swept in results {
            if let Some(escalation) = swept.escalated {
                outcome.escalated.push((swept.item_id, escalation));
            }
            outcome
                .actions_due
                .extend(swept.actions.into_iter().map(|a| (swept.item_id, a)));
        }
        outcome.escalated.sort_by_key(|(id, _)| *id);
        outcome.actions_due.sort_by_key(|(id, a)| (*id, a.rule));
        outcome.reminded = self.remind(&actor, policy, as_of).await?;
        Ok(outcome)
    }

    /// Writes the reminders `policy` makes due on `as_of`, each decided on its item's current
    /// state (`policy::reminder_due`); one item at a time a few at once, since reminders are
    /// few beside escalations.
    async fn remind(
        &self,
        actor: &Actor,
        policy: &PolicyVersion,
        as_of: NaiveDate,
    ) -> Result<Vec<(ItemId, DueReminder)>, SweepError> {
        let candidates = self.reports().reminder_candidates(policy, as_of).await?;
        let items: Vec<_> = candidates
            .iter()
            .map(|id| self.remind_item(actor, policy, id, as_of))
            .collect();
        let results: Vec<Result<Option<(ItemId, DueReminder)>, StoreError>> =
            futures::stream::iter(items)
                .buffer_unordered(SWEEP_CONCURRENCY)
                .collect()
                .await;
        let mut reminded = Vec::new();
        for result in results {
            reminded.extend(result?);
        }
        reminded.sort_by_key(|(id, _)| *id);
        Ok(reminded)
    }

    async fn remind_item(
        &self,
        actor: &Actor,
        policy: &PolicyVersion,
        id: &str,
        as_of: NaiveDate,
    ) -> Result<Option<(ItemId, DueReminder)>, StoreError> {
        let item_id = parse_id(id)?;
        for _ in 0..SWEEP_ATTEMPTS {
            let Some(item) = self.item(item_id).await? else {
                return Ok(None);
            };
            let Some(due) = reminder_due(policy, &item.state, as_of) else {
                return Ok(None);
            };
            let action = ItemAction::RecordReminderDue {
                day: due.day,
                due_on: due.due_on,
            };
            match self
                .execute_at_version(actor, item_id, action, item.version)
                .await
            {
                Ok(_) => return Ok(Some((item_id, due))),
                Err(StoreError::VersionMismatch { .. } | StoreError::Conflict { .. }) => {}
                // The item moved on (resolved, or another sweep reminded it later).
                Err(StoreError::Rejected(
                    ItemError::AlreadyResolved | ItemError::ReminderNotLater { .. },
                )) => return Ok(None),
                Err(other) => return Err(other),
            }
        }
        Ok(None)
    }

    /// Decides a chunk of items, each on its current state (loaded a few at a time), and
    /// appends their escalations in one statement, each at the version it was decided on.
    /// If any item changed in between (another sweep, a person), nothing of the chunk is
    /// written and its items are swept one by one, each decided again.
    async fn sweep_chunk(
        &self,
        actor: &Actor,
        policy: &PolicyVersion,
        registry: Option<&OrganisationVersion>,
        ids: &[String],
        as_of: NaiveDate,
    ) -> Result<Vec<ItemSwept>, StoreError> {
        // The futures are made first and run a few at a time (a closure mapping the stream
        // would make the sweep's future lose `Send` for a spawned task).
        let item_ids = ids
            .iter()
            .map(|id| parse_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let loads: Vec<_> = item_ids.iter().map(|id| self.item(*id)).collect();
        let loaded: Vec<Result<Option<LoadedItem>, StoreError>> = futures::stream::iter(loads)
            .buffered(SWEEP_CONCURRENCY)
            .collect()
            .await;
        let mut swept = Vec::with_capacity(ids.len());
        let mut commands = Vec::new();
        for (item_id, item) in item_ids.iter().zip(loaded) {
            let Some(item) = item? else {
                continue;
            };
            let decision = due_within(policy, &item.state, registry, as_of);
            let mut item_swept = ItemSwept {
                item_id: *item_id,
                escalated: None,
                actions: decision.actions,
            };
            if let Some(escalation) = decision.escalation {
                let command = ItemCommand::new(actor.user.clone(), escalate(policy, &escalation))
                    .with_standing(actor.standing());
                commands.push((item.item_id, command, Some(item.version)));
                item_swept.escalated = Some(escalation);
            }
            swept.push(item_swept);
        }
        match self.log().execute_all(commands, &actor.metadata).await {
            Ok(_) => Ok(swept),
            Err(
                StoreError::Conflict { .. }
                | StoreError::VersionMismatch { .. }
                | StoreError::Rejected(
                    ItemError::EscalationNotRaised { .. } | ItemError::AlreadyResolved,
                ),
            ) => {
                let items: Vec<_> = ids
                    .iter()
                    .map(|id| self.sweep_item(actor, policy, registry, id, as_of))
                    .collect();
                futures::stream::iter(items)
                    .buffer_unordered(SWEEP_CONCURRENCY)
                    .collect::<Vec<Result<ItemSwept, StoreError>>>()
                    .await
                    .into_iter()
                    .collect()
            }
            Err(other) => Err(other),
        }
    }

    /// Decides one item on its current state and escalates it at that version; a change in
    /// between (another sweep, a person) is decided again.
    async fn sweep_item(
        &self,
        actor: &Actor,
        policy: &PolicyVersion,
        registry: Option<&OrganisationVersion>,
        id: &str,
        as_of: NaiveDate,
    ) -> Result<ItemSwept, StoreError> {
        let item_id = parse_id(id)?;
        let mut swept = ItemSwept {
            item_id,
            escalated: None,
            actions: Vec::new(),
        };
        for _ in 0..SWEEP_ATTEMPTS {
            let Some(item) = self.item(item_id).await? else {
                return Ok(swept);
            };
            let decision = due_within(policy, &item.state, registry, as_of);
            swept.actions = decision.actions;
            let Some(escalation) = decision.escalation else {
                return Ok(swept);
            };
            let action = escalate(policy, &escalation);
            match self
                .execute_at_version(actor, item_id, action, item.version)
                .await
            {
                Ok(_) => {
                    swept.escalated = Some(escalation);
                    return Ok(swept);
                }
                // Someone else wrote first: decide again on what they wrote.
                Err(StoreError::VersionMismatch { .. } | StoreError::Conflict { .. }) => {}
                // The item moved on (resolved, or raised by a person): nothing due any more.
                Err(StoreError::Rejected(
                    ItemError::EscalationNotRaised { .. } | ItemError::AlreadyResolved,
                )) => return Ok(swept),
                Err(other) => return Err(other),
            }
        }
        Ok(swept)
    }
}

/// The escalation a sweep writes, its note naming the policy version and rule.
fn escalate(policy: &PolicyVersion, escalation: &DueEscalation) -> ItemAction {
    let note = Note::parse(&format!(
        "policy version {}, rule {}",
        policy.version, escalation.rule
    ))
    .ok();
    ItemAction::Escalate {
        level: escalation.level,
        reason: escalation.reason,
        note,
    }
}

/// An item id from the register; one that is not is a damaged read model.
fn parse_id(id: &str) -> Result<ItemId, StoreError> {
    ItemId::parse(id).map_err(|e| StoreError::CorruptEvent {
        item_id: id.to_owned(),
        sequence: 0,
        reason: e.to_string(),
    })
}

/// One item's part of a sweep.
struct ItemSwept {
    item_id: ItemId,
    escalated: Option<DueEscalation>,
    actions: Vec<DueAction>,
}
