//! Who or what a cause is attributed to, so the bank can hold people and partners to account:
//! the staff member responsible for an operational error (考核), distinct from whoever acted
//! on the item, and the counterparty behind an external cause (a third-party payment platform
//! or partner institution, from the bank's configured list).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::classification::RootCauseCategory;
use crate::identity::UserId;
use crate::input::text_newtype;

text_newtype!(
    /// A counterparty's code in the bank's list (`ALIPAY`, `UNIONPAY`, `PARTNER-BANK-07`).
    CounterpartyCode, field = "counterparty", max = 32, multiline = false
);

/// The attribution given with a classification. `None` leaves what the item had, unless the
/// new cause's category does not admit it (then it is cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The staff member whose error caused the item: operational errors only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<UserId>,
    /// The partner behind the item: external causes only, from `Counterparties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<CounterpartyCode>,
}

impl Attribution {
    pub fn is_empty(&self) -> bool {
        self.responsible.is_none() && self.counterparty.is_none()
    }

    /// Whether a cause of `category` admits a responsible staff member.
    pub fn admits_responsible(category: RootCauseCategory) -> bool {
        category == RootCauseCategory::OperationalError
    }

    /// Whether a cause of `category` admits a counterparty.
    pub fn admits_counterparty(category: RootCauseCategory) -> bool {
        category == RootCauseCategory::ExternalCause
    }

    /// What the item holds after a classification under `category` given `self`, starting
    /// from `current`: each part given replaces the current one, and a part the category
    /// does not admit is cleared.
    pub fn after(&self, current: &Attribution, category: RootCauseCategory) -> Attribution {
        Attribution {
            responsible: self
                .responsible
                .clone()
                .or_else(|| current.responsible.clone())
                .filter(|_| Self::admits_responsible(category)),
            counterparty: self
                .counterparty
                .clone()
                .or_else(|| current.counterparty.clone())
                .filter(|_| Self::admits_counterparty(category)),
        }
    }
}

/// The counterparties the bank manages, by code with their names. Configured, not learnt:
/// a counterparty outside the list is refused, so the report by counterparty has no typos.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counterparties(Arc<BTreeMap<CounterpartyCode, String>>);

impl Counterparties {
    pub fn new(entries: BTreeMap<CounterpartyCode, String>) -> Self {
        Self(Arc::new(entries))
    }

    pub fn contains(&self, code: &CounterpartyCode) -> bool {
        self.0.contains_key(code)
    }

    pub fn name(&self, code: &CounterpartyCode) -> Option<&str> {
        self.0.get(code).map(String::as_str)
    }

    pub fn entries(&self) -> &BTreeMap<CounterpartyCode, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(name: &str) -> Option<UserId> {
        UserId::parse(name).ok()
    }

    #[test]
    fn attribution_keeps_replaces_and_clears_by_category() {
        let current = Attribution {
            responsible: staff("teller-7"),
            counterparty: None,
        };
        let none = Attribution::default();
        assert_eq!(
            none.after(&current, RootCauseCategory::OperationalError),
            current,
            "nothing given keeps what the item had"
        );
        let other = Attribution {
            responsible: staff("teller-9"),
            counterparty: None,
        };
        assert_eq!(
            other
                .after(&current, RootCauseCategory::OperationalError)
                .responsible,
            staff("teller-9")
        );
        assert_eq!(
            none.after(&current, RootCauseCategory::SystemFailure),
            Attribution::default(),
            "a cause that admits no responsible clears it"
        );
    }
}
