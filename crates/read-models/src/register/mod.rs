//! The item register: one row per item with its current state, the open balance per
//! currency, and the dated balance movements that aging as of any date is computed from.
//!
//! Pure here: `RegisterBatch::apply` folds events into in-memory rows. `projection.rs` reads
//! and writes them for the projector, through `sqlite.rs` or `postgres.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use suspense_domain::{ItemStatus, Money, SuspenseItemEvent};
use suspense_store::RecordedEvent;

use crate::calendar::ReportingCalendar;
use crate::fast_hash::{Map, Set};

mod aging_stock;
mod columns;
mod deferred_aging;
mod postgres;
mod projection;
mod sqlite;

pub(crate) use aging_stock::{AgingKey, AgingStockRow};
pub(crate) use projection::ItemRegister;

/// A row of `item_register` (columns documented in docs/read-models.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RegisterRow {
    pub item_id: String,
    pub version: i64,
    pub source_system: String,
    pub reference: String,
    pub account: String,
    pub branch: String,
    pub channel: String,
    pub direction: String,
    pub currency: String,
    pub minor_units: i32,
    pub amount_minor: i64,
    pub cleared_minor: i64,
    pub outstanding_minor: i64,
    pub booked_on: NaiveDate,
    pub value_date: NaiveDate,
    pub description: String,
    pub status: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub reclassifications: i32,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub escalation_level: i32,
    pub funds_held: bool,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    pub classified_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_method: Option<String>,
    pub reopen_count: i32,
    pub comment_count: i32,
    pub last_event_at: DateTime<Utc>,
    /// The staff member an operational error is attributed to.
    pub responsible: Option<String>,
    /// The counterparty an external cause is attributed to.
    pub counterparty: Option<String>,
    /// The incident the item counts under.
    pub incident: Option<String>,
    /// The customer harmed, by the bank's pseudonymous reference.
    pub customer: Option<String>,
    /// The latest reminder of the customer fallen due, in days after booking (0: none).
    pub last_reminder_day: i32,
}

/// A dated change of an item's outstanding amount and open/closed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Movement {
    pub item_id: String,
    pub sequence: i64,
    pub on_date: NaiveDate,
    pub outstanding_delta_minor: i64,
    pub open_delta: i32,
}

/// Open items and outstanding minor units per currency, as deltas to add.
pub(crate) type BalanceDeltas = BTreeMap<String, (i64, i64)>;

/// The register rows touched by one batch and what to write for them.
#[derive(Debug, Default)]
pub(crate) struct RegisterBatch {
    /// Current rows of the batch's items (loaded, then folded).
    pub rows: Map<String, RegisterRow>,
    /// Items whose row this batch creates (their opening, sequence 1, is in it): no stored
    /// row can exist for them, so they are inserted without an upsert's conflict check.
    pub created: Set<String>,
    pub movements: Vec<Movement>,
    pub balances: BalanceDeltas,
    /// Flows of open items and outstanding amounts per month and aging key
    /// (`aging_stock.rs`).
    pub aging: Map<(NaiveDate, AgingKey), (i64, i64)>,
    /// Every movement so far of the items whose cause may change in the batch: loaded for
    /// stored items (`ItemRegister::fold`), followed from the opening for the batch's own.
    pub history: Map<String, Vec<aging_stock::DatedFlow>>,
}

impl RegisterBatch {
    /// A batch over the stored (or carried) `rows` of its items, with room made for the
    /// `opening` items whose rows it will create: a page of a bulk build opens tens of
    /// thousands, and growing the maps by doubling rehashed them into fresh memory each time.
    pub(crate) fn new(
        mut rows: Map<String, RegisterRow>,
        history: Map<String, Vec<aging_stock::DatedFlow>>,
        opening: usize,
    ) -> Self {
        rows.reserve(opening);
        let mut created = Set::default();
        created.reserve(opening);
        Self {
            rows,
            created,
            history,
            ..Self::default()
        }
    }

    /// May this event change the key an item ages under, so that its movements must be at
    /// hand?
    pub(crate) fn needs_history(event: &SuspenseItemEvent) -> bool {
        matches!(
            event,
            SuspenseItemEvent::Classified { .. } | SuspenseItemEvent::Reclassified { .. }
        )
    }

