//! The customer side of an item: who is harmed (by a pseudonymous reference only), the fees
//! they incurred, their complaints (客戶投訴), and the reminders the bank owes them.
//!
//! The product never holds a customer's name, phone number or address: the bank's own systems
//! resolve a `CustomerReference`, and its messaging gateway sends the reminders.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::{text_newtype, InvalidInput};
use crate::vocabulary::wire_names;

/// The bank's pseudonymous token for a customer: 4 to 64 ASCII letters, digits, `-`, `_`,
/// `.` or `:`, with at least one letter. Values that could be a phone number, an account
/// number or an e-mail address (all digits, or containing `@`) are refused, so personal data
/// cannot enter the log through this field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerReference(String);

impl CustomerReference {
    pub const FIELD: &'static str = "customer";
    /// The shortest and longest reference, in ASCII characters.
    pub const MIN: usize = 4;
    pub const MAX: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let refuse = |reason: &str| Err(InvalidInput::new(Self::FIELD, reason));
        if value.contains('@') {
            return refuse(
                "must be the bank's pseudonymous customer reference, not an e-mail address",
            );
        }
        if !(Self::MIN..=Self::MAX).contains(&value.len()) {
            return refuse(&format!(
                "must be {} to {} characters",
                Self::MIN,
                Self::MAX
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return refuse("may hold only ASCII letters, digits, '-', '_', '.' and ':'");
        }
        if !value.chars().any(|c| c.is_ascii_alphabetic()) {
            return refuse(
                "must hold at least one letter: a number alone could be a phone or account number",
            );
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CustomerReference {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CustomerReference> for String {
    fn from(value: CustomerReference) -> String {
        value.0
    }
}

text_newtype!(
    /// The bank's reference for a fee the customer incurred because of an item (e.g. a late
    /// fee, 滯納金); `opening` names the fee recorded when the item was booked.
    FeeReference, field = "fee_reference", max = 64, multiline = false
);

impl FeeReference {
    /// The reference of the fee an item was booked with (`CustomerImpact::fee`).
    pub fn at_opening() -> Self {
        Self("opening".to_owned())
    }
}

text_newtype!(
    /// The complaint-handling system's reference for a customer complaint.
    ComplaintReference, field = "complaint", max = 64, multiline = false
);

/// How a complaint reached the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintChannel {
    Phone,
    Counter,
    Online,
    Letter,
    /// Forwarded by the regulator (e.g. its consumer hotline).
    Regulator,
}

wire_names!(ComplaintChannel, "channel", {
    Phone => "phone",
    Counter => "counter",
    Online => "online",
    Letter => "letter",
    Regulator => "regulator",
});

/// How the messaging gateway reached the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderChannel {
    Sms,
    Phone,
    Email,
}

wire_names!(ReminderChannel, "channel", {
    Sms => "sms",
    Phone => "phone",
    Email => "email",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_references_are_pseudonymous_tokens() {
        assert_eq!(
            CustomerReference::parse("C-8F3A-0042").map(|c| c.to_string()),
            Ok("C-8F3A-0042".to_owned())
        );
        for refused in [
            " C-8F3A-0042 ",
            "13800138000",
            "6222 0200 1234",
            "li.lei@example.com",
            "C1",
            "张三",
            "",
        ] {
            let err = CustomerReference::parse(refused).expect_err(refused);
            assert_eq!(err.field, "customer", "{refused}");
        }
        assert!(serde_json::from_str::<CustomerReference>("\"13800138000\"").is_err());
    }

    #[test]
    fn channels_have_wire_names() {
        assert_eq!(ReminderChannel::parse("sms"), Ok(ReminderChannel::Sms));
        assert_eq!(
            ComplaintChannel::parse("carrier pigeon").map_err(|e| e.field),
            Err("channel".to_owned())
        );
    }
}
