//! A clearing allocated across items on the wire (`POST /v1/clearings`): the clearing's
//! reference, amount and currency, and each item's share; a bad value is named by its place
//! (`shares[2].amount`).

use crate::openapi::wire;
use serde::{Deserialize, Serialize};
use suspense_domain::allocation::{AllocatedShare, ClearingAllocation};
use suspense_domain::{InvalidInput, ItemId, Money, Reference};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ClearingAllocation)]
#[serde(deny_unknown_fields)]
pub struct AllocationBody {
    #[schema(value_type = wire::Reference)]
    pub clearing_reference: String,
    #[schema(value_type = wire::PositiveAmount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
    #[schema(min_items = 1, max_items = 1000)]
    #[serde(deserialize_with = "super::object::list")]
    pub shares: Vec<ShareBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Share)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    #[schema(value_type = wire::Uuid)]
    pub item_id: String,
    #[schema(value_type = wire::PositiveAmount)]
    pub amount: String,
}

impl AllocationBody {
    pub fn parse(self) -> Result<ClearingAllocation, InvalidInput> {
        let shares = self
            .shares
            .iter()
            .enumerate()
            .map(|(i, share)| {
                Ok(AllocatedShare {
                    item_id: ItemId::parse(&share.item_id)
                        .map_err(|e| e.for_field(format!("shares[{i}].item_id")))?,
                    amount: Money::parse(&share.amount, &self.currency).map_err(|e| {
                        let field = if e.field == "currency" {
                            "currency".to_owned()
                        } else {
                            format!("shares[{i}].amount")
                        };
                        e.for_field(field)
                    })?,
                })
            })
            .collect::<Result<Vec<_>, InvalidInput>>()?;
        ClearingAllocation::new(
            Reference::parse(&self.clearing_reference)
                .map_err(|e| e.for_field("clearing_reference"))?,
            Money::parse(&self.amount, &self.currency)?,
            shares,
        )
    }
}

/// An allocation as recorded: `recorded` is false when it was recorded before (nothing
/// written now).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    #[serde(flatten)]
    pub allocation: AllocatedView,
    pub recorded: bool,
}

/// A clearing's allocation: its figures and every item's share. An item's history shows it
/// beside each clearing that belongs to one, so the siblings are in view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocatedView {
    pub clearing_reference: String,
    pub amount: String,
    pub currency: &'static str,
    pub shares: Vec<ShareView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShareView {
    pub item_id: String,
    pub amount: String,
}

impl AllocationView {
    pub fn new(allocation: &ClearingAllocation, recorded: bool) -> Self {
        Self {
            allocation: AllocatedView::from(allocation),
            recorded,
        }
    }
}

impl From<&ClearingAllocation> for AllocatedView {
    fn from(allocation: &ClearingAllocation) -> Self {
        Self {
            clearing_reference: allocation.clearing_reference.to_string(),
            amount: allocation.amount.amount().to_string(),
            currency: allocation.amount.currency().code(),
            shares: allocation
                .shares
                .iter()
                .map(|share| ShareView {
                    item_id: share.item_id.to_string(),
                    amount: share.amount.amount().to_string(),
                })
                .collect(),
        }
    }
}
