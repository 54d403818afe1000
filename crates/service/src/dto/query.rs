//! Query strings. axum's `Query` deserialises each into plain text fields (`Params` below
//! answers a malformed one in the API's error shape), and `parse` turns them into domain
//! values, so every bad value is reported with its field name, as request bodies are.

use crate::openapi::wire;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use suspense_domain::{
    BranchCode, InvalidInput, ItemId, ItemStatus, RootCauseCategory, TeamId, UserId,
};
use suspense_read_models::{CauseDimension, ItemFilter, PeriodKind, RootCauseQuery};

use super::date;
use crate::error::ApiError;

/// A query string deserialised into `T`; a malformed one is a 400 in the API's error shape.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(params)| Params(params))
            .map_err(|rejection| {
                ApiError::malformed(format!("the query string: {}", rejection.body_text()))
            })
    }
}

/// `fresh=true`: bring the read models up to date before answering (read your own writes).
pub(super) fn fresh(value: Option<&str>) -> Result<bool, InvalidInput> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(InvalidInput::new(
            "fresh",
            format!("'{other}' is not one of true, false"),
        )),
    }
}

/// The highest log position there can be (positions are `BIGINT`).
pub const MAX_POSITION: u64 = i64::MAX as u64;

/// `position` as a caller names a log position (`field`): at most `MAX_POSITION`.
pub fn log_position(field: &str, position: u64) -> Result<u64, InvalidInput> {
    if position <= MAX_POSITION {
        Ok(position)
    } else {
        Err(InvalidInput::new(
            field,
            "must be a log position (a whole number up to 9223372036854775807)",
        ))
    }
}

/// The oldest age a filter asks for: a hundred years.
pub const MAX_AGE_DAYS: u64 = 36_500;

/// The largest page of the item list.
pub const MAX_PAGE: u32 = 500;

/// `GET /v1/items`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListParams {
    #[param(value_type = Option<wire::ItemStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<wire::BranchCode>)]
    pub branch: Option<String>,
    #[param(value_type = Option<wire::RootCauseCategory>)]
    pub category: Option<String>,
    #[param(value_type = Option<wire::TeamId>)]
    pub team: Option<String>,
    #[param(value_type = Option<wire::UserId>)]
    pub assignee: Option<String>,
    /// Items booked at least this many days before today (in the bank's time zone).
    #[param(value_type = Option<u32>, maximum = 36500)]
    pub min_age_days: Option<String>,
    /// The last item id of the page before.
    #[param(value_type = Option<wire::Uuid>)]
    pub after: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

impl ItemListParams {
    /// The register filter these ask for, with ages counted back from `today`.
    pub fn parse(self, today: NaiveDate) -> Result<ItemFilter, InvalidInput> {
        let limit = match self.limit.as_deref() {
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    InvalidInput::new("limit", format!("must be a number from 1 to {MAX_PAGE}"))
                })?,
            None => 50,
        };
        let booked_on_or_before = self
            .min_age_days
            .as_deref()
            .map(|text| booked_at_least_days_before(today, text))
            .transpose()?;
        Ok(ItemFilter {
            status: parsed(self.status, |s| {
                ItemStatus::parse(s).map(|s| s.as_str().to_owned())
            })?,
            branch: parsed(self.branch, |b| BranchCode::parse(b).map(|b| b.to_string()))?,
            category: parsed(self.category, |c| {
                RootCauseCategory::parse(c).map(|c| c.as_str().to_owned())
            })?,
            team: parsed(self.team, |t| TeamId::parse(t).map(|t| t.to_string()))?,
            assignee: parsed(self.assignee, |a| {
                UserId::parse(a)
                    .map(|a| a.to_string())
                    .map_err(|e| e.for_field("assignee"))
            })?,
            booked_on_or_before,
            after: parsed(self.after, |a| {
                ItemId::parse(a)
                    .map(|id| id.to_string())
                    .map_err(|e| e.for_field("after"))
            })?,
            limit,
            ..ItemFilter::default()
        })
    }
}

