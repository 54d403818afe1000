//! A log, a movable business clock and a projector on a fresh database of either backend.

#![allow(dead_code, unused_imports)]

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use suspense_domain::{
    ApprovalPolicy, BranchCode, Channel, ItemAction, ItemCommand, ItemId, ItemServices, Money,
    Note, Reference, ResolutionMethod, ResolutionRequest, RootCauseCatalogue, RootCauseCategory,
    RootCauseCode,
};
use suspense_read_models::{Projector, ReadModelSettings, ReportingCalendar, Reports};
use suspense_store::{EventLog, Executed, PoolSettings, RequestMetadata, StoreLocation};
pub use suspense_testkit::{
    booking, date, instant, on_both_backends, user, Backend, TestClock, TestDatabase,
};

pub const WAIT: Duration = Duration::from_secs(30);

pub struct Harness {
    pub db: TestDatabase,
    pub log: Arc<EventLog>,
    pub clock: Arc<TestClock>,
    pub projector: Projector,
}

impl Harness {
    pub async fn new(backend: Backend, time_zone: &str) -> Self {
        let db = TestDatabase::create(backend).await;
        let clock = TestClock::new(instant("2026-01-01T00:00:00Z"));
        let services = ItemServices::new(
            clock.clone(),
            RootCauseCatalogue::default(),
            ApprovalPolicy::write_offs_only(),
        )
        .with_counterparties(suspense_domain::Counterparties::new(
            ["ALIPAY", "UNIONPAY"]
                .into_iter()
                .map(|code| {
                    let code = suspense_domain::CounterpartyCode::parse(code).expect("code");
                    (code, String::new())
                })
                .collect(),
        ));
        let location = StoreLocation::parse(&db.url()).expect("location");
        let log = Arc::new(
            EventLog::open(&location, services, &PoolSettings::default())
                .await
                .expect("log opens"),
        );
        let projector = Projector::new(Arc::clone(&log), settings(time_zone))
            .await
            .expect("projector starts");
        Self {
            db,
            log,
            clock,
            projector,
        }
    }

    pub fn reports(&self) -> Reports<'_> {
        Reports::new(&self.log, self.projector.settings().calendar)
    }

    pub async fn run(&self, at: &str, by: &str, id: ItemId, action: ItemAction) -> Executed {
        self.clock.set(instant(at));
        self.log
            .execute(
                id,
                ItemCommand::new(user(by), action),
                &RequestMetadata::default(),
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{at} {by}: {e}"))
    }

    /// Opens an item booked on `booked_on` (recorded at `at`).
    pub async fn open(
        &self,
        at: &str,
        reference: &str,
        amount: &str,
        branch: &str,
        booked_on: &str,
    ) -> ItemId {
        let mut item = booking(reference, amount);
        item.branch = BranchCode::parse(branch).expect("branch");
        item.booked_on = date(booked_on);
        item.value_date = date(booked_on);
        let id = ItemId::for_reference(&item.reference);
        self.run(at, "teller", id, ItemAction::Open(item)).await;
        id
    }

    pub async fn refresh(&self) {
        self.projector
            .refresh(WAIT)
            .await
            .expect("read models catch up");
    }
}

pub fn settings(time_zone: &str) -> ReadModelSettings {
    ReadModelSettings {
        calendar: ReportingCalendar::parse(time_zone).expect("time zone"),
    }
}

pub fn classify(category: RootCauseCategory, code: &str, reason: Option<&str>) -> ItemAction {
    ItemAction::Classify {
        category,
        code: RootCauseCode::parse(code).expect("code"),
        reason: reason.map(|r| Note::parse(r).expect("note")),
        attribution: Default::default(),
    }
}

pub fn clear(reference: &str, amount: &str) -> ItemAction {
    ItemAction::RecordClearing {
        clearing_reference: Reference::parse(reference).expect("reference"),
        amount: Money::parse(amount, "CNY").expect("amount"),
    }
}

pub fn refund(amount: &str) -> ItemAction {
    ItemAction::Resolve(ResolutionRequest {
        method: ResolutionMethod::Refunded,
        amount: Money::parse(amount, "CNY").expect("amount"),
        posted_to: None,
        note: None,
    })
}

pub fn reopen() -> ItemAction {
    ItemAction::Reopen {
        reason: Note::parse("refund bounced").expect("note"),
    }
}

impl Harness {
    /// A second projector on the same log, for running in the background beside `projector`.
    pub fn projector_handle(&self) -> Arc<Projector> {
        let log = Arc::clone(&self.log);
        let settings = *self.projector.settings();
        Arc::new(
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(Projector::new(log, settings))
            })
            .expect("second projector"),
        )
    }
}

/// Every index of the database's read-model and log tables as `(name, definition)`, sorted:
/// to check a build leaves the indexes as the migrations made them.
pub async fn index_definitions(log: &EventLog) -> Vec<(String, String)> {
    match log.pool() {
        suspense_database::Pool::Sqlite(p) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(p)
        .await
        .expect("indexes"),
        suspense_database::Pool::Postgres(p) => sqlx::query_as(
            "SELECT indexname::text, indexdef FROM pg_indexes
              WHERE schemaname = current_schema() ORDER BY indexname",
        )
        .fetch_all(p)
        .await
        .expect("indexes"),
    }
}

/// Rows of `root_cause_monthly` whose items open at month end are not the net flow
/// (opened - resolved + reopened) of their key's months up to theirs, and keys with items
/// open at the end of a stored month but no row for it: empty when the stock holds.
pub async fn month_end_stock_mismatches(log: &EventLog) -> Vec<String> {
    type Row = (
        NaiveDate,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
    );
    const SQL: &str = "SELECT month, category, code, branch, channel, currency, team,
               counterparty, incident, opened_count - resolved_count + reopened_count,
               opened_minor - resolved_minor + reopened_minor, open_at_end_count, open_at_end_minor
          FROM root_cause_monthly ORDER BY month";
    let rows: Vec<Row> = match log.pool() {
        suspense_database::Pool::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await,
        suspense_database::Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await,
    }
    .expect("monthly rows");
    let mut so_far: std::collections::BTreeMap<[String; 8], (i64, i64)> = Default::default();
    let mut mismatches = Vec::new();
    for month_rows in rows.chunk_by(|a, b| a.0 == b.0) {
        let mut stored = std::collections::BTreeMap::new();
        for (
            _,
            category,
            code,
            branch,
            channel,
            currency,
            team,
            counterparty,
            incident,
            net,
            net_minor,
            open,
            minor,
        ) in month_rows.iter().cloned()
        {
            let key = [
                category,
                code,
                branch,
                channel,
                currency,
                team,
                counterparty,
                incident,
            ];
            let flow = so_far.entry(key.clone()).or_default();
            (flow.0, flow.1) = (flow.0 + net, flow.1 + net_minor);
            stored.insert(key, (open, minor));
        }
        for (key, expected) in &so_far {
            let found = stored.get(key).copied().unwrap_or_default();
            if found != *expected {
                mismatches.push(format!(
                    "{key:?} at the end of {}: {found:?} stored, {expected:?} flowed",
                    month_rows[0].0
                ));
            }
        }
    }
    mismatches
}
