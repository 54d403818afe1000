//! The escalation sweep on a seeded log: a sweep with nothing due, and one with about 10,000
//! items due, beside baselines measured in the same run (the monthly root-cause report; the
//! library writing the same number of plain commands); then the watch list and the
//! provisioning report over the same open items, against the same report baseline.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use suspense::domain::policy::{EscalationRule, PublishPolicy};
use suspense::domain::{EscalationLevel, ItemAction, ItemId, Note, UserId};
use suspense::{Actor, Suspense};
use suspense_read_models::{PeriodKind, RootCauseQuery};
use suspense_testkit::Backend;

/// Items due in the second sweep.
const DUE: usize = 10_000;

fn rule(days: u32) -> EscalationRule {
    EscalationRule::after_days(days, EscalationLevel::TeamLead)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct Booked {
    booked_on: NaiveDate,
}

pub async fn run(backend: Backend, events: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (_db, ledger, written) = crate::seed::library_on_seeded_log(backend, events).await?;
    let started = Instant::now();
    ledger.refresh().await?;
    let open: i64 = ledger
        .reports()
        .open_balance()
        .await?
        .iter()
        .map(|b| b.open_items)
        .sum();
    println!(
        "## {backend:?}: {written} events, {open} open items (read models built in {:.1}s)",
        started.elapsed().as_secs_f64()
    );
    let at = Utc
        .with_ymd_and_hms(2026, 1, 15, 4, 0, 0)
        .single()
        .unwrap_or_default();
    let as_of = date(2026, 1, 15);
    let risk = Actor::new(UserId::parse("bench")?);
    let publish = |rules: Vec<EscalationRule>| PublishPolicy {
        effective_from: date(2025, 1, 1),
        reason: Note::parse("bench").unwrap_or_else(|e| panic!("{e}")),
        rules,
        approval_bands: Vec::new(),
        reminders: Vec::new(),
    };

    // Baseline: the monthly root-cause report.
    let month = RootCauseQuery::new(
        PeriodKind::Month,
        date(2025, 12, 1),
        date(2025, 12, 1),
        None,
    )?;
    let mut report = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        ledger.reports().root_causes(&month).await?;
        report.push(started.elapsed());
    }

    // Nothing due: every open item is younger than the rule's age.
    ledger
        .publish_policy(&risk, publish(vec![rule(36_500)]))
        .await?;
    let mut idle = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let outcome = ledger.sweep(at).await?;
        idle.push(started.elapsed());
        assert_eq!(outcome.escalated.len(), 0);
    }

    // About DUE items due: the age of the DUE-th oldest open item.
    let oldest: Vec<Booked> = sqlx_rows(&ledger, DUE).await?;
    let since = oldest.last().map_or(as_of, |b| b.booked_on);
    let days = u32::try_from((as_of - since).num_days())
        .unwrap_or(1)
        .max(1);
    ledger
        .publish_policy(&risk, publish(vec![rule(days)]))
        .await?;
    let started = Instant::now();
    let outcome = ledger.sweep(at).await?;
    let sweep = started.elapsed();
    let escalated = outcome.escalated.len();

    // Baseline: the library writing as many plain commands (a comment each) on other items,
    // as many at once as the sweep.
    let others: Vec<ItemId> = outcome.escalated.iter().map(|(id, _)| *id).collect();
    let comment = ItemAction::Comment {
        text: Note::parse("bench")?,
    };
    let started = Instant::now();
    let commands: Vec<_> = others
        .iter()
        .map(|id| ledger.execute(&risk, *id, comment.clone()))
        .collect();
    let done: Vec<_> = futures::stream::iter(commands)
        .buffer_unordered(16)
        .collect()
        .await;
    let plain = started.elapsed();
    let plain_ok = done.iter().filter(|r| r.is_ok()).count();

    // The watch list a week ahead, and the provisioning report with about DUE items listed.
    ledger.refresh().await?;
    let query = suspense::read_models::WatchQuery::new(as_of, 7, 50)?;
    let mut watch = Vec::new();
    let mut watched = 0;
    for _ in 0..11 {
        let started = Instant::now();
        let list = ledger.watch_list(&risk, &query).await?;
        watch.push(started.elapsed());
        watched = list.groups.iter().map(|g| g.listed).sum();
    }
    let provide = EscalationRule {
        action: Some(suspense::domain::policy::RegulatoryAction::Provision {
            percent: suspense::domain::Decimal::new(50, 0),
        }),
        ..rule(days)
    };
    ledger.publish_policy(&risk, publish(vec![provide])).await?;
    let mut provisioning = Vec::new();
    let mut provisioned = 0;
    for _ in 0..11 {
        let started = Instant::now();
        let report = ledger.provisioning(&risk, as_of).await?;
        provisioning.push(started.elapsed());
        provisioned = report.items.len();
    }

    let mut report_again = Vec::new();
    for _ in 0..11 {
        let started = Instant::now();
        ledger.reports().root_causes(&month).await?;
        report_again.push(started.elapsed());
    }
    let p50 = |mut t: Vec<Duration>| {
        t.sort();
        t[t.len() / 2].as_secs_f64() * 1000.0
    };
    let per_second = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!("\n| measure | figure |");
    println!("|---|---:|");
    println!(
        "| monthly root-cause report, p50 (baseline) | {:.2} ms |",
        p50(report)
    );
    println!("| sweep with nothing due, p50 | {:.2} ms |", p50(idle));
    println!(
        "| sweep with {escalated} due ({} candidates) | {:.2} s, {:.0} escalations/s |",
        outcome.candidates,
        sweep.as_secs_f64(),
        per_second(escalated, sweep)
    );
    println!(
        "| library, {plain_ok} comments 16 at a time (baseline) | {:.2} s, {:.0} commands/s |",
        plain.as_secs_f64(),
        per_second(plain_ok, plain)
    );
    println!(
        "| sweep / library | {:.2} |",
        per_second(escalated, sweep) / per_second(plain_ok, plain).max(1e-9)
    );
    let (watch, provisioning) = (p50(watch), p50(provisioning));
    let report = p50(report_again);
    println!("| watch list, 7 days ahead ({watched} listed), p50 | {watch:.2} ms, {:.1}× the monthly report |", watch / report.max(1e-9));
    println!("| provisioning report ({provisioned} items), p50 | {provisioning:.2} ms, {:.1}× the monthly report |\n", provisioning / report.max(1e-9));
    ledger.close().await;
    Ok(())
}

/// The booking dates of the `n` oldest open items.
async fn sqlx_rows(ledger: &Suspense, n: usize) -> Result<Vec<Booked>, sqlx::Error> {
    let mut q = suspense_database::Statement::new(
        "SELECT booked_on FROM item_register WHERE status = 'open' ORDER BY booked_on LIMIT ",
    );
    q.push_param(i64::try_from(n).unwrap_or(i64::MAX));
    q.fetch_all(ledger.log().pool()).await
}