fn parsed(
    value: Option<String>,
    parse: impl FnOnce(&str) -> Result<String, InvalidInput>,
) -> Result<Option<String>, InvalidInput> {
    value.as_deref().map(parse).transpose()
}

/// The last booking date of an item at least `days` (the text of `min_age_days`) old on
/// `today`. The subtraction is checked: a number of days before the calendar's first day is
/// refused, never an overflow.
fn booked_at_least_days_before(today: NaiveDate, days: &str) -> Result<NaiveDate, InvalidInput> {
    let refuse = |reason: &str| InvalidInput::new("min_age_days", reason);
    let days: u64 = days
        .parse()
        .ok()
        .filter(|days| *days <= MAX_AGE_DAYS)
        .ok_or_else(|| refuse("must be a whole number of days, at most 36500"))?;
    today
        .checked_sub_days(Days::new(days))
        .ok_or_else(|| refuse("reaches back before the earliest date the calendar holds"))
}

/// `GET /v1/reports/root-causes`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RootCauseParams {
    #[param(value_type = Option<wire::PeriodKind>)]
    pub period: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub from: Option<String>,
    #[param(value_type = wire::Date, required = true)]
    pub to: Option<String>,
    #[param(value_type = Option<wire::BranchCode>)]
    pub branch: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
    /// RFC 3339: the report as it stood with the events recorded by then.
    #[param(value_type = Option<wire::Instant>)]
    pub as_known_at: Option<String>,
    /// Dimensions to sum the report over (`category,code`): the readable summary.
    #[param(value_type = Option<wire::Dimensions>)]
    pub by: Option<String>,
}

/// A parsed `RootCauseParams`.
pub struct RootCauseRequest {
    pub query: RootCauseQuery,
    /// Present when a summary cut by these dimensions is asked for.
    pub by: Option<Vec<CauseDimension>>,
    pub format: Option<ReportFormat>,
    pub fresh: bool,
    pub as_known_at: Option<DateTime<Utc>>,
}

impl RootCauseParams {
    pub fn parse(self) -> Result<RootCauseRequest, InvalidInput> {
        let period = PeriodKind::parse(self.period.as_deref().unwrap_or("month"))?;
        let from = date("from", required("from", self.from.as_deref())?)?;
        let to = date("to", required("to", self.to.as_deref())?)?;
        let branch = self.branch.as_deref().map(BranchCode::parse).transpose()?;
        let as_known_at = as_known_at(self.as_known_at.as_deref())?;
        Ok(RootCauseRequest {
            query: RootCauseQuery::new(period, from, to, branch)?,
            by: self
                .by
                .as_deref()
                .map(CauseDimension::parse_list)
                .transpose()?,
            format: ReportFormat::parse(self.format.as_deref())?,
            fresh: fresh(self.fresh.as_deref())?,
            as_known_at,
        })
    }
}

/// `as_known_at=`: an RFC 3339 time.
pub(super) fn as_known_at(value: Option<&str>) -> Result<Option<DateTime<Utc>>, InvalidInput> {
    value
        .map(|at| super::instant("as_known_at", at))
        .transpose()
}

pub(super) fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, InvalidInput> {
    value.ok_or_else(|| InvalidInput::new(field, "is required"))
}

/// How a report is written when the query string says so (`format=`); otherwise the
/// `Accept` header decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Csv,
}

impl ReportFormat {
    pub const ALL: [Self; 2] = [Self::Json, Self::Csv];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }

    pub(super) fn parse(value: Option<&str>) -> Result<Option<Self>, InvalidInput> {
        value
            .map(|value| {
                Self::ALL
                    .into_iter()
                    .find(|format| format.as_str() == value)
                    .ok_or_else(|| {
                        InvalidInput::new("format", format!("'{value}' is not one of json, csv"))
                    })
            })
            .transpose()
    }
}

