//! The escalation policy (風險預警機制) as versioned data: rules that raise aging or large
//! items to the right level, published as events with an effective-from date, so that a past
//! decision can always be explained by the version in force at its time; the sweep's pure
//! decision for one item (`sweep::due`), and what the rules say ahead of it: thresholds an
//! item will cross soon and the provision it needs (`outlook`).

mod approval;
#[cfg(test)]
mod approval_tests;
mod facts;
mod outlook;
mod reminders;
mod rules;
mod sweep;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use approval::{
    band_for, check_bands, ApprovalBand, ApprovalRequirement, ApproverStanding, MAX_APPROVALS,
};
pub use facts::ItemFacts;
pub use outlook::{crossings, provision, Crossing, ProvisionDue};
pub use reminders::{check_reminders, reminder_due, DueReminder, ReminderRule};
pub use rules::{
    check_rules, AgeFrom, EscalationRule, RegulatoryAction, RuleError, Trigger, MAX_DAYS,
};
pub use sweep::{due, due_on_facts, due_within, DueAction, DueEscalation, SweepDue};

use crate::identity::{Note, UserId};

/// One published version of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// 1, 2, 3 … in publication order.
    pub version: u32,
    /// The first bank-calendar day it is in force.
    pub effective_from: NaiveDate,
    pub rules: Vec<EscalationRule>,
    /// Who must approve a resolution, by amount (empty: the configured approval policy).
    #[serde(default)]
    pub approval_bands: Vec<ApprovalBand>,
    /// When customers must be reminded of their items (none: never).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<ReminderRule>,
}

/// The escalation policy shared by the item commands (for its approval bands).
pub type PolicyDirectory = crate::published::Published<EscalationPolicies>;

/// The current version of the policy event payload.
pub const POLICY_EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyEvent {
    PolicyPublished {
        at: DateTime<Utc>,
        by: UserId,
        /// Why this version (a regulator's notice, a board decision).
        reason: Note,
        policy: PolicyVersion,
    },
}

impl PolicyEvent {
    /// Every policy event's type name (distinct from every other stream's).
    pub const NAMES: [&'static str; 1] = ["PolicyPublished"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::PolicyPublished { .. } => "PolicyPublished",
        }
    }
}

/// A request to publish a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPolicy {
    pub effective_from: NaiveDate,
    pub reason: Note,
    pub rules: Vec<EscalationRule>,
    pub approval_bands: Vec<ApprovalBand>,
    #[serde(default)]
    pub reminders: Vec<ReminderRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("approval_bands[{index}]: {reason}")]
    Band { index: usize, reason: String },
    #[error("reminders[{index}]: {reason}")]
    Reminder { index: usize, reason: String },
    #[error("effective_from {requested} is before version {version}'s ({latest}): versions take effect in publication order")]
    EffectiveBeforeLatest {
        requested: NaiveDate,
        version: u32,
        latest: NaiveDate,
    },
    #[error("the rules are those of the version in force ({version}): nothing to publish")]
    Unchanged { version: u32 },
}

impl PolicyError {
    /// The field a caller should fix.
    pub fn field(&self) -> String {
        match self {
            Self::Rule(rule) => format!("rules[{}]", rule.index),
            Self::Band { index, .. } => format!("approval_bands[{index}]"),
            Self::Reminder { index, .. } => format!("reminders[{index}]"),
            Self::EffectiveBeforeLatest { .. } => "effective_from".to_owned(),
            Self::Unchanged { .. } => "rules".to_owned(),
        }
    }
}

/// Every version published, oldest first: the policy stream's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPolicies {
    pub versions: Vec<PolicyVersion>,
}

impl EscalationPolicies {
    /// The aggregate type policy events are stored under, and the stream's one id.
    pub const TYPE: &'static str = "EscalationPolicy";
    pub const STREAM: &'static str = "escalation-policy";

    pub fn apply(&mut self, event: &PolicyEvent) {
        let PolicyEvent::PolicyPublished { policy, .. } = event;
        self.versions.push(policy.clone());
    }

    /// The version in force on `date`: the latest published with an effective date on or
    /// before it.
    pub fn in_force(&self, date: NaiveDate) -> Option<&PolicyVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= date)
    }

    /// The event publishing `command` as the next version, or the rule it breaks.
    pub fn decide(
        &self,
        command: PublishPolicy,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<PolicyEvent, PolicyError> {
        check_rules(&command.rules)?;
        check_bands(&command.approval_bands)
            .map_err(|(index, reason)| PolicyError::Band { index, reason })?;
        check_reminders(&command.reminders)
            .map_err(|(index, reason)| PolicyError::Reminder { index, reason })?;
        let latest = self.versions.last();
        if let Some(latest) = latest {
            if command.effective_from < latest.effective_from {
                return Err(PolicyError::EffectiveBeforeLatest {
                    requested: command.effective_from,
                    version: latest.version,
                    latest: latest.effective_from,
                });
            }
            if latest.rules == command.rules
                && latest.approval_bands == command.approval_bands
                && latest.reminders == command.reminders
                && latest.effective_from == command.effective_from
            {
                return Err(PolicyError::Unchanged {
                    version: latest.version,
                });
            }
        }
        let version = latest.map_or(1, |v| v.version + 1);
        Ok(PolicyEvent::PolicyPublished {
            at,
            by,
            reason: command.reason,
            policy: PolicyVersion {
                version,
                effective_from: command.effective_from,
                rules: command.rules,
                approval_bands: command.approval_bands,
                reminders: command.reminders,
            },
        })
    }
}
