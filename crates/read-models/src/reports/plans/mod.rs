//! A remediation plan's evaluation (定期對整改工作進行評估): each target's baseline, actual
//! and target figures with a verdict and the monthly trend inside the phase, and whether each
//! completed measure worked. Every figure comes from the read models (see `figures.rs`);
//! the verdicts' rules are the domain's (`Verdict::judge`, `MeasureEffect::judge`).

mod figures;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use suspense_domain::plan::{
    MeasureEffect, MeasureStatus, Metric, MetricFilter, Month, MonthSpan, Phase, PhaseProgress,
    PlanEntryId, RecordedEvaluation, Target, TargetFigures, Verdict,
};
use suspense_domain::{Currency, InvalidInput, PlanState, RootCauseCategory, RootCauseCode};

use self::figures::{MonthFigures, Scope};
use super::volumes::VolumeFigures;
use super::{ReportError, Reports};
use crate::calendar::resolution_time;

/// A measure is compared over at most this many whole months before and after it.
pub const MEASURE_WINDOW_MONTHS: u32 = 3;

/// A phase's evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEvaluation {
    pub phase: Phase,
    pub baseline: MonthSpan,
    pub as_of: NaiveDate,
    pub progress: PhaseProgress,
    /// The months the actual figures cover (none before the phase starts).
    pub covered: Option<MonthSpan>,
    pub targets: Vec<TargetEvaluation>,
    pub measures: Vec<MeasureEvaluation>,
}

impl PlanEvaluation {
    /// The figures to record when a manager signs the evaluation.
    pub fn to_record(&self, log_position: u64, chain_head: Option<String>) -> RecordedEvaluation {
        RecordedEvaluation {
            phase: self.phase.number,
            as_of: self.as_of,
            log_position,
            chain_head,
            targets: self.targets.iter().map(|t| t.figures.clone()).collect(),
        }
    }
}

/// One target's figures in a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEvaluation {
    pub figures: TargetFigures,
    pub filter: MetricFilter,
    /// The metric per month of the phase so far.
    pub trend: Vec<(Month, Option<Decimal>)>,
}

/// Items of a measure's cause opened in a window of whole months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureWindow {
    pub months: Option<MonthSpan>,
    pub items_opened: i64,
}

/// Whether a completed measure worked: its cause's items opened in equal windows of whole
/// months before and after the month it was completed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureEvaluation {
    pub measure: PlanEntryId,
    pub title: String,
    pub category: RootCauseCategory,
    pub code: Option<RootCauseCode>,
    pub status: MeasureStatus,
    pub completed_on: Option<NaiveDate>,
    pub before: MeasureWindow,
    pub after: MeasureWindow,
    pub effect: Option<MeasureEffect>,
}

