//! Queries over the read models: the root-cause report, aging, the open balance, the register,
//! and transaction volumes for the suspense rate. Everything reads precomputed rows.
//!
//! One file per report; each builds its statements once for both backends
//! (`suspense_database::Statement`) and reads their rows through `rows.rs`.

mod aging;
mod attribution;
mod balance;
mod customers;
mod incidents;
mod items;
mod plans;
mod policy;
mod root_causes;
mod rows;
mod summary;
mod volumes;

use suspense_database::{Pool, Statement};
use suspense_domain::organisation::OrganisationVersion;
use suspense_domain::{Currency, InvalidInput, Money};
use suspense_store::EventLog;

pub use aging::{AgingBasis, AgingPolicy, AgingReport, AgingRow};
pub use attribution::{
    AttributedAmounts, AttributedTo, AttributionQuery, AttributionReport, AttributionRow,
};
pub use balance::OpenBalance;
pub use customers::{CustomerKey, CustomerPeriod, CustomerReport, CustomerRow};
pub use incidents::{IncidentCandidate, IncidentFigures, IncidentShare};
pub use items::{ItemFilter, ItemOrder};
pub use plans::{
    MeasureEvaluation, MeasureWindow, PlanEvaluation, TargetEvaluation, MEASURE_WINDOW_MONTHS,
};
pub use policy::{
    ProvisionedItem, ProvisioningReport, ProvisioningTotal, WatchEntry, WatchGroup, WatchList,
    WatchQuery, WatchReason, MAX_HORIZON_DAYS, MAX_WATCH_LIMIT, MIN_RESOLUTIONS,
};
pub use root_causes::{
    suspense_rate_per_10000, CauseKey, CountAmount, PeriodReport, RootCauseQuery, RootCauseReport,
    RootCauseRow, RowChange, SuspenseRate,
};
pub use summary::{
    CauseDimension, CauseSummary, CauseSummaryQuery, CurrencyFigures, PeriodSummary, SummaryRow,
    VITAL_FEW_PERCENT,
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

/// Read access to the read models (and transaction volumes), over every branch or within a
/// set of branches (`within`).
pub struct Reports<'a> {
    log: &'a EventLog,
    pool: &'a Pool,
    calendar: ReportingCalendar,
    /// The branches rows may come from; `None` for every branch.
    scope: Option<Vec<String>>,
    /// The organisation registry the policy's jurisdiction rules are read with.
    registry: Option<OrganisationVersion>,
}

impl<'a> Reports<'a> {
    pub fn new(log: &'a EventLog, calendar: ReportingCalendar) -> Self {
        Self {
            log,
            pool: log.pool(),
            calendar,
            scope: None,
            registry: None,
        }
    }

    /// Reads the read models from `pool` (a streaming replica of the log's database) instead
    /// of the log's own.
    pub fn on_pool(mut self, pool: &'a Pool) -> Self {
        self.pool = pool;
        self
    }

    /// The organisation registry rules naming jurisdictions are matched with (without one,
    /// such rules match nothing): the policy's reports (sweep candidates, watch list,
    /// provisioning) take the version in force on their date.
    #[must_use]
    pub fn with_registry(mut self, registry: Option<OrganisationVersion>) -> Self {
        self.registry = registry;
        self
    }

    /// The same reports over the rows of `branches` only (`None`: every branch). Item lists,
    /// items, aging, the open balance, root causes, the watch list and the provisioning
    /// report honour it; a plan's evaluation, which covers the plan's own scope, does not.
    #[must_use]
    pub fn within(mut self, branches: Option<Vec<String>>) -> Self {
        self.scope = branches;
        self
    }

    /// Whether the reports are narrowed to some branches.
    pub fn is_scoped(&self) -> bool {
        self.scope.is_some()
    }

    /// ` AND {column} IN (…)`: rows of the scope's branches (none, for an empty scope).
    fn push_scope(&self, q: &mut Statement, column: &str) {
        match &self.scope {
            None => {}
            Some(branches) if branches.is_empty() => {
                q.push(" AND 1 = 0");
            }
            Some(branches) => {
                q.push(&format!(" AND {column} IN ("))
                    .push_params(branches.iter().map(String::as_str))
                    .push(")");
            }
        }
    }

    /// The branches a report for `wanted` (one branch, or every branch) may show: `None` for
    /// every branch.
    fn branches_for(&self, wanted: Option<&str>) -> Option<Vec<String>> {
        match (wanted, &self.scope) {
            (None, scope) => scope.clone(),
            (Some(branch), None) => Some(vec![branch.to_owned()]),
            (Some(branch), Some(scope)) => Some(
                scope
                    .iter()
                    .filter(|b| b.as_str() == branch)
                    .cloned()
                    .collect(),
            ),
        }
    }
}
