//! Branch-scoped access, kept in the library so that every face (HTTP, CLI, an embedding
//! service) filters the same way: an actor with a home branch sees and acts only on items of
//! that branch and the branches under it in the organisation registry in force today. An
//! item outside the scope reads as absent, as an item that does not exist does, so a list or
//! an error never tells one branch what another holds.

use suspense_domain::organisation::AccessScope;
use suspense_domain::{BranchCode, ItemAction, ItemError, ItemId};
use suspense_read_models::Reports;
use suspense_store::{LoadedItem, RecordedEvent, StoreError};

use crate::actor::Actor;
use crate::ledger::Suspense;

impl Suspense {
    /// The branches `actor` may see today, in code order; `None` for every branch.
    pub fn branches_of(&self, actor: &Actor) -> Option<Vec<String>> {
        let today = self.today();
        let registry = self.log().services().organisation.in_force(today);
        actor
            .scope
            .branches(registry.as_ref())
            .map(|set| set.into_iter().map(|b| b.to_string()).collect())
    }

    /// The reports `actor` may read: every report within its branches.
    pub fn reports_for(&self, actor: &Actor) -> Reports<'_> {
        self.reports().within(self.branches_of(actor))
    }

    /// Whether `actor` may see items of `branch`.
    pub fn admits(&self, actor: &Actor, branch: &BranchCode) -> bool {
        match &actor.scope {
            AccessScope::Everywhere => true,
            scope => {
                let registry = self.log().services().organisation.in_force(self.today());
                scope.admits(branch, registry.as_ref())
            }
        }
    }

    /// The item's current state as `actor` may see it: `None` when it was never opened or
    /// lies outside the actor's branches.
    pub async fn item_for(
        &self,
        actor: &Actor,
        item_id: ItemId,
    ) -> Result<Option<LoadedItem>, StoreError> {
        Ok(self
            .item(item_id)
            .await?
            .filter(|item| self.admits(actor, &item.state.opened.branch)))
    }

    /// The item's events as `actor` may see them: `None` when it lies outside its branches
    /// (an item never opened has no events).
    pub async fn history_for(
        &self,
        actor: &Actor,
        item_id: ItemId,
    ) -> Result<Option<Vec<RecordedEvent>>, StoreError> {
        if matches!(actor.scope, AccessScope::Everywhere) {
            return self.history(item_id).await.map(Some);
        }
        match self.item(item_id).await? {
            Some(item) if !self.admits(actor, &item.state.opened.branch) => Ok(None),
            _ => self.history(item_id).await.map(Some),
        }
    }

    /// Refuses a command `actor` may not give: a booking to a branch outside its scope
    /// (`OutOfScope`), any other command on an item outside it (as if it did not exist), and
    /// an incident link given on the item alone (`execute_incident` links items).
    pub(crate) async fn check_scope(
        &self,
        actor: &Actor,
        item_id: ItemId,
        action: &ItemAction,
    ) -> Result<(), StoreError> {
        if action.is_incident_link() {
            return Err(StoreError::Rejected(ItemError::LinkedThroughIncident));
        }
        if matches!(actor.scope, AccessScope::Everywhere) {
            return Ok(());
        }
        if let ItemAction::Open(item) = action {
            if !self.admits(actor, &item.branch) {
                return Err(StoreError::OutOfScope {
                    branch: item.branch.to_string(),
                });
            }
        }
        match self.item(item_id).await? {
            Some(item) if !self.admits(actor, &item.state.opened.branch) => {
                Err(StoreError::Rejected(ItemError::NotOpened))
            }
            _ => Ok(()),
        }
    }

    /// Today in the bank's calendar, on the business clock.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        let now = self.log().services().clock.now();
        self.projector().settings().calendar.local_date(now)
    }
}
