//! Root-cause statistics (定期統計分析): monthly cells by cause, branch, channel and currency,
//! kept as additive counters so any period (month, quarter, year) is a sum of months.
//!
//! Every contribution of an item (its opening, each resolution, reopening and escalation) is a
//! *fact*. When the item's cause changes, each fact's contribution moves from the old cause's
//! cell to the new one, in whatever month it happened: statistics are restated, never left
//! under a cause the bank no longer believes. Facts are not stored: an item's facts are a fold
//! of its events, so the projector replays the item's history from the log when its cause
//! changes (`StatsBatch::replay_facts`).
//!
//! The same holds for the team that handles the item, the counterparty its cause is
//! attributed to and the incident it counts under: a cell is keyed by them too, and when one
//! changes, the item's facts move as they do for a new cause. The histogram and the items
//! open now stay per cause key (category, code, branch, channel, currency).

use std::collections::{BTreeMap, HashMap};
use std::ops::AddAssign;

use chrono::NaiveDate;
use suspense_domain::{Money, RootCause, SuspenseItemEvent};
use suspense_store::RecordedEvent;

use self::columns::COUNTERS;
use crate::calendar::{month_start, resolution_time, ReportingCalendar};
use crate::fast_hash::{Map, Set};

pub(crate) mod columns;
pub(crate) mod month_end;
mod postgres;
mod projection;
mod sqlite;

pub(crate) use projection::RootCauseStatistics;

/// Category and code of items not classified yet.
pub const UNCLASSIFIED: &str = "unclassified";

/// The team of an item no team handles yet.
pub const UNASSIGNED: &str = "unassigned";

/// The counterparty or incident of an item without one.
pub const NONE: &str = "none";

/// What the statistics remember of an item (`stats_items`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub(crate) struct StatsItem {
    pub item_id: String,
    pub branch: String,
    pub channel: String,
    pub currency: String,
    pub category: String,
    pub code: String,
    pub reclassified: bool,
    pub booked_on: NaiveDate,
    pub amount_minor: i64,
    pub team: String,
    pub counterparty: String,
    pub incident: String,
    /// The item harms a customer (counted once, in the month that began).
    pub impacted: bool,
}

/// One contribution of an item to the statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StatsFact {
    pub item_id: String,
    pub sequence: i64,
    pub kind: FactKind,
    pub month: NaiveDate,
    pub amount_minor: i64,
    pub duration_bucket: Option<i32>,
}

/// A cell of `root_cause_monthly`: a month, a cause key, and the team, counterparty and
/// incident the items count under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub(crate) struct CellKey {
    pub month: NaiveDate,
    pub category: String,
    pub code: String,
    pub branch: String,
    pub channel: String,
    pub currency: String,
    pub team: String,
    pub counterparty: String,
    pub incident: String,
}

/// Category, code, branch, channel and currency: a cause key.
pub(crate) type Cause<'a> = [&'a str; 5];

/// A cell key without its month, in column order (`columns::CELL_COLUMNS`).
pub(crate) type CellDims<'a> = [&'a str; 8];

impl CellKey {
    pub(crate) fn cause(&self) -> Cause<'_> {
        [
            &self.category,
            &self.code,
            &self.branch,
            &self.channel,
            &self.currency,
        ]
    }

    pub(crate) fn dims(&self) -> CellDims<'_> {
        [
            &self.category,
            &self.code,
            &self.branch,
            &self.channel,
            &self.currency,
            &self.team,
            &self.counterparty,
            &self.incident,
        ]
    }

    pub(crate) fn from_dims(month: NaiveDate, dims: CellDims<'_>) -> Self {
        let [category, code, branch, channel, currency, team, counterparty, incident] =
            dims.map(str::to_owned);
        Self {
            month,
            category,
            code,
            branch,
            channel,
            currency,
            team,
            counterparty,
            incident,
        }
    }

    /// The histogram row the cell's resolutions count in.
    pub(crate) fn histogram_key(&self) -> HistogramKey {
        HistogramKey {
            month: self.month,
            category: self.category.clone(),
            code: self.code.clone(),
            branch: self.branch.clone(),
            channel: self.channel.clone(),
            currency: self.currency.clone(),
        }
    }
}

