//! Clearing across items through the facade: one clearing allocated over several items, all
//! or none, within the actor's branches, retried when another writer got to an item first.

use std::collections::HashMap;

use suspense_domain::allocation::ClearingAllocation;
use suspense_domain::{
    ItemAction, ItemCommand, ItemError, ItemId, Reference, SuspenseItem, SuspenseItemEvent,
};
use suspense_store::{Executed, RecordedEvent, StoreError};

use crate::actor::Actor;
use crate::ledger::Suspense;

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
        for (index, share) in allocation.shares.iter().enumerate() {
            let action = ItemAction::RecordClearing {
                clearing_reference: allocation.clearing_reference.clone(),
                amount: share.amount,
            };
            self.check_scope(actor, share.item_id, &action)
                .await
                .map_err(|error| name_share(error, index, share.item_id))?;
        }
        let standing = actor.standing();
        let written = self
            .retrying_conflicts(|| {
                self.log().allocate_clearing(
                    allocation.clone(),
                    &actor.user,
                    &standing,
                    &actor.metadata,
                )
            })
            .await;
        match written {
            Err(StoreError::Rejected(error)) => {
                Err(self.locate_refusal(actor, &allocation, error).await)
            }
            result => result,
        }
    }

    /// Names the share an item refused: the append reports a refusal without saying which
    /// item it came from, so the allocation is checked again, writing nothing. A refusal of
    /// the allocation as a whole (its reference recorded with other figures) stays as it is.
    async fn locate_refusal(
        &self,
        actor: &Actor,
        allocation: &ClearingAllocation,
        error: ItemError,
    ) -> StoreError {
        let checks = self
            .check_allocations(actor, std::slice::from_ref(allocation))
            .await;
        match checks.as_deref() {
            Ok(
                [AllocationCheck::Refused {
                    share: Some(index),
                    error: StoreError::Rejected(located),
                }],
            ) if *located == error => {
                allocation
                    .shares
                    .get(*index)
                    .map_or(StoreError::Rejected(error.clone()), |share| {
                        StoreError::ShareRejected {
                            index: *index,
                            item_id: share.item_id,
                            error: error.clone(),
                        }
                    })
            }
            _ => StoreError::Rejected(error),
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
                        error: StoreError::Rejected(ItemError::ClearingReferenceConflict {
                            clearing_reference: reference.clone(),
                        }),
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

/// A refusal of one share, named by its place in the allocation.
fn name_share(error: StoreError, index: usize, item_id: ItemId) -> StoreError {
    match error {
        StoreError::Rejected(error) => StoreError::ShareRejected {
            index,
            item_id,
            error,
        },
        other => other,
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
