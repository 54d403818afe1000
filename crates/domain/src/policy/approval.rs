//! Approval bands (maker-checker, richer): per currency, above an amount a resolution needs
//! one approver, above a higher one two (or one person whose authority counts double), and
//! optionally an approver from another branch than the item's. Published with the escalation
//! policy, so a past approval is explained by the version in force when it was proposed.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

/// The most approvals a band may ask for.
pub const MAX_APPROVALS: u8 = 3;

/// Resolutions in `currency` clearing more than `above` need `approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalBand {
    pub currency: Currency,
    pub above: Decimal,
    /// 1 to `MAX_APPROVALS`: the authority the approvers' approvals must add up to.
    pub approvals: u8,
    /// Every approver must work at another branch than the item's (head office always does).
    #[serde(default)]
    pub another_branch: bool,
}

/// What a resolution needs before it is resolved, fixed when it is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequirement {
    /// The authority approvals must add up to (0: none needed).
    pub approvals: u8,
    #[serde(default)]
    pub another_branch: bool,
    /// The band that asks for it (its index), when a band does.
    #[serde(default)]
    pub band: Option<usize>,
    /// The policy version the band is in.
    #[serde(default)]
    pub policy_version: Option<u32>,
}

impl ApprovalRequirement {
    /// One approval, by anyone but the proposer: the rule before bands.
    pub const ONE: Self = Self {
        approvals: 1,
        another_branch: false,
        band: None,
        policy_version: None,
    };

    /// "band 2 of policy version 3", or "the approval policy".
    pub fn rule(&self) -> String {
        match (self.band, self.policy_version) {
            (Some(band), Some(version)) => {
                format!("approval_bands[{band}] of policy version {version}")
            }
            _ => "the approval policy".to_owned(),
        }
    }
}

/// Who approves, as far as the bands care.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproverStanding {
    /// How many approvals theirs counts for (1 unless configured higher: a manager).
    pub authority: u8,
    /// Their home branch; `None` for head office.
    pub home_branch: Option<crate::identity::BranchCode>,
}

impl ApproverStanding {
    /// An approver whose approval counts once, at head office.
    pub fn one() -> Self {
        Self {
            authority: 1,
            home_branch: None,
        }
    }
}

/// The band a resolution clearing `cleared` falls in (the highest `above` it exceeds).
pub fn band_for<'a>(
    bands: &'a [ApprovalBand],
    cleared: &Money,
) -> Option<(usize, &'a ApprovalBand)> {
    bands
        .iter()
        .enumerate()
        .filter(|(_, b)| b.currency == cleared.currency() && cleared.amount() > b.above)
        .max_by(|(_, a), (_, b)| a.above.cmp(&b.above))
}

/// Checks the bands of a version: each refusal names the band (`approval_bands[1]`).
pub fn check_bands(bands: &[ApprovalBand]) -> Result<(), (usize, String)> {
    for (index, band) in bands.iter().enumerate() {
        if band.approvals == 0 || band.approvals > MAX_APPROVALS {
            return Err((
                index,
                format!(
                    "approvals must be 1 to {MAX_APPROVALS}, got {}",
                    band.approvals
                ),
            ));
        }
        if band.above < Decimal::ZERO {
            return Err((index, "above must not be negative".to_owned()));
        }
        if band.above.normalize().scale() > band.currency.minor_units() {
            return Err((
                index,
                format!(
                    "above has more decimals than {} allows ({})",
                    band.currency,
                    band.currency.minor_units()
                ),
            ));
        }
        for (earlier, other) in bands.iter().enumerate().take(index) {
            if other.currency != band.currency {
                continue;
            }
            if other.above == band.above {
                return Err((
                    index,
                    format!("repeats the amount of approval_bands[{earlier}]"),
                ));
            }
            let (lower, higher) = if other.above < band.above {
                (other, band)
            } else {
                (band, other)
            };
            if higher.approvals < lower.approvals {
                return Err((
                    index,
                    format!("a larger amount needs fewer approvals than approval_bands[{earlier}]"),
                ));
            }
        }
    }
    Ok(())
}
