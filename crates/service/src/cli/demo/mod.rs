//! `suspense demo`: a realistic synthetic year of suspense items, so that a new user sees real
//! reports in one command. Seeds an empty database (a non-empty one is left as it is), prints
//! the last quarter's root causes and the open balance, then serves the API with demo users.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use suspense::{Actor, Suspense};
use suspense_domain::plan::Month;
use suspense_domain::{
    AccountNumber, Attribution, BranchCode, Channel, Clock, Counterparties, CounterpartyCode,
    CustomerImpact, Direction, EscalationLevel, EscalationReason, ItemAction, ItemId, Money, Note,
    OpenItem, RecordVolume, Reference, ResolutionMethod, ResolutionRequest, RootCauseCatalogue,
    RootCauseCategory, RootCauseCode, SourceReference, TeamId, UserId,
};
use suspense_read_models::{CauseDimension, CauseSummaryQuery, Period, PeriodKind, RootCauseQuery};
use tokio::net::TcpListener;

use super::{settings, Cli, CliError};
use crate::auth::{new_token, token_hash, Principal, Role};
use crate::dto::CauseSummaryView;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "SUSPENSE_LISTEN")]
    pub listen: Option<String>,
    /// Seed and print the reports, then exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Items to book over the year.
    #[arg(long, default_value_t = 1500)]
    pub items: usize,
}

mod early_warning;
mod incident;
mod plan;

/// The business clock the demo moves through the year; once the year is loaded it follows
/// the system clock again.
struct DemoClock(Mutex<Option<DateTime<Utc>>>);

impl Clock for DemoClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().ok().and_then(|t| *t).unwrap_or_else(Utc::now)
    }
}

impl DemoClock {
    fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = Some(at);
        }
    }

    fn release(&self) {
        if let Ok(mut now) = self.0.lock() {
            *now = None;
        }
    }
}

/// A small deterministic generator, so every demo shows the same year.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next(100) < percent
    }
}

const BRANCHES: [&str; 5] = ["SH-001", "SH-002", "BJ-001", "GZ-001", "SZ-001"];

/// The demo bank's counterparties, configured for a fresh demo.
const DEMO_COUNTERPARTIES: &str = "[counterparties]
ALIPAY = \"支付宝\"
TENPAY = \"财付通\"
UNIONPAY = \"银联\"
PARTNER-BANK = \"合作银行\"
";

/// The demo bank's time zone, configured for a fresh demo.
const DEMO_TIME_ZONE: &str = "Asia/Shanghai";

