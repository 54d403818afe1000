//! Remediation plans on the wire, outbound: a plan, the plan list, its history and its
//! evaluation, built from the library's values.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use suspense::store::RecordedPlanEvent;
use suspense::LoadedPlan;
use suspense_domain::plan::{
    Measure, Metric, MetricFilter, MonthSpan, Phase, PhaseProgress, RecordedEvaluation, Target,
    TargetValue,
};
use suspense_read_models::{MeasureEvaluation, MeasureWindow, PlanEvaluation, TargetEvaluation};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpanView {
    pub from: String,
    pub to: String,
}

impl From<MonthSpan> for SpanView {
    fn from(span: MonthSpan) -> Self {
        Self {
            from: span.from.to_string(),
            to: span.to.to_string(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhaseView {
    pub number: u32,
    pub name: String,
    pub from: String,
    pub to: String,
}

impl From<&Phase> for PhaseView {
    fn from(phase: &Phase) -> Self {
        Self {
            number: phase.number,
            name: phase.name.to_string(),
            from: phase.months.from.to_string(),
            to: phase.months.to.to_string(),
        }
    }
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct FilterView {
    pub branch: Option<String>,
    pub category: Option<String>,
    pub code: Option<String>,
    pub channel: Option<String>,
}

impl From<&MetricFilter> for FilterView {
    fn from(filter: &MetricFilter) -> Self {
        Self {
            branch: filter.branch.as_ref().map(ToString::to_string),
            category: filter.category.map(|c| c.as_str().to_owned()),
            code: filter.code.as_ref().map(ToString::to_string),
            channel: filter.channel.map(|c| c.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetView {
    pub id: String,
    pub metric: &'static str,
    pub days: Option<u32>,
    pub currency: Option<String>,
    #[serde(flatten)]
    pub filter: FilterView,
    pub comparison: &'static str,
    /// An absolute figure, or …
    pub value: Option<String>,
    /// … a change in percent against the baseline.
    pub change_from_baseline: Option<String>,
    pub phase: Option<u32>,
}

impl From<&Target> for TargetView {
    fn from(target: &Target) -> Self {
        let (days, currency) = match &target.metric {
            Metric::OpenLongerThan { days } => (Some(*days), None),
            Metric::WrittenOffAmount { currency } => (None, Some(currency.code().to_owned())),
            _ => (None, None),
        };
        let (value, change_from_baseline) = match target.value {
            TargetValue::Absolute(v) => (Some(v.to_string()), None),
            TargetValue::ChangeFromBaseline(c) => (None, Some(c.to_string())),
        };
        Self {
            id: target.id.to_string(),
            metric: target.metric.name(),
            days,
            currency,
            filter: (&target.filter).into(),
            comparison: target.comparison.as_str(),
            value,
            change_from_baseline,
            phase: target.phase,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub id: String,
    pub title: String,
    pub category: &'static str,
    pub code: Option<String>,
    pub owner_team: String,
    pub owner: String,
    pub due: NaiveDate,
    pub description: Option<String>,
    pub status: &'static str,
    pub completed_on: Option<NaiveDate>,
    pub notes: Vec<String>,
}

impl From<&Measure> for MeasureView {
    fn from(measure: &Measure) -> Self {
        let spec = &measure.spec;
        Self {
            id: spec.id.to_string(),
            title: spec.title.to_string(),
            category: spec.category.as_str(),
            code: spec.code.as_ref().map(ToString::to_string),
            owner_team: spec.owner_team.to_string(),
            owner: spec.owner.to_string(),
            due: spec.due,
            description: spec.description.as_ref().map(ToString::to_string),
            status: measure.status.as_str(),
            completed_on: measure.completed_on,
            notes: measure.notes.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    pub target: String,
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedEvaluationView {
    pub phase: u32,
    pub as_of: NaiveDate,
    pub log_position: u64,
    pub chain_head: Option<String>,
    pub targets: Vec<RecordedFiguresView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedFiguresView {
    pub target: String,
    pub metric: String,
    pub baseline: Option<String>,
    pub actual: Option<String>,
    pub target_value: Option<String>,
    pub verdict: &'static str,
}

fn decimal(value: Option<Decimal>) -> Option<String> {
    value.map(|v| v.to_string())
}

impl From<&RecordedEvaluation> for RecordedEvaluationView {
    fn from(e: &RecordedEvaluation) -> Self {
        Self {
            phase: e.phase,
            as_of: e.as_of,
            log_position: e.log_position,
            chain_head: e.chain_head.clone(),
            targets: e
                .targets
                .iter()
                .map(|t| RecordedFiguresView {
                    target: t.target.to_string(),
                    metric: t.metric.clone(),
                    baseline: decimal(t.baseline),
                    actual: decimal(t.actual),
                    target_value: decimal(t.target_value),
                    verdict: t.verdict.as_str(),
                })
                .collect(),
        }
    }
}

/// `GET /v1/plans/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: String,
    pub version: u64,
    pub reference: String,
    pub name: String,
    pub owner: String,
    pub status: &'static str,
    pub drafted_by: String,
    pub drafted_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub scope: ScopeView,
    pub baseline: SpanView,
    pub phases: Vec<PhaseView>,
    pub targets: Vec<TargetView>,
    pub revisions: Vec<RevisionView>,
    pub measures: Vec<MeasureView>,
    pub evaluations: Vec<RecordedEvaluationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScopeView {
    pub branches: Vec<String>,
    pub categories: Vec<&'static str>,
}

impl From<&LoadedPlan> for PlanView {
    fn from(plan: &LoadedPlan) -> Self {
        let state = &plan.state;
        let draft = &state.draft;
        Self {
            id: plan.plan_id.to_string(),
            version: plan.version,
            reference: draft.reference.to_string(),
            name: draft.name.to_string(),
            owner: draft.owner.to_string(),
            status: state.status.as_str(),
            drafted_by: state.drafted_by.to_string(),
            drafted_at: state.drafted_at,
            approved_by: state.approved_by.as_ref().map(ToString::to_string),
            scope: ScopeView {
                branches: draft
                    .scope
                    .branches
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                categories: draft.scope.categories.iter().map(|c| c.as_str()).collect(),
            },
            baseline: draft.baseline.into(),
            phases: draft.phases.iter().map(Into::into).collect(),
            targets: state.targets.iter().map(Into::into).collect(),
            revisions: state
                .revisions
                .iter()
                .map(|r| RevisionView {
                    target: r.target.to_string(),
                    at: r.at,
                    by: r.by.to_string(),
                    reason: r.reason.to_string(),
                })
                .collect(),
            measures: state.measures.iter().map(Into::into).collect(),
            evaluations: state
                .evaluations
                .values()
                .flatten()
                .map(Into::into)
                .collect(),
        }
    }
}

/// A line of `GET /v1/plans`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanSummaryView {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub owner: String,
    pub status: &'static str,
    pub phases: usize,
    pub targets: usize,
    pub measures: usize,
}

impl From<&LoadedPlan> for PlanSummaryView {
    fn from(plan: &LoadedPlan) -> Self {
        let state = &plan.state;
        Self {
            id: plan.plan_id.to_string(),
            reference: state.draft.reference.to_string(),
            name: state.draft.name.to_string(),
            owner: state.draft.owner.to_string(),
            status: state.status.as_str(),
            phases: state.draft.phases.len(),
            targets: state.targets.len(),
            measures: state.measures.len(),
        }
    }
}

/// An event of `GET /v1/plans/{id}/history`: the event's own fields are its documented
/// payload (docs/plans.md), with where and by whom it was recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanEventView {
    pub position: Option<u64>,
    pub sequence: u64,
    pub event_type: &'static str,
    pub recorded_at: DateTime<Utc>,
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub source: Option<String>,
    #[schema(value_type = Object)]
    pub event: Box<serde_json::value::RawValue>,
}

impl PlanEventView {
    pub fn new(recorded: RecordedPlanEvent) -> Result<Self, serde_json::Error> {
        Ok(Self {
            position: recorded.position,
            sequence: recorded.sequence,
            event_type: recorded.event.name(),
            recorded_at: recorded.recorded_at,
            actor: recorded.metadata.actor,
            request_id: recorded.metadata.request_id,
            source: recorded.metadata.source,
            event: serde_json::value::to_raw_value(&recorded.event)?,
        })
    }
}

/// `GET /v1/plans/{id}/evaluation`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub plan_id: String,
    pub phase: PhaseView,
    pub baseline: SpanView,
    pub as_of: NaiveDate,
    /// `not_started`, `running` or `ended`.
    pub progress: &'static str,
    /// The months the actual figures cover.
    pub covered: Option<SpanView>,
    pub targets: Vec<TargetEvaluationView>,
    pub measures: Vec<MeasureEvaluationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetEvaluationView {
    pub target: String,
    pub metric: String,
    #[serde(flatten)]
    pub filter: FilterView,
    pub comparison: &'static str,
    pub baseline: Option<String>,
    pub actual: Option<String>,
    pub target_value: Option<String>,
    pub verdict: &'static str,
    pub trend: Vec<TrendPointView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrendPointView {
    pub month: String,
    pub value: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureEvaluationView {
    pub measure: String,
    pub title: String,
    pub category: &'static str,
    pub code: Option<String>,
    pub status: &'static str,
    pub completed_on: Option<NaiveDate>,
    pub before: Option<MeasureWindowView>,
    pub after: Option<MeasureWindowView>,
    /// `lower`, `higher`, `unchanged`, `too_few_items`, `not_yet_measurable`; absent for a
    /// measure not completed.
    pub effect: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureWindowView {
    pub from: String,
    pub to: String,
    pub items_opened: i64,
}

fn window(w: &MeasureWindow) -> Option<MeasureWindowView> {
    w.months.map(|m| MeasureWindowView {
        from: m.from.to_string(),
        to: m.to.to_string(),
        items_opened: w.items_opened,
    })
}

pub fn progress_name(progress: PhaseProgress) -> &'static str {
    match progress {
        PhaseProgress::NotStarted => "not_started",
        PhaseProgress::Running => "running",
        PhaseProgress::Ended => "ended",
    }
}

impl EvaluationView {
    pub fn new(plan_id: String, evaluation: &PlanEvaluation) -> Self {
        Self {
            plan_id,
            phase: (&evaluation.phase).into(),
            baseline: evaluation.baseline.into(),
            as_of: evaluation.as_of,
            progress: progress_name(evaluation.progress),
            covered: evaluation.covered.map(Into::into),
            targets: evaluation.targets.iter().map(Into::into).collect(),
            measures: evaluation.measures.iter().map(Into::into).collect(),
        }
    }
}

impl From<&TargetEvaluation> for TargetEvaluationView {
    fn from(t: &TargetEvaluation) -> Self {
        let f = &t.figures;
        Self {
            target: f.target.to_string(),
            metric: f.metric.clone(),
            filter: (&t.filter).into(),
            comparison: f.comparison.as_str(),
            baseline: decimal(f.baseline),
            actual: decimal(f.actual),
            target_value: decimal(f.target_value),
            verdict: f.verdict.as_str(),
            trend: t
                .trend
                .iter()
                .map(|(month, value)| TrendPointView {
                    month: month.to_string(),
                    value: decimal(*value),
                })
                .collect(),
        }
    }
}

impl From<&MeasureEvaluation> for MeasureEvaluationView {
    fn from(m: &MeasureEvaluation) -> Self {
        Self {
            measure: m.measure.to_string(),
            title: m.title.clone(),
            category: m.category.as_str(),
            code: m.code.as_ref().map(ToString::to_string),
            status: m.status.as_str(),
            completed_on: m.completed_on,
            before: window(&m.before),
            after: window(&m.after),
            effect: m.effect.map(|e| e.as_str()),
        }
    }
}

/// The evaluation as CSV: one row per target.
pub fn evaluation_csv(plan_id: &str, evaluation: &PlanEvaluation) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "plan_id",
        "phase",
        "as_of",
        "progress",
        "target",
        "metric",
        "branch",
        "category",
        "code",
        "channel",
        "comparison",
        "baseline",
        "actual",
        "target_value",
        "verdict",
    ])?;
    for t in &evaluation.targets {
        let view = TargetEvaluationView::from(t);
        out.write_record([
            plan_id.to_owned(),
            evaluation.phase.number.to_string(),
            evaluation.as_of.to_string(),
            progress_name(evaluation.progress).to_owned(),
            view.target,
            view.metric,
            view.filter.branch.unwrap_or_default(),
            view.filter.category.unwrap_or_default(),
            view.filter.code.unwrap_or_default(),
            view.filter.channel.unwrap_or_default(),
            view.comparison.to_owned(),
            view.baseline.unwrap_or_default(),
            view.actual.unwrap_or_default(),
            view.target_value.unwrap_or_default(),
            view.verdict.to_owned(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
