//! The demo's organisation registry and escalation policy, and the watch list it prints: so
//! a new user sees branches checked, clocks as data, and what will breach next.

use chrono::{Duration, NaiveDate};
use suspense::{Actor, Suspense};
use suspense_domain::organisation::{Branch, Jurisdiction, PublishOrganisation, Team};
use suspense_domain::policy::{ApprovalBand, EscalationRule, PublishPolicy, ReminderRule};
use suspense_domain::{
    BranchCode, Currency, Decimal, EscalationLevel, Note, RootCauseCategory, TeamId, UserId,
};
use suspense_read_models::WatchQuery;

use super::BRANCHES;
use crate::cli::CliError;

/// Publishes the registry (head office above the demo's branches, its one team) and a
/// bank-neutral policy (30 / 60 / 90 days; approvals by amount), in force from a year ago.
pub async fn publish(ledger: &Suspense, today: NaiveDate) -> Result<(), CliError> {
    let admin = Actor::new(UserId::parse("demo-admin")?).with_source("demo");
    let from = today - Duration::days(366);
    let head_office = BranchCode::parse("HO")?;
    let cn = Jurisdiction::parse("CN")?;
    let branch = |code: BranchCode, parent: Option<BranchCode>| Branch {
        code,
        name: None,
        parent,
        region: None,
        jurisdiction: Some(cn.clone()),
    };
    let mut branches = vec![branch(head_office.clone(), None)];
    for code in BRANCHES {
        branches.push(branch(BranchCode::parse(code)?, Some(head_office.clone())));
    }
    ledger
        .publish_organisation(
            &admin,
            PublishOrganisation {
                effective_from: from,
                reason: Note::parse("the demo bank's branches")?,
                branches,
                teams: vec![Team {
                    id: TeamId::parse("recon")?,
                    branch: head_office,
                }],
            },
        )
        .await?;
    let cny = Currency::parse("CNY")?;
    let band = |above: i64, approvals: u8| ApprovalBand {
        currency: cny,
        above: Decimal::new(above, 0),
        approvals,
        another_branch: approvals > 1,
    };
    ledger
        .publish_policy(
            &admin,
            PublishPolicy {
                effective_from: from,
                reason: Note::parse("the demo bank's clocks")?,
                rules: vec![
                    EscalationRule::after_days(30, EscalationLevel::TeamLead),
                    EscalationRule::after_days(60, EscalationLevel::Department),
                    EscalationRule::after_days(90, EscalationLevel::Management),
                ],
                approval_bands: vec![band(100_000, 1), band(1_000_000, 2)],
                // Customers whose own error booked the item are reminded 3 and 10 days on.
                reminders: vec![ReminderRule {
                    category: Some(RootCauseCategory::CustomerCause),
                    branches: Vec::new(),
                    days_after_booking: vec![3, 10],
                }],
            },
        )
        .await?;
    Ok(())
}

/// The first entries of the watch list a week ahead.
pub async fn print_watch_list(ledger: &Suspense, today: NaiveDate) -> Result<(), CliError> {
    let viewer = Actor::new(UserId::parse("demo")?);
    let list = ledger
        .watch_list(&viewer, &WatchQuery::new(today, 7, 5)?)
        .await?;
    for group in &list.groups {
        outln!(
            "watch list {}: {} items cross a threshold within 7 days or are older than their cause usually takes; `suspense items watch` lists them:",
            group.currency,
            group.listed
        )?;
        for entry in &group.entries {
            outln!(
                "  {:<20} {:<8} {:>4} days {:>12} outstanding, ratio {}",
                entry.reference,
                entry.branch,
                entry.age_days,
                entry.outstanding.amount(),
                entry.overdue_ratio
            )?;
        }
    }
    Ok(())
}