    /// Folds one event in; an event the register cannot place is a poisoned event.
    pub(crate) fn apply(
        &mut self,
        recorded: &RecordedEvent,
        calendar: &ReportingCalendar,
    ) -> Result<(), String> {
        let id = recorded.item_id.to_string();
        let sequence = recorded.sequence as i64;
        let on_date = calendar.local_date(recorded.event.at());
        if let SuspenseItemEvent::Opened { at, by, item } = &recorded.event {
            if self.rows.contains_key(&id) {
                return Err("the item was opened twice".to_owned());
            }
            let amount = item.amount.minor_units();
            if sequence == 1 {
                self.created.insert(id.clone());
            }
            self.rows.insert(
                id.clone(),
                RegisterRow {
                    item_id: id.clone(),
                    version: sequence,
                    source_system: item.reference.source_system.to_string(),
                    reference: item.reference.reference.to_string(),
                    account: item.account.to_string(),
                    branch: item.branch.to_string(),
                    channel: item.channel.as_str().to_owned(),
                    direction: item.direction.as_str().to_owned(),
                    currency: item.amount.currency().code().to_owned(),
                    minor_units: item.amount.currency().minor_units() as i32,
                    amount_minor: amount,
                    cleared_minor: 0,
                    outstanding_minor: amount,
                    booked_on: item.booked_on,
                    value_date: item.value_date,
                    description: item.description.to_string(),
                    status: ItemStatus::Open.as_str().to_owned(),
                    category: None,
                    code: None,
                    reclassifications: 0,
                    team: None,
                    assignee: None,
                    escalation_level: 0,
                    funds_held: item.customer_impact.funds_held,
                    fee_minor: item.customer_impact.fee.as_ref().map(Money::minor_units),
                    fee_currency: item
                        .customer_impact
                        .fee
                        .as_ref()
                        .map(|fee| fee.currency().code().to_owned()),
                    opened_at: *at,
                    opened_by: by.to_string(),
                    classified_at: None,
                    resolved_at: None,
                    resolution_method: None,
                    reopen_count: 0,
                    comment_count: 0,
                    last_event_at: *at,
                    responsible: None,
                    counterparty: None,
                    incident: None,
                    customer: item
                        .customer_impact
                        .customer
                        .as_ref()
                        .map(ToString::to_string),
                    last_reminder_day: 0,
                },
            );
            self.history.insert(id.clone(), Vec::new());
            // An item is in suspense from its booking date, even if it is recorded later.
            self.movement(&id, sequence, item.booked_on, amount, 1);
            add_balance(&mut self.balances, item.amount.currency().code(), 1, amount);
            return Ok(());
        }
        let row = self
            .rows
            .get_mut(&id)
            .ok_or_else(|| format!("{} for an item that was never opened", recorded.event_type))?;
        // Everything that can refuse the event is checked before the row changes: a poisoned
        // event must leave the batch exactly as it was before it.
        if sequence != row.version + 1 {
            return Err(format!(
                "sequence {sequence} follows version {} in the register",
                row.version
            ));
        }
        let key_before = if Self::needs_history(&recorded.event) {
            if !self.history.contains_key(&id) {
                return Err("the item's movements were not loaded before its cause changed".into());
            }
            Some(AgingKey::of(row))
        } else {
            None
        };
        // The change to the outstanding amount, and to the open count.
        let movement: Option<(i64, i32)> = match &recorded.event {
            SuspenseItemEvent::ClearingRecorded { amount, .. } => {
                Some((-same_currency(amount, &row.currency)?, 0))
            }
            SuspenseItemEvent::Resolved { resolution, .. } => {
                Some((-same_currency(&resolution.amount, &row.currency)?, -1))
            }
            SuspenseItemEvent::Reopened { reversed, .. } => {
                Some((same_currency(reversed, &row.currency)?, 1))
            }
            // Named one by one, so that a new event that moves money cannot pass unnoticed.
            SuspenseItemEvent::Opened { .. }
            | SuspenseItemEvent::Classified { .. }
            | SuspenseItemEvent::Reclassified { .. }
            | SuspenseItemEvent::Attributed { .. }
            | SuspenseItemEvent::Assigned { .. }
            | SuspenseItemEvent::Reassigned { .. }
            | SuspenseItemEvent::Escalated { .. }
            | SuspenseItemEvent::ResolutionProposed { .. }
            | SuspenseItemEvent::ResolutionApprovalRecorded { .. }
            | SuspenseItemEvent::ResolutionRejected { .. }
            | SuspenseItemEvent::Commented { .. }
            | SuspenseItemEvent::LinkedToIncident { .. }
            | SuspenseItemEvent::UnlinkedFromIncident { .. }
            | SuspenseItemEvent::CustomerImpactRecorded { .. }
            | SuspenseItemEvent::CustomerFeeIncurred { .. }
            | SuspenseItemEvent::CustomerFeeRefunded { .. }
            | SuspenseItemEvent::ComplaintReceived { .. }
            | SuspenseItemEvent::ComplaintClosed { .. }
            | SuspenseItemEvent::ReminderDue { .. }
            | SuspenseItemEvent::ReminderSent { .. }
            | SuspenseItemEvent::ReminderFailed { .. } => None,
        };
        if let Some((delta, _)) = movement {
            if row.outstanding_minor + delta < 0 {
                return Err("cleared more than the item's amount".to_owned());
            }
            row.outstanding_minor += delta;
            row.cleared_minor -= delta;
        }
        row.version = sequence;
        row.last_event_at = recorded.event.at();
        match &recorded.event {
            SuspenseItemEvent::Opened { .. }
            | SuspenseItemEvent::ClearingRecorded { .. }
            | SuspenseItemEvent::ResolutionApprovalRecorded { .. } => {}
            SuspenseItemEvent::Classified { at, cause, .. } => {
                row.category = Some(cause.category.as_str().to_owned());
                row.code = Some(cause.code.to_string());
                row.classified_at = Some(*at);
            }
            SuspenseItemEvent::Reclassified { to, .. } => {
                row.category = Some(to.category.as_str().to_owned());
                row.code = Some(to.code.to_string());
                row.reclassifications += 1;
            }
            SuspenseItemEvent::Attributed { attribution, .. } => {
                row.responsible = attribution.responsible.as_ref().map(ToString::to_string);
                row.counterparty = attribution.counterparty.as_ref().map(ToString::to_string);
            }
            SuspenseItemEvent::Assigned { to, .. } | SuspenseItemEvent::Reassigned { to, .. } => {
                row.team = Some(to.team.to_string());
                row.assignee = to.assignee.as_ref().map(ToString::to_string);
            }
            SuspenseItemEvent::Escalated { level, .. } => {
                row.escalation_level = i32::from(level.rank());
            }
            SuspenseItemEvent::ResolutionProposed { .. } => {
                row.status = ItemStatus::PendingApproval.as_str().to_owned();
            }
            SuspenseItemEvent::ResolutionRejected { .. } => {
                row.status = ItemStatus::Open.as_str().to_owned();
            }
            SuspenseItemEvent::Resolved { at, resolution, .. } => {
                row.status = ItemStatus::Resolved.as_str().to_owned();
                row.resolved_at = Some(*at);
                row.resolution_method = Some(resolution.method.as_str().to_owned());
            }
            SuspenseItemEvent::Reopened { .. } => {
                row.status = ItemStatus::Open.as_str().to_owned();
                row.resolved_at = None;
                row.resolution_method = None;
                row.reopen_count += 1;
            }
            SuspenseItemEvent::Commented { .. } => row.comment_count += 1,
            SuspenseItemEvent::LinkedToIncident { incident, .. } => {
                row.incident = Some(incident.to_string());
            }
            SuspenseItemEvent::UnlinkedFromIncident { .. } => row.incident = None,
            SuspenseItemEvent::CustomerImpactRecorded {
                customer,
                funds_held,
                ..
            } => {
                if let Some(customer) = customer {
                    row.customer = Some(customer.to_string());
                }
                row.funds_held = *funds_held;
            }
            SuspenseItemEvent::ReminderDue { day, .. } => {
                let day = i32::try_from(*day).unwrap_or(i32::MAX);
                row.last_reminder_day = row.last_reminder_day.max(day);
            }
            SuspenseItemEvent::CustomerFeeIncurred { .. }
            | SuspenseItemEvent::CustomerFeeRefunded { .. }
            | SuspenseItemEvent::ComplaintReceived { .. }
            | SuspenseItemEvent::ComplaintClosed { .. }
            | SuspenseItemEvent::ReminderSent { .. }
            | SuspenseItemEvent::ReminderFailed { .. } => {}
        }
        if let Some((delta, open)) = movement {
            add_balance(&mut self.balances, &row.currency, i64::from(open), delta);
            self.movement(&id, sequence, on_date, delta, open);
        }
        if let Some(before) = key_before {
            self.move_aging(&id, before)?;
        }
        Ok(())
    }

