//! Read models of the suspense log: what reporting jobs query.
//!
//! - the **item register** (one row per item, current state), with the **open balance** per
//!   currency and dated **balance movements** from which **aging** is computed as of any date;
//! - the **root-cause statistics** per month, summed into months, quarters and years in the
//!   bank's time zone.
//!
//! All are plain tables in the log's database (docs/read-models.md), kept by the
//! [`Projector`] exactly once, and can be dropped and rebuilt from the log at any time.

mod calendar;
mod fast_hash;
mod month_end_stock;
mod projection;
mod projector;
mod register;
mod replica;
mod reports;
mod snapshot;
mod sql;
mod statistics;
#[cfg(test)]
mod test_events;
mod tuning;

pub use calendar::{month_start, resolution_time, Period, PeriodKind, ReportingCalendar};
pub use projector::{
    wait_for_position, ProjectionError, ProjectionStatus, Projector, ProjectorMetrics, ReadModel,
    ReadModelSettings, RebuildProgress,
};
pub use register::RegisterRow;
pub use replica::Replica;
pub use reports::{
    format_minor_units, suspense_rate_per_10000, AgingBasis, AgingPolicy, AgingReport, AgingRow,
    AttributedAmounts, AttributedTo, AttributionQuery, AttributionReport, AttributionRow,
    CauseDimension, CauseKey, CauseSummary, CauseSummaryQuery, CountAmount, CurrencyFigures,
    CustomerKey, CustomerPeriod, CustomerReport, CustomerRow, IncidentCandidate, IncidentFigures,
    IncidentShare, ItemFilter, ItemOrder, MeasureEvaluation, MeasureWindow, OpenBalance,
    PeriodReport, PeriodSummary, PlanEvaluation, ProvisionedItem, ProvisioningReport,
    ProvisioningTotal, ReportError, Reports, RootCauseQuery, RootCauseReport, RootCauseRow,
    RowChange, SummaryRow, SuspenseRate, TargetEvaluation, VolumeFigures, WatchEntry, WatchGroup,
    WatchList, WatchQuery, WatchReason, MAX_HORIZON_DAYS, MAX_WATCH_LIMIT, MEASURE_WINDOW_MONTHS,
    MIN_RESOLUTIONS, VITAL_FEW_PERCENT,
};
pub use snapshot::ReadModelSnapshot;
pub use statistics::{CellCounts, UNCLASSIFIED};

/// The projector's own dropping and re-creating of the lookup indexes a build from empty
/// defers (`tuning/deferred_indexes.rs`), for tools that load the read models' tables in bulk as
/// it does. For benchmarks; the projector is the way to keep read models.
#[doc(hidden)]
pub mod bulk_load {
    pub use crate::tuning::deferred_indexes::{defer, restore};
}

/// Folds `events` into fresh in-memory register and statistics batches, as the projector does
/// with each page before writing it, and returns the rows produced. For benchmarks; the
/// projector is the way to keep read models.
#[doc(hidden)]
pub fn fold_in_memory(
    events: &[suspense_store::RecordedEvent],
    calendar: &ReportingCalendar,
) -> Result<usize, String> {
    let mut register = register::RegisterBatch::default();
    let mut stats = statistics::StatsBatch::default();
    // As the projector does: items whose cause changes in the batch keep their facts at hand.
    for event in events {
        if statistics::StatsBatch::needs_facts(&event.event) {
            stats.facts.entry(event.item_id.to_string()).or_default();
        }
    }
    for event in events {
        register.apply(event, calendar)?;
        stats.apply(event, calendar)?;
    }
    Ok(register.rows.len() + register.movements.len() + stats.cells.len() + stats.items.len())
}
