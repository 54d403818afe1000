//! The API's own types: request bodies and query strings parsed into domain values, and the
//! response bodies built from the library's values. Only this module knows the wire: a
//! renamed column or field in a lower layer cannot change what clients see, and
//! the OpenAPI document (`crate::openapi`) is derived from these types.

mod allocation;
mod attribution;
mod body;
mod customer;
mod incident;
pub mod object;
mod organisation;
mod outlook;
mod plan_body;
mod plan_view;
mod policy;
mod query;
mod subscription;
mod summary;
mod view;
pub mod whole;

pub use allocation::*;
pub use attribution::*;
pub use body::*;
pub use customer::*;
pub use incident::*;
pub use organisation::*;
pub use outlook::*;
pub use plan_body::*;
pub use plan_view::*;
pub use policy::*;
pub use query::*;
pub use subscription::*;
pub use summary::*;
pub use view::*;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use suspense_domain::input::is_plain_decimal;
use suspense_domain::InvalidInput;

/// A time in RFC 3339 form (`2026-04-01T09:30:00+08:00`), named by `field` when it is not one.
pub fn instant(field: &str, value: &str) -> Result<DateTime<Utc>, InvalidInput> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            InvalidInput::new(
                field,
                format!("'{value}' is not an RFC 3339 time like 2026-04-01T09:30:00+08:00"),
            )
        })
}

/// A calendar date in the form `2026-03-31`, named by `field` when it is not one.
pub use suspense_domain::input::parse_date as date;

/// The form of a decimal in a body (a figure, a percentage, a threshold): an optional minus,
/// up to 15 digits, and up to 6 decimals. Exponents, `+`, `_` and blanks are refused.
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$";

/// A decimal of the form `DECIMAL_PATTERN` states, named by `field` when it is not one.
pub fn decimal(field: &str, value: &str) -> Result<Decimal, InvalidInput> {
    let refuse = || {
        InvalidInput::new(
            field,
            format!(
                "'{value}' is not a decimal like 0.50 or -30 (at most 15 digits and 6 decimals)"
            ),
        )
    };
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    if !is_plain_decimal(unsigned, 15, 6) {
        return Err(refuse());
    }
    value.parse().map_err(|_| refuse())
}

/// The kinds of a regulatory action in a policy rule.
pub const ACTION_KINDS: [&str; 3] = ["provision", "move_to_blocked_account", "review"];

/// The outcomes the messaging gateway reports of a reminder.
pub const REMINDER_OUTCOMES: [&str; 2] = ["sent", "failed"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_plain_and_bounded() {
        for good in ["0", "0.50", "-30", "123456789012345.123456"] {
            assert!(decimal("f", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-",
            ".5",
            "5.",
            "1e3",
            "+1",
            "1_000",
            "1.1234567",
            "1234567890123456",
            " 7 ",
        ] {
            assert_eq!(
                decimal("f", bad).map_err(|e| e.field),
                Err("f".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn instants_are_rfc_3339_without_blanks() {
        assert!(instant("at", "2026-04-01T09:30:00+08:00").is_ok());
        for bad in [
            " 2026-04-01T09:30:00+08:00",
            "2026-04-01T09:30:00+08:00 ",
            "2026-04-01T09:30:00",
            "2026-04-01",
        ] {
            assert_eq!(
                instant("at", bad).map_err(|e| e.field),
                Err("at".to_owned()),
                "{bad}"
            );
        }
    }
}
