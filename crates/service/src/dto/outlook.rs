//! Early warning on the wire: the watch list (`GET /v1/watchlist`) and the provisioning
//! report (`GET /v1/reports/provisioning`), as JSON and CSV. Each watch-list reason and each
//! regulatory action carries a sentence saying why, for people reading the list.

use crate::openapi::wire;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense_domain::policy::DueAction;
use suspense_domain::{BranchCode, Currency, InvalidInput};
use suspense_read_models::{
    ProvisionedItem, ProvisioningReport, ProvisioningTotal, WatchEntry, WatchList, WatchQuery,
    WatchReason,
};

use super::policy::action_parts;
use super::query::fresh;
use super::{date, ReportFormat};

/// `GET /v1/watchlist`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WatchParams {
    /// Defaults to today in the bank's time zone.
    #[param(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
    /// Days ahead (default 7).
    #[param(value_type = Option<u32>, maximum = 366)]
    pub horizon_days: Option<String>,
    #[param(value_type = Option<wire::BranchCode>)]
    pub branch: Option<String>,
    #[param(value_type = Option<wire::Currency>)]
    pub currency: Option<String>,
    /// Entries per currency (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
}

/// A parsed watch-list request.
pub struct WatchRequest {
    pub query: WatchQuery,
    pub fresh: bool,
    pub format: Option<ReportFormat>,
}

fn whole_number(field: &str, text: &str) -> Result<u32, InvalidInput> {
    text.parse()
        .map_err(|_| InvalidInput::new(field, format!("'{text}' is not a whole number")))
}

impl WatchParams {
    pub fn parse(self, today: NaiveDate) -> Result<WatchRequest, InvalidInput> {
        let as_of = self
            .as_of
            .as_deref()
            .map_or(Ok(today), |d| date("as_of", d))?;
        let horizon = self
            .horizon_days
            .as_deref()
            .map_or(Ok(7), |n| whole_number("horizon_days", n))?;
        let limit = self
            .limit
            .as_deref()
            .map_or(Ok(50), |n| whole_number("limit", n))?;
        let mut query = WatchQuery::new(as_of, horizon, limit)?;
        query.branch = self.branch.as_deref().map(BranchCode::parse).transpose()?;
        query.currency = self.currency.as_deref().map(Currency::parse).transpose()?;
        Ok(WatchRequest {
            query,
            fresh: fresh(self.fresh.as_deref())?,
            format: ReportFormat::parse(self.format.as_deref())?,
        })
    }
}

/// `GET /v1/reports/provisioning`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvisioningParams {
    /// Defaults to today in the bank's time zone.
    #[param(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
    #[param(value_type = Option<bool>)]
    pub fresh: Option<String>,
    #[param(value_type = Option<wire::ReportFormat>)]
    pub format: Option<String>,
}

