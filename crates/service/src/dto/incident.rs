//! Incidents on the wire: opening one, linking and unlinking items, resolving; the incident
//! with its figures, the list, the suggestions and the share of a period's items that
//! belong to an incident.

use crate::openapi::wire;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use suspense::IncidentReport;
use suspense_domain::incident::{IncidentAction, IncidentReference, IncidentState, OpenIncident};
use suspense_domain::{
    Channel, CounterpartyCode, InvalidInput, ItemId, Note, RootCauseCategory, RootCauseCode, UserId,
};
use suspense_read_models::{IncidentCandidate, IncidentShare};

use super::date;
use super::query::required;

fn note(field: &str, value: &str) -> Result<Note, InvalidInput> {
    Note::parse(value).map_err(|e| e.for_field(field))
}

/// `POST /v1/incidents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = OpenIncident)]
#[serde(deny_unknown_fields)]
pub struct OpenIncidentBody {
    #[schema(value_type = wire::IncidentReference)]
    pub reference: String,
    #[schema(value_type = wire::PlanName)]
    pub title: String,
    #[schema(value_type = wire::RootCauseCategory)]
    pub category: String,
    #[schema(value_type = wire::RootCauseCode)]
    pub code: String,
    #[schema(value_type = wire::Date)]
    pub window_from: String,
    #[schema(value_type = wire::Date)]
    pub window_to: String,
    #[serde(default)]
    #[schema(value_type = Vec<wire::Channel>)]
    pub channels: Vec<String>,
    #[schema(value_type = Option<wire::CounterpartyCode>)]
    pub counterparty: Option<String>,
    #[schema(value_type = wire::UserId)]
    pub owner: String,
}

impl OpenIncidentBody {
    pub fn parse(self) -> Result<(IncidentReference, IncidentAction), InvalidInput> {
        let reference = IncidentReference::parse(&self.reference)?;
        let incident = OpenIncident {
            reference: reference.clone(),
            title: note("title", &self.title)?,
            category: RootCauseCategory::parse(&self.category)?,
            code: RootCauseCode::parse(&self.code)?,
            window_from: date("window_from", &self.window_from)?,
            window_to: date("window_to", &self.window_to)?,
            channels: self
                .channels
                .iter()
                .enumerate()
                .map(|(i, c)| Channel::parse(c).map_err(|e| e.for_field(format!("channels[{i}]"))))
                .collect::<Result<_, _>>()?,
            counterparty: self
                .counterparty
                .as_deref()
                .map(CounterpartyCode::parse)
                .transpose()?,
            owner: UserId::parse(&self.owner).map_err(|e| e.for_field("owner"))?,
        };
        incident.check()?;
        Ok((reference, IncidentAction::Open(incident)))
    }
}

/// `POST /v1/incidents/{reference}/links`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LinkItems)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    #[schema(value_type = Vec<wire::Uuid>, min_items = 1, max_items = 1000)]
    pub items: Vec<String>,
    #[schema(value_type = wire::Text)]
    pub reason: String,
}

impl LinkBody {
    pub fn parse(self) -> Result<IncidentAction, InvalidInput> {
        Ok(IncidentAction::Link {
            items: self
                .items
                .iter()
                .enumerate()
                .map(|(i, id)| ItemId::parse(id).map_err(|e| e.for_field(format!("items[{i}]"))))
                .collect::<Result<_, _>>()?,
            reason: note("reason", &self.reason)?,
        })
    }
}

/// `POST /v1/incidents/{reference}/unlink`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = UnlinkItem)]
#[serde(deny_unknown_fields)]
pub struct UnlinkBody {
    #[schema(value_type = wire::Uuid)]
    pub item_id: String,
    #[schema(value_type = wire::Text)]
    pub reason: String,
}

impl UnlinkBody {
    pub fn parse(self) -> Result<IncidentAction, InvalidInput> {
        Ok(IncidentAction::Unlink {
            item: ItemId::parse(&self.item_id)?,
            reason: note("reason", &self.reason)?,
        })
    }
}

/// `POST /v1/incidents/{reference}/resolve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ResolveIncident)]
#[serde(deny_unknown_fields)]
pub struct ResolveIncidentBody {
    #[schema(value_type = wire::Text)]
    pub note: String,
}

