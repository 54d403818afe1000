//! Remediation plans on the wire, inbound: the plan document (`POST /v1/plans`, and the TOML
//! file of `suspense plan create`), each plan command's body, and the evaluation's query
//! string, parsed into domain values. A bad value is named by its place in the document
//! (`targets[1].code`).

use crate::openapi::wire;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use suspense_domain::plan::{
    Comparison, DraftPlan, MeasureSpec, Metric, MetricFilter, Month, MonthSpan, Phase, PlanAction,
    PlanEntryId, PlanName, PlanReference, PlanScope, Target, TargetValue,
};
use suspense_domain::{
    BranchCode, Channel, InvalidInput, Note, RootCauseCategory, RootCauseCode, TeamId, UserId,
};

use super::{date, decimal};

/// A whole plan as written down: what it covers, its baseline and phases, and the targets
/// and measures drafted with it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    #[schema(value_type = wire::PlanReference)]
    pub reference: String,
    #[schema(value_type = wire::PlanName)]
    pub name: String,
    #[schema(value_type = wire::UserId)]
    pub owner: String,
    #[serde(default, deserialize_with = "super::object::object")]
    pub scope: ScopeBody,
    #[serde(deserialize_with = "super::object::object")]
    pub baseline: SpanBody,
    #[serde(default, deserialize_with = "super::object::list")]
    pub phases: Vec<PhaseBody>,
    #[serde(default, deserialize_with = "super::object::list")]
    pub targets: Vec<TargetBody>,
    #[serde(default, deserialize_with = "super::object::list")]
    pub measures: Vec<MeasureBody>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanScope)]
#[serde(deny_unknown_fields)]
pub struct ScopeBody {
    #[serde(default)]
    #[schema(value_type = Vec<wire::BranchCode>)]
    pub branches: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<wire::RootCauseCategory>)]
    pub categories: Vec<String>,
}

/// Whole months, `YYYY-MM` to `YYYY-MM` inclusive.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = MonthSpan)]
#[serde(deny_unknown_fields)]
pub struct SpanBody {
    #[schema(value_type = wire::Month)]
    pub from: String,
    #[schema(value_type = wire::Month)]
    pub to: String,
}

/// A phase; phases are numbered 1, 2, … in the order given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanPhase)]
#[serde(deny_unknown_fields)]
pub struct PhaseBody {
    #[schema(value_type = wire::PlanName)]
    pub name: String,
    #[schema(value_type = wire::Month)]
    pub from: String,
    #[schema(value_type = wire::Month)]
    pub to: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanTarget)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    #[schema(value_type = wire::PlanEntryId)]
    pub id: String,
    #[schema(value_type = wire::Metric)]
    pub metric: String,
    /// For `open_longer_than`.
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<u32>,
    /// For `written_off_amount`.
    #[schema(value_type = Option<wire::Currency>)]
    pub currency: Option<String>,
    #[schema(value_type = Option<wire::BranchCode>)]
    pub branch: Option<String>,
    #[schema(value_type = Option<wire::RootCauseCategory>)]
    pub category: Option<String>,
    #[schema(value_type = Option<wire::RootCauseCode>)]
    pub code: Option<String>,
    #[schema(value_type = Option<wire::Channel>)]
    pub channel: Option<String>,
    #[schema(value_type = wire::Comparison)]
    pub comparison: String,
    /// An absolute figure (a decimal in a string: `"0.50"`), or …
    #[schema(value_type = Option<wire::Figure>)]
    pub value: Option<String>,
    /// … a change in percent against the baseline (`"-30"`). Exactly one of the two.
    #[schema(value_type = Option<wire::Change>)]
    pub change_from_baseline: Option<String>,
    /// The phase it applies to; absent = every phase.
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(minimum = 1)]
    pub phase: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanMeasure)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    #[schema(value_type = wire::PlanEntryId)]
    pub id: String,
    #[schema(value_type = wire::PlanName)]
    pub title: String,
    #[schema(value_type = wire::RootCauseCategory)]
    pub category: String,
    #[schema(value_type = Option<wire::RootCauseCode>)]
    pub code: Option<String>,
    #[schema(value_type = wire::TeamId)]
    pub owner_team: String,
    #[schema(value_type = wire::UserId)]
    pub owner: String,
    #[schema(value_type = wire::Date)]
    pub due: String,
    #[schema(value_type = Option<wire::Text>)]
    pub description: Option<String>,
}

/// Prefixes a complaint's field with its place in the document.
fn at(place: &str) -> impl Fn(InvalidInput) -> InvalidInput + '_ {
    move |e| {
        let field = format!("{place}.{}", e.field);
        e.for_field(field)
    }
}

