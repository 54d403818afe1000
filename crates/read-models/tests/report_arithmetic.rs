//! The root-cause report's figures against sums taken straight over the monthly cells: for
//! any cells and any range of months, quarters or years, each row's flows are the sums over
//! the period's months, its open stock is the net flow of every month before the period ends,
//! and its change is taken against the period before, with or without a branch filter. The
//! summary, cut by any dimensions (team, counterparty and incident included), likewise.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use suspense_database::Pool;
use suspense_domain::BranchCode;
use suspense_read_models::{
    format_minor_units, CauseDimension, CauseSummaryQuery, PeriodKind, RootCauseQuery,
};

/// (category, code, branch, channel, currency, team, counterparty, incident): two branches,
/// two currencies; the first and the last key share their cause and differ in team, so the
/// report sums them into one row.
const KEYS: [[&str; 8]; 6] = [
    [
        "customer_cause",
        "CUS-REFERENCE",
        "SH-001",
        "counter",
        "CNY",
        "recon",
        "none",
        "none",
    ],
    [
        "customer_cause",
        "CUS-REFERENCE",
        "BJ-001",
        "counter",
        "CNY",
        "unassigned",
        "none",
        "none",
    ],
    [
        "system_failure",
        "SYS-INTERFACE",
        "SH-001",
        "online",
        "CNY",
        "recon",
        "none",
        "INC-1",
    ],
    [
        "system_failure",
        "SYS-INTERFACE",
        "SH-001",
        "online",
        "USD",
        "it-desk",
        "none",
        "INC-1",
    ],
    [
        "unclassified",
        "",
        "BJ-001",
        "swift",
        "USD",
        "unassigned",
        "ALIPAY",
        "none",
    ],
    [
        "customer_cause",
        "CUS-REFERENCE",
        "SH-001",
        "counter",
        "CNY",
        "it-desk",
        "none",
        "INC-1",
    ],
];

/// The first key with the same cause as `key`: the report's row of it.
fn cause_of(key: usize) -> usize {
    KEYS.iter()
        .position(|k| k[..5] == KEYS[key][..5])
        .unwrap_or(key)
}

/// One cell of `root_cause_monthly`: counts, with amounts derived from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cell {
    opened: i64,
    resolved: i64,
    reopened: i64,
    escalations: i64,
    restated: i64,
}

impl Cell {
    fn add(&mut self, other: &Cell) {
        self.opened += other.opened;
        self.resolved += other.resolved;
        self.reopened += other.reopened;
        self.escalations += other.escalations;
        self.restated += other.restated;
    }

    /// Amounts in minor units: a different unit per flow, so that a column mixed up with
    /// another shows.
    fn opened_minor(&self) -> i64 {
        self.opened * 10_007
    }
    fn resolved_minor(&self) -> i64 {
        self.resolved * 7_001
    }
    fn reopened_minor(&self) -> i64 {
        self.reopened * 3_001
    }
    fn net(&self) -> (i64, i64) {
        (
            self.opened - self.resolved + self.reopened,
            self.opened_minor() - self.resolved_minor() + self.reopened_minor(),
        )
    }
}

fn first_month() -> NaiveDate {
    date("2024-01-01")
}

fn month(index: u32) -> NaiveDate {
    first_month() + Months::new(index)
}

fn cell() -> impl Strategy<Value = (u32, usize, Cell)> {
    (
        0u32..30,
        0..KEYS.len(),
        (0i64..4, 0i64..4, 0i64..2, 0i64..3, 0i64..2),
    )
        .prop_map(
            |(m, key, (opened, resolved, reopened, escalations, restated))| {
                (
                    m,
                    key,
                    Cell {
                        opened,
                        resolved,
                        reopened,
                        escalations,
                        restated,
                    },
                )
            },
        )
}

fn report_query() -> impl Strategy<Value = (PeriodKind, u32, u32, Option<usize>)> {
    (
        prop_oneof![
            Just(PeriodKind::Month),
            Just(PeriodKind::Quarter),
            Just(PeriodKind::Year)
        ],
        0u32..30,
        0u32..14,
        prop_oneof![Just(None), Just(Some(0)), Just(Some(1))],
    )
}

