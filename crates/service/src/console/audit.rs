//! The auditors' page: the log's head and the hash chain's, a verification of the whole
//! chain on request, the export, and the root causes of a month as they were known at a past
//! time (the read models rebuilt from the events recorded by then, as the API's
//! `as_known_at` does).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;
use suspense_domain::InvalidInput;
use suspense_read_models::{
    CauseDimension, CauseSummaryQuery, PeriodKind, Replica, RootCauseQuery,
};

use super::page::{error_page, field_error, respond, Ctx};
use super::session::Viewer;
use crate::auth::Role;
use crate::error::ApiError;
use crate::routes::audit::export_after;
use crate::state::AppState;

/// A verification of the chain, as the page shows it.
pub struct Verification {
    pub verified_up_to: u64,
    pub head_link: String,
    pub problem: Option<String>,
    pub unchained: u64,
}

/// One cause category of a month as known at a past time.
pub struct KnownLine {
    pub category: String,
    pub opened: i64,
    pub share: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub ctx: Ctx,
    pub log_head: u64,
    pub chain_position: u64,
    pub chain_link: String,
    pub verification: Option<Verification>,
    pub head_office: bool,
    pub at: String,
    pub month: String,
    pub known: Option<Vec<KnownLine>>,
    pub error: Option<ApiError>,
}

impl AuditPage {
    pub fn field_error(&self, name: &str) -> Option<&str> {
        field_error(self.error.as_ref(), name)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    verify: Option<String>,
    /// A local time, `2026-03-31T18:00` (the bank's time zone).
    at: Option<String>,
    /// `2026-03`.
    month: Option<String>,
}

/// `GET /console/audit`.
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> Response {
    let ctx = Ctx::for_viewer(&viewer, "/console/audit");
    if let Err(err) = viewer.caller.require(&[Role::Auditor]) {
        return error_page(ctx, &err);
    }
    let log = state.ledger.log();
    let heads = async {
        let head = log.head().await?;
        let chain = log.chain_head().await?;
        let verification = if query.verify.as_deref() == Some("1") {
            let verdict = log.verify_chain().await?;
            Some(Verification {
                verified_up_to: verdict.verified_up_to,
                head_link: verdict.head_link.unwrap_or_default(),
                problem: verdict
                    .first_problem
                    .map(|(position, kind)| format!("{position}: {kind}")),
                unchained: verdict.unchained,
            })
        } else {
            None
        };
        Ok::<_, ApiError>((head, chain, verification))
    }
    .await;
    let (log_head, chain, verification) = match heads {
        Ok(heads) => heads,
        Err(err) => return error_page(ctx, &err),
    };
    let at = query.at.clone().unwrap_or_default();
    let month = query.month.clone().unwrap_or_default();
    let (known, error) = if at.trim().is_empty() {
        (None, None)
    } else {
        match known_at(&state, &viewer, &at, &month, &ctx).await {
            Ok(lines) => (Some(lines), None),
            Err(err) => (None, Some(ctx.localised(err))),
        }
    };
    let status = match &error {
        Some(err) => err.status,
        None => axum::http::StatusCode::OK,
    };
    let (chain_position, chain_link) = chain.unwrap_or((0, String::new()));
    let page = AuditPage {
        head_office: viewer.caller.0.is_head_office(),
        log_head,
        chain_position,
        chain_link,
        verification,
        at,
        month,
        known,
        error,
        ctx,
    };
    respond(status, &page)
}

/// The root causes of `month` by category as the events recorded by `at` (the bank's local
/// time) tell them.
async fn known_at(
    state: &AppState,
    viewer: &Viewer,
    at: &str,
    month: &str,
    ctx: &Ctx,
) -> Result<Vec<KnownLine>, ApiError> {
    let local = NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| InvalidInput::new("at", "must be a date and time such as 2026-03-31T18:00"))?;
    let at = state
        .settings
        .calendar
        .time_zone()
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| InvalidInput::new("at", "is not a time in the bank's time zone"))?
        .with_timezone(&chrono::Utc);
    let start = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| InvalidInput::new("month", "must be a month such as 2026-03"))?;
    let end = start
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| InvalidInput::new("month", "is out of range"))?;
    let query = CauseSummaryQuery::new(
        RootCauseQuery::new(PeriodKind::Month, start, end, None)?,
        vec![CauseDimension::Category],
    )?;
    let settings = *state.ledger.projector().settings();
    let replica = Replica::as_known_at(state.ledger.log(), settings, at).await?;
    let scope = state.ledger.branches_of(&viewer.caller.actor());
    let summary = replica
        .reports()
        .within(scope)
        .cause_summary(&query)
        .await?;
    Ok(summary
        .periods
        .first()
        .map(|period| {
            period
                .rows
                .iter()
                .map(|row| KnownLine {
                    category: ctx.label(row.key.first().map_or("", String::as_str)),
                    opened: row.opened,
                    share: row.share.clone(),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// `GET /console/audit/export`: the whole log as JSON Lines (auditors at head office).
pub async fn export(State(state): State<AppState>, viewer: Viewer) -> Response {
    match export_after(&state, &viewer.caller, 0) {
        Ok(response) => response,
        Err(err) => error_page(Ctx::for_viewer(&viewer, "/console/audit"), &err),
    }
}