/// A row key of `resolution_time_histogram`: a month and a cause key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub(crate) struct HistogramKey {
    pub month: NaiveDate,
    pub category: String,
    pub code: String,
    pub branch: String,
    pub channel: String,
    pub currency: String,
}

/// A row of `resolution_time_histogram`: a month and cause key's resolutions per duration
/// bucket, as `(bucket, count)` pairs ascending by bucket, counts above zero.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct HistogramCell {
    #[sqlx(flatten)]
    pub key: HistogramKey,
    #[sqlx(json)]
    pub buckets: Vec<(i32, i64)>,
}

impl HistogramCell {
    /// The cell `key` holds after adding `changes` (bucket, delta) to its `stored` buckets.
    pub(crate) fn merged(
        key: &HistogramKey,
        stored: &[(i32, i64)],
        changes: &[(i32, i64)],
    ) -> Self {
        let mut buckets: BTreeMap<i32, i64> = stored.iter().copied().collect();
        for (bucket, delta) in changes {
            *buckets.entry(*bucket).or_default() += delta;
        }
        Self {
            key: key.clone(),
            buckets: buckets.into_iter().filter(|(_, n)| *n != 0).collect(),
        }
    }

    /// The month's median and 90th-percentile hours to resolution (stored with the row).
    pub(crate) fn percentiles(&self) -> (Option<i64>, Option<i64>) {
        crate::calendar::resolution_time::median_and_p90(&self.buckets)
    }

    pub(crate) fn resolved_count(&self) -> i64 {
        self.buckets.iter().map(|(_, n)| n).sum()
    }

    /// The buckets as stored: a JSON array of `[bucket, count]` pairs.
    pub(crate) fn buckets_json(&self) -> Result<String, sqlx::Error> {
        serde_json::to_string(&self.buckets).map_err(|e| sqlx::Error::Encode(Box::new(e)))
    }
}

/// Counters of a cell, or a change to add to them: one per counter column of
/// `root_cause_monthly`, listed in `COUNTERS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CellCounts {
    pub opened_count: i64,
    pub opened_minor: i64,
    pub resolved_count: i64,
    pub resolved_minor: i64,
    pub reopened_count: i64,
    pub reopened_minor: i64,
    pub escalations: i64,
    pub restated_items: i64,
    /// Items whose customer impact began (a customer, held funds or a fee recorded).
    pub customer_impacted: i64,
    /// Fees customers incurred because of items, and refunds of them, in the item's currency.
    pub fees_incurred_minor: i64,
    pub fees_refunded_minor: i64,
    /// Complaints by the month they were received, and closed.
    pub complaints_received: i64,
    pub complaints_closed: i64,
    /// Reminders fallen due, and the messaging gateway's reports on them.
    pub reminders_due: i64,
    pub reminders_sent: i64,
    pub reminders_failed: i64,
}

impl AddAssign for CellCounts {
    fn add_assign(&mut self, other: Self) {
        for counter in &COUNTERS {
            (counter.set)(self, (counter.get)(self) + (counter.get)(&other));
        }
    }
}

impl CellCounts {
    fn scaled(mut self, sign: i64) -> Self {
        for counter in &COUNTERS {
            let value = (counter.get)(&self) * sign;
            (counter.set)(&mut self, value);
        }
        self
    }

    /// The counters in column order (`COUNTERS`).
    pub(crate) fn values(&self) -> impl Iterator<Item = i64> + '_ {
        COUNTERS.iter().map(move |counter| (counter.get)(self))
    }

    /// The change to the items open: opened less resolved plus reopened, (count, minor units).
    pub(crate) fn net_open(&self) -> (i64, i64) {
        (
            self.opened_count - self.resolved_count + self.reopened_count,
            self.opened_minor - self.resolved_minor + self.reopened_minor,
        )
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// A change of open items for one cause key: category, code, branch, channel, currency.
pub(crate) struct OpenDelta<'a> {
    pub key: Cause<'a>,
    pub count: i64,
    pub minor: i64,
}

