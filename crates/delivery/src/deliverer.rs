//! One subscription's delivery: follows the log from its checkpoint a page at a time, as the
//! projector does (positions have no gaps, so nothing is skipped or read twice), hands each
//! admitted event to the target in log order, and moves the checkpoint after the page. A
//! target that fails is tried again with exponential backoff and jitter; after
//! `max_attempts` the subscription parks until an operator resumes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use suspense_domain::{BranchCode, ItemId, SuspenseItemEvent};
use suspense_store::{EventLog, RecordedEvent};

use crate::checkpoint;
use crate::cloud_event;
use crate::error::DeliveryError;
use crate::signature;
use crate::subscription::{Subscription, Target};

/// How a deliverer paces itself.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySettings {
    /// How long an idle or parked deliverer waits before it looks at the log again.
    pub poll: Duration,
    /// Events read from the log at once; the checkpoint moves after each page.
    pub page: u32,
    /// The first retry's wait; each further retry waits twice as long, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long a webhook may take to answer.
    pub timeout: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(200),
            page: 256,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliverySettings {
    /// The wait before attempt `failures + 1`: half the doubled backoff, plus a random part
    /// of the other half, so that many deliverers failing at once do not retry in step.
    pub fn backoff_after(&self, failures: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let half = doubled / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The item branches a filter by branch needs, learned from the log.
const BRANCHES_KEPT: usize = 100_000;

pub(crate) struct Deliverer {
    log: Arc<EventLog>,
    subscription: Subscription,
    settings: DeliverySettings,
    client: reqwest::Client,
    branches: Mutex<HashMap<ItemId, BranchCode>>,
}

/// What became of one page.
enum Handed {
    /// Up to the end of the page: look again at once.
    Page,
    /// Nothing new, parked, or moved by an operator meanwhile: wait for the poll.
    Idle,
}

impl Deliverer {
    pub(crate) fn new(
        log: Arc<EventLog>,
        subscription: Subscription,
        settings: DeliverySettings,
        client: reqwest::Client,
    ) -> Self {
        Self {
            log,
            subscription,
            settings,
            client,
            branches: Mutex::new(HashMap::new()),
        }
    }

    /// Delivers until the task is aborted; an error (the database away) is logged and the
    /// page tried again after the poll.
    pub(crate) fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.hand_over_page().await {
                    Ok(Handed::Page) => {}
                    Ok(Handed::Idle) => tokio::time::sleep(self.settings.poll).await,
                    Err(err) => {
                        tracing::warn!(subscription = %self.subscription.name, error = %err, "delivery");
                        tokio::time::sleep(self.settings.poll).await;
                    }
                }
            }
        })
    }

    async fn hand_over_page(&self) -> Result<Handed, DeliveryError> {
        let pool = self.log.pool();
        let name = &self.subscription.name;
        let row = checkpoint::read(pool, name)
            .await?
            .ok_or_else(|| DeliveryError::NoCheckpoint(name.to_string()))?;
        if row.parked_at.is_some() {
            return Ok(Handed::Idle);
        }
        let mut from = row.reached();
        let mut failures = u32::try_from(row.failures).unwrap_or(0);
        let page = self.log.read_page(from, self.settings.page).await?;
        let Some(end) = page.last_position() else {
            return Ok(Handed::Idle);
        };
        let mut at = from;
        let mut delivered = 0;
        for event in page.events() {
            let position = event.position.unwrap_or(at);
            if self.admits(event).await? {
                loop {
                    match self.deliver(event).await {
                        Ok(()) => break,
                        Err(reason) => {
                            // Keep what was handed over, then count the failure against the
                            // event waiting.
                            if !checkpoint::advance(pool, name, from, at, delivered).await? {
                                return Ok(Handed::Idle);
                            }
                            (from, delivered) = (at, 0);
                            failures += 1;
                            let park = failures >= self.subscription.max_attempts;
                            checkpoint::record_failure(pool, name, at, failures, &reason, park)
                                .await?;
                            if park {
                                tracing::error!(subscription = %name, position, failures, error = %reason, "delivery parked");
                                return Ok(Handed::Idle);
                            }
                            tracing::warn!(subscription = %name, position, failures, error = %reason, "delivery failed, retrying");
                            tokio::time::sleep(self.settings.backoff_after(failures)).await;
                            // An operator may have replayed or resumed meanwhile.
                            match checkpoint::read(pool, name).await? {
                                Some(now) if now.reached() == at && now.parked_at.is_none() => {}
                                _ => return Ok(Handed::Idle),
                            }
                        }
                    }
                }
                delivered += 1;
                failures = 0;
            }
            at = position;
        }
        // Events of other streams (plans, volumes) take positions too: the page ends at `end`.
        if checkpoint::advance(pool, name, from, end, delivered).await? {
            Ok(Handed::Page)
        } else {
            Ok(Handed::Idle)
        }
    }

    /// Whether the subscription's filter takes `event`, learning the item's branch when the
    /// filter names branches.
    async fn admits(&self, event: &RecordedEvent) -> Result<bool, DeliveryError> {
        let filter = &self.subscription.filter;
        if !filter.by_branch() {
            return Ok(filter.admits(&event.event_type, None));
        }
        let branch = match &event.event {
            SuspenseItemEvent::Opened { item, .. } => Some(item.branch.clone()),
            _ => self.known_branch(event.item_id),
        };
        let branch = match branch {
            Some(branch) => branch,
            None => match self.log.load(event.item_id).await? {
                Some(loaded) => loaded.state.opened.branch,
                None => return Ok(false),
            },
        };
        let admitted = filter.admits(&event.event_type, Some(&branch));
        if let Ok(mut known) = self.branches.lock() {
            if known.len() >= BRANCHES_KEPT {
                known.clear();
            }
            known.insert(event.item_id, branch);
        }
        Ok(admitted)
    }

    fn known_branch(&self, item: ItemId) -> Option<BranchCode> {
        self.branches.lock().ok()?.get(&item).cloned()
    }

    /// One attempt at handing `event` over; the reason it failed, as the operator reads it.
    async fn deliver(&self, event: &RecordedEvent) -> Result<(), String> {
        let body = cloud_event::document(event)
            .and_then(|doc| serde_json::to_vec(&doc))
            .map_err(|e| format!("the event cannot be written as JSON: {e}"))?;
        match &self.subscription.target {
            Target::Webhook { url, secret } => {
                let timestamp = chrono::Utc::now().timestamp();
                let response = self
                    .client
                    .post(url.as_url().clone())
                    .timeout(self.settings.timeout)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/cloudevents+json",
                    )
                    .header(signature::EVENT_ID_HEADER, cloud_event::event_id(event))
                    .header(signature::TIMESTAMP_HEADER, timestamp.to_string())
                    .header(
                        signature::SIGNATURE_HEADER,
                        signature::sign(secret, timestamp, &body),
                    )
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| format!("POST {}: {e}", url.as_url()))?;
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("POST {}: HTTP {status}", url.as_url()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() {
        let settings = DeliverySettings {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..DeliverySettings::default()
        };
        for (failures, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            let wait = settings.backoff_after(failures).as_millis();
            assert!(
                (full / 2..=full).contains(&wait),
                "after {failures}: {wait} ms of {full}"
            );
        }
    }
}