fn month(field: &str, value: &str) -> Result<Month, InvalidInput> {
    Month::parse(field, value)
}

fn span(place: &str, body: &SpanBody) -> Result<MonthSpan, InvalidInput> {
    let span = || MonthSpan::new(month("from", &body.from)?, month("to", &body.to)?);
    span().map_err(at(place))
}

fn note(field: &str, value: &str) -> Result<Note, InvalidInput> {
    Note::parse(value).map_err(|e| e.for_field(field))
}

fn optional_note(field: &str, value: Option<&str>) -> Result<Option<Note>, InvalidInput> {
    value.map(|v| note(field, v)).transpose()
}

/// Phases numbered in the order given.
pub fn phases(bodies: &[PhaseBody]) -> Result<Vec<Phase>, InvalidInput> {
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let place = format!("phases[{i}]");
            Ok(Phase {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                name: PlanName::parse(&body.name).map_err(at(&place))?,
                months: span(
                    &place,
                    &SpanBody {
                        from: body.from.clone(),
                        to: body.to.clone(),
                    },
                )?,
            })
        })
        .collect()
}

impl PlanDocument {
    /// The draft, and the commands that add its targets and measures.
    pub fn parse(&self) -> Result<(DraftPlan, Vec<PlanAction>), InvalidInput> {
        let scope = PlanScope {
            branches: self
                .scope
                .branches
                .iter()
                .map(|b| BranchCode::parse(b).map_err(at("scope")))
                .collect::<Result<_, _>>()?,
            categories: self
                .scope
                .categories
                .iter()
                .map(|c| RootCauseCategory::parse(c).map_err(at("scope")))
                .collect::<Result<_, _>>()?,
        };
        let draft = DraftPlan {
            reference: PlanReference::parse(&self.reference)?,
            name: PlanName::parse(&self.name)?,
            owner: UserId::parse(&self.owner).map_err(|e| e.for_field("owner"))?,
            scope,
            baseline: span("baseline", &self.baseline)?,
            phases: phases(&self.phases)?,
        };
        let mut then = Vec::new();
        for (i, target) in self.targets.iter().enumerate() {
            let target = target.parse().map_err(at(&format!("targets[{i}]")))?;
            then.push(PlanAction::SetTarget { target });
        }
        for (i, measure) in self.measures.iter().enumerate() {
            let measure = measure.parse().map_err(at(&format!("measures[{i}]")))?;
            then.push(PlanAction::AddMeasure { measure });
        }
        Ok((draft, then))
    }
}

impl TargetBody {
    pub fn parse(&self) -> Result<Target, InvalidInput> {
        let metric = Metric::parse(&self.metric, self.days, self.currency.as_deref())?;
        let filter = MetricFilter {
            branch: self.branch.as_deref().map(BranchCode::parse).transpose()?,
            category: self
                .category
                .as_deref()
                .map(RootCauseCategory::parse)
                .transpose()?,
            code: self.code.as_deref().map(RootCauseCode::parse).transpose()?,
            channel: self.channel.as_deref().map(Channel::parse).transpose()?,
        };
        let value = target_value(self.value.as_deref(), self.change_from_baseline.as_deref())?;
        Target::new(
            PlanEntryId::parse(&self.id)?,
            metric,
            filter,
            Comparison::parse(&self.comparison)?,
            value,
            self.phase,
        )
    }
}

fn target_value(
    value: Option<&str>,
    change_from_baseline: Option<&str>,
) -> Result<TargetValue, InvalidInput> {
    match (value, change_from_baseline) {
        (Some(v), None) => Ok(TargetValue::Absolute(decimal("value", v)?)),
        (None, Some(c)) => Ok(TargetValue::ChangeFromBaseline(decimal(
            "change_from_baseline",
            c,
        )?)),
        _ => Err(InvalidInput::in_context(
            "value",
            "give exactly one of value and change_from_baseline",
        )),
    }
}

impl MeasureBody {
    pub fn parse(&self) -> Result<MeasureSpec, InvalidInput> {
        Ok(MeasureSpec {
            id: PlanEntryId::parse(&self.id)?,
            title: PlanName::parse(&self.title).map_err(|e| e.for_field("title"))?,
            category: RootCauseCategory::parse(&self.category)?,
            code: self.code.as_deref().map(RootCauseCode::parse).transpose()?,
            owner_team: TeamId::parse(&self.owner_team).map_err(|e| e.for_field("owner_team"))?,
            owner: UserId::parse(&self.owner).map_err(|e| e.for_field("owner"))?,
            due: date("due", &self.due)?,
            description: optional_note("description", self.description.as_deref())?,
        })
    }
}