/// A demo on an empty database with no configuration file writes one that sets the demo
/// bank's time zone and counterparties, so its reports, and every later command run beside them, count days
/// in Shanghai time. An existing file or database is left as it is: read models are built
/// in one time zone, and changing it means a rebuild.
async fn configure_time_zone(cli: &Cli) -> Result<(), CliError> {
    if cli.config.exists() || std::env::var_os("SUSPENSE_CONFIG").is_some() {
        return Ok(());
    }
    let settings = settings(cli, None)?;
    let location = suspense::store::StoreLocation::parse(&settings.database_url)?;
    let log = suspense::store::EventLog::open(
        &location,
        suspense_domain::ItemServices::new(
            Arc::new(suspense::SystemClock),
            settings.catalogue.clone(),
            settings.approval.clone(),
        ),
        &Default::default(),
    )
    .await?;
    let head = log.head().await;
    log.close().await;
    if head? == 0 {
        std::fs::write(
            &cli.config,
            format!(
                "# Written by `suspense demo` for its synthetic bank.\ntime_zone = \"{DEMO_TIME_ZONE}\"\n\n{DEMO_COUNTERPARTIES}"
            ),
        )?;
        eprintln!(
            "wrote {}: the demo bank's time zone ({DEMO_TIME_ZONE}) and counterparties",
            cli.config.display()
        );
    }
    Ok(())
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    configure_time_zone(cli).await?;
    let mut settings = settings(cli, args.listen.clone())?;
    let clock = Arc::new(DemoClock(Mutex::new(None)));
    let ledger = crate::app::open_ledger_with_clock(&settings, clock.clone()).await?;
    let today = settings.calendar.local_date(Utc::now());
    if ledger.log().head().await? == 0 {
        eprintln!("loading a synthetic year of {} suspense items…", args.items);
        seed(&ledger, &clock, today, args.items).await?;
        let calendar = plan::DemoCalendar {
            start: Month::of(today - Duration::days(365)),
        };
        plan::seed(&ledger, &clock, &calendar).await?;
        clock.release();
        early_warning::publish(&ledger, today).await?;
        incident::seed(&ledger, today).await?;
        ledger.refresh().await?;
        plan::sign_last_ended_phase(&ledger, today).await?;
    } else {
        eprintln!(
            "{} already holds data; not seeding it again",
            ledger.log().location()
        );
    }
    ledger.refresh().await?;
    let quarter_start = today - Duration::days(90);
    let last_month = Period::containing(PeriodKind::Month, today).previous();
    let query = CauseSummaryQuery::new(
        RootCauseQuery::new(PeriodKind::Month, last_month.start, last_month.start, None)?,
        vec![CauseDimension::Category],
    )?;
    let summary = CauseSummaryView::from(&ledger.reports().cause_summary(&query).await?);
    outln!(
        "root causes of the last month; `suspense report root-causes --by category,code` cuts \
         any period finer, `--full` shows every branch and channel:"
    )?;
    out!("{}", super::report::cause_summary_table(&summary))?;
    plan::print_evaluations(&ledger, today).await?;
    early_warning::print_watch_list(&ledger, today).await?;
    incident::print(&ledger).await?;
    for balance in ledger.reports().open_balance().await? {
        outln!(
            "open balance {}: {} items, {} outstanding",
            balance.currency,
            balance.open_items,
            balance.outstanding
        )?;
    }
    if args.no_serve {
        ledger.close().await;
        return Ok(());
    }
    if settings.users.is_empty() {
        outln!("\ndemo users (tokens valid for this run only):")?;
        for (name, roles) in [
            ("demo-operator", vec![Role::Operator]),
            ("demo-supervisor", vec![Role::Supervisor]),
            ("demo-reporter", vec![Role::Reporter, Role::Auditor]),
        ] {
            let token = new_token().map_err(|e| CliError::Other(e.to_string()))?;
            settings.users.add(
                &token_hash(&token),
                Principal::new(UserId::parse(name)?, roles),
            )?;
            outln!("  {name:<16} {token}")?;
        }
    }
    let listener = TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    outln!("\nlistening on http://{address}")?;
    outln!("try: curl -H 'Authorization: Bearer <demo-reporter token>' 'http://{address}/v1/reports/root-causes?period=quarter&from={quarter_start}&to={today}&format=csv'")?;
    crate::app::serve_ledger(Arc::new(ledger), settings, listener)
        .await
        .map_err(|e| CliError::Other(e.to_string()))
}

