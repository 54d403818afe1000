//! One subscription's delivery: follows the log from its checkpoint a page at a time, as the
//! projector does (positions have no gaps, so nothing is skipped or read twice), hands each
//! admitted event to the target in log order, and moves the checkpoint after the page. A
//! target that fails is tried again with exponential backoff and jitter; after
//! `max_attempts` the subscription parks until an operator resumes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use suspense_domain::{BranchCode, ItemId, SuspenseItemEvent};
use suspense_store::EventLog;

use crate::checkpoint;
use crate::cloud_event::{self, Outgoing};
use crate::error::DeliveryError;
use crate::signature;
use crate::subscription::{JetStreamSubject, NatsServer, Subscription, Target};

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
    /// How often the delivering instance looks for subscriptions added or removed.
    pub reload: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(200),
            page: 256,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            reload: Duration::from_secs(1),
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
    /// The JetStream context, once connected (the client reconnects on its own after that).
    jetstream: tokio::sync::Mutex<Option<async_nats::jetstream::Context>>,
    branches: Mutex<HashMap<ItemId, BranchCode>>,
}

/// What became of one page.
enum Handed {
    /// A full page, or up to a failure already waited for: look again at once.
    Page,
    /// Up to the head, nothing new, parked, or moved by an operator meanwhile: wait for the
    /// poll.
    Idle,
}

