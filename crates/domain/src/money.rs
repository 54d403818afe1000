//! Exact money: a decimal amount in an ISO 4217 currency, never floating point.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::input::{is_plain_decimal, InvalidInput};

/// An ISO 4217 currency that has minor units (so amounts in it can be bounded in scale).
///
/// Funds, precious metals and testing codes (XAU, XDR, XTS, ...) have no minor unit and are
/// rejected: a suspense item is an accounting entry in a cash currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: iso_currency::Currency,
    minor_units: u32,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, InvalidInput> {
        let iso = iso_currency::Currency::from_code(code).ok_or_else(|| {
            InvalidInput::new(
                "currency",
                format!("'{code}' is not an ISO 4217 currency code"),
            )
        })?;
        let minor_units = iso.exponent().ok_or_else(|| {
            InvalidInput::new(
                "currency",
                format!("'{code}' has no minor unit and cannot carry an amount"),
            )
        })?;
        Ok(Self {
            code: iso,
            minor_units: u32::from(minor_units),
        })
    }

    /// Every code `parse` accepts: the ISO 4217 currencies with a minor unit.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        use iso_currency::IntoEnumIterator;
        iso_currency::Currency::iter()
            .filter(|c| c.exponent().is_some())
            .map(|c| c.code())
    }

    /// The three-letter code, e.g. `CNY`.
    pub fn code(&self) -> &'static str {
        self.code.code()
    }

    /// Decimal places of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

impl std::str::FromStr for Currency {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Upper bound on a single amount. Far above any real posting, low enough that sums of
/// millions of items stay exact inside `Decimal`'s 28 digits.
const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0); // 10^15