impl ProvisioningParams {
    /// The date, whether to refresh first, and the format asked for.
    pub fn parse(
        self,
        today: NaiveDate,
    ) -> Result<(NaiveDate, bool, Option<ReportFormat>), InvalidInput> {
        let as_of = self
            .as_of
            .as_deref()
            .map_or(Ok(today), |d| date("as_of", d))?;
        Ok((
            as_of,
            fresh(self.fresh.as_deref())?,
            ReportFormat::parse(self.format.as_deref())?,
        ))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchListView {
    pub as_of: NaiveDate,
    pub horizon_days: u32,
    pub policy_version: Option<u32>,
    /// The months the usual times to resolve are taken over (`2025-08`, `2026-07`).
    pub usual_time_window: [String; 2],
    pub currencies: Vec<WatchGroupView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchGroupView {
    pub currency: &'static str,
    /// Items of the currency on the list, before the limit.
    pub listed: usize,
    pub entries: Vec<WatchEntryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchEntryView {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub branch: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub amount: String,
    pub outstanding: String,
    pub booked_on: NaiveDate,
    pub age_days: i64,
    pub escalation_level: Option<&'static str>,
    pub overdue_ratio: String,
    pub risk: String,
    pub reasons: Vec<WatchReasonView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WatchReasonView {
    Threshold {
        policy_version: u32,
        rule: usize,
        on: NaiveDate,
        in_days: i64,
        threshold_days: u32,
        raise_to: &'static str,
        action: Option<ActionView>,
        why: String,
    },
    BeyondUsualTime {
        code: Option<String>,
        p90_hours: i64,
        p90_days: i64,
        resolutions: i64,
        why: String,
    },
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub rule: usize,
    pub kind: &'static str,
    pub percent: Option<String>,
    pub note: Option<String>,
    pub why: String,
}

impl ActionView {
    fn new(rule: usize, action: &suspense_domain::policy::RegulatoryAction, version: u32) -> Self {
        let (kind, percent, note) = action_parts(action);
        let what = match (&percent, &note) {
            (Some(percent), _) => format!("provide {percent} % of the outstanding amount"),
            (_, Some(note)) => format!("review: {note}"),
            _ => "move to the blocked account".to_owned(),
        };
        Self {
            rule,
            kind,
            percent,
            note,
            why: format!("policy version {version}, rule {rule}: {what}"),
        }
    }

    fn of(due: &DueAction) -> Self {
        Self::new(due.rule, &due.action, due.policy_version)
    }
}

impl From<&WatchReason> for WatchReasonView {
    fn from(reason: &WatchReason) -> Self {
        match reason {
            WatchReason::Threshold(c) => {
                let when = if c.in_days == 0 {
                    format!("was due on {} and is not raised yet", c.on)
                } else {
                    format!("on {} (in {} days)", c.on, c.in_days)
                };
                Self::Threshold {
                    policy_version: c.policy_version,
                    rule: c.rule,
                    on: c.on,
                    in_days: c.in_days,
                    threshold_days: c.threshold_days,
                    raise_to: c.raise_to.as_str(),
                    action: c
                        .action
                        .as_ref()
                        .map(|a| ActionView::new(c.rule, a, c.policy_version)),
                    why: format!(
                        "policy version {} rule {}: {} days old, raise to {} {when}",
                        c.policy_version,
                        c.rule,
                        c.threshold_days,
                        c.raise_to.as_str()
                    ),
                }
            }
            WatchReason::BeyondUsualTime {
                code,
                p90_hours,
                p90_days,
                resolutions,
            } => Self::BeyondUsualTime {
                code: code.clone(),
                p90_hours: *p90_hours,
                p90_days: *p90_days,
                resolutions: *resolutions,
                why: format!(
                    "older than the {} days in which 90 % of {} {resolutions} resolutions \
                     were resolved",
                    p90_days,
                    if code.is_some() {
                        "its code's"
                    } else {
                        "its category's"
                    }
                ),
            },
        }
    }
}

impl From<&WatchEntry> for WatchEntryView {
    fn from(entry: &WatchEntry) -> Self {
        Self {
            item_id: entry.item_id.clone(),
            source_system: entry.source_system.clone(),
            reference: entry.reference.clone(),
            branch: entry.branch.clone(),
            category: entry.category.clone(),
            code: entry.code.clone(),
            amount: entry.amount.amount().to_string(),
            outstanding: entry.outstanding.amount().to_string(),
            booked_on: entry.booked_on,
            age_days: entry.age_days,
            escalation_level: entry.escalation_level.map(|l| l.as_str()),
            overdue_ratio: entry.overdue_ratio.to_string(),
            risk: entry.risk.to_string(),
            reasons: entry.reasons.iter().map(Into::into).collect(),
        }
    }
}

impl From<&WatchList> for WatchListView {
    fn from(list: &WatchList) -> Self {
        Self {
            as_of: list.as_of,
            horizon_days: list.horizon_days,
            policy_version: list.policy_version,
            usual_time_window: [
                list.usual_time_window.0.to_string(),
                list.usual_time_window.1.to_string(),
            ],
            currencies: list
                .groups
                .iter()
                .map(|group| WatchGroupView {
                    currency: group.currency.code(),
                    listed: group.listed,
                    entries: group.entries.iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

/// One row per entry, in the list's order; reasons as their sentences.
pub fn watch_list_csv(list: &WatchListView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "currency",
        "rank",
        "item_id",
        "source_system",
        "reference",
        "branch",
        "category",
        "code",
        "outstanding",
        "booked_on",
        "age_days",
        "escalation_level",
        "overdue_ratio",
        "risk",
        "reasons",
    ])?;
    for group in &list.currencies {
        for (rank, e) in group.entries.iter().enumerate() {
            let reasons: Vec<&str> = e
                .reasons
                .iter()
                .map(|r| match r {
                    WatchReasonView::Threshold { why, .. }
                    | WatchReasonView::BeyondUsualTime { why, .. } => why.as_str(),
                })
                .collect();
            out.write_record([
                group.currency,
                &(rank + 1).to_string(),
                &e.item_id,
                &e.source_system,
                &e.reference,
                &e.branch,
                e.category.as_deref().unwrap_or(""),
                e.code.as_deref().unwrap_or(""),
                &e.outstanding,
                &e.booked_on.to_string(),
                &e.age_days.to_string(),
                e.escalation_level.unwrap_or(""),
                &e.overdue_ratio,
                &e.risk,
                &reasons.join("; "),
            ])?;
        }
    }
    finish(out)
}

fn finish(out: csv::Writer<Vec<u8>>) -> Result<String, csv::Error> {
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisioningView {
    pub as_of: NaiveDate,
    pub policy_version: Option<u32>,
    pub totals: Vec<ProvisioningTotalView>,
    pub items: Vec<ProvisionedItemView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisioningTotalView {
    pub currency: &'static str,
    pub items: usize,
    pub outstanding: String,
    pub provision: String,
    pub to_blocked_account: usize,
    pub to_review: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisionedItemView {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub branch: String,
    pub direction: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    pub age_days: i64,
    pub currency: &'static str,
    pub outstanding: String,
    pub provision_percent: Option<String>,
    pub provision: Option<String>,
    pub actions: Vec<ActionView>,
}

impl From<&ProvisioningTotal> for ProvisioningTotalView {
    fn from(total: &ProvisioningTotal) -> Self {
        let units = total.currency.minor_units();
        let mut outstanding = total.outstanding;
        outstanding.rescale(units);
        let mut provision = total.provision;
        provision.rescale(units);
        Self {
            currency: total.currency.code(),
            items: total.items,
            outstanding: outstanding.to_string(),
            provision: provision.to_string(),
            to_blocked_account: total.to_blocked_account,
            to_review: total.to_review,
        }
    }
}

impl From<&ProvisionedItem> for ProvisionedItemView {
    fn from(item: &ProvisionedItem) -> Self {
        Self {
            item_id: item.item_id.clone(),
            source_system: item.source_system.clone(),
            reference: item.reference.clone(),
            branch: item.branch.clone(),
            direction: item.direction.clone(),
            category: item.category.clone(),
            code: item.code.clone(),
            booked_on: item.booked_on,
            value_date: item.value_date,
            age_days: item.age_days,
            currency: item.outstanding.currency().code(),
            outstanding: item.outstanding.amount().to_string(),
            provision_percent: item.provision.as_ref().map(|p| p.percent.to_string()),
            provision: item
                .provision
                .as_ref()
                .map(|p| p.amount.amount().to_string()),
            actions: item.actions.iter().map(ActionView::of).collect(),
        }
    }
}

impl From<&ProvisioningReport> for ProvisioningView {
    fn from(report: &ProvisioningReport) -> Self {
        Self {
            as_of: report.as_of,
            policy_version: report.policy_version,
            totals: report.totals.iter().map(Into::into).collect(),
            items: report.items.iter().map(Into::into).collect(),
        }
    }
}

/// One `item` row per item, then one `total` row per currency (its `items` the count).
pub fn provisioning_csv(report: &ProvisioningView) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "row",
        "currency",
        "items",
        "item_id",
        "reference",
        "branch",
        "direction",
        "category",
        "code",
        "booked_on",
        "age_days",
        "outstanding",
        "provision_percent",
        "provision",
        "actions",
    ])?;
    for i in &report.items {
        let actions: Vec<&str> = i.actions.iter().map(|a| a.why.as_str()).collect();
        out.write_record([
            "item",
            i.currency,
            "1",
            &i.item_id,
            &i.reference,
            &i.branch,
            &i.direction,
            i.category.as_deref().unwrap_or(""),
            i.code.as_deref().unwrap_or(""),
            &i.booked_on.to_string(),
            &i.age_days.to_string(),
            &i.outstanding,
            i.provision_percent.as_deref().unwrap_or(""),
            i.provision.as_deref().unwrap_or(""),
            &actions.join("; "),
        ])?;
    }
    for t in &report.totals {
        let items = t.items.to_string();
        out.write_record([
            "total",
            t.currency,
            &items,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            &t.outstanding,
            "",
            &t.provision,
            "",
        ])?;
    }
    finish(out)
}
