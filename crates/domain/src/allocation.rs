//! One clearing allocated across several items (多挂一销; many-to-many is several clearings
//! over the same items). The allocation is a stream of its own, keyed by the clearing
//! reference, with one `ClearingAllocated` event listing every item's share; each item records
//! its share as a `ClearingRecorded` under the same reference, and all of them are appended
//! in one statement, all or none. The stream's first sequence makes the reference unique: the
//! same allocation again writes nothing, other figures under it are a conflict.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{ItemId, Reference, UserId};
use crate::input::InvalidInput;
use crate::money::Money;

/// The most items one clearing may be allocated across.
pub const MAX_ALLOCATED_ITEMS: usize = 1_000;

/// The current version of the allocation event payload.
pub const ALLOCATION_EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingAllocation {
    pub clearing_reference: Reference,
    /// The clearing posting's whole amount.
    pub amount: Money,
    /// Each item's share, in the order given.
    pub shares: Vec<AllocatedShare>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocatedShare {
    pub item_id: ItemId,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AllocationEvent {
    ClearingAllocated {
        at: DateTime<Utc>,
        by: UserId,
        allocation: ClearingAllocation,
    },
}

impl AllocationEvent {
    /// Every allocation event's type name (distinct from every other stream's).
    pub const NAMES: [&'static str; 1] = ["ClearingAllocated"];
    /// The aggregate type allocations are stored under (the stream id is the reference).
    pub const TYPE: &'static str = "ClearingAllocation";

    pub fn name(&self) -> &'static str {
        match self {
            Self::ClearingAllocated { .. } => "ClearingAllocated",
        }
    }

    pub fn allocation(&self) -> &ClearingAllocation {
        let Self::ClearingAllocated { allocation, .. } = self;
        allocation
    }
}

impl ClearingAllocation {
    /// Checks an allocation; a refusal names the field (`shares[3].amount`): 1 to
    /// `MAX_ALLOCATED_ITEMS` distinct items, every share above zero and in the clearing's
    /// currency, the shares summing exactly to the clearing amount.
    pub fn new(
        clearing_reference: Reference,
        amount: Money,
        shares: Vec<AllocatedShare>,
    ) -> Result<Self, InvalidInput> {
        if shares.is_empty() || shares.len() > MAX_ALLOCATED_ITEMS {
            return Err(InvalidInput::new(
                "shares",
                format!(
                    "an allocation covers 1 to {MAX_ALLOCATED_ITEMS} items, got {}",
                    shares.len()
                ),
            ));
        }
        if amount.is_zero() {
            return Err(InvalidInput::new("amount", "must be greater than zero"));
        }
        let mut seen = std::collections::HashSet::with_capacity(shares.len());
        let mut total = Money::zero(amount.currency());
        for (i, share) in shares.iter().enumerate() {
            let field = |name: &str| format!("shares[{i}].{name}");
            if !seen.insert(share.item_id) {
                return Err(InvalidInput::in_context(
                    field("item_id"),
                    format!("{} is allocated twice", share.item_id),
                ));
            }
            if share.amount.currency() != amount.currency() {
                return Err(InvalidInput::in_context(
                    field("amount"),
                    format!(
                        "is in {}, the clearing in {}",
                        share.amount.currency(),
                        amount.currency()
                    ),
                ));
            }
            if share.amount.is_zero() {
                return Err(InvalidInput::new(
                    field("amount"),
                    "must be greater than zero",
                ));
            }
            total = total
                .checked_add(&share.amount)
                .ok_or_else(|| InvalidInput::in_context(field("amount"), "the shares overflow"))?;
        }
        if total != amount {
            return Err(InvalidInput::in_context(
                "shares",
                format!("the shares sum to {total}, the clearing is {amount}"),
            ));
        }
        Ok(Self {
            clearing_reference,
            amount,
            shares,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(amount: &str) -> Money {
        Money::parse(amount, "CNY").expect("money")
    }

    fn share(reference: &str, amount: &str) -> AllocatedShare {
        AllocatedShare {
            item_id: ItemId::for_reference(
                &crate::identity::SourceReference::parse("CORE", reference).expect("reference"),
            ),
            amount: cny(amount),
        }
    }

    fn refused(shares: Vec<AllocatedShare>, amount: &str) -> InvalidInput {
        ClearingAllocation::new(
            Reference::parse("PAY-1").expect("reference"),
            cny(amount),
            shares,
        )
        .expect_err("refused")
    }

    #[test]
    fn allocation_refusals_name_the_field() {
        assert_eq!(refused(vec![], "10.00").field, "shares");
        let too_many: Vec<_> = (0..=MAX_ALLOCATED_ITEMS)
            .map(|i| share(&format!("R{i}"), "0.01"))
            .collect();
        let over = refused(too_many, "10.01");
        assert_eq!(over.field, "shares");
        assert!(over.reason.contains("1 to 1000 items, got 1001"), "{over}");
        assert_eq!(
            refused(vec![share("A", "60.00"), share("A", "40.00")], "100.00").field,
            "shares[1].item_id"
        );
        let usd = AllocatedShare {
            amount: Money::parse("40.00", "USD").expect("money"),
            ..share("B", "40.00")
        };
        assert_eq!(
            refused(vec![share("A", "60.00"), usd], "100.00").field,
            "shares[1].amount"
        );
        assert_eq!(
            refused(vec![share("A", "60.00"), share("B", "0")], "60.00").field,
            "shares[1].amount"
        );
        let unbalanced = refused(vec![share("A", "60.00"), share("B", "30.00")], "100.00");
        assert_eq!(unbalanced.field, "shares");
        assert!(unbalanced.reason.contains("90.00"), "{unbalanced}");
        assert!(ClearingAllocation::new(
            Reference::parse("PAY-1").expect("reference"),
            cny("100.00"),
            vec![share("A", "60.00"), share("B", "40.00")],
        )
        .is_ok());
    }
}
