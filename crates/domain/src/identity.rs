//! Who and what: item ids, the caller's reference, people, teams, branches and accounts.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::input::{text_newtype, InvalidInput};

text_newtype!(
    /// The system that booked the item (core banking, card switch, a payments hub...).
    SourceSystem, field = "source_system", max = 64, multiline = false
);
text_newtype!(
    /// The caller's own reference for the posting; unique within its source system.
    Reference, field = "reference", max = 128, multiline = false
);
text_newtype!(
    /// A person acting on items: an operator, a supervisor, or a service account.
    UserId, field = "user", max = 64, multiline = false
);
text_newtype!(
    /// A handling team (掛賬處理專責小組) that owns items.
    TeamId, field = "team", max = 64, multiline = false
);
text_newtype!(
    /// The branch or org unit that booked the item.
    BranchCode, field = "branch", max = 32, multiline = false
);
text_newtype!(
    /// A general-ledger account: the suspense account, or the account an item is posted to.
    AccountNumber, field = "account", max = 64, multiline = false
);
text_newtype!(
    /// Free text on an item: its description, a comment, a reason.
    Note, field = "note", max = 4000, multiline = true
);

/// The caller's key for an item: source system plus its reference. Opening is idempotent on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceReference {
    pub source_system: SourceSystem,
    pub reference: Reference,
}

impl SourceReference {
    pub fn new(source_system: SourceSystem, reference: Reference) -> Self {
        Self {
            source_system,
            reference,
        }
    }

    pub fn parse(source_system: &str, reference: &str) -> Result<Self, InvalidInput> {
        Ok(Self::new(
            SourceSystem::parse(source_system)?,
            Reference::parse(reference)?,
        ))
    }
}

impl fmt::Display for SourceReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.source_system, self.reference)
    }
}

/// Namespace for the name-based (v5) ids of items. Never change it: ids already issued depend on it.
const ITEM_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a8e_57b3_4d0e_9a41_c3e2_8d5f_0b17);

/// The id of a suspense item, derived from its [`SourceReference`].
///
/// Deriving it (UUID v5) rather than drawing it makes a retried open land on the same item
/// without any lookup table, so idempotency holds even between two racing first attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(Uuid);

impl ItemId {
    pub fn for_reference(reference: &SourceReference) -> Self {
        // The separator cannot occur inside either part (control characters are rejected).
        let name = format!(
            "{}\u{1f}{}",
            reference.source_system.as_str(),
            reference.reference.as_str()
        );
        Self(Uuid::new_v5(&ITEM_ID_NAMESPACE, name.as_bytes()))
    }

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Uuid::parse_str(value)
            .map(Self)
            .map_err(|_| InvalidInput::new("item_id", format!("'{value}' is not a UUID")))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ItemId {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_id_is_stable_per_reference_and_distinct_across_systems() {
        let a = SourceReference::parse("CORE", "R-1").expect("valid");
        let b = SourceReference::parse("CORE", "R-1").expect("valid");
        let c = SourceReference::parse("CARD", "R-1").expect("valid");
        assert_eq!(ItemId::for_reference(&a), ItemId::for_reference(&b));
        assert_ne!(ItemId::for_reference(&a), ItemId::for_reference(&c));
        // Pinned: changing the derivation would orphan every item already opened.
        assert_eq!(
            ItemId::for_reference(&a).to_string(),
            "5dd39a94-8d4f-53b6-b403-e0696b2052c8".to_owned()
        );
    }

    #[test]
    fn text_fields_name_themselves_in_errors() {
        let err = Reference::parse("").expect_err("empty");
        assert_eq!(err.field, "reference");
        let err = UserId::parse("a\u{0}b").expect_err("control char");
        assert_eq!(err.for_field("assignee").field, "assignee");
    }

    #[test]
    fn deserialising_revalidates() {
        assert!(serde_json::from_str::<BranchCode>("\"  \"").is_err());
        assert_eq!(
            serde_json::from_str::<BranchCode>("\" SH-001 \"")
                .map(|b| b.to_string())
                .ok(),
            Some("SH-001".to_owned())
        );
    }
}
