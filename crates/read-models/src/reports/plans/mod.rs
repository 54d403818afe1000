//! A remediation plan's evaluation (定期對整改工作進行評估): each target's baseline, actual
//! and target figures with a verdict and the monthly trend inside the phase, and whether each
//! completed measure worked. Every figure comes from the read models (see `figures.rs`);
//! the verdicts' rules are the domain's (`Verdict::judge`, `MeasureEffect::judge`).

mod figures;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use suspense_domain::plan::{
    Measure, MeasureEffect, MeasureStatus, Metric, MetricFilter, Month, MonthSpan, Phase,
    PhaseProgress, PlanEntryId, RecordedEvaluation, Target, TargetFigures, Verdict,
};
use suspense_domain::{Currency, InvalidInput, PlanState, RootCauseCategory, RootCauseCode};

use self::figures::{narrowed, ByCategory, MonthFigures, Scope, Source, SourceCut};
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
        let targets: Vec<&Target> = plan
            .targets
            .iter()
            .filter(|t| t.phase.is_none_or(|p| p == phase.number))
            .collect();
        let windows: Vec<MeasureWindows> = plan
            .measures
            .iter()
            .map(|m| measure_windows(m, as_of))
            .collect();
        // Every source each target and measure reads, once per cut, over every month any of
        // them needs, all at once.
        let last = covered.map_or(plan.draft.baseline.to, |c| c.to);
        let (from, to) = windows.iter().filter_map(|w| w.spans).fold(
            (plan.draft.baseline.from, last),
            |(from, to), (before, after)| (from.min(before.from), to.max(after.to)),
        );
        let mut cuts: Vec<SourceCut> = targets
            .iter()
            .filter_map(|t| Some(SourceCut::new(Source::of(&t.metric)?, &t.filter)))
            .chain(
                plan.measures
                    .iter()
                    .map(|m| SourceCut::new(Source::Counters, &measure_filter(m))),
            )
            .collect();
        cuts.sort_by_key(|c| format!("{c:?}"));
        cuts.dedup();
        let scope = &plan.draft.scope;
        let read = futures::future::try_join_all(cuts.iter().map(|cut| async move {
            Ok::<_, ReportError>((cut.clone(), self.read_source(cut, scope, from, to).await?))
        }));
        let (read, volumes) = futures::future::try_join(read, self.volume_figures()).await?;
        let sources: HashMap<SourceCut, ByCategory> = read.into_iter().collect();
        let inputs = Inputs {
            progress,
            covered,
            stock_day,
            volumes: &volumes,
            sources: &sources,
        };
        let targets = futures::future::try_join_all(
            targets
                .into_iter()
                .map(|target| self.evaluate_target(plan, target, &inputs)),
        )
        .await?;
        let measures = plan
            .measures
            .iter()
            .zip(windows)
            .map(|(m, w)| evaluate_measure(m, w, &sources))
            .collect();
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
        inputs: &Inputs<'_>,
    ) -> Result<TargetEvaluation, ReportError> {
        let Inputs {
            progress,
            covered,
            stock_day,
            volumes,
            sources,
        } = *inputs;
        let scope = Scope {
            plan: &plan.draft.scope,
            filter: &target.filter,
        };
        let baseline = plan.draft.baseline;
        let metric = &target.metric;
        let (baseline_value, actual, trend) = if let Metric::OpenLongerThan { days } = metric {
            // The stock at the baseline's end, at each month's end of the phase so far, and
            // on `as_of` while it runs: each an aging as of that date, all at once.
            let at_baseline_end = baseline.end().pred_opt().unwrap_or(baseline.end());
            let month_ends: Vec<(Month, NaiveDate)> = covered
                .iter()
                .flat_map(|c| c.each())
                .map(|month| {
                    let end = month
                        .plus(1)
                        .and_then(|m| m.first_day().pred_opt())
                        .unwrap_or(stock_day)
                        .min(stock_day);
                    (month, end)
                })
                .collect();
            let running = covered.is_some() && progress == PhaseProgress::Running;
            let days_asked = std::iter::once(at_baseline_end)
                .chain(month_ends.iter().map(|(_, end)| *end))
                .chain(running.then_some(stock_day));
            let counts = futures::future::try_join_all(
                days_asked.map(|day| self.open_longer_than(*days, &scope, day)),
            )
            .await?;
            let baseline_value = counts.first().copied().unwrap_or(0);
            let trend: Vec<(Month, Option<Decimal>)> = month_ends
                .iter()
                .zip(counts.iter().skip(1))
                .map(|((month, _), count)| (*month, Some(Decimal::from(*count))))
                .collect();
            let actual = match (covered, running) {
                (None, _) => None,
                (Some(_), true) => counts.last().map(|c| Decimal::from(*c)),
                (Some(_), false) => trend.last().and_then(|(_, v)| *v),
            };
            (Some(Decimal::from(baseline_value)), actual, trend)
        } else {
            let category = target.filter.category.map(|c| c.as_str());
            let months = Source::of(metric)
                .and_then(|source| sources.get(&SourceCut::new(source, &target.filter)))
                .map(|figures| {
                    if *metric == Metric::CategoryShare {
                        narrowed(figures, None, category)
                    } else {
                        narrowed(figures, category, None)
                    }
                })
                .unwrap_or_default();
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
}

/// What every target of one evaluation is computed from.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    progress: PhaseProgress,
    covered: Option<MonthSpan>,
    /// The stock's date: the phase's last day, or `as_of` while it runs.
    stock_day: NaiveDate,
    volumes: &'a VolumeFigures,
    sources: &'a HashMap<SourceCut, ByCategory>,
}

