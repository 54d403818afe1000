//! What the aggregate needs from the world, passed in so that handling is deterministic:
//! the clock, the root-cause catalogue and the approval (maker-checker) policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::classification::RootCauseCatalogue;
use crate::money::{Currency, Money};
use crate::vocabulary::ResolutionMethod;

/// Business time. Production uses the system clock; tests and replays use a fixed one.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that always answers the same instant: for tests and deterministic replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// When a resolution must be proposed by one person and approved by another (加強業務審核).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Write-offs always need approval unless this is set to `false`.
    #[serde(default = "default_true")]
    pub write_offs_need_approval: bool,
    /// Per currency: a resolution clearing more than this needs approval. Absent = no limit.
    #[serde(default)]
    pub amount_thresholds: BTreeMap<String, Decimal>,
}

fn default_true() -> bool {
    true
}

impl ApprovalPolicy {
    /// Write-offs need approval; no amount limits.
    pub fn write_offs_only() -> Self {
        Self {
            write_offs_need_approval: true,
            amount_thresholds: BTreeMap::new(),
        }
    }

    /// Adds a limit above which any resolution in `currency` needs approval.
    #[must_use]
    pub fn with_threshold(mut self, currency: Currency, limit: Decimal) -> Self {
        self.amount_thresholds
            .insert(currency.code().to_owned(), limit);
        self
    }

    pub fn requires_approval(&self, method: ResolutionMethod, cleared: &Money) -> bool {
        if self.write_offs_need_approval && method == ResolutionMethod::WrittenOff {
            return true;
        }
        self.amount_thresholds
            .get(cleared.currency().code())
            .is_some_and(|limit| cleared.amount() > *limit)
    }
}

/// Everything `SuspenseItem::handle` may consult besides the item itself.
#[derive(Clone)]
pub struct ItemServices {
    pub clock: Arc<dyn Clock>,
    pub catalogue: RootCauseCatalogue,
    pub approval: ApprovalPolicy,
}

impl ItemServices {
    pub fn new(
        clock: Arc<dyn Clock>,
        catalogue: RootCauseCatalogue,
        approval: ApprovalPolicy,
    ) -> Self {
        Self {
            clock,
            catalogue,
            approval,
        }
    }
}

impl std::fmt::Debug for ItemServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemServices")
            .field("now", &self.clock.now())
            .field("catalogue", &self.catalogue.entries().len())
            .field("approval", &self.approval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_offs_and_large_amounts_need_approval() {
        let cny = Currency::parse("CNY").expect("valid");
        let policy = ApprovalPolicy::write_offs_only().with_threshold(cny, Decimal::new(50_000, 0));
        let small = Money::parse("100", "CNY").expect("valid");
        let large = Money::parse("50000.01", "CNY").expect("valid");
        let usd = Money::parse("1000000", "USD").expect("valid");
        assert!(policy.requires_approval(ResolutionMethod::WrittenOff, &small));
        assert!(!policy.requires_approval(ResolutionMethod::Refunded, &small));
        assert!(policy.requires_approval(ResolutionMethod::Refunded, &large));
        assert!(!policy.requires_approval(ResolutionMethod::Refunded, &usd));
    }
}
