//! Clearing across items through the facade: one clearing allocated over several items, all
//! or none, within the actor's branches, retried when another writer got to an item first.

use suspense_domain::allocation::ClearingAllocation;
use suspense_domain::{ItemAction, Reference};
use suspense_store::{Executed, StoreError};

use crate::actor::Actor;
use crate::ledger::{backoff, Suspense};

impl Suspense {
    /// Records `allocation`: every item's share under the clearing's reference and the
    /// allocation itself, in one append. `None` when the same allocation was recorded before
    /// (nothing written). A conflict with another writer is decided again, up to the
    /// configured attempts, so the allocation is written whole or refused whole.
    pub async fn allocate_clearing(
        &self,
        actor: &Actor,
        allocation: ClearingAllocation,
    ) -> Result<Option<Vec<Executed>>, StoreError> {
        for share in &allocation.shares {
            let action = ItemAction::RecordClearing {
                clearing_reference: allocation.clearing_reference.clone(),
                amount: share.amount,
            };
            self.check_scope(actor, share.item_id, &action).await?;
        }
        let mut attempt = 1;
        loop {
            match self
                .log()
                .allocate_clearing(
                    allocation.clone(),
                    &actor.user,
                    &actor.standing(),
                    &actor.metadata,
                )
                .await
            {
                Err(StoreError::Conflict { .. }) if attempt < self.conflict_attempts() => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// The allocation recorded under a clearing reference: every item's share.
    pub async fn clearing_allocation(
        &self,
        reference: &Reference,
    ) -> Result<Option<ClearingAllocation>, StoreError> {
        self.log().clearing_allocation(reference).await
    }
}
