//! Subscriptions on the wire: a supervisor's request for a new one, an operator's resume, and
//! where each one's delivery stands. The webhook secret goes in, never out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use suspense::delivery::{Origin, SubscriptionStatus, Target};

/// `POST /v1/subscriptions`: the fields of a `[[subscriptions]]` entry of the configuration,
/// so that what a supervisor can ask for and what a file can say never drift apart.
pub type SubscriptionBody = crate::config::SubscriptionConfig;

/// `POST /v1/subscriptions/{name}/resume`: from where, if not where it stopped.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = Resume)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// Deliver again every event after this log position.
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub from_position: Option<u64>,
}

impl ResumeBody {
    /// The position to deliver again after, if one is named.
    pub fn parse(self) -> Result<Option<u64>, suspense_domain::InvalidInput> {
        self.from_position
            .map(|position| super::log_position("from_position", position))
            .transpose()
    }
}

/// Where a subscription's delivery stands, and what it is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub name: String,
    /// `configuration` (the service's file) or `api` (a supervisor's request).
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// `webhook` or `jetstream`.
    pub target: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jetstream_subject: Option<String>,
    /// Event types taken; all when empty.
    pub event_types: Vec<String>,
    /// Branches taken; all when empty.
    pub branches: Vec<String>,
    pub max_attempts: u32,
    /// The log position handed over up to.
    pub position: u64,
    /// Events in the log after `position`.
    pub lag: u64,
    pub delivered: u64,
    /// Failed attempts at the event waiting.
    pub failures: u32,
    pub last_error: Option<String>,
    pub parked: bool,
    pub parked_at: Option<DateTime<Utc>>,
}

impl From<&SubscriptionStatus> for SubscriptionView {
    fn from(status: &SubscriptionStatus) -> Self {
        let subscription = &status.subscription;
        let (origin, created_by, created_at) = match &status.origin {
            Origin::Configured => ("configuration", None, None),
            Origin::Api { by, at } => ("api", Some(by.clone()), Some(*at)),
        };
        let (target, webhook_url, nats_server, jetstream_subject) = match &subscription.target {
            Target::Webhook { url, .. } => ("webhook", Some(url.as_url().to_string()), None, None),
            Target::JetStream { server, subject } => (
                "jetstream",
                None,
                Some(server.to_string()),
                Some(subject.to_string()),
            ),
        };
        Self {
            name: status.name.clone(),
            origin,
            created_by,
            created_at,
            target,
            webhook_url,
            nats_server,
            jetstream_subject,
            event_types: subscription
                .filter
                .event_types()
                .map(str::to_owned)
                .collect(),
            branches: subscription
                .filter
                .branches()
                .map(|b| b.as_str().to_owned())
                .collect(),
            max_attempts: subscription.max_attempts,
            position: status.position,
            lag: status.lag,
            delivered: status.delivered,
            failures: status.failures,
            last_error: status.last_error.clone(),
            parked: status.parked_at.is_some(),
            parked_at: status.parked_at,
        }
    }
}