/// `GET /v1/reports/aging`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgingParams {
    /// Defaults to today in the bank's time zone.
    #[param(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
}

/// A parsed `AgingParams`.
pub struct AgingRequest {
    pub as_of: NaiveDate,
    pub fresh: bool,
    pub format: Option<ReportFormat>,
}

impl AgingParams {
    /// The date to age as of (`today` unless given), whether to refresh first, and the format.
    pub fn parse(self, today: NaiveDate) -> Result<AgingRequest, InvalidInput> {
        let as_of = match self.as_of.as_deref() {
            Some(d) => date("as_of", d)?,
            None => today,
        };
        Ok(AgingRequest {
            as_of,
            fresh: fresh(self.fresh.as_deref())?,
            format: ReportFormat::parse(self.format.as_deref())?,
        })
    }
}

/// A read that takes only `fresh` (`GET /v1/reports/open-balance`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreshParams {
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
}

impl FreshParams {
    pub fn parse(self) -> Result<bool, InvalidInput> {
        fresh(self.fresh.as_deref())
    }
}

/// `GET /v1/audit/export`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Export the events after this log position (default: from the start).
    #[param(value_type = Option<u64>, maximum = 9_223_372_036_854_775_807_u64)]
    pub from_position: Option<String>,
}

impl ExportParams {
    pub fn parse(self) -> Result<u64, InvalidInput> {
        self.from_position.as_deref().map_or(Ok(0), |text| {
            // Not a whole number is refused as one out of range is: the message says what is.
            let position = text.parse::<u64>().unwrap_or(u64::MAX);
            log_position("from_position", position)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date")
    }

    #[test]
    fn an_age_too_far_back_for_the_calendar_is_refused_not_an_overflow() {
        for days in ["96486084", "18446744073709551615"] {
            let refused = booked_at_least_days_before(today(), days).expect_err(days);
            assert_eq!(refused.field, "min_age_days");
        }
        assert_eq!(
            booked_at_least_days_before(today(), "30"),
            Ok(NaiveDate::from_ymd_opt(2026, 5, 31).expect("a date"))
        );
        let refused = booked_at_least_days_before(today(), "-1").expect_err("negative");
        assert_eq!(
            refused.reason,
            "must be a whole number of days, at most 36500"
        );
        assert!(booked_at_least_days_before(today(), "36500").is_ok());
        assert!(booked_at_least_days_before(today(), "36501").is_err());
    }

    #[test]
    fn each_filter_is_parsed_into_its_domain_value_and_named_when_bad() {
        let bad = |params: ItemListParams| params.parse(today()).expect_err("refused").field;
        let with = |f: fn(&mut ItemListParams)| {
            let mut params = ItemListParams::default();
            f(&mut params);
            params
        };
        assert_eq!(bad(with(|p| p.status = Some("closed".into()))), "status");
        assert_eq!(
            bad(with(|p| p.category = Some("weather".into()))),
            "category"
        );
        assert_eq!(bad(with(|p| p.after = Some("not-an-id".into()))), "after");
        assert_eq!(bad(with(|p| p.limit = Some("0".into()))), "limit");
        assert_eq!(bad(with(|p| p.limit = Some("501".into()))), "limit");
        let filter = with(|p| {
            p.status = Some("pending_approval".into());
            p.limit = Some("500".into());
        })
        .parse(today())
        .expect("valid");
        assert_eq!(filter.status.as_deref(), Some("pending_approval"));
        assert_eq!(filter.limit, 500);
    }

    #[test]
    fn fresh_is_true_or_false() {
        assert_eq!(fresh(None), Ok(false));
        assert_eq!(fresh(Some("true")), Ok(true));
        assert_eq!(fresh(Some("false")), Ok(false));
        assert_eq!(fresh(Some("yes")).expect_err("refused").field, "fresh");
    }
}
