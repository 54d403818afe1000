//! Clearing across items through the facade: one clearing allocated over several items, all
//! or none, within the actor's branches, retried when another writer got to an item first.

use std::collections::HashMap;

use suspense_domain::allocation::ClearingAllocation;
use suspense_domain::{
    ItemAction, ItemCommand, ItemId, Reference, SuspenseItem, SuspenseItemEvent,
};
use suspense_store::{Executed, RecordedEvent, StoreError};

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

    /// Checks `allocations` in order, each as if the ones before it were recorded, and writes
    /// nothing: a file of clearings is checked whole before any of it is imported. The item
    /// rules are the aggregate's own (`SuspenseItem::decide`), so a check that passes refuses
    /// only when another writer changes an item between the check and the write.
    pub async fn check_allocations(
        &self,
        actor: &Actor,
        allocations: &[ClearingAllocation],
    ) -> Result<Vec<AllocationCheck>, StoreError> {
        let mut histories: HashMap<ItemId, Vec<SuspenseItemEvent>> = HashMap::new();
        let mut checks = Vec::with_capacity(allocations.len());
        let mut references: HashMap<&Reference, &ClearingAllocation> = HashMap::new();
        for allocation in allocations {
            let reference = &allocation.clearing_reference;
            let earlier = match references.get(reference) {
                Some(earlier) => Some((*earlier).clone()),
                None => self.clearing_allocation(reference).await?,
            };
            if let Some(earlier) = earlier {
                checks.push(if earlier == *allocation {
                    AllocationCheck::AlreadyRecorded
                } else {
                    AllocationCheck::Refused {
                        share: None,
                        error: StoreError::Rejected(
                            suspense_domain::ItemError::ClearingReferenceConflict {
                                clearing_reference: reference.clone(),
                            },
                        ),
                    }
                });
                continue;
            }
            references.insert(reference, allocation);
            let mut decided = Vec::with_capacity(allocation.shares.len());
            let mut refusal = None;
            for (index, share) in allocation.shares.iter().enumerate() {
                let action = ItemAction::RecordClearing {
                    clearing_reference: reference.clone(),
                    amount: share.amount,
                };
                if let Err(error) = self.check_scope(actor, share.item_id, &action).await {
                    refusal = Some((index, error));
                    break;
                }
                let events = match histories.entry(share.item_id) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(unknown) => {
                        let history = self.history(share.item_id).await?;
                        unknown.insert(history.into_iter().map(|recorded| recorded.event).collect())
                    }
                };
                let command =
                    ItemCommand::new(actor.user.clone(), action).with_standing(actor.standing());
                match SuspenseItem::from_events(events.iter())
                    .decide(command, self.log().services())
                {
                    Ok(new) => decided.push((share.item_id, new)),
                    Err(error) => {
                        refusal = Some((index, StoreError::Rejected(error)));
                        break;
                    }
                }
            }
            match refusal {
                Some((index, error)) => checks.push(AllocationCheck::Refused {
                    share: Some(index),
                    error,
                }),
                None => {
                    for (item_id, new) in decided {
                        histories.entry(item_id).or_default().extend(new);
                    }
                    checks.push(AllocationCheck::New);
                }
            }
        }
        Ok(checks)
    }

    /// The allocations the clearings in an item's `history` belong to, by reference, so the
    /// history can show each clearing's sibling shares on other items.
    pub async fn allocations_in(
        &self,
        history: &[RecordedEvent],
    ) -> Result<HashMap<Reference, ClearingAllocation>, StoreError> {
        let mut found = HashMap::new();
        for recorded in history {
            if let SuspenseItemEvent::ClearingRecorded {
                clearing_reference, ..
            } = &recorded.event
            {
                if found.contains_key(clearing_reference) {
                    continue;
                }
                if let Some(allocation) = self.clearing_allocation(clearing_reference).await? {
                    found.insert(clearing_reference.clone(), allocation);
                }
            }
        }
        Ok(found)
    }

    /// The allocation recorded under a clearing reference: every item's share.
    pub async fn clearing_allocation(
        &self,
        reference: &Reference,
    ) -> Result<Option<ClearingAllocation>, StoreError> {
        self.log().clearing_allocation(reference).await
    }
}

/// What recording an allocation would do, checked without writing.
#[derive(Debug)]
pub enum AllocationCheck {
    /// It would be recorded.
    New,
    /// The same allocation is recorded already: recording it again writes nothing.
    AlreadyRecorded,
    /// It would be refused; `share` is the index of the share refused, `None` when the
    /// allocation as a whole is (its reference is recorded with other figures).
    Refused {
        share: Option<usize>,
        error: StoreError,
    },
}