impl Reports<'_> {
    /// Evaluates `phase` of `plan` (or, without a phase, the one running on `as_of`, else the
    /// last ended, else the first) as the read models stand, on the bank-calendar date
    /// `as_of`.
    pub async fn evaluate_plan(
        &self,
        plan: &PlanState,
        phase: Option<u32>,
        as_of: NaiveDate,
    ) -> Result<PlanEvaluation, ReportError> {
        let phase = pick_phase(plan, phase, as_of)?;
        let progress = progress(&phase.months, as_of);
        let covered = match progress {
            PhaseProgress::NotStarted => None,
            PhaseProgress::Ended => Some(phase.months),
            // A running phase is judged on its whole months so far (a month is whole on its
            // last day); in its first month, on that month so far.
            PhaseProgress::Running => {
                let whole = as_of
                    .succ_opt()
                    .and_then(|next| Month::of(next).minus(1))
                    .filter(|last| *last >= phase.months.from)
                    .unwrap_or(phase.months.from);
                MonthSpan::new(phase.months.from, whole).ok()
            }
        };
        // The stock is taken at the phase's end, or on `as_of` while it runs.
        let stock_day = match progress {
            PhaseProgress::Running => as_of,
            _ => phase.months.end().pred_opt().unwrap_or(as_of),
        };
        let volumes = self.volume_figures().await?;
        let targets = plan
            .targets
            .iter()
            .filter(|t| t.phase.is_none_or(|p| p == phase.number));
        let targets = futures::future::try_join_all(targets.map(|target| {
            self.evaluate_target(plan, target, progress, covered, stock_day, &volumes)
        }));
        let measures = futures::future::try_join_all(
            plan.measures
                .iter()
                .map(|m| self.evaluate_measure(plan, m, as_of)),
        );
        let (targets, measures) = futures::future::try_join(targets, measures).await?;
        Ok(PlanEvaluation {
            phase: phase.clone(),
            baseline: plan.draft.baseline,
            as_of,
            progress,
            covered,
            targets,
            measures,
        })
    }

    async fn evaluate_target(
        &self,
        plan: &PlanState,
        target: &Target,
        progress: PhaseProgress,
        covered: Option<MonthSpan>,
        stock_day: NaiveDate,
        volumes: &VolumeFigures,
    ) -> Result<TargetEvaluation, ReportError> {
        let scope = Scope {
            plan: &plan.draft.scope,
            filter: &target.filter,
        };
        let baseline = plan.draft.baseline;
        let metric = &target.metric;
        let (baseline_value, actual, trend) = if let Metric::OpenLongerThan { days } = metric {
            let at_baseline_end = baseline.end().pred_opt().unwrap_or(baseline.end());
            let baseline_value = self
                .open_longer_than(*days, &scope, at_baseline_end)
                .await?;
            let mut trend = Vec::new();
            let mut actual = None;
            if let Some(covered) = covered {
                for month in covered.each() {
                    let month_end = month
                        .plus(1)
                        .and_then(|m| m.first_day().pred_opt())
                        .unwrap_or(stock_day)
                        .min(stock_day);
                    let count = self.open_longer_than(*days, &scope, month_end).await?;
                    trend.push((month, Some(Decimal::from(count))));
                }
                // The stock at the phase's end, or on `as_of` while it runs.
                actual = match progress {
                    PhaseProgress::Running => Some(Decimal::from(
                        self.open_longer_than(*days, &scope, stock_day).await?,
                    )),
                    _ => trend.last().and_then(|(_, v)| *v),
                };
            }
            (Some(Decimal::from(baseline_value)), actual, trend)
        } else {
            let last = covered.map_or(baseline.to, |c| c.to);
            let months = self
                .month_figures(metric, &scope, baseline.from, last)
                .await?;
            let value = |span: MonthSpan| window_value(metric, &months, span, volumes, &scope);
            let baseline_value = value(baseline);
            let actual = covered.and_then(value);
            let trend = covered
                .map(|c| {
                    c.each()
                        .filter_map(|m| MonthSpan::new(m, m).ok())
                        .map(|m| (m.from, value(m)))
                        .collect()
                })
                .unwrap_or_default();
            (baseline_value, actual, trend)
        };
        let target_value = target.value.resolve(baseline_value);
        Ok(TargetEvaluation {
            figures: TargetFigures {
                target: target.id.clone(),
                metric: metric.to_string(),
                comparison: target.comparison,
                baseline: baseline_value,
                actual,
                target_value,
                verdict: Verdict::judge(progress, target.comparison, actual, target_value),
            },
            filter: target.filter.clone(),
            trend,
        })
    }

    async fn evaluate_measure(
        &self,
        plan: &PlanState,
        measure: &suspense_domain::plan::Measure,
        as_of: NaiveDate,
    ) -> Result<MeasureEvaluation, ReportError> {
        let spec = &measure.spec;
        let mut evaluation = MeasureEvaluation {
            measure: spec.id.clone(),
            title: spec.title.to_string(),
            category: spec.category,
            code: spec.code.clone(),
            status: measure.status,
            completed_on: measure.completed_on,
            before: MeasureWindow {
                months: None,
                items_opened: 0,
            },
            after: MeasureWindow {
                months: None,
                items_opened: 0,
            },
            effect: None,
        };
        let (MeasureStatus::Done, Some(done)) = (measure.status, measure.completed_on) else {
            return Ok(evaluation);
        };
        // Whole months after the completion month that have ended by `as_of`.
        let month = Month::of(done);
        let elapsed = month.months_until(Month::of(as_of)) - 1;
        let k = u32::try_from(elapsed.clamp(0, i64::from(MEASURE_WINDOW_MONTHS))).unwrap_or(0);
        evaluation.effect = Some(MeasureEffect::judge(k, 0, 0));
        if k == 0 {
            return Ok(evaluation);
        }
        let (Some(before_from), Some(before_to), Some(after_from), Some(after_to)) =
            (month.minus(k), month.minus(1), month.plus(1), month.plus(k))
        else {
            return Ok(evaluation);
        };
        let filter = MetricFilter {
            category: Some(spec.category),
            code: spec.code.clone(),
            ..MetricFilter::default()
        };
        let scope = Scope {
            plan: &plan.draft.scope,
            filter: &filter,
        };
        let months = self
            .month_figures(&Metric::ItemsOpened, &scope, before_from, after_to)
            .await?;
        let opened = |from: Month, to: Month| -> i64 {
            months
                .range(from..=to)
                .map(|(_, figures)| figures.opened)
                .sum()
        };
        let (before, after) = (opened(before_from, before_to), opened(after_from, after_to));
        evaluation.before = MeasureWindow {
            months: MonthSpan::new(before_from, before_to).ok(),
            items_opened: before,
        };
        evaluation.after = MeasureWindow {
            months: MonthSpan::new(after_from, after_to).ok(),
            items_opened: after,
        };
        evaluation.effect = Some(MeasureEffect::judge(k, before, after));
        Ok(evaluation)
    }
}

