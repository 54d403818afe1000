//! Validation of values that come from outside (API bodies, CSV rows, config).
//!
//! Every domain newtype is parsed once at the boundary; past that point an invalid value
//! cannot exist, so the aggregate never re-checks formats, only business rules.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A value from outside was rejected. Names the field and says why, for the caller to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    /// The field as the caller named it (`amount`, `currency`, `reference`, ...).
    pub field: String,
    /// Why the value is not acceptable, in words an operator understands.
    pub reason: String,
    /// The value is well formed on its own but not valid where it stands: with another field
    /// (an amount's decimals and its currency, a period ending before it starts) or with the
    /// bank's reference data (a branch the registry does not hold). What no description of
    /// the field alone can rule out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_context: bool,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
            in_context: false,
        }
    }

    /// A value well formed but not valid where it stands (see [`InvalidInput::in_context`]).
    pub fn in_context(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            in_context: true,
            ..Self::new(field, reason)
        }
    }

    /// The same complaint about a differently named field (a `UserId` parsed as `assignee`).
    #[must_use]
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

/// Checks length (of the value as given) and characters, then trims: the rules shared by all
/// short texts. The length counts the surrounding blanks too, so that a value is refused
/// exactly when it is longer than the API document says.
pub(crate) fn parse_text(
    field: &str,
    value: &str,
    max_chars: usize,
    allow_newlines: bool,
) -> Result<String, InvalidInput> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {max_chars} characters, got {chars}"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(InvalidInput::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Whether `text` is a plain decimal: 1 to `whole` digits, then, if a point follows, 1 to
/// `fraction` digits. No sign, exponent, separator or blank: the one form amounts and figures
/// take, whatever `Decimal`'s own parser would also read.
pub fn is_plain_decimal(text: &str, whole: usize, fraction: usize) -> bool {
    let digits = |part: &str, max: usize| {
        (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    match text.split_once('.') {
        Some((before, after)) => digits(before, whole) && digits(after, fraction),
        None => digits(text, whole),
    }
}

/// A calendar date written exactly as `2026-03-31`: four digits, two and two. chrono's own
/// format parser would also take blanks before a number and one-digit months and days, which
/// the API document's `date` format does not allow.
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, InvalidInput> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| InvalidInput::new(field, format!("'{value}' is not a date like 2026-03-31")))
}

/// Declares a validated text newtype: trimmed, non-empty, bounded, serialised as a plain string,
/// and re-validated when deserialised so a stored or received value cannot bypass `parse`.
macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, field = $field:literal, max = $max:expr, multiline = $multi:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The field name used in errors when no other is given.
            pub const FIELD: &'static str = $field;
            /// The most characters the value may have.
            pub const MAX_CHARS: usize = $max;
            /// Whether line breaks and tabs are allowed (free text) or not (names and codes).
            pub const MULTILINE: bool = $multi;

            /// Validates `value` (trimmed; non-empty; bounded length; no control characters).
            pub fn parse(value: &str) -> Result<Self, $crate::input::InvalidInput> {
                $crate::input::parse_text($field, value, $max, $multi).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::input::InvalidInput;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::input::InvalidInput;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use text_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_plain_text() {
        assert_eq!(parse_text("f", "  abc ", 10, false), Ok("abc".to_owned()));
    }

    #[test]
    fn plain_decimals_are_digits_and_one_point() {
        for good in ["0", "12", "12.5", "123.456"] {
            assert!(is_plain_decimal(good, 3, 3), "{good}");
        }
        for bad in [
            "", ".5", "5.", "1234", "1.2345", "+1", "-1", "1_0", "1e3", " 1", "1.2.3",
        ] {
            assert!(!is_plain_decimal(bad, 3, 3), "{bad}");
        }
    }

    #[test]
    fn counts_the_length_as_given_blanks_included() {
        assert_eq!(parse_text("f", "abcde", 5, false), Ok("abcde".to_owned()));
        assert_eq!(
            parse_text("f", " abcde", 5, false).map_err(|e| e.reason),
            Err("must be at most 5 characters, got 6".to_owned())
        );
    }

    #[test]
    fn rejects_empty_too_long_and_control_characters() {
        assert_eq!(
            parse_text("f", "   ", 10, false),
            Err(InvalidInput::new("f", "must not be empty"))
        );
        assert_eq!(
            parse_text("f", "abcdef", 5, false).map_err(|e| e.reason),
            Err("must be at most 5 characters, got 6".to_owned())
        );
        assert!(parse_text("f", "a\u{7}b", 5, false).is_err());
        assert!(parse_text("f", "a\nb", 5, false).is_err());
        assert_eq!(parse_text("f", "a\nb", 5, true), Ok("a\nb".to_owned()));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(parse_text("f", "掛賬", 2, false), Ok("掛賬".to_owned()));
    }

    #[test]
    fn dates_are_written_exactly() {
        assert_eq!(
            parse_date("d", "2026-03-31"),
            Ok(NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date"))
        );
        for bad in [
            "",
            " 2026-03-31",
            "2026-03-31 ",
            "2026-3-31",
            "2026-03-1 ",
            "2026-02-30",
            "20260331",
            "2026/03/31",
            "+026-03-31",
        ] {
            let refused = parse_date("d", bad).expect_err(bad);
            assert_eq!(refused.field, "d");
        }
    }
}
