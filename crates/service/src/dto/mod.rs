//! The API's own types: request bodies and query strings parsed into domain values, and the
//! response bodies built from the library's values. Only this module knows the wire: a
//! renamed column or field in a lower layer cannot change what clients see, and
//! `openapi.json` describes exactly these types.

mod allocation;
mod attribution;
mod body;
mod customer;
mod incident;
mod organisation;
mod outlook;
mod plan_body;
mod plan_view;
mod policy;
mod query;
mod subscription;
mod summary;
mod view;

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

use chrono::{DateTime, NaiveDate, Utc};
use suspense_domain::InvalidInput;

/// A time in RFC 3339 form (`2026-04-01T09:30:00+08:00`), named by `field` when it is not one.
pub fn instant(field: &str, value: &str) -> Result<DateTime<Utc>, InvalidInput> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            InvalidInput::new(
                field,
                format!("'{value}' is not an RFC 3339 time like 2026-04-01T09:30:00+08:00"),
            )
        })
}

/// A calendar date in the form `2026-03-31`, named by `field` when it is not one.
pub fn date(field: &str, value: &str) -> Result<NaiveDate, InvalidInput> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| InvalidInput::new(field, format!("'{value}' is not a date like 2026-03-31")))
}
