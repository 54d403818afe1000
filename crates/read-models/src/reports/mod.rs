//! Queries over the read models: the root-cause report, aging, the open balance, the register,
//! and transaction volumes for the suspense rate. Everything reads precomputed rows.
//!
//! One file per report; each builds its statements once for both backends
//! (`suspense_database::Statement`) and reads their rows through `rows.rs`.

mod aging;
mod balance;
mod items;
mod plans;
mod policy;
mod root_causes;
mod rows;
mod volumes;

use suspense_database::Pool;
use suspense_domain::{Currency, InvalidInput, Money};
use suspense_store::EventLog;

pub use aging::{AgingBasis, AgingPolicy, AgingReport, AgingRow};
pub use balance::OpenBalance;
pub use items::ItemFilter;
pub use plans::{
    MeasureEvaluation, MeasureWindow, PlanEvaluation, TargetEvaluation, MEASURE_WINDOW_MONTHS,
};
pub use policy::{
    ProvisionedItem, ProvisioningReport, ProvisioningTotal, WatchEntry, WatchGroup, WatchList,
    WatchQuery, WatchReason, MAX_HORIZON_DAYS, MAX_WATCH_LIMIT, MIN_RESOLUTIONS,
};
pub use root_causes::{
    CauseKey, CountAmount, PeriodReport, RootCauseQuery, RootCauseReport, RootCauseRow, RowChange,
    SuspenseRate,
};
pub use volumes::VolumeFigures;

use crate::calendar::ReportingCalendar;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("read-model database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading the log's own streams (transaction volumes, plans) failed.
    #[error(transparent)]
    Log(#[from] suspense_store::StoreError),
}

/// Formats minor units as the currency's decimal amount.
fn amount(minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::from_minor_units(minor, c).ok())
        .map_or_else(|| minor.to_string(), |m| m.amount().to_string())
}

/// Minor units of `currency` as its exact decimal amount (`-1250.00`); the plain number if the
/// currency code is unknown.
pub fn format_minor_units(minor: i64, currency: &str) -> String {
    if minor < 0 {
        format!("-{}", amount(-minor, currency))
    } else {
        amount(minor, currency)
    }
}

/// Read access to the read models (and transaction volumes).
pub struct Reports<'a> {
    log: &'a EventLog,
    pool: &'a Pool,
    calendar: ReportingCalendar,
}

impl<'a> Reports<'a> {
    pub fn new(log: &'a EventLog, calendar: ReportingCalendar) -> Self {
        Self {
            log,
            pool: log.pool(),
            calendar,
        }
    }
}
