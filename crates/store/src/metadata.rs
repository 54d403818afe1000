//! Request metadata stored beside every event: who asked, under which request, from where.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use suspense_domain::UserId;

/// What the caller knows about the request a command came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMetadata {
    /// Correlates the events with the caller's logs (an HTTP request id, a batch job run).
    pub request_id: Option<String>,
    /// The calling system (the embedding service's name, `http`, `cli-import`).
    pub source: Option<String>,
    /// The escalation policy version a decision was made under (the sweep's escalations).
    pub policy_version: Option<u32>,
}

impl RequestMetadata {
    pub fn new(request_id: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            request_id: Some(request_id.into()),
            source: Some(source.into()),
            policy_version: None,
        }
    }

    /// The map cqrs-es stores in the `metadata` column.
    pub(crate) fn to_map(&self, actor: &UserId) -> HashMap<String, String> {
        let mut map = HashMap::with_capacity(3);
        map.insert("actor".to_owned(), actor.to_string());
        if let Some(id) = &self.request_id {
            map.insert("request_id".to_owned(), id.clone());
        }
        if let Some(source) = &self.source {
            map.insert("source".to_owned(), source.clone());
        }
        if let Some(version) = self.policy_version {
            map.insert("policy_version".to_owned(), version.to_string());
        }
        map
    }
}

/// Metadata as read back from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub source: Option<String>,
    /// The escalation policy version the sweep decided under, on its escalations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
}