    fn movement(&mut self, id: &str, sequence: i64, on_date: NaiveDate, delta: i64, open: i32) {
        self.movements.push(Movement {
            item_id: id.to_owned(),
            sequence,
            on_date,
            outstanding_delta_minor: delta,
            open_delta: open,
        });
        self.age(id, on_date, (i64::from(open), delta));
    }
}

fn add_balance(balances: &mut BalanceDeltas, currency: &str, open_items: i64, minor: i64) {
    let entry = match balances.get_mut(currency) {
        Some(entry) => entry,
        None => balances.entry(currency.to_owned()).or_default(),
    };
    entry.0 += open_items;
    entry.1 += minor;
}

fn same_currency(amount: &Money, currency: &str) -> Result<i64, String> {
    if amount.currency().code() != currency {
        return Err(format!(
            "amount in {} on an item in {currency}",
            amount.currency()
        ));
    }
    Ok(amount.minor_units())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_events::recorded;
    use suspense_domain::{ItemId, Reference, UserId};
    use suspense_testkit::{booking, fixed_now};

    /// A batch holding one open item of 100.00 CNY, and the item's id.
    fn opened() -> (RegisterBatch, ItemId) {
        let item = booking("TXN-1", "100.00");
        let id = ItemId::for_reference(&item.reference);
        let mut batch = RegisterBatch::default();
        let opened = SuspenseItemEvent::Opened {
            at: fixed_now(),
            by: UserId::parse("teller").expect("user"),
            item,
        };
        batch
            .apply(&recorded(id, 1, opened), &ReportingCalendar::default())
            .expect("opens");
        (batch, id)
    }

    fn clearing(amount: &str, currency: &str) -> SuspenseItemEvent {
        SuspenseItemEvent::ClearingRecorded {
            at: fixed_now(),
            by: UserId::parse("ops").expect("user"),
            clearing_reference: Reference::parse("CLR-1").expect("reference"),
            amount: Money::parse(amount, currency).expect("amount"),
        }
    }

    #[test]
    fn a_refused_event_leaves_the_batch_as_it_was() {
        for (event, reason) in [
            (
                clearing("100.01", "CNY"),
                "cleared more than the item's amount",
            ),
            (clearing("1.00", "USD"), "amount in USD on an item in CNY"),
        ] {
            let (mut batch, id) = opened();
            let (rows, movements, balances) = (
                batch.rows.clone(),
                batch.movements.clone(),
                batch.balances.clone(),
            );
            let refused = batch.apply(&recorded(id, 2, event), &ReportingCalendar::default());
            assert_eq!(refused, Err(reason.to_owned()));
            assert_eq!(batch.rows, rows);
            assert_eq!(batch.movements, movements);
            assert_eq!(batch.balances, balances);
        }
    }

    #[test]
    fn a_clearing_moves_the_outstanding_amount_and_the_balance() {
        let (mut batch, id) = opened();
        batch
            .apply(
                &recorded(id, 2, clearing("40.00", "CNY")),
                &ReportingCalendar::default(),
            )
            .expect("applies");
        let row = &batch.rows[&id.to_string()];
        assert_eq!(
            (row.version, row.cleared_minor, row.outstanding_minor),
            (2, 4_000, 6_000)
        );
        assert_eq!(batch.balances["CNY"], (1, 6_000));
        assert_eq!(
            batch
                .movements
                .last()
                .map(|m| (m.outstanding_delta_minor, m.open_delta)),
            Some((-4_000, 0))
        );
    }
}
