//! The handling team's worklist and the supervisors' approval queue: pages of the register
//! read exactly as `GET /v1/items` reads them.

use askama::Template;
use axum::extract::{OriginalUri, Query, State};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use suspense_read_models::{ItemOrder, RegisterRow};

use super::format::minor_units;
use super::page::{error_page, field_error, respond, Ctx};
use super::session::{urlencode, Viewer};
use crate::auth::Role;
use crate::dto::ItemListParams;
use crate::error::ApiError;
use crate::routes::items::register_page;
use crate::state::AppState;

/// Items per page.
const PAGE: &str = "50";

#[derive(Debug, Default, Deserialize)]
pub struct WorklistQuery {
    status: Option<String>,
    branch: Option<String>,
    team: Option<String>,
    category: Option<String>,
    /// `1`: only the items assigned to the viewer.
    mine: Option<String>,
    min_age_days: Option<String>,
    /// `risk`: the highest escalation level first; otherwise the oldest first.
    order: Option<String>,
    /// The last row of the page before: its item id, booking date and (in order of risk)
    /// escalation level.
    after: Option<String>,
    after_booked_on: Option<String>,
    after_level: Option<String>,
}

impl WorklistQuery {
    fn non_empty(value: &Option<String>) -> Option<String> {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    fn mine(&self) -> bool {
        self.mine.as_deref() == Some("1")
    }

    fn risk_first(&self) -> bool {
        self.order.as_deref() == Some("risk")
    }

    fn order(&self) -> ItemOrder {
        if self.risk_first() {
            ItemOrder::RiskFirst
        } else {
            ItemOrder::OldestFirst
        }
    }

    /// The status asked for; open items unless the form says otherwise (`all`: any).
    fn status(&self) -> String {
        Self::non_empty(&self.status).unwrap_or_else(|| "open".to_owned())
    }

    /// The register filter of the API these ask for.
    fn params(&self, user: &str) -> ItemListParams {
        let status = self.status();
        ItemListParams {
            status: (status != "all").then_some(status),
            branch: Self::non_empty(&self.branch),
            team: Self::non_empty(&self.team),
            category: Self::non_empty(&self.category),
            assignee: self.mine().then(|| user.to_owned()),
            min_age_days: Self::non_empty(&self.min_age_days),
            after: Self::non_empty(&self.after),
            limit: Some(PAGE.to_owned()),
        }
    }

    /// The booking date of the page before's last row.
    fn after_booked_on(&self) -> Result<Option<NaiveDate>, ApiError> {
        Self::non_empty(&self.after_booked_on)
            .map(|text| {
                NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                    ApiError::from(suspense_domain::InvalidInput::new(
                        "after_booked_on",
                        "must be a date such as 2026-03-02",
                    ))
                })
            })
            .transpose()
    }

    /// The escalation level of the page before's last row.
    fn after_level(&self) -> Result<Option<i32>, ApiError> {
        Self::non_empty(&self.after_level)
            .map(|text| {
                text.parse::<i32>().map_err(|_| {
                    ApiError::from(suspense_domain::InvalidInput::new(
                        "after_level",
                        "must be a whole number",
                    ))
                })
            })
            .transpose()
    }

    /// This query for the page after `last`.
    fn next_page(&self, path: &str, last: &RegisterRow) -> String {
        let mut pairs = vec![("status", self.status())];
        for (name, value) in [
            ("branch", &self.branch),
            ("team", &self.team),
            ("category", &self.category),
            ("min_age_days", &self.min_age_days),
        ] {
            if let Some(value) = Self::non_empty(value) {
                pairs.push((name, value));
            }
        }
        if self.mine() {
            pairs.push(("mine", "1".to_owned()));
        }
        if self.risk_first() {
            pairs.push(("order", "risk".to_owned()));
            pairs.push(("after_level", last.escalation_level.to_string()));
        }
        pairs.push(("after", last.item_id.clone()));
        pairs.push(("after_booked_on", last.booked_on.to_string()));
        let query: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", urlencode(&v)))
            .collect();
        format!("{path}?{}", query.join("&"))
    }
}

/// One line of the worklist.
pub struct WorkRow {
    pub id: String,
    pub reference: String,
    pub branch: String,
    pub status: String,
    pub category: String,
    pub outstanding: String,
    pub currency: String,
    pub booked_on: NaiveDate,
    pub age_days: i64,
    pub team: String,
    pub assignee: String,
    pub escalation_level: i32,
}

