//! The organisation registry's stream: published versions, and the registry the item
//! commands consult (`ItemServices::organisation`), loaded when the log opens, replaced on
//! publication, read again when a command names a branch or team it does not know (a version
//! another process published since adds it), and followed in the background
//! (`follow_published`, with the escalation policy whose approval bands the commands also
//! consult), so that a version another process published reaches this one within an
//! interval even when it only removes branches.

use std::sync::Arc;
use std::time::Duration;
use suspense_domain::organisation::{
    OrganisationEvent, OrganisationVersion, Organisations, PublishOrganisation,
    ORGANISATION_EVENT_VERSION,
};

use suspense_domain::{StreamKind, UserId};

use super::EventLog;
use crate::append::stream_rows_of;
use crate::error::StoreError;
use crate::metadata::RequestMetadata;
use crate::record::RecordedOrganisationEvent;

impl EventLog {
    /// Publishes `command` as the registry's next version; returns the version published.
    pub async fn publish_organisation(
        &self,
        command: PublishOrganisation,
        by: UserId,
        metadata: &RequestMetadata,
    ) -> Result<OrganisationVersion, StoreError> {
        let metadata = metadata.to_map(&by);
        let (mut registry, version) = self.organisations().await?;
        let event = registry.decide(command, by, self.services.clock.now())?;
        let rows = stream_rows_of(
            std::slice::from_ref(&event),
            OrganisationEvent::name,
            ORGANISATION_EVENT_VERSION,
        )?;
        self.append_to(
            StreamKind::Organisation,
            Organisations::STREAM,
            version,
            &rows,
            &metadata,
        )
        .await?;
        registry.apply(&event);
        self.services.organisation.replace(registry);
        let OrganisationEvent::OrganisationPublished { organisation, .. } = event;
        Ok(organisation)
    }

    /// Every published version of the registry, and the stream's version.
    pub async fn organisations(&self) -> Result<(Organisations, u64), StoreError> {
        let history = self.organisation_history().await?;
        let mut registry = Organisations::default();
        for event in &history {
            registry.apply(&event.event);
        }
        Ok((registry, history.last().map_or(0, |e| e.sequence)))
    }

    /// The registry's events: who published each version, when and why.
    pub async fn organisation_history(&self) -> Result<Vec<RecordedOrganisationEvent>, StoreError> {
        self.stream_rows(StreamKind::Organisation, Some(Organisations::STREAM))
            .await?
            .iter()
            .map(|row| row.decode_as(OrganisationEvent::name))
            .collect()
    }

    /// Reads the registry and the escalation policy again every `interval` (a failed read is
    /// logged and retried).
    pub fn follow_published(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Err(err) = self.reload_published().await {
                    tracing::warn!(error = %err, "reading the registry and the policy");
                }
            }
        })
    }

    /// Reads the registry and the escalation policy from the log into the commands' services.
    pub async fn reload_published(&self) -> Result<(), StoreError> {
        self.reload_organisation().await?;
        let (policies, _) = self.policies().await?;
        if policies.versions.len() != self.services.policies.current().versions.len() {
            self.services.policies.replace(policies);
        }
        Ok(())
    }

    /// Reads the registry from the log into the commands' services; whether it changed.
    pub async fn reload_organisation(&self) -> Result<bool, StoreError> {
        let (registry, _) = self.organisations().await?;
        let changed = registry.versions.len() != self.services.organisation.versions();
        if changed {
            self.services.organisation.replace(registry);
        }
        Ok(changed)
    }
}
