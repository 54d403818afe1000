//! What the aggregate needs from the world, passed in so that handling is deterministic:
//! the clock, the root-cause catalogue and the approval (maker-checker) policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::attribution::Counterparties;
use crate::classification::RootCauseCatalogue;
use crate::money::{Currency, Money};
use crate::organisation::OrganisationDirectory;
use crate::policy::{band_for, ApprovalRequirement, PolicyDirectory};
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
        (self.write_offs_need_approval && method == ResolutionMethod::WrittenOff)
            || self.exceeds_threshold(cleared)
    }

    /// Whether `cleared` is above the configured threshold of its currency.
    pub fn exceeds_threshold(&self, cleared: &Money) -> bool {
        self.amount_thresholds
            .get(cleared.currency().code())
            .is_some_and(|limit| cleared.amount() > *limit)
    }
}

/// The business dates a booking may carry: not before `earliest`, and at most
/// `max_days_ahead` days after the clock's day (UTC; the allowance absorbs the bank's time
/// zone). A date outside is a typo (9999-12-31, 0001-01-01) that would enter every aging and
/// statistic, so it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessDates {
    pub earliest: NaiveDate,
    pub max_days_ahead: u32,
}

impl Default for BusinessDates {
    fn default() -> Self {
        Self {
            earliest: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN),
            max_days_ahead: 31,
        }
    }
}

impl BusinessDates {
    /// Why `date` is implausible on `today`, if it is.
    pub fn refusal(&self, date: NaiveDate, today: NaiveDate) -> Option<String> {
        let latest = today
            .checked_add_days(chrono::Days::new(u64::from(self.max_days_ahead)))
            .unwrap_or(NaiveDate::MAX);
        if date < self.earliest {
            Some(format!(
                "{date} is before the earliest accepted date {}",
                self.earliest
            ))
        } else if date > latest {
            Some(format!(
                "{date} is more than {} days ahead of today ({today})",
                self.max_days_ahead
            ))
        } else {
            None
        }
    }
}

/// Everything `SuspenseItem::handle` may consult besides the item itself.
#[derive(Clone)]
pub struct ItemServices {
    pub clock: Arc<dyn Clock>,
    pub catalogue: RootCauseCatalogue,
    pub approval: ApprovalPolicy,
    pub dates: BusinessDates,
    /// The branches and teams items may name (every one, while none is published).
    pub organisation: OrganisationDirectory,
    /// The escalation policy's versions, for their approval bands.
    pub policies: PolicyDirectory,
    /// The counterparties an external cause may be attributed to.
    pub counterparties: Counterparties,
}

impl ItemServices {
    /// Services with the default window of plausible business dates (`BusinessDates`).
    pub fn new(
        clock: Arc<dyn Clock>,
        catalogue: RootCauseCatalogue,
        approval: ApprovalPolicy,
    ) -> Self {
        Self {
            clock,
            catalogue,
            approval,
            dates: BusinessDates::default(),
            organisation: OrganisationDirectory::default(),
            policies: PolicyDirectory::default(),
            counterparties: Counterparties::default(),
        }
    }

    /// What a resolution with `method` clearing `cleared` needs on `date`: the band of the
    /// policy version in force, when it has bands; else the configured approval policy (one
    /// approval above its threshold). Write-offs need at least one approval unless the
    /// configuration says otherwise.
    pub fn approval_needed(
        &self,
        method: ResolutionMethod,
        cleared: &Money,
        date: NaiveDate,
    ) -> ApprovalRequirement {
        let none = ApprovalRequirement {
            approvals: 0,
            ..ApprovalRequirement::ONE
        };
        let policies = self.policies.current();
        let banded = policies
            .in_force(date)
            .filter(|version| !version.approval_bands.is_empty());
        let mut needed = match banded {
            Some(version) => {
                band_for(&version.approval_bands, cleared).map_or(none, |(i, band)| {
                    ApprovalRequirement {
                        approvals: band.approvals,
                        another_branch: band.another_branch,
                        band: Some(i),
                        policy_version: Some(version.version),
                    }
                })
            }
            None if self.approval.exceeds_threshold(cleared) => ApprovalRequirement::ONE,
            None => none,
        };
        if self.approval.write_offs_need_approval && method == ResolutionMethod::WrittenOff {
            needed.approvals = needed.approvals.max(1);
        }
        needed
    }

    /// The bank's list of counterparties (none by default: no counterparty is accepted).
    #[must_use]
    pub fn with_counterparties(mut self, counterparties: Counterparties) -> Self {
        self.counterparties = counterparties;
        self
    }

    /// The bank's own window of plausible business dates.
    #[must_use]
    pub fn with_business_dates(mut self, dates: BusinessDates) -> Self {
        self.dates = dates;
        self
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