impl WorkRow {
    fn new(row: RegisterRow, ctx: &Ctx, today: NaiveDate) -> Self {
        Self {
            reference: format!("{} {}", row.source_system, row.reference),
            branch: row.branch,
            status: ctx.label(&row.status),
            category: ctx.label(row.category.as_deref().unwrap_or("unclassified")),
            outstanding: minor_units(row.outstanding_minor, row.minor_units.unsigned_abs()),
            currency: row.currency,
            booked_on: row.booked_on,
            age_days: (today - row.booked_on).num_days(),
            team: row.team.unwrap_or_default(),
            assignee: row.assignee.unwrap_or_default(),
            escalation_level: row.escalation_level,
            id: row.item_id,
        }
    }
}

#[derive(Template)]
#[template(path = "console/worklist.html")]
pub struct WorklistPage {
    pub ctx: Ctx,
    /// The worklist, or the approval queue.
    pub approvals: bool,
    /// The status filter's choices: code, label, chosen.
    pub statuses: Vec<(&'static str, String, bool)>,
    pub branch: String,
    pub team: String,
    pub category: String,
    pub mine: bool,
    pub min_age_days: String,
    pub risk_first: bool,
    pub rows: Vec<WorkRow>,
    pub next: Option<String>,
    pub error: Option<ApiError>,
}

impl WorklistPage {
    /// The error of the filter field `name`, if the filter was refused for it.
    pub fn field_error(&self, name: &str) -> Option<&str> {
        field_error(self.error.as_ref(), name)
    }
}

/// `GET /console/worklist`.
pub async fn worklist(
    State(state): State<AppState>,
    viewer: Viewer,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<WorklistQuery>,
) -> Response {
    list(&state, &viewer, &uri, query, false).await
}

/// `GET /console/approvals`: resolutions waiting for a supervisor.
pub async fn approvals(
    State(state): State<AppState>,
    viewer: Viewer,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let query = WorklistQuery {
        status: Some("pending_approval".to_owned()),
        ..WorklistQuery::default()
    };
    list(&state, &viewer, &uri, query, true).await
}

async fn list(
    state: &AppState,
    viewer: &Viewer,
    uri: &axum::http::Uri,
    query: WorklistQuery,
    approvals: bool,
) -> Response {
    let here = uri
        .path_and_query()
        .map_or("/console/worklist", |p| p.as_str());
    let ctx = Ctx::for_viewer(viewer, here);
    if approvals {
        if let Err(err) = viewer.caller.require(&[Role::Supervisor]) {
            return error_page(ctx, &err);
        }
    }
    let today = state.settings.calendar.local_date(Utc::now());
    let user = viewer.caller.0.user.to_string();
    let page = async {
        let after_booked_on = query.after_booked_on()?;
        let after_level = query.after_level()?;
        register_page(state, &viewer.caller, query.params(&user), |filter| {
            filter.order = query.order();
            filter.after_booked_on = after_booked_on;
            filter.after_escalation_level = after_level;
        })
        .await
    }
    .await;
    let (rows, next, error) = match page {
        Ok((rows, next)) => {
            let next = next
                .and(rows.last())
                .map(|last| query.next_page(uri.path(), last));
            (rows, next, None)
        }
        Err(err) if err.status == axum::http::StatusCode::FORBIDDEN => {
            return error_page(ctx, &err)
        }
        Err(err) => (Vec::new(), None, Some(ctx.localised(err))),
    };
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let rows = rows
        .into_iter()
        .map(|row| WorkRow::new(row, &ctx, today))
        .collect();
    let page = WorklistPage {
        approvals,
        statuses: ["open", "pending_approval", "resolved", "all"]
            .into_iter()
            .map(|code| {
                let label = if code == "all" {
                    ctx.t.all.to_owned()
                } else {
                    ctx.label(code)
                };
                (code, label, query.status() == code)
            })
            .collect(),
        branch: WorklistQuery::non_empty(&query.branch).unwrap_or_default(),
        team: WorklistQuery::non_empty(&query.team).unwrap_or_default(),
        category: WorklistQuery::non_empty(&query.category).unwrap_or_default(),
        mine: query.mine(),
        risk_first: query.risk_first(),
        min_age_days: WorklistQuery::non_empty(&query.min_age_days).unwrap_or_default(),
        next,
        rows,
        error,
        ctx,
    };
    respond(status, &page)
}