async fn seed(
    ledger: &Suspense,
    clock: &DemoClock,
    today: NaiveDate,
    items: usize,
) -> Result<(), CliError> {
    let catalogue: Vec<_> = RootCauseCatalogue::default()
        .entries()
        .iter()
        .map(|(c, e)| (c.clone(), e.category))
        .collect();
    let partners = ledger.log().services().counterparties.clone();
    let mut dice = Dice(20_260_331);
    let start = today - Duration::days(365);
    let trained = plan::DemoCalendar {
        start: Month::of(start),
    }
    .training_done()?;
    let who = |name: &str| UserId::parse(name).map(|u| Actor::new(u).with_source("demo"));
    let (teller, operator, supervisor) = (who("teller-demo")?, who("ops-demo")?, who("lead-demo")?);
    let at = |day: NaiveDate, hour: u32| {
        Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
    };
    let mut plan: Vec<(DateTime<Utc>, usize, Step)> = Vec::new();
    for n in 0..items {
        let booked = start + Duration::days(dice.next(365) as i64);
        plan.push((
            at(booked, 2 + dice.next(8) as u32),
            n,
            Step::Open { booked },
        ));
        plan.push((
            at(booked + Duration::days(1 + dice.next(3) as i64), 3),
            n,
            Step::Classify(cause_after_training(&mut dice, &catalogue, booked, trained)),
        ));
        plan.push((at(booked + Duration::days(1), 4), n, Step::Assign));
        if dice.chance(15) {
            plan.push((
                at(booked + Duration::days(5 + dice.next(10) as i64), 5),
                n,
                Step::PartialClear,
            ));
        }
        if dice.chance(5) {
            plan.push((
                at(booked + Duration::days(8), 5),
                n,
                Step::Reclassify(dice.next(catalogue.len() as u64) as usize),
            ));
        }
        let slow = dice.chance(20);
        let resolve_after = 1 + dice.next(if slow { 200 } else { 45 }) as i64;
        if resolve_after > 30 {
            plan.push((at(booked + Duration::days(30), 6), n, Step::Escalate));
        }
        let resolved = booked + Duration::days(resolve_after);
        if resolved < today {
            let write_off = dice.chance(4);
            plan.push((at(resolved, 7), n, Step::Resolve { write_off }));
            if dice.chance(3) && resolved + Duration::days(10) < today {
                plan.push((at(resolved + Duration::days(10), 8), n, Step::Reopen));
            }
        }
    }
    plan.sort_by_key(|(when, n, _)| (*when, *n));
    let mut ids: Vec<Option<ItemId>> = vec![None; items];
    for (when, n, step) in plan {
        if when > Utc::now() {
            continue;
        }
        clock.set(when);
        let action = match step {
            Step::Open { booked } => {
                let amount = Money::parse(
                    &format!("{}.{:02}", 50 + dice.next(80_000), dice.next(100)),
                    if dice.chance(8) { "USD" } else { "CNY" },
                )?;
                let item = OpenItem {
                    reference: SourceReference::parse(
                        "CORE",
                        &format!("DEMO-{}-{n:05}", booked.format("%Y%m%d")),
                    )?,
                    account: AccountNumber::parse("2241-01")?,
                    branch: BranchCode::parse(BRANCHES[dice.next(BRANCHES.len() as u64) as usize])?,
                    channel: Channel::ALL[dice.next(Channel::ALL.len() as u64) as usize],
                    amount,
                    direction: if dice.chance(70) {
                        Direction::Credit
                    } else {
                        Direction::Debit
                    },
                    booked_on: booked,
                    value_date: booked,
                    description: Note::parse("synthetic demo booking")?,
                    customer_impact: CustomerImpact {
                        funds_held: dice.chance(40),
                        fee: None,
                        customer: None,
                    },
                };
                ids[n] = Some(ItemId::for_reference(&item.reference));
                ledger.open_item(&teller, item).await?;
                continue;
            }
            Step::Classify(c) => ItemAction::Classify {
                category: catalogue[c].1,
                code: catalogue[c].0.clone(),
                reason: None,
                attribution: demo_attribution(n, &catalogue[c].0, catalogue[c].1, &partners)?,
            },
            Step::Reclassify(c) => ItemAction::Classify {
                category: catalogue[c].1,
                code: catalogue[c].0.clone(),
                reason: Some(Note::parse("cause corrected after investigation")?),
                attribution: demo_attribution(n, &catalogue[c].0, catalogue[c].1, &partners)?,
            },
            Step::Assign => ItemAction::Assign {
                team: TeamId::parse("recon")?,
                assignee: Some(UserId::parse("ops-demo")?),
                reason: None,
            },
            Step::Escalate => ItemAction::Escalate {
                level: EscalationLevel::TeamLead,
                reason: EscalationReason::Aging,
                note: None,
            },
            Step::PartialClear | Step::Resolve { .. } | Step::Reopen => {
                let Some(id) = ids[n] else { continue };
                let Some(item) = ledger.item(id).await? else {
                    continue;
                };
                let outstanding = item.state.outstanding();
                match step {
                    Step::PartialClear => {
                        let part = Money::from_minor_units(
                            outstanding.minor_units() / 3,
                            outstanding.currency(),
                        )?;
                        if part.is_zero() {
                            continue;
                        }
                        ItemAction::RecordClearing {
                            clearing_reference: Reference::parse("CLR-DEMO-1")?,
                            amount: part,
                        }
                    }
                    Step::Resolve { write_off } => {
                        let method = if write_off {
                            ResolutionMethod::WrittenOff
                        } else {
                            ResolutionMethod::ReturnedToSender
                        };
                        let resolution = ResolutionRequest {
                            method,
                            amount: outstanding,
                            posted_to: None,
                            note: None,
                        };
                        if write_off {
                            ledger
                                .execute(&operator, id, ItemAction::ProposeResolution(resolution))
                                .await
                                .ok();
                            ItemAction::ApproveResolution { note: None }
                        } else {
                            ItemAction::Resolve(resolution)
                        }
                    }
                    _ => ItemAction::Reopen {
                        reason: Note::parse("customer disputed the return")?,
                    },
                }
            }
        };
        let Some(id) = ids[n] else { continue };
        let actor = match &action {
            ItemAction::Escalate { .. }
            | ItemAction::Reopen { .. }
            | ItemAction::ApproveResolution { .. } => &supervisor,
            _ => &operator,
        };
        // Steps that no longer apply (an item already resolved, say) are simply skipped.
        let _ = ledger.execute(actor, id, action).await;
    }
    // Transaction volumes for the suspense rate.
    let reporter = who("demo")?;
    let mut month = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
    while month <= today {
        for branch in BRANCHES {
            let volume = 150_000 + dice.next(250_000);
            let volume =
                RecordVolume::new(BranchCode::parse(branch)?, Month::of(month), volume, None)?;
            ledger.record_volume(&reporter, volume).await?;
        }
        month = (month + Duration::days(32)).with_day(1).unwrap_or(today);
    }
    Ok(())
}

