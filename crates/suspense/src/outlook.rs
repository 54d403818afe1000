//! Early warning through the facade: the watch list and the provisioning report, each under
//! the version of the escalation policy in force on its date, over the read models as they
//! stand (call `refresh` first to read your own writes), within the actor's branches.

use chrono::NaiveDate;
use suspense_read_models::{ProvisioningReport, ReportError, WatchList, WatchQuery};

use crate::actor::Actor;
use crate::ledger::Suspense;

impl Suspense {
    /// Open items that cross a threshold of the policy within the query's horizon, or are
    /// older than their cause usually takes to resolve; each entry says why.
    pub async fn watch_list(
        &self,
        actor: &Actor,
        query: &WatchQuery,
    ) -> Result<WatchList, ReportError> {
        let policies = self.log().policies().await?.0;
        let registry = self.log().services().organisation.in_force(query.as_of);
        self.reports_for(actor)
            .with_registry(registry)
            .watch_list(query, policies.in_force(query.as_of))
            .await
    }

    /// The provision and regulatory actions the policy in force on `as_of` asks for, over
    /// the items open at the end of that date.
    pub async fn provisioning(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> Result<ProvisioningReport, ReportError> {
        let policies = self.log().policies().await?.0;
        let registry = self.log().services().organisation.in_force(as_of);
        self.reports_for(actor)
            .with_registry(registry)
            .provisioning(as_of, policies.in_force(as_of))
            .await
    }
}