impl ResolveIncidentBody {
    pub fn parse(self) -> Result<IncidentAction, InvalidInput> {
        Ok(IncidentAction::Resolve {
            note: note("note", &self.note)?,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentView {
    pub reference: String,
    pub title: String,
    pub category: &'static str,
    pub code: String,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub channels: Vec<&'static str>,
    pub counterparty: Option<String>,
    pub owner: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    /// `open` or `resolved`.
    pub status: &'static str,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub linked_items: Vec<String>,
    /// The linked items' figures (within the caller's branches), in `GET …/{reference}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figures: Option<IncidentFiguresView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentFiguresView {
    pub items: i64,
    pub open_items: i64,
    pub resolved_items: i64,
    pub median_hours_to_clear: Option<i64>,
    pub amounts: Vec<IncidentAmountView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentAmountView {
    pub currency: String,
    pub items: i64,
    pub amount: String,
    pub outstanding: String,
}

impl IncidentView {
    pub fn new(state: &IncidentState) -> Self {
        let incident = &state.incident;
        Self {
            reference: incident.reference.to_string(),
            title: incident.title.to_string(),
            category: incident.category.as_str(),
            code: incident.code.to_string(),
            window_from: incident.window_from,
            window_to: incident.window_to,
            channels: incident.channels.iter().map(|c| c.as_str()).collect(),
            counterparty: incident.counterparty.as_ref().map(ToString::to_string),
            owner: incident.owner.to_string(),
            opened_at: state.opened_at,
            opened_by: state.opened_by.to_string(),
            status: if state.resolved.is_some() {
                "resolved"
            } else {
                "open"
            },
            resolved_at: state.resolved.as_ref().map(|(at, _)| *at),
            resolution_note: state.resolved.as_ref().map(|(_, note)| note.to_string()),
            linked_items: state.linked.iter().map(ToString::to_string).collect(),
            figures: None,
        }
    }
}

impl From<&IncidentReport> for IncidentView {
    fn from(report: &IncidentReport) -> Self {
        let figures = &report.figures;
        Self {
            figures: Some(IncidentFiguresView {
                items: figures.items,
                open_items: figures.open_items,
                resolved_items: figures.resolved_items,
                median_hours_to_clear: figures.median_hours_to_clear,
                amounts: figures
                    .amounts
                    .iter()
                    .map(
                        |(currency, items, amount, outstanding)| IncidentAmountView {
                            currency: currency.clone(),
                            items: *items,
                            amount: amount.clone(),
                            outstanding: outstanding.clone(),
                        },
                    )
                    .collect(),
            }),
            ..Self::new(&report.state)
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CandidateView {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub booked_on: NaiveDate,
    pub branch: String,
    pub channel: String,
    pub amount: String,
    pub currency: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub score: u32,
    pub matched: Vec<&'static str>,
}

impl From<IncidentCandidate> for CandidateView {
    fn from(c: IncidentCandidate) -> Self {
        Self {
            item_id: c.item_id,
            source_system: c.source_system,
            reference: c.reference,
            booked_on: c.booked_on,
            branch: c.branch,
            channel: c.channel,
            amount: c.amount,
            currency: c.currency,
            category: c.category,
            code: c.code,
            score: c.score,
            matched: c.matched,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentShareView {
    pub category: String,
    pub items: i64,
    pub in_incidents: i64,
    pub share_percent: String,
}

impl From<IncidentShare> for IncidentShareView {
    fn from(s: IncidentShare) -> Self {
        Self {
            category: s.category,
            items: s.items,
            in_incidents: s.in_incidents,
            share_percent: s.share,
        }
    }
}

/// `GET /v1/incidents/{reference}/suggestions?limit=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionParams {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// The most suggestions one request lists.
pub const MAX_SUGGESTIONS: usize = 1_000;

impl SuggestionParams {
    pub fn parse(self) -> Result<usize, InvalidInput> {
        match self.limit.as_deref() {
            None => Ok(100),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_SUGGESTIONS).contains(n))
                .ok_or_else(|| {
                    InvalidInput::new("limit", format!("must be 1 to {MAX_SUGGESTIONS}"))
                }),
        }
    }
}

/// `GET /v1/reports/incident-share?from=&to=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    #[param(value_type = wire::Date, required = true)]
    pub from: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub to: Option<String>,
}

impl PeriodParams {
    pub fn parse(self) -> Result<(NaiveDate, NaiveDate), InvalidInput> {
        let from = date("from", required("from", self.from.as_deref())?)?;
        let to = date("to", required("to", self.to.as_deref())?)?;
        if to < from {
            return Err(InvalidInput::in_context("to", "must not be before from"));
        }
        Ok((from, to))
    }
}
