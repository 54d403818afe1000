//! The closed sets of words a suspense item is described with: channels, directions,
//! escalation levels and reasons, resolution methods.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Implements `as_str`, `parse` and `Display` from one table of wire names, so the names used
/// by serde, the API, CSV files and SQL columns cannot drift apart.
macro_rules! wire_names {
    ($ty:ident, $field:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            pub fn parse(value: &str) -> Result<Self, $crate::input::InvalidInput> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::input::InvalidInput::new($field, format!("'{value}' is not one of {}", names.join(", ")))
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::input::InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use wire_names;

/// Where the posting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Counter,
    OnlineBanking,
    MobileBanking,
    Atm,
    Card,
    ThirdPartyPayment,
    PartnerInstitution,
    Batch,
}

wire_names!(Channel, "channel", {
    Counter => "counter",
    OnlineBanking => "online_banking",
    MobileBanking => "mobile_banking",
    Atm => "atm",
    Card => "card",
    ThirdPartyPayment => "third_party_payment",
    PartnerInstitution => "partner_institution",
    Batch => "batch",
});

/// Side of the suspense account the amount was booked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Debit,
    Credit,
}

wire_names!(Direction, "direction", { Debit => "debit", Credit => "credit" });

/// How far up an item has been escalated (風險預警機制). Ordered: levels only rise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    TeamLead = 1,
    Department = 2,
    Management = 3,
}

wire_names!(EscalationLevel, "level", {
    TeamLead => "team_lead",
    Department => "department",
    Management => "management",
});

impl EscalationLevel {
    /// 1 for team lead up to 3 for management; 0 is "not escalated" in read models.
    pub fn rank(&self) -> u8 {
        *self as u8
    }
}

/// Why an item was escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The item passed an age threshold.
    Aging,
    /// The amount is above a threshold.
    LargeAmount,
    /// A person decided to escalate.
    Manual,
}

wire_names!(EscalationReason, "reason", {
    Aging => "aging",
    LargeAmount => "large_amount",
    Manual => "manual",
});

/// How an item was cleared in the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionMethod {
    /// Posted to the account it belonged to.
    PostedToAccount,
    /// Returned to the remitter.
    ReturnedToSender,
    /// Refunded to the customer.
    Refunded,
    /// Written off as a loss (or income): always needs a second person's approval.
    WrittenOff,
    /// Cleared against matching suspense postings (一挂多销 and the like).
    OffsetAgainstPostings,
}

wire_names!(ResolutionMethod, "method", {
    PostedToAccount => "posted_to_account",
    ReturnedToSender => "returned_to_sender",
    Refunded => "refunded",
    WrittenOff => "written_off",
    OffsetAgainstPostings => "offset_against_postings",
});

/// What the item means for the customer while it is open.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerImpact {
    /// The customer's funds are unavailable until the item clears.
    pub funds_held: bool,
    /// A fee the customer incurred because of the item (e.g. a late fee), if any; later
    /// fees and their refunds are events of their own.
    pub fee: Option<Money>,
    /// The customer harmed, by the bank's pseudonymous reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<crate::customer::CustomerReference>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_parse() {
        for channel in Channel::ALL {
            let json = serde_json::to_string(channel).expect("serialises");
            assert_eq!(json, format!("\"{}\"", channel.as_str()));
            assert_eq!(Channel::parse(channel.as_str()).ok(), Some(*channel));
        }
        for method in ResolutionMethod::ALL {
            let json = serde_json::to_string(method).expect("serialises");
            assert_eq!(json, format!("\"{}\"", method.as_str()));
        }
        for level in EscalationLevel::ALL {
            let json = serde_json::to_string(level).expect("serialises");
            assert_eq!(json, format!("\"{}\"", level.as_str()));
        }
    }

    #[test]
    fn unknown_words_name_the_field_and_the_choices() {
        let err = Channel::parse("fax").expect_err("not a channel");
        assert_eq!(err.field, "channel");
        assert!(err.reason.contains("counter"));
        assert!(Direction::parse("sideways").is_err());
    }

    #[test]
    fn escalation_levels_are_ordered() {
        assert!(EscalationLevel::TeamLead < EscalationLevel::Department);
        assert!(EscalationLevel::Department < EscalationLevel::Management);
        assert_eq!(EscalationLevel::Management.rank(), 3);
    }
}
