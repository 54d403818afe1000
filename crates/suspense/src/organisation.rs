//! The organisation registry through the facade: publishing a version (bookings and
//! assignments are checked against it from then on, in this process at once and in others
//! when they next meet a branch or team they do not know) and reading the versions.

use suspense_domain::organisation::{OrganisationVersion, Organisations, PublishOrganisation};
use suspense_domain::{BranchCode, InvalidInput, TeamId};
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

impl Suspense {
    /// Refuses a filter naming a branch the registry in force today does not know (every
    /// branch is known while none is published), so that a typo in a report's filter is an
    /// error rather than an empty report.
    pub fn known_branch(&self, branch: &BranchCode) -> Result<(), InvalidInput> {
        match self
            .log()
            .services()
            .organisation
            .branch_refusal(branch, self.today())
        {
            Some(reason) => Err(InvalidInput::in_context("branch", reason)),
            None => Ok(()),
        }
    }

    /// Refuses a filter naming a team the registry in force today does not know.
    pub fn known_team(&self, team: &TeamId) -> Result<(), InvalidInput> {
        match self
            .log()
            .services()
            .organisation
            .team_refusal(team, self.today())
        {
            Some(reason) => Err(InvalidInput::in_context("team", reason)),
            None => Ok(()),
        }
    }
}