/// `POST /v1/plans/{id}/phases`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PlanPhases)]
#[serde(deny_unknown_fields)]
pub struct PhasesBody {
    #[serde(deserialize_with = "super::object::list")]
    pub phases: Vec<PhaseBody>,
}

/// `POST /v1/plans/{id}/targets/{target}/revise`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ReviseTarget)]
#[serde(deny_unknown_fields)]
pub struct ReviseTargetBody {
    #[schema(value_type = wire::Comparison)]
    pub comparison: String,
    #[schema(value_type = Option<wire::Figure>)]
    pub value: Option<String>,
    #[schema(value_type = Option<wire::Change>)]
    pub change_from_baseline: Option<String>,
    #[schema(value_type = wire::Text)]
    pub reason: String,
}

impl ReviseTargetBody {
    pub fn parse(&self, target: PlanEntryId) -> Result<PlanAction, InvalidInput> {
        Ok(PlanAction::ReviseTarget {
            target,
            comparison: Comparison::parse(&self.comparison)?,
            value: target_value(self.value.as_deref(), self.change_from_baseline.as_deref())?,
            reason: note("reason", &self.reason)?,
        })
    }
}

/// `POST /v1/plans/{id}/measures/{measure}/complete`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CompleteMeasure)]
#[serde(deny_unknown_fields)]
pub struct CompleteMeasureBody {
    /// The bank-calendar date it took effect; today when absent.
    #[schema(value_type = Option<wire::Date>)]
    pub completed_on: Option<String>,
    #[schema(value_type = wire::Text)]
    pub evidence: String,
}

impl CompleteMeasureBody {
    pub fn parse(
        &self,
        measure: PlanEntryId,
        today: NaiveDate,
    ) -> Result<PlanAction, InvalidInput> {
        Ok(PlanAction::CompleteMeasure {
            measure,
            completed_on: self
                .completed_on
                .as_deref()
                .map(|d| date("completed_on", d))
                .transpose()?
                .unwrap_or(today),
            evidence: note("evidence", &self.evidence)?,
        })
    }
}

/// `POST /v1/plans/{id}/evaluations`: sign the evaluation of a phase on a date.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = RecordEvaluation)]
#[serde(deny_unknown_fields)]
pub struct RecordEvaluationBody {
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(minimum = 1)]
    pub phase: Option<u32>,
    #[schema(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
}

impl RecordEvaluationBody {
    pub fn as_of(&self, today: NaiveDate) -> Result<NaiveDate, InvalidInput> {
        Ok(self
            .as_of
            .as_deref()
            .map(|d| date("as_of", d))
            .transpose()?
            .unwrap_or(today))
    }
}

/// `GET /v1/plans/{id}/evaluation`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationParams {
    #[param(value_type = Option<u32>, minimum = 1)]
    pub phase: Option<String>,
    #[param(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
    #[param(value_type = Option<wire::Instant>)]
    pub as_known_at: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
}

/// A parsed `EvaluationParams`.
pub struct EvaluationRequest {
    pub phase: Option<u32>,
    pub as_of: NaiveDate,
    pub as_known_at: Option<DateTime<Utc>>,
    pub fresh: bool,
    pub csv: Option<bool>,
}

impl EvaluationParams {
    /// Without `as_of`, the evaluation is on `today`, or on the day of `as_known_at` in
    /// `local_date`'s calendar.
    pub fn parse(
        self,
        today: NaiveDate,
        local_date: impl Fn(DateTime<Utc>) -> NaiveDate,
    ) -> Result<EvaluationRequest, InvalidInput> {
        let phase = self
            .phase
            .as_deref()
            .map(|p| {
                p.parse::<u32>()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| InvalidInput::new("phase", "must be a phase number from 1"))
            })
            .transpose()?;
        let as_known_at = super::query::as_known_at(self.as_known_at.as_deref())?;
        let as_of = match (self.as_of.as_deref(), as_known_at) {
            (Some(d), _) => date("as_of", d)?,
            (None, Some(at)) => local_date(at),
            (None, None) => today,
        };
        let csv = super::ReportFormat::parse(self.format.as_deref())?
            .map(|format| format == super::ReportFormat::Csv);
        Ok(EvaluationRequest {
            phase,
            as_of,
            as_known_at,
            fresh: super::query::fresh(self.fresh.as_deref())?,
            csv,
        })
    }
}