/// The phase asked for, or the one that makes sense on `as_of`.
fn pick_phase(
    plan: &PlanState,
    phase: Option<u32>,
    as_of: NaiveDate,
) -> Result<&Phase, ReportError> {
    let phases = &plan.draft.phases;
    if let Some(number) = phase {
        return plan.phase(number).ok_or_else(|| {
            InvalidInput::new("phase", format!("the plan has no phase {number}")).into()
        });
    }
    let running = phases
        .iter()
        .find(|p| progress(&p.months, as_of) == PhaseProgress::Running);
    let ended = phases
        .iter()
        .rev()
        .find(|p| progress(&p.months, as_of) == PhaseProgress::Ended);
    running
        .or(ended)
        .or(phases.first())
        .ok_or_else(|| InvalidInput::new("phase", "the plan has no phases yet").into())
}

fn progress(months: &MonthSpan, as_of: NaiveDate) -> PhaseProgress {
    if as_of < months.from.first_day() {
        PhaseProgress::NotStarted
    } else if as_of >= months.end() {
        PhaseProgress::Ended
    } else {
        PhaseProgress::Running
    }
}

/// A metric over the months of `span` (docs/plans.md defines each).
fn window_value(
    metric: &Metric,
    months: &BTreeMap<Month, MonthFigures>,
    span: MonthSpan,
    volumes: &VolumeFigures,
    scope: &Scope<'_>,
) -> Option<Decimal> {
    let window: Vec<&MonthFigures> = months.range(span.from..=span.to).map(|(_, f)| f).collect();
    let sum = |f: fn(&MonthFigures) -> i64| -> i64 { window.iter().map(|m| f(m)).sum() };
    let per_month = |total: Decimal| Some(two_places(total / Decimal::from(span.months())));
    let ratio = |numerator: i64, denominator: i64, scale: i64| {
        (denominator > 0).then(|| {
            two_places(Decimal::from(numerator) * Decimal::from(scale) / Decimal::from(denominator))
        })
    };
    match metric {
        Metric::ItemsOpened => per_month(Decimal::from(sum(|m| m.opened))),
        Metric::Escalations => per_month(Decimal::from(sum(|m| m.escalations))),
        Metric::WrittenOffAmount { currency } => {
            let total = minor_to_decimal(sum(|m| m.written_off_minor), currency);
            Some((total / Decimal::from(span.months())).round_dp(currency.minor_units()))
        }
        Metric::CategoryShare => ratio(sum(|m| m.opened_in_category), sum(|m| m.opened), 100),
        Metric::ReopenRate => ratio(sum(|m| m.reopened), sum(|m| m.resolved), 100),
        Metric::SuspenseRate => {
            let transactions: i64 = volumes
                .per_branch(span.from.first_day(), span.end(), &scope.volume_branches())
                .values()
                .sum();
            ratio(sum(|m| m.opened), transactions, 10_000)
        }
        Metric::MedianHoursToResolve | Metric::P90HoursToResolve => {
            let mut histogram: Vec<(i32, i64)> = window
                .iter()
                .flat_map(|m| m.histogram.iter().copied())
                .collect();
            histogram.sort_unstable();
            let (median, p90) = resolution_time::median_and_p90(&histogram);
            let hours = if *metric == Metric::MedianHoursToResolve {
                median
            } else {
                p90
            };
            hours.map(Decimal::from)
        }
        Metric::OpenLongerThan { .. } => None,
    }
}

/// Rounded half away from zero to two places, and written with both.
fn two_places(value: Decimal) -> Decimal {
    let mut value =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    value.rescale(2);
    value
}

fn minor_to_decimal(minor: i64, currency: &Currency) -> Decimal {
    Decimal::new(minor, currency.minor_units())
}