/// A hand-over that stopped at `handed` events of those given, and why.
struct Stopped {
    handed: usize,
    reason: String,
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
            jetstream: tokio::sync::Mutex::new(None),
            branches: Mutex::new(HashMap::new()),
        }
    }

    /// Delivers until the task is aborted; an error (the database away) is logged and the
    /// page tried again after the poll.
    pub(crate) async fn run(self: Arc<Self>) {
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
        let from = row.reached();
        let page = self
            .log
            .read_page_of_every_stream(from, self.settings.page)
            .await?;
        // Events of other streams (plans, volumes) take positions too: the page ends at `end`.
        let Some(end) = page.last_position() else {
            return Ok(Handed::Idle);
        };
        let mut admitted = Vec::new();
        for event in cloud_event::in_log_order(page.events(), page.others()) {
            if self.admits(event).await? {
                admitted.push(event);
            }
        }
        let Err(stopped) = self.hand_over(&admitted).await else {
            let moved = checkpoint::advance(pool, name, from, end, admitted.len() as u64).await?;
            // A short page reached the head: reading again at once would hand over a few
            // events per round, each round a checkpoint commit, and take the database's
            // time from the commands. The poll gathers the next ones into one page.
            let full = page.rows_read() >= self.settings.page as usize;
            return Ok(if moved && full {
                Handed::Page
            } else {
                Handed::Idle
            });
        };
        // Keep what was handed over: the checkpoint goes to just before the event that failed.
        let waiting = admitted
            .get(stopped.handed)
            .map(Outgoing::position)
            .unwrap_or(from + 1);
        let at = waiting.saturating_sub(1).max(from);
        if !checkpoint::advance(pool, name, from, at, stopped.handed as u64).await? {
            return Ok(Handed::Idle);
        }
        let failures = if at == from {
            u32::try_from(row.failures).unwrap_or(0) + 1
        } else {
            1
        };
        let park = failures >= self.subscription.max_attempts;
        checkpoint::record_failure(pool, name, at, failures, &stopped.reason, park).await?;
        if park {
            tracing::error!(subscription = %name, position = waiting, failures, error = %stopped.reason, "delivery parked");
            return Ok(Handed::Idle);
        }
        tracing::warn!(subscription = %name, position = waiting, failures, error = %stopped.reason, "delivery failed, retrying");
        tokio::time::sleep(self.settings.backoff_after(failures)).await;
        Ok(Handed::Page)
    }

    /// Whether the subscription's filter takes `event`, learning the item's branch when the
    /// filter names branches.
    async fn admits(&self, event: Outgoing<'_>) -> Result<bool, DeliveryError> {
        let filter = &self.subscription.filter;
        let event = match event {
            // Only items are booked at a branch: a filter by branch takes no other stream.
            Outgoing::Other(other) => return Ok(filter.admits(&other.event_type, None)),
            Outgoing::Item(_) if !filter.by_branch() => {
                return Ok(filter.admits(event.event_type(), None))
            }
            Outgoing::Item(item) => item,
        };
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

    /// Hands `events` to the target in order; where it stopped, and why, as the operator
    /// reads it.
    async fn hand_over(&self, events: &[Outgoing<'_>]) -> Result<(), Stopped> {
        // A page the filter left empty needs no target (which may be away).
        if events.is_empty() {
            return Ok(());
        }
        let mut bodies = Vec::with_capacity(events.len());
        for (handed, event) in events.iter().enumerate() {
            let body = event
                .document()
                .and_then(|doc| serde_json::to_vec(&doc))
                .map_err(|e| Stopped {
                    handed,
                    reason: format!("the event cannot be written as JSON: {e}"),
                })?;
            bodies.push(body);
        }
        match &self.subscription.target {
            Target::Webhook { url, secret } => {
                for (handed, (event, body)) in events.iter().zip(bodies).enumerate() {
                    self.post(url.as_url(), secret, event, body)
                        .await
                        .map_err(|reason| Stopped { handed, reason })?;
                }
                Ok(())
            }
            Target::JetStream { server, subject } => {
                self.publish(server, subject, events, bodies).await
            }
        }
    }

    /// One webhook request.
    async fn post(
        &self,
        url: &reqwest::Url,
        secret: &crate::subscription::WebhookSecret,
        event: &Outgoing<'_>,
        body: Vec<u8>,
    ) -> Result<(), String> {
        let timestamp = chrono::Utc::now().timestamp();
        let response = self
            .client
            .post(url.clone())
            .timeout(self.settings.timeout)
            .header(reqwest::header::CONTENT_TYPE, cloud_event::CONTENT_TYPE)
            .header(signature::EVENT_ID_HEADER, event.id())
            .header(signature::TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                signature::SIGNATURE_HEADER,
                signature::sign(secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {url}: HTTP {status}"))
        }
    }

    /// Publishes every event before waiting for the stream's acknowledgements, in order. Each
    /// message's `Nats-Msg-Id` is the event's id, so the stream drops a message it already
    /// holds (one published again after a failure or a crash) within its duplicate window.
    async fn publish(
        &self,
        server: &NatsServer,
        subject: &JetStreamSubject,
        events: &[Outgoing<'_>],
        bodies: Vec<Vec<u8>>,
    ) -> Result<(), Stopped> {
        let context = self
            .jetstream(server)
            .await
            .map_err(|reason| Stopped { handed: 0, reason })?;
        let mut acks = Vec::with_capacity(events.len());
        for (handed, (event, body)) in events.iter().zip(bodies).enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id().as_str());
            headers.insert("Content-Type", cloud_event::CONTENT_TYPE);
            let ack = context
                .publish_with_headers(subject.as_str().to_owned(), headers, body.into())
                .await
                .map_err(|e| Stopped {
                    handed,
                    reason: format!("publish to {subject} on {server}: {e}"),
                })?;
            acks.push(ack);
        }
        for (handed, ack) in acks.into_iter().enumerate() {
            ack.await.map_err(|e| Stopped {
                handed,
                reason: format!("publish to {subject} on {server}: {e}"),
            })?;
        }
        Ok(())
    }

    /// The JetStream context, connecting on first use.
    async fn jetstream(
        &self,
        server: &NatsServer,
    ) -> Result<async_nats::jetstream::Context, String> {
        let mut context = self.jetstream.lock().await;
        if let Some(context) = context.as_ref() {
            return Ok(context.clone());
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(self.settings.timeout)
            .connect(server.as_str())
            .await
            .map_err(|e| format!("connecting to {server}: {e}"))?;
        let mut jetstream = async_nats::jetstream::new(client);
        jetstream.set_timeout(self.settings.timeout);
        Ok(context.insert(jetstream).clone())
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