/// A cause for an item booked on `booked`: once the teller training took effect, seven in
/// ten operational errors no longer happen and the item has another cause.
fn cause_after_training(
    dice: &mut Dice,
    catalogue: &[(RootCauseCode, RootCauseCategory)],
    booked: NaiveDate,
    trained: NaiveDate,
) -> usize {
    let cause = dice.next(catalogue.len() as u64) as usize;
    let operational = |c: usize| catalogue[c].1 == RootCauseCategory::OperationalError;
    if booked < trained || !operational(cause) || !dice.chance(70) {
        return cause;
    }
    let others: Vec<usize> = (0..catalogue.len()).filter(|c| !operational(*c)).collect();
    others
        .get(dice.next(others.len() as u64) as usize)
        .copied()
        .unwrap_or(cause)
}

/// The demo's attribution of a cause: a few tellers make most of the operational errors (as
/// in a real bank, which is what an assessment finds), and the settlement platforms and a
/// partner bank are behind the external causes, where the configuration lists them.
fn demo_attribution(
    n: usize,
    code: &RootCauseCode,
    category: RootCauseCategory,
    partners: &Counterparties,
) -> Result<Attribution, CliError> {
    const TELLERS: [&str; 10] = [
        "teller-03",
        "teller-03",
        "teller-03",
        "teller-11",
        "teller-11",
        "teller-07",
        "teller-01",
        "teller-05",
        "teller-09",
        "teller-12",
    ];
    let partner = match code.as_str() {
        "EXT-TPP-SETTLEMENT" => Some(["ALIPAY", "TENPAY", "ALIPAY", "UNIONPAY"][n % 4]),
        "EXT-PARTNER" => Some("PARTNER-BANK"),
        _ => None,
    };
    Ok(Attribution {
        responsible: match category {
            RootCauseCategory::OperationalError => Some(UserId::parse(TELLERS[n % TELLERS.len()])?),
            _ => None,
        },
        counterparty: partner
            .map(CounterpartyCode::parse)
            .transpose()?
            .filter(|code| partners.contains(code)),
    })
}

#[derive(Clone, Copy)]
enum Step {
    Open { booked: NaiveDate },
    Classify(usize),
    Reclassify(usize),
    Assign,
    PartialClear,
    Escalate,
    Resolve { write_off: bool },
    Reopen,
}
