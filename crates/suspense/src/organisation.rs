//! The organisation registry through the facade: publishing a version (bookings and
//! assignments are checked against it from then on, in this process at once and in others
//! when they next meet a branch or team they do not know) and reading the versions.

use suspense_domain::organisation::{OrganisationVersion, Organisations, PublishOrganisation};
use suspense_store::StoreError;

use crate::actor::Actor;
use crate::ledger::Suspense;

impl Suspense {
    /// Publishes the next version of the organisation registry.
    pub async fn publish_organisation(
        &self,
        actor: &Actor,
        command: PublishOrganisation,
    ) -> Result<OrganisationVersion, StoreError> {
        self.log()
            .publish_organisation(command, actor.user.clone(), &actor.metadata)
            .await
    }

    /// Every version published.
    pub async fn organisations(&self) -> Result<Organisations, StoreError> {
        Ok(self.log().organisations().await?.0)
    }
}
