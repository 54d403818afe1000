//! Incidents in the register (its `incident` column, the incident each item counts under):
//! the figures of the items linked to one (items, amounts per currency, time to clear), the
//! items that look like its own but are not linked to any incident (suggestions, ranked, for a
//! supervisor to confirm), and per cause the share of a period's items that belong to an
//! incident.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use suspense_database::Statement;
use suspense_domain::incident::OpenIncident;

use super::{format_minor_units, ReportError, Reports};

/// The figures of the items linked to one incident, as the register holds them now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFigures {
    pub items: i64,
    pub open_items: i64,
    pub resolved_items: i64,
    /// Per currency, in code order: (currency, items, booked amount, outstanding).
    pub amounts: Vec<(String, i64, String, String)>,
    /// Median hours from booking to resolution over the resolved items.
    pub median_hours_to_clear: Option<i64>,
}

/// An item an incident may have caused: booked in its window, not linked to any incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentCandidate {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub booked_on: NaiveDate,
    pub branch: String,
    pub channel: String,
    pub currency: String,
    pub amount: String,
    pub category: Option<String>,
    pub code: Option<String>,
    /// Higher is likelier: the same code 3, the same category 1, a channel it affected 1,
    /// its counterparty 2.
    pub score: u32,
    /// What matched: `code`, `category`, `channel`, `counterparty`.
    pub matched: Vec<&'static str>,
}

/// Per cause, a period's items and those of them linked to an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentShare {
    pub category: String,
    pub items: i64,
    pub in_incidents: i64,
    /// Percent, one decimal.
    pub share: String,
}

#[derive(sqlx::FromRow)]
struct LinkedRow {
    currency: String,
    amount_minor: i64,
    outstanding_minor: i64,
    status: String,
    booked_on: NaiveDate,
    resolved_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    item_id: String,
    source_system: String,
    reference: String,
    booked_on: NaiveDate,
    branch: String,
    channel: String,
    currency: String,
    amount_minor: i64,
    category: Option<String>,
    code: Option<String>,
    counterparty: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CategoryCount {
    category: String,
    items: i64,
    in_incidents: i64,
}

impl Reports<'_> {
    /// The figures of the items counting under `incident` (the register's `incident`).
    pub async fn incident_figures(&self, incident: &str) -> Result<IncidentFigures, ReportError> {
        let mut q = Statement::new(
            "SELECT currency, amount_minor, outstanding_minor, status, booked_on, resolved_at
               FROM item_register WHERE incident = ",
        );
        q.push_param(incident);
        self.push_scope(&mut q, "branch");
        let rows: Vec<LinkedRow> = q.fetch_all(self.pool).await?;
        let mut per_currency: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        let mut hours = Vec::new();
        let mut figures = IncidentFigures::default();
        for row in rows {
            figures.items += 1;
            if row.status == "resolved" {
                figures.resolved_items += 1;
                // From the start of the booking day in the bank's time zone, as the
                // root-cause report counts its hours to resolution.
                if let Some(resolved_at) = row.resolved_at {
                    let booked = self.calendar.start_of_day(row.booked_on);
                    hours.push((resolved_at - booked).num_hours().max(0));
                }
            } else {
                figures.open_items += 1;
            }
            let sums = per_currency.entry(row.currency).or_default();
            sums.0 += 1;
            sums.1 += row.amount_minor;
            sums.2 += row.outstanding_minor;
        }
        hours.sort_unstable();
        // Nearest rank, as the root-cause report's percentiles.
        figures.median_hours_to_clear = hours.len().checked_sub(1).map(|last| hours[last / 2]);
        figures.amounts = per_currency
            .into_iter()
            .map(|(currency, (items, amount, outstanding))| {
                let amount = format_minor_units(amount, &currency);
                let outstanding = format_minor_units(outstanding, &currency);
                (currency, items, amount, outstanding)
            })
            .collect();
        Ok(figures)
    }

    /// Items booked in `incident`'s window with its cause, on a channel it affected or with
    /// its counterparty, counting under no incident yet, ranked, at most `limit`.
    pub async fn incident_candidates(
        &self,
        incident: &OpenIncident,
        limit: usize,
    ) -> Result<Vec<IncidentCandidate>, ReportError> {
        let mut q = Statement::new(
            "SELECT item_id, source_system, reference, booked_on, branch, channel, currency,
                    amount_minor, category, code, counterparty
               FROM item_register WHERE incident IS NULL AND booked_on >= ",
        );
        q.push_param(incident.window_from)
            .push(" AND booked_on <= ")
            .push_param(incident.window_to)
            .push(" AND (category = ")
            .push_param(incident.category.as_str());
        if !incident.channels.is_empty() {
            q.push(" OR channel IN (")
                .push_params(incident.channels.iter().map(|c| c.as_str()))
                .push(")");
        }
        if let Some(counterparty) = &incident.counterparty {
            q.push(" OR counterparty = ")
                .push_param(counterparty.as_str());
        }
        q.push(")");
        self.push_scope(&mut q, "branch");
        let rows: Vec<CandidateRow> = q.fetch_all(self.pool).await?;
        let mut candidates: Vec<IncidentCandidate> =
            rows.into_iter().map(|row| score(incident, row)).collect();
        candidates.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(a.booked_on.cmp(&b.booked_on))
                .then(a.item_id.cmp(&b.item_id))
        });
        candidates.truncate(limit);
        Ok(candidates)
    }

    /// Per cause, the items booked from `from` to `to` (both included) and those of them
    /// counting under an incident.
    pub async fn incident_share(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IncidentShare>, ReportError> {
        let mut q = Statement::new(
            "SELECT COALESCE(category, 'unclassified') AS category,
                    CAST(COUNT(*) AS BIGINT) AS items,
                    CAST(SUM(CASE WHEN incident IS NULL THEN 0 ELSE 1 END) AS BIGINT)
                        AS in_incidents
               FROM item_register WHERE booked_on >= ",
        );
        q.push_param(from).push(" AND booked_on <= ").push_param(to);
        self.push_scope(&mut q, "branch");
        q.push(" GROUP BY COALESCE(category, 'unclassified')");
        let all: Vec<CategoryCount> = q.fetch_all(self.pool).await?;
        let mut shares: Vec<IncidentShare> = all
            .into_iter()
            .map(|row| IncidentShare {
                share: super::summary::percent(row.in_incidents, row.items),
                category: row.category,
                items: row.items,
                in_incidents: row.in_incidents,
            })
            .collect();
        shares.sort_by(|a, b| a.category.cmp(&b.category));
        Ok(shares)
    }
}

fn score(incident: &OpenIncident, row: CandidateRow) -> IncidentCandidate {
    let mut matched = Vec::new();
    let mut score = 0;
    if row.code.as_deref() == Some(incident.code.as_str()) {
        matched.push("code");
        score += 3;
    } else if row.category.as_deref() == Some(incident.category.as_str()) {
        matched.push("category");
        score += 1;
    }
    if incident.channels.iter().any(|c| c.as_str() == row.channel) {
        matched.push("channel");
        score += 1;
    }
    if incident
        .counterparty
        .as_ref()
        .is_some_and(|c| row.counterparty.as_deref() == Some(c.as_str()))
    {
        matched.push("counterparty");
        score += 2;
    }
    IncidentCandidate {
        amount: format_minor_units(row.amount_minor, &row.currency),
        item_id: row.item_id,
        source_system: row.source_system,
        reference: row.reference,
        booked_on: row.booked_on,
        branch: row.branch,
        channel: row.channel,
        currency: row.currency,
        category: row.category,
        code: row.code,
        score,
        matched,
    }
}