/// A non-negative amount in a currency, scaled to the currency's minor units.
///
/// `Money` may be zero (a resolution of an item already cleared by partial clearings clears
/// nothing more); commands that need a positive amount say so with their own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMoney", into = "RawMoney")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Digits an amount may have before its point, as `parse` reads it.
    pub const WHOLE_DIGITS: usize = 15;
    /// Decimals an amount may have as `parse` reads it (no currency has more minor units).
    pub const DECIMALS: usize = 3;

    /// Validates an amount in `currency`: not negative, at most 10^15, and no more decimals than
    /// the currency's minor units (`10.500 CNY` is accepted as `10.50`; `10.505 CNY` is not).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, InvalidInput> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(InvalidInput::new("amount", "must not be negative"));
        }
        if amount > MAX_AMOUNT {
            return Err(InvalidInput::new(
                "amount",
                "must be at most 1000000000000000",
            ));
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units() {
            return Err(InvalidInput::in_context(
                "amount",
                format!(
                    "{currency} allows at most {} decimal places, got {}",
                    currency.minor_units(),
                    normalized.scale()
                ),
            ));
        }
        let mut amount = normalized;
        amount.rescale(currency.minor_units());
        Ok(Self { amount, currency })
    }

    /// Parses the textual forms an API or a CSV file carries: `"1234.50"` and `"CNY"`. The
    /// amount is a plain decimal of at most 15 digits before the point and 3 after (no sign,
    /// exponent or separators); more decimals than the currency has are refused as a value
    /// that does not go with its currency ([`InvalidInput::in_context`]).
    pub fn parse(amount: &str, currency: &str) -> Result<Self, InvalidInput> {
        let currency = Currency::parse(currency)?;
        let refuse = || {
            InvalidInput::new(
                "amount",
                format!(
                    "'{amount}' is not a plain decimal of at most {} digits and {} decimals, \
                     like 1234.50",
                    Self::WHOLE_DIGITS,
                    Self::DECIMALS
                ),
            )
        };
        if !is_plain_decimal(amount, Self::WHOLE_DIGITS, Self::DECIMALS) {
            return Err(refuse());
        }
        let value: Decimal = amount.parse().map_err(|_| refuse())?;
        Self::new(value, currency)
    }

    pub fn zero(currency: Currency) -> Self {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units());
        Self { amount, currency }
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units (cents, fen): exact, since the scale is the currency's.
    /// Fits in `i64`: amounts are at most 10^15 with at most 3 decimals.
    pub fn minor_units(&self) -> i64 {
        i64::try_from(self.amount.mantissa()).unwrap_or(i64::MAX)
    }

    /// Builds an amount from minor units (the inverse of [`Money::minor_units`]).
    pub fn from_minor_units(minor: i64, currency: Currency) -> Result<Self, InvalidInput> {
        Money::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Sum in the same currency; `None` when the currencies differ or the result is out of range.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let sum = self.amount.checked_add(other.amount)?;
        Money::new(sum, self.currency).ok()
    }

    /// Difference in the same currency; `None` when the currencies differ or it would be negative.
    pub fn checked_sub(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency || other.amount > self.amount {
            return None;
        }
        Money::new(self.amount - other.amount, self.currency).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// The wire and storage form: the amount as a decimal string (never a JSON float).
#[derive(Serialize, Deserialize)]
struct RawMoney {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: String,
}

impl TryFrom<RawMoney> for Money {
    type Error = InvalidInput;
    fn try_from(raw: RawMoney) -> Result<Self, Self::Error> {
        Money::new(raw.amount, Currency::parse(&raw.currency)?)
    }
}

impl From<Money> for RawMoney {
    fn from(money: Money) -> Self {
        RawMoney {
            amount: money.amount,
            currency: money.currency.code().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny() -> Currency {
        Currency::parse("CNY").expect("CNY is ISO 4217")
    }

    #[test]
    fn currency_knows_its_minor_units() {
        assert_eq!(Currency::parse("JPY").map(|c| c.minor_units()), Ok(0));
        assert_eq!(Currency::parse("KWD").map(|c| c.minor_units()), Ok(3));
        // A code with blanks around it is not a code: the API document lists the codes alone.
        assert!(Currency::parse(" CNY ").is_err());
    }

    #[test]
    fn every_code_listed_parses_and_no_unit_less_one_is_listed() {
        let codes: Vec<&str> = Currency::codes().collect();
        assert!(codes.len() > 100 && codes.contains(&"CNY") && !codes.contains(&"XAU"));
        for code in codes {
            assert_eq!(Currency::parse(code).map(|c| c.code()), Ok(code));
        }
    }

    #[test]
    fn unknown_and_unit_less_currencies_are_rejected() {
        let err = Currency::parse("ABC").expect_err("not ISO");
        assert_eq!(err.field, "currency");
        assert!(err.reason.contains("not an ISO 4217"));
        let err = Currency::parse("XAU").expect_err("gold has no minor unit");
        assert!(err.reason.contains("no minor unit"));
    }

    #[test]
    fn amounts_are_bounded_by_the_currency_scale() {
        assert_eq!(
            Money::parse("10.500", "CNY").map(|m| m.amount().to_string()),
            Ok("10.50".to_owned())
        );
        let err = Money::parse("10.505", "CNY").expect_err("three decimals");
        assert_eq!(err.field, "amount");
        assert!(err.reason.contains("at most 2 decimal places"));
        assert!(Money::parse("1.5", "JPY").is_err());
        assert!(Money::parse("1.505", "KWD").is_ok());
    }

    #[test]
    fn negative_huge_and_garbage_amounts_are_rejected() {
        assert!(Money::parse("-1", "CNY").is_err());
        assert!(Money::parse("1000000000000000.01", "CNY").is_err());
        for form in [
            "+1",
            "-0",
            "1_000",
            "1,000",
            ".5",
            "5.",
            "1.2345",
            "1234567890123456",
        ] {
            assert_eq!(
                Money::parse(form, "CNY").map_err(|e| (e.field, e.in_context)),
                Err(("amount".to_owned(), false)),
                "{form}"
            );
        }
        assert_eq!(
            Money::parse("1.005", "CNY").map_err(|e| e.in_context),
            Err(true)
        );
        assert!(Money::parse("999999999999999.999", "KWD").is_ok());
        assert!(Money::parse("1e3", "CNY").is_err());
        assert!(Money::parse("abc", "CNY").is_err());
        assert!(Money::parse("NaN", "CNY").is_err());
        assert!(Money::parse("0", "CNY").is_ok());
    }

    #[test]
    fn serialises_as_decimal_string_and_revalidates_on_read() {
        let money = Money::parse("1234.5", "CNY").expect("valid");
        let json = serde_json::to_string(&money).expect("serialises");
        assert_eq!(json, r#"{"amount":"1234.50","currency":"CNY"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).ok(), Some(money));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.234","currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"CNY"}"#).is_err());
    }

    #[test]
    fn minor_units_are_exact() {
        let m = Money::parse("1234.5", "CNY").expect("valid");
        assert_eq!(m.minor_units(), 123_450);
        assert_eq!(Money::parse("7", "JPY").map(|m| m.minor_units()), Ok(7));
        assert_eq!(
            Money::parse("1.005", "KWD").map(|m| m.minor_units()),
            Ok(1005)
        );
        assert_eq!(Money::from_minor_units(123_450, cny()), Ok(m));
    }

    #[test]
    fn arithmetic_stays_in_one_currency() {
        let a = Money::parse("10.10", "CNY").expect("valid");
        let b = Money::parse("0.20", "CNY").expect("valid");
        let usd = Money::parse("1", "USD").expect("valid");
        assert_eq!(a.checked_add(&b), Money::parse("10.30", "CNY").ok());
        assert_eq!(a.checked_add(&usd), None);
        assert_eq!(b.checked_sub(&a), None);
        assert_eq!(a.checked_sub(&a), Some(Money::zero(cny())));
    }

    proptest! {
        #[test]
        fn cents_add_exactly(cents in proptest::collection::vec(0u64..10_000_000_000, 1..50)) {
            let total: u64 = cents.iter().sum();
            let mut sum = Money::zero(cny());
            for c in &cents {
                let m = Money::new(Decimal::new(*c as i64, 2), cny()).expect("in range");
                sum = sum.checked_add(&m).expect("same currency, in range");
            }
            prop_assert_eq!(sum.amount(), Decimal::new(total as i64, 2));
        }
    }
}