/// What a fact counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FactKind {
    Opened,
    Resolved,
    Reopened,
    Escalated,
    CustomerImpacted,
    FeeIncurred,
    FeeRefunded,
    ComplaintReceived,
    ComplaintClosed,
    ReminderDue,
    ReminderSent,
    ReminderFailed,
}

/// The statistics rows touched by one batch.
#[derive(Debug, Default)]
pub(crate) struct StatsBatch {
    /// Items of the batch (loaded, then folded).
    pub items: Map<String, StatsItem>,
    /// Items this batch opens (sequence 1): inserted without an upsert's conflict check.
    pub created: Set<String>,
    /// Stored items whose cause this batch changes: rewritten. The batch's other stored items
    /// were only read (for the cause their facts count under) and are left as stored.
    pub changed: Set<String>,
    /// Every fact of the items whose cause may change in this batch (replayed from the log or
    /// carried from the batch before, plus those the batch adds).
    pub facts: Map<String, Vec<StatsFact>>,
    pub cells: Map<CellKey, CellCounts>,
    pub histogram: Map<(HistogramKey, i32), i64>,
}

impl StatsBatch {
    /// A batch over the stored (or carried) `items` and `facts`, with room made for the
    /// `opening` items it will create (see `RegisterBatch::new`).
    pub(crate) fn new(
        mut items: Map<String, StatsItem>,
        facts: Map<String, Vec<StatsFact>>,
        opening: usize,
    ) -> Self {
        items.reserve(opening);
        let mut created = Set::default();
        created.reserve(opening);
        Self {
            items,
            created,
            facts,
            ..Self::default()
        }
    }