/// A measure's windows of whole months before and after the month it was completed in.
struct MeasureWindows {
    /// How many whole months each window has (0 before one has passed since completion).
    months: u32,
    spans: Option<(MonthSpan, MonthSpan)>,
}

fn measure_windows(measure: &Measure, as_of: NaiveDate) -> MeasureWindows {
    let none = MeasureWindows {
        months: 0,
        spans: None,
    };
    let (MeasureStatus::Done, Some(done)) = (measure.status, measure.completed_on) else {
        return none;
    };
    // Whole months after the completion month that have ended by `as_of` (a month is whole
    // on its last day, as for a running phase).
    let month = Month::of(done);
    let last_whole = as_of
        .succ_opt()
        .and_then(|next| Month::of(next).minus(1))
        .unwrap_or(month);
    let elapsed = month.months_until(last_whole);
    let k = u32::try_from(elapsed.clamp(0, i64::from(MEASURE_WINDOW_MONTHS))).unwrap_or(0);
    if k == 0 {
        return none;
    }
    let spans = (|| {
        let before = MonthSpan::new(month.minus(k)?, month.minus(1)?).ok()?;
        let after = MonthSpan::new(month.plus(1)?, month.plus(k)?).ok()?;
        Some((before, after))
    })();
    MeasureWindows { months: k, spans }
}

/// The items a measure's cause covers: its category, and its code if it names one.
fn measure_filter(measure: &Measure) -> MetricFilter {
    MetricFilter {
        category: Some(measure.spec.category),
        code: measure.spec.code.clone(),
        ..MetricFilter::default()
    }
}

fn evaluate_measure(
    measure: &Measure,
    windows: MeasureWindows,
    sources: &HashMap<SourceCut, ByCategory>,
) -> MeasureEvaluation {
    let spec = &measure.spec;
    let filter = measure_filter(measure);
    let months = sources
        .get(&SourceCut::new(Source::Counters, &filter))
        .map(|f| narrowed(f, Some(spec.category.as_str()), None))
        .unwrap_or_default();
    let window = |span: Option<MonthSpan>| MeasureWindow {
        months: span,
        items_opened: span.map_or(0, |s| {
            months.range(s.from..=s.to).map(|(_, f)| f.opened).sum()
        }),
    };
    let before = window(windows.spans.map(|(b, _)| b));
    let after = window(windows.spans.map(|(_, a)| a));
    let effect = (measure.status == MeasureStatus::Done)
        .then(|| MeasureEffect::judge(windows.months, before.items_opened, after.items_opened));
    MeasureEvaluation {
        measure: spec.id.clone(),
        title: spec.title.to_string(),
        category: spec.category,
        code: spec.code.clone(),
        status: measure.status,
        completed_on: measure.completed_on,
        before,
        after,
        effect,
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
            InvalidInput::in_context("phase", format!("the plan has no phase {number}")).into()
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
        .ok_or_else(|| InvalidInput::in_context("phase", "the plan has no phases yet").into())
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
