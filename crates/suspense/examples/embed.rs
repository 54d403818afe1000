//! A bank service embedding the suspense ledger: one item's life from booking to approved
//! write-off, then its audit history.
//!
//! ```text
//! cargo run -p suspense --example embed                 # ./suspense-example.db
//! cargo run -p suspense --example embed -- postgres://127.0.0.1/suspense
//! ```

use chrono::Utc;
use suspense::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let location = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./suspense-example.db".to_owned());
    let ledger = Suspense::open(&location).await?;

    let teller = Actor::new(UserId::parse("teller-7")?).with_source("core-banking");
    let officer = Actor::new(UserId::parse("li.wei")?).with_source("ops-console");
    let supervisor = Actor::new(UserId::parse("zhang.min")?).with_source("ops-console");

    // 1. Core banking books an unidentifiable incoming transfer to suspense.
    let today = Utc::now().date_naive();
    let reference = format!("SH-{}", Utc::now().format("%Y%m%d-%H%M%S%3f"));
    let opened = ledger
        .open_item(
            &teller,
            OpenItem {
                reference: SourceReference::parse("CORE", &reference)?,
                account: AccountNumber::parse("2241-01")?,
                branch: BranchCode::parse("SH-001")?,
                channel: Channel::OnlineBanking,
                amount: Money::parse("1250.00", "CNY")?,
                direction: Direction::Credit,
                booked_on: today,
                value_date: today,
                description: Note::parse("incoming transfer, beneficiary name does not match")?,
                customer_impact: CustomerImpact {
                    funds_held: true,
                    fee: None,
                    customer: None,
                },
            },
        )
        .await?;
    let item = opened.item_id;
    println!("opened item {item} for reference CORE/{reference}");

    // 2. The handling team classifies, takes it, and clears part of it.
    ledger
        .execute(
            &officer,
            item,
            ItemAction::Classify {
                category: RootCauseCategory::CustomerCause,
                code: RootCauseCode::parse("CUS-REFERENCE")?,
                reason: None,
                attribution: Default::default(),
            },
        )
        .await?;
    ledger
        .execute(
            &supervisor,
            item,
            ItemAction::Assign {
                team: TeamId::parse("recon-sh")?,
                assignee: Some(UserId::parse("li.wei")?),
                reason: None,
            },
        )
        .await?;
    ledger
        .execute(
            &officer,
            item,
            ItemAction::RecordClearing {
                clearing_reference: Reference::parse("CLR-0001")?,
                amount: Money::parse("1000.00", "CNY")?,
            },
        )
        .await?;

    // 3. The rest is written off: proposed by one person, approved by another.
    let outstanding = ledger
        .item(item)
        .await?
        .map(|loaded| loaded.state.outstanding())
        .ok_or("the item just opened is missing")?;
    let write_off = ResolutionRequest {
        method: ResolutionMethod::WrittenOff,
        amount: outstanding,
        posted_to: None,
        note: Some(Note::parse("remitter unreachable after three attempts")?),
    };
    match ledger
        .execute(&officer, item, ItemAction::Resolve(write_off.clone()))
        .await
    {
        Err(Error::Rejected(rule)) => println!("direct write-off refused: {rule}"),
        other => {
            return Err(format!("expected the write-off to need approval, got {other:?}").into())
        }
    }
    ledger
        .execute(&officer, item, ItemAction::ProposeResolution(write_off))
        .await?;
    ledger
        .execute(
            &supervisor,
            item,
            ItemAction::ApproveResolution { note: None },
        )
        .await?;

    // 4. What an auditor sees.
    let state = ledger.item(item).await?.ok_or("item missing")?;
    println!(
        "item is {} at version {}; cleared {} of {}",
        state.state.status().as_str(),
        state.version,
        state.state.cleared,
        state.state.opened.amount
    );
    println!("{:>3}  {:<19}  {:<10}  event", "seq", "recorded at", "by");
    for event in ledger.history(item).await? {
        println!(
            "{:>3}  {}  {:<10}  {}",
            event.sequence,
            event.recorded_at.format("%Y-%m-%d %H:%M:%S"),
            event.event.by().as_str(),
            event.event_type
        );
    }
    // 5. What a reporting job sees once the read models have caught up.
    ledger.refresh().await?;
    let month = today;
    let report = ledger
        .reports()
        .root_causes(&RootCauseQuery::new(PeriodKind::Month, month, month, None)?)
        .await?;
    for period in &report.periods {
        println!("root causes {} ({}):", period.period, report.time_zone);
        for row in &period.rows {
            println!(
                "  {:<16} {:<18} {:<8} opened {} ({} {}), resolved {}, open at end {}",
                row.key.category,
                row.key.code,
                row.key.branch,
                row.opened.count,
                row.opened.amount,
                row.key.currency,
                row.resolved.count,
                row.open_at_end.count
            );
        }
    }
    for balance in ledger.reports().open_balance().await? {
        println!(
            "open balance {}: {} items, {} outstanding",
            balance.currency, balance.open_items, balance.outstanding
        );
    }
    ledger.close().await;
    Ok(())
}