    /// The change to `root_cause_open` (items open now, per cause key without the month) that
    /// the batch's cell deltas imply.
    pub(crate) fn open_deltas(&self) -> Vec<OpenDelta<'_>> {
        let mut open: HashMap<Cause<'_>, (i64, i64)> = HashMap::new();
        for (k, c) in &self.cells {
            let entry = open.entry(k.cause()).or_default();
            let (count, minor) = c.net_open();
            (entry.0, entry.1) = (entry.0 + count, entry.1 + minor);
        }
        open.into_iter()
            .filter(|(_, (n, m))| *n != 0 || *m != 0)
            .map(|(key, (count, minor))| OpenDelta { key, count, minor })
            .collect()
    }

    /// The histogram changes of the batch per cell: `(bucket, delta)` pairs, zero deltas left out.
    pub(crate) fn histogram_changes(&self) -> BTreeMap<&HistogramKey, Vec<(i32, i64)>> {
        let mut changes: BTreeMap<&HistogramKey, Vec<(i32, i64)>> = BTreeMap::new();
        for ((key, bucket), delta) in &self.histogram {
            if *delta != 0 {
                changes.entry(key).or_default().push((*bucket, *delta));
            }
        }
        changes
    }

    /// The facts of the items of `history` (each item's events up to some point, oldest
    /// first, starting with its opening), by replaying them. An event that does not replay is
    /// returned with the reason; it was applied once already, so this means a changed log.
    pub(crate) fn replay_facts<'e>(
        history: &'e [RecordedEvent],
        calendar: &ReportingCalendar,
    ) -> Result<Map<String, Vec<StatsFact>>, (&'e RecordedEvent, String)> {
        let mut replay = Self::default();
        for event in history {
            replay.facts.entry(event.item_id.to_string()).or_default();
            replay
                .apply(event, calendar)
                .map_err(|reason| (event, reason))?;
        }
        Ok(replay.facts)
    }

    /// May this event change an item's cell (its cause, team, counterparty or incident), so
    /// that its facts must be at hand?
    pub(crate) fn needs_facts(event: &SuspenseItemEvent) -> bool {
        matches!(
            event,
            SuspenseItemEvent::Classified { .. }
                | SuspenseItemEvent::Reclassified { .. }
                | SuspenseItemEvent::Attributed { .. }
                | SuspenseItemEvent::Assigned { .. }
                | SuspenseItemEvent::Reassigned { .. }
                | SuspenseItemEvent::LinkedToIncident { .. }
                | SuspenseItemEvent::UnlinkedFromIncident { .. }
        )
    }

    pub(crate) fn apply(
        &mut self,
        recorded: &RecordedEvent,
        calendar: &ReportingCalendar,
    ) -> Result<(), String> {
        let id = recorded.item_id.to_string();
        let sequence = recorded.sequence as i64;
        let month = month_start(calendar.local_date(recorded.event.at()));
        if let SuspenseItemEvent::Opened { item, .. } = &recorded.event {
            if self.items.contains_key(&id) {
                return Err("the item was opened twice".to_owned());
            }
            let stats_item = StatsItem {
                item_id: id.clone(),
                branch: item.branch.to_string(),
                channel: item.channel.as_str().to_owned(),
                currency: item.amount.currency().code().to_owned(),
                category: UNCLASSIFIED.to_owned(),
                code: UNCLASSIFIED.to_owned(),
                reclassified: false,
                booked_on: item.booked_on,
                amount_minor: item.amount.minor_units(),
                team: UNASSIGNED.to_owned(),
                counterparty: NONE.to_owned(),
                incident: NONE.to_owned(),
                impacted: false,
            };
            let fact = StatsFact {
                item_id: id.clone(),
                sequence,
                kind: FactKind::Opened,
                // Opened in the month of its booking date, a date already in the bank's calendar.
                month: month_start(item.booked_on),
                amount_minor: stats_item.amount_minor,
                duration_bucket: None,
            };
            if sequence == 1 {
                self.created.insert(id.clone());
            }
            self.items.insert(id.clone(), stats_item);
            self.record(fact);
            let impact = &item.customer_impact;
            if impact.customer.is_some() || impact.funds_held || impact.fee.is_some() {
                // Counted where the item is: in the month of its booking.
                self.impact_began(&id, sequence, month_start(item.booked_on));
            }
            if let Some(fee) = &impact.fee {
                self.fee(
                    &id,
                    sequence,
                    FactKind::FeeIncurred,
                    month_start(item.booked_on),
                    fee,
                );
            }
            return Ok(());
        }
        // What the facts below take of the item (copied: `record` borrows the batch again).
        let (booked_on, amount_minor) = self
            .items
            .get(&id)
            .map(|item| (item.booked_on, item.amount_minor))
            .ok_or_else(|| format!("{} for an item that was never opened", recorded.event_type))?;
        match &recorded.event {
            SuspenseItemEvent::Classified { cause, .. } => {
                self.move_item(&id, |item| item.set_cause(cause, false))?
            }
            SuspenseItemEvent::Reclassified { to, .. } => {
                self.move_item(&id, |item| item.set_cause(to, true))?
            }
            SuspenseItemEvent::Attributed { attribution, .. } => self.move_item(&id, |item| {
                item.counterparty = attribution
                    .counterparty
                    .as_ref()
                    .map_or_else(|| NONE.to_owned(), ToString::to_string);
            })?,
            SuspenseItemEvent::Assigned { to, .. } | SuspenseItemEvent::Reassigned { to, .. } => {
                self.move_item(&id, |item| item.team = to.team.to_string())?
            }
            SuspenseItemEvent::LinkedToIncident { incident, .. } => {
                self.move_item(&id, |item| item.incident = incident.to_string())?
            }
            SuspenseItemEvent::UnlinkedFromIncident { .. } => {
                self.move_item(&id, |item| item.incident = NONE.to_owned())?
            }
            SuspenseItemEvent::Escalated { .. } => self.record(StatsFact {
                item_id: id,
                sequence,
                kind: FactKind::Escalated,
                month,
                amount_minor: 0,
                duration_bucket: None,
            }),
            SuspenseItemEvent::Resolved { at, .. } => {
                let started = calendar.start_of_day(booked_on);
                let hours = (*at - started).num_hours();
                self.record(StatsFact {
                    item_id: id,
                    sequence,
                    kind: FactKind::Resolved,
                    month,
                    amount_minor,
                    duration_bucket: Some(resolution_time::bucket(hours)),
                })
            }
            SuspenseItemEvent::Reopened { .. } => self.record(StatsFact {
                item_id: id,
                sequence,
                kind: FactKind::Reopened,
                month,
                amount_minor,
                duration_bucket: None,
            }),
            SuspenseItemEvent::CustomerImpactRecorded {
                customer,
                funds_held,
                ..
            } => {
                if customer.is_some() || *funds_held {
                    self.impact_began(&id, sequence, month);
                }
            }
            SuspenseItemEvent::CustomerFeeIncurred { amount, .. } => {
                self.impact_began(&id, sequence, month);
                self.fee(&id, sequence, FactKind::FeeIncurred, month, amount);
            }
            SuspenseItemEvent::CustomerFeeRefunded { amount, .. } => {
                self.fee(&id, sequence, FactKind::FeeRefunded, month, amount);
            }
            SuspenseItemEvent::ComplaintReceived { received_at, .. } => {
                let month = month_start(calendar.local_date(*received_at));
                self.count(id, sequence, FactKind::ComplaintReceived, month);
            }
            SuspenseItemEvent::ComplaintClosed { closed_at, .. } => {
                let month = month_start(calendar.local_date(*closed_at));
                self.count(id, sequence, FactKind::ComplaintClosed, month);
            }
            SuspenseItemEvent::ReminderDue { .. } => {
                self.count(id, sequence, FactKind::ReminderDue, month)
            }
            SuspenseItemEvent::ReminderSent { .. } => {
                self.count(id, sequence, FactKind::ReminderSent, month)
            }
            SuspenseItemEvent::ReminderFailed { .. } => {
                self.count(id, sequence, FactKind::ReminderFailed, month)
            }
            // Named one by one, so that a new event that counts cannot pass unnoticed.
            SuspenseItemEvent::Opened { .. }
            | SuspenseItemEvent::ClearingRecorded { .. }
            | SuspenseItemEvent::ResolutionProposed { .. }
            | SuspenseItemEvent::ResolutionApprovalRecorded { .. }
            | SuspenseItemEvent::ResolutionRejected { .. }
            | SuspenseItemEvent::Commented { .. } => {}
        }
        Ok(())
    }

    /// A fact that counts one.
    fn count(&mut self, item_id: String, sequence: i64, kind: FactKind, month: NaiveDate) {
        self.record(StatsFact {
            item_id,
            sequence,
            kind,
            month,
            amount_minor: 0,
            duration_bucket: None,
        });
    }

    /// The item's customer impact begins, unless it began before: counted once per item.
    fn impact_began(&mut self, id: &str, sequence: i64, month: NaiveDate) {
        let Some(item) = self.items.get_mut(id) else {
            return;
        };
        if item.impacted {
            return;
        }
        item.impacted = true;
        if !self.created.contains(id) {
            self.changed.insert(id.to_owned());
        }
        self.count(id.to_owned(), sequence, FactKind::CustomerImpacted, month);
    }

    /// A fee or its refund, counted in the item's currency: the item commands keep fees in
    /// it, so a fee in another currency (none can be recorded) is left out rather than added
    /// to amounts of a different unit.
    fn fee(&mut self, id: &str, sequence: i64, kind: FactKind, month: NaiveDate, fee: &Money) {
        let same_currency = self
            .items
            .get(id)
            .is_some_and(|item| item.currency == fee.currency().code());
        if same_currency {
            self.record(StatsFact {
                item_id: id.to_owned(),
                sequence,
                kind,
                month,
                amount_minor: fee.minor_units(),
                duration_bucket: None,
            });
        }
    }

    /// Adds a new fact's contribution under the item's current cause.
    fn record(&mut self, fact: StatsFact) {
        if let Some(item) = self.items.get(&fact.item_id) {
            let (key, counts, bucket) = contribution(item, &fact);
            if let Some(bucket) = bucket {
                *self
                    .histogram
                    .entry((key.histogram_key(), bucket))
                    .or_default() += 1;
            }
            *self.cells.entry(key).or_default() += counts;
        }
        if let Some(known) = self.facts.get_mut(&fact.item_id) {
            known.push(fact);
        }
    }

    /// Moves every contribution of the item from its current cell to the one `change` leaves
    /// it in (nothing, when the cell stays the same).
    fn move_item(&mut self, id: &str, change: impl FnOnce(&mut StatsItem)) -> Result<(), String> {
        let facts = self
            .facts
            .get(id)
            .ok_or_else(|| "the item's facts were not loaded before its cell changed".to_owned())?;
        let before = self
            .items
            .get(id)
            .ok_or_else(|| "unknown item".to_owned())?;
        let mut after = before.clone();
        change(&mut after);
        if after == *before {
            return Ok(());
        }
        for fact in facts {
            let (old_key, old_counts, old_bucket) = contribution(before, fact);
            let (new_key, new_counts, new_bucket) = contribution(&after, fact);
            if let (Some(old), Some(new)) = (old_bucket, new_bucket) {
                *self
                    .histogram
                    .entry((old_key.histogram_key(), old))
                    .or_default() -= 1;
                *self
                    .histogram
                    .entry((new_key.histogram_key(), new))
                    .or_default() += 1;
            }
            *self.cells.entry(old_key).or_default() += old_counts.scaled(-1);
            *self.cells.entry(new_key).or_default() += new_counts;
        }
        self.items.insert(id.to_owned(), after);
        self.changed.insert(id.to_owned());
        Ok(())
    }

    /// The items to write: those the batch opens or whose cause it changes.
    pub(crate) fn items_to_write(&self) -> impl Iterator<Item = &StatsItem> {
        self.items
            .values()
            .filter(|i| self.created.contains(&i.item_id) || self.changed.contains(&i.item_id))
    }
}