async fn execute(pool: &Pool, sql: &str) {
    match pool {
        Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Replaces the statistics with `cells`, each month's rows holding the stock at its end (net
/// flows up to it) of every key with items open then, as the projector keeps them.
async fn store(pool: &Pool, cells: &BTreeMap<(u32, usize), Cell>) {
    execute(pool, "DELETE FROM root_cause_monthly").await;
    let months: BTreeSet<u32> = cells.keys().map(|(m, _)| *m).collect();
    let mut stock = [(0i64, 0i64); KEYS.len()];
    for m in months {
        for (key, [category, code, branch, channel, currency, team, counterparty, incident]) in
            KEYS.iter().enumerate()
        {
            let c = cells.get(&(m, key));
            if let Some(c) = c {
                stock[key].0 += c.net().0;
                stock[key].1 += c.net().1;
            }
            if c.is_none() && stock[key] == (0, 0) {
                continue;
            }
            let c = c.copied().unwrap_or_default();
            execute(
                pool,
                &format!(
                    "INSERT INTO root_cause_monthly (month, category, code, branch, channel,
                         currency, team, counterparty, incident, opened_count, opened_minor,
                         resolved_count, resolved_minor, reopened_count, reopened_minor,
                         escalations, restated_items, open_at_end_count, open_at_end_minor)
                     VALUES ('{}', '{category}', '{code}', '{branch}', '{channel}', '{currency}',
                         '{team}', '{counterparty}', '{incident}',
                         {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    month(m),
                    c.opened,
                    c.opened_minor(),
                    c.resolved,
                    c.resolved_minor(),
                    c.reopened,
                    c.reopened_minor(),
                    c.escalations,
                    c.restated,
                    stock[key].0,
                    stock[key].1
                ),
            )
            .await;
        }
    }
}

/// One row as the sums say it should be: (key, opened, resolved, reopened, open at end,
/// escalations, restated, change in opened / resolved / open at end / escalations).
type Expected = (usize, [(i64, String); 4], [i64; 2], [i64; 4]);

fn expected(
    cells: &BTreeMap<(u32, usize), Cell>,
    start: NaiveDate,
    end: NaiveDate,
    branch: Option<&str>,
) -> Vec<Expected> {
    let before = start - Months::new(months_between(start, end));
    let mut keys: BTreeSet<usize> = BTreeSet::new();
    let mut now: BTreeMap<usize, Cell> = BTreeMap::new();
    let mut then: BTreeMap<usize, Cell> = BTreeMap::new();
    let mut open_end: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    let mut open_start: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    for ((m, cell), c) in cells {
        if branch.is_some_and(|b| KEYS[*cell][2] != b) {
            continue;
        }
        let key = &cause_of(*cell);
        let at = month(*m);
        if at >= before && at < start {
            then.entry(*key).or_default().add(c);
        }
        if at >= start && at < end {
            now.entry(*key).or_default().add(c);
        }
        for (open, bound) in [(&mut open_end, end), (&mut open_start, start)] {
            if at < bound {
                let entry = open.entry(*key).or_default();
                entry.0 += c.net().0;
                entry.1 += c.net().1;
            }
        }
        keys.insert(*key);
    }
    let mut rows: Vec<Expected> = keys
        .into_iter()
        .filter_map(|key| {
            let f = now.get(&key).copied().unwrap_or_default();
            let b = then.get(&key).copied().unwrap_or_default();
            let open = open_end.get(&key).copied().unwrap_or_default();
            let open_before = open_start.get(&key).copied().unwrap_or_default();
            if f == Cell::default()
                && b == Cell::default()
                && open == (0, 0)
                && open_before == (0, 0)
            {
                return None;
            }
            let currency = KEYS[key][4];
            let amount = |minor: i64| format_minor_units(minor, currency);
            Some((
                key,
                [
                    (f.opened, amount(f.opened_minor())),
                    (f.resolved, amount(f.resolved_minor())),
                    (f.reopened, amount(f.reopened_minor())),
                    (open.0, amount(open.1)),
                ],
                [f.escalations, f.restated],
                [
                    f.opened - b.opened,
                    f.resolved - b.resolved,
                    open.0 - open_before.0,
                    f.escalations - b.escalations,
                ],
            ))
        })
        .collect();
    rows.sort_by_key(|row| KEYS[row.0]);
    rows
}

/// The length of a period: 1, 3 or 12 months.
fn months_between(start: NaiveDate, end: NaiveDate) -> u32 {
    (1..=12)
        .find(|n| start + Months::new(*n) == end)
        .expect("a period of whole months")
}

fn report_equals_sums_over_the_cells(backend: Backend) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let h = runtime.block_on(Harness::new(backend, "UTC"));
    TestRunner::new(Config::with_cases(32))
        .run(
            &(
                proptest::collection::vec(cell(), 0..40),
                report_query(),
                proptest::sample::subsequence(CauseDimension::ALL.to_vec(), 1..=4).prop_shuffle(),
            ),
            |(cells, (kind, from, periods, branch), by)| {
                let mut stored: BTreeMap<(u32, usize), Cell> = BTreeMap::new();
                for (m, key, c) in cells {
                    stored.entry((m, key)).or_default().add(&c);
                }
                let branch = branch.map(|b| ["SH-001", "BJ-001"][b]);
                let from = month(from);
                let to = match kind {
                    PeriodKind::Month => from + Months::new(periods),
                    PeriodKind::Quarter => from + Months::new(3 * (periods % 5)),
                    PeriodKind::Year => from + Months::new(12 * (periods % 3)),
                };
                let query = RootCauseQuery::new(
                    kind,
                    from,
                    to,
                    branch.map(|b| BranchCode::parse(b).expect("branch")),
                )
                .expect("query");
                runtime.block_on(async {
                    store(h.log.pool(), &stored).await;
                    let report = h.reports().root_causes(&query).await.expect("report");
                    prop_assert!(!report.periods.is_empty());
                    for period in &report.periods {
                        let actual: Vec<Expected> = period
                            .rows
                            .iter()
                            .map(|r| {
                                let key = KEYS
                                    .iter()
                                    .position(|k| {
                                        k[..5]
                                            == [
                                                r.key.category.as_str(),
                                                &r.key.code,
                                                &r.key.branch,
                                                &r.key.channel,
                                                &r.key.currency,
                                            ]
                                    })
                                    .expect("a stored key");
                                (
                                    key,
                                    [&r.opened, &r.resolved, &r.reopened, &r.open_at_end]
                                        .map(|c| (c.count, c.amount.clone())),
                                    [r.escalations, r.restated_items],
                                    [
                                        r.change.opened,
                                        r.change.resolved,
                                        r.change.open_at_end,
                                        r.change.escalations,
                                    ],
                                )
                            })
                            .collect();
                        prop_assert_eq!(
                            actual,
                            expected(&stored, period.start, period.end, branch),
                            "period {}",
                            &period.period
                        );
                    }
                    let summary = h
                        .reports()
                        .cause_summary(
                            &CauseSummaryQuery::new(query.clone(), by.clone()).expect("by"),
                        )
                        .await
                        .expect("summary");
                    let periods: Vec<(NaiveDate, NaiveDate)> =
                        report.periods.iter().map(|p| (p.start, p.end)).collect();
                    prop_assert_eq!(
                        summary_from_cells(&stored, &periods, branch, &by),
                        summary_counts(&summary)
                    );
                    Ok(())
                })
            },
        )
        .expect("report equals the sums over its cells");
}

/// Per period, each summary key's (opened, resolved, open at end, escalations, previously
/// opened), and the period's total.
type SummaryCounts = Vec<(BTreeMap<Vec<String>, [i64; 5]>, [i64; 5])>;

/// The summary's counts summed straight over the cells: per key of the dimensions `by` and
/// currency, the period's flows, the items open at its end and those opened the period before;
/// a key is listed when any of its currencies flowed or has items open.
fn summary_from_cells(
    cells: &BTreeMap<(u32, usize), Cell>,
    periods: &[(NaiveDate, NaiveDate)],
    branch: Option<&str>,
    by: &[CauseDimension],
) -> SummaryCounts {
    let dimension = |cell: usize, d: &CauseDimension| {
        let i = CauseDimension::ALL
            .iter()
            .position(|a| a == d)
            .expect("a dimension");
        KEYS[cell][i].to_owned()
    };
    periods
        .iter()
        .map(|&(start, end)| {
            let before = start - Months::new(months_between(start, end));
            let mut groups: BTreeMap<(Vec<String>, &str), (Cell, i64, i64)> = BTreeMap::new();
            for ((m, cell), c) in cells {
                if branch.is_some_and(|b| KEYS[*cell][2] != b) {
                    continue;
                }
                let key: Vec<String> = by.iter().map(|d| dimension(*cell, d)).collect();
                let group = groups.entry((key, KEYS[*cell][4])).or_default();
                let at = month(*m);
                if at >= start && at < end {
                    group.0.add(c);
                }
                if at < end {
                    group.1 += c.net().0;
                }
                if at >= before && at < start {
                    group.2 += c.opened;
                }
            }
            let present: BTreeSet<&Vec<String>> = groups
                .iter()
                .filter(|(_, (flows, open, _))| *flows != Cell::default() || *open != 0)
                .map(|((key, _), _)| key)
                .collect();
            let mut keys: BTreeMap<Vec<String>, [i64; 5]> = BTreeMap::new();
            let mut total = [0; 5];
            for ((key, _), (flows, open, previous)) in &groups {
                if !present.contains(key) {
                    continue;
                }
                let figures = keys.entry(key.clone()).or_default();
                let row = [
                    flows.opened,
                    flows.resolved,
                    *open,
                    flows.escalations,
                    *previous,
                ];
                for i in 0..5 {
                    figures[i] += row[i];
                    total[i] += row[i];
                }
            }
            (keys, total)
        })
        .collect()
}

fn summary_counts(summary: &suspense_read_models::CauseSummary) -> SummaryCounts {
    let figures = |r: &suspense_read_models::SummaryRow| {
        [
            r.opened,
            r.resolved,
            r.open_at_end,
            r.escalations,
            r.previous_opened,
        ]
    };
    summary
        .periods
        .iter()
        .map(|period| {
            (
                period
                    .rows
                    .iter()
                    .map(|r| (r.key.clone(), figures(r)))
                    .collect(),
                figures(&period.total),
            )
        })
        .collect()
}

#[test]
fn report_equals_sums_over_the_cells_on_sqlite() {
    report_equals_sums_over_the_cells(Backend::Sqlite);
}

#[test]
fn report_equals_sums_over_the_cells_on_postgres() {
    report_equals_sums_over_the_cells(Backend::Postgres);
}
