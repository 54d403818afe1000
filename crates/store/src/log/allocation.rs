//! Clearings allocated across items: the allocation's own stream (one `ClearingAllocated`
//! event, its id the clearing reference) and every item's `ClearingRecorded` share, appended
//! in one statement, all or none.

use suspense_domain::allocation::{AllocationEvent, ClearingAllocation, ALLOCATION_EVENT_VERSION};
use suspense_domain::policy::ApproverStanding;
use suspense_domain::{ItemAction, ItemCommand, ItemError, Reference, StreamKind, UserId};

use super::{EventLog, Executed};
use crate::append::{encode_error, stream_rows_of, Stream, StreamWrite};
use crate::error::StoreError;
use crate::metadata::RequestMetadata;

impl EventLog {
    /// Records `allocation`: each item's share as a clearing under the allocation's reference,
    /// and the allocation itself, all or none. `None` when the same allocation was recorded
    /// before (nothing is written); other figures under a recorded reference, a share an
    /// item refuses (more than it owes, another currency, a resolved item) or the reference
    /// already used on an item are refusals, and nothing is written. Another writer first on
    /// any item or on the reference is a `Conflict`.
    pub async fn allocate_clearing(
        &self,
        allocation: ClearingAllocation,
        by: &UserId,
        standing: &ApproverStanding,
        metadata: &RequestMetadata,
    ) -> Result<Option<Vec<Executed>>, StoreError> {
        let reference = allocation.clearing_reference.clone();
        let conflict = ItemError::ClearingReferenceConflict {
            clearing_reference: reference.clone(),
        };
        if let Some(recorded) = self.clearing_allocation(&reference).await? {
            return if recorded == allocation {
                Ok(None)
            } else {
                Err(StoreError::Rejected(conflict))
            };
        }
        let commands = allocation
            .shares
            .iter()
            .map(|share| {
                let action = ItemAction::RecordClearing {
                    clearing_reference: reference.clone(),
                    amount: share.amount,
                };
                let command = ItemCommand::new(by.clone(), action).with_standing(standing.clone());
                (share.item_id, command, None)
            })
            .collect();
        let event = AllocationEvent::ClearingAllocated {
            at: self.services.clock.now(),
            by: by.clone(),
            allocation,
        };
        let rows = stream_rows_of(
            std::slice::from_ref(&event),
            AllocationEvent::name,
            ALLOCATION_EVENT_VERSION,
        )?;
        let stream_metadata = serde_json::to_string(&metadata.to_map(by)).map_err(encode_error)?;
        let id = reference.to_string();
        let allocated = StreamWrite {
            stream: Stream {
                aggregate_type: AllocationEvent::TYPE,
                aggregate_id: &id,
            },
            version: 0,
            rows: &rows,
            metadata: &stream_metadata,
        };
        match self
            .run_batch(commands, metadata, Some(allocated), Some(conflict.clone()))
            .await
        {
            // Another writer recorded an allocation under the reference meanwhile: the same
            // one makes this a repeat, another one a conflict.
            Err(StoreError::Rejected(ItemError::ClearingReferenceConflict { .. })) => {
                match self.clearing_allocation(&reference).await? {
                    Some(recorded) if recorded == *event.allocation() => Ok(None),
                    _ => Err(StoreError::Rejected(conflict)),
                }
            }
            result => result.map(Some),
        }
    }

    /// The allocation recorded under `reference`, if any.
    pub async fn clearing_allocation(
        &self,
        reference: &Reference,
    ) -> Result<Option<ClearingAllocation>, StoreError> {
        let rows = self
            .stream_rows(StreamKind::Allocation, Some(reference.as_str()))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let recorded: crate::record::Recorded<AllocationEvent> =
            row.decode_as(AllocationEvent::name)?;
        let AllocationEvent::ClearingAllocated { allocation, .. } = recorded.event;
        Ok(Some(allocation))
    }
}