impl StatsItem {
    fn set_cause(&mut self, cause: &RootCause, reclassification: bool) {
        self.category = cause.category.as_str().to_owned();
        self.code = cause.code.to_string();
        self.reclassified |= reclassification;
    }
}

/// Where a fact counts and what it adds there.
fn contribution(item: &StatsItem, fact: &StatsFact) -> (CellKey, CellCounts, Option<i32>) {
    let key = CellKey {
        month: fact.month,
        category: item.category.clone(),
        code: item.code.clone(),
        branch: item.branch.clone(),
        channel: item.channel.clone(),
        currency: item.currency.clone(),
        team: item.team.clone(),
        counterparty: item.counterparty.clone(),
        incident: item.incident.clone(),
    };
    let mut counts = CellCounts::default();
    let mut bucket = None;
    match fact.kind {
        FactKind::Opened => {
            counts.opened_count = 1;
            counts.opened_minor = fact.amount_minor;
            counts.restated_items = i64::from(item.reclassified);
        }
        FactKind::Resolved => {
            counts.resolved_count = 1;
            counts.resolved_minor = fact.amount_minor;
            bucket = fact.duration_bucket;
        }
        FactKind::Reopened => {
            counts.reopened_count = 1;
            counts.reopened_minor = fact.amount_minor;
        }
        FactKind::Escalated => counts.escalations = 1,
        FactKind::CustomerImpacted => counts.customer_impacted = 1,
        FactKind::FeeIncurred => counts.fees_incurred_minor = fact.amount_minor,
        FactKind::FeeRefunded => counts.fees_refunded_minor = fact.amount_minor,
        FactKind::ComplaintReceived => counts.complaints_received = 1,
        FactKind::ComplaintClosed => counts.complaints_closed = 1,
        FactKind::ReminderDue => counts.reminders_due = 1,
        FactKind::ReminderSent => counts.reminders_sent = 1,
        FactKind::ReminderFailed => counts.reminders_failed = 1,
    }
    (key, counts, bucket)
}

/// The histogram rows a batch leaves: each changed cell's stored buckets plus its changes.
fn merged_histogram(
    changes: &BTreeMap<&HistogramKey, Vec<(i32, i64)>>,
    stored: Vec<HistogramCell>,
) -> Vec<HistogramCell> {
    let stored: HashMap<HistogramKey, Vec<(i32, i64)>> =
        stored.into_iter().map(|c| (c.key, c.buckets)).collect();
    changes
        .iter()
        .map(|(key, deltas)| {
            HistogramCell::merged(key, stored.get(*key).map_or(&[][..], Vec::as_slice), deltas)
        })
        .collect()
}

#[cfg(test)]
mod tests;
