//! Rebuilding a read model from the log gives exactly what incremental projection kept:
//! for random histories, while writers run, and (PostgreSQL) under racing writers that commit
//! out of order or roll back. `cargo test rebuild` selects these. Also over random histories:
//! aging as of a date reads the same whichever route answers it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Days;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use suspense_domain::{
    EscalationLevel, EscalationReason, ItemAction, ItemCommand, ItemId, Money, Note, Reference,
    ResolutionMethod, ResolutionRequest, RootCauseCatalogue,
};
use suspense_read_models::{AgingPolicy, ReadModel, ReadModelSnapshot};
use suspense_store::{RequestMetadata, StoreError};

#[derive(Debug, Clone)]
enum Op {
    Open {
        amount: usize,
        branch: usize,
        back_days: i64,
    },
    Classify {
        code: usize,
        reason: bool,
    },
    Escalate {
        level: usize,
    },
    Clear {
        reference: usize,
        amount: usize,
    },
    ResolveAll,
    Reopen,
    Comment,
    Assign {
        team: usize,
    },
    /// An external cause attributed to a counterparty (or to none).
    Attribute {
        counterparty: Option<usize>,
    },
    Link {
        incident: usize,
    },
    Unlink {
        incident: usize,
    },
    /// The customer side: impact, a fee and its refund, a complaint, a reminder.
    Customer {
        funds_held: bool,
    },
    Fee {
        amount: usize,
    },
    Refund {
        amount: usize,
    },
    Complaint {
        close: bool,
    },
    Remind {
        day: u32,
    },
    CatchUp,
}

const TEAMS: [&str; 2] = ["recon", "it-desk"];
const COUNTERPARTIES: [&str; 2] = ["ALIPAY", "UNIONPAY"];
const INCIDENTS: [&str; 2] = ["INC-1", "INC-2"];

const AMOUNTS: [&str; 4] = ["100.00", "250.50", "0.01", "999.99"];

fn op() -> impl Strategy<Value = (usize, i64, Op)> {
    let op = prop_oneof![
        (0..4usize, 0..2usize, 0..60i64).prop_map(|(amount, branch, back_days)| Op::Open {
            amount,
            branch,
            back_days
        }),
        (0..14usize, any::<bool>()).prop_map(|(code, reason)| Op::Classify { code, reason }),
        (0..3usize).prop_map(|level| Op::Escalate { level }),
        (0..3usize, 0..4usize).prop_map(|(reference, amount)| Op::Clear { reference, amount }),
        Just(Op::ResolveAll),
        Just(Op::Reopen),
        Just(Op::Comment),
        (0..2usize).prop_map(|team| Op::Assign { team }),
        proptest::option::of(0..2usize).prop_map(|counterparty| Op::Attribute { counterparty }),
        (0..2usize).prop_map(|incident| Op::Link { incident }),
        (0..2usize).prop_map(|incident| Op::Unlink { incident }),
        any::<bool>().prop_map(|funds_held| Op::Customer { funds_held }),
        (0..4usize).prop_map(|amount| Op::Fee { amount }),
        (0..4usize).prop_map(|amount| Op::Refund { amount }),
        any::<bool>().prop_map(|close| Op::Complaint { close }),
        (1..20u32).prop_map(|day| Op::Remind { day }),
        Just(Op::CatchUp),
    ];
    // (item, hours the clock moves forward, op)
    (0..4usize, 0..400i64, op)
}

async fn apply(h: &Harness, case: usize, item: usize, op: &Op) {
    let reference = format!("C{case}-I{item}");
    let mut open = booking(&reference, "1");
    let id = ItemId::for_reference(&open.reference);
    let action = match op {
        Op::CatchUp => {
            h.projector.refresh(WAIT).await.expect("catches up");
            return;
        }
        Op::Open {
            amount,
            branch,
            back_days,
        } => {
            open.amount = Money::parse(AMOUNTS[*amount], "CNY").expect("amount");
            open.branch =
                suspense_domain::BranchCode::parse(["SH-001", "BJ-001"][*branch]).expect("branch");
            let today = suspense_domain::Clock::now(&*h.clock).date_naive();
            open.booked_on = today - Days::days(*back_days);
            open.value_date = open.booked_on;
            ItemAction::Open(open)
        }
        Op::Classify { code, reason } => {
            let (code, entry) = RootCauseCatalogue::default()
                .entries()
                .iter()
                .nth(*code)
                .map(|(c, e)| (c.clone(), e.clone()))
                .expect("14 codes");
            ItemAction::Classify {
                category: entry.category,
                code,
                reason: reason.then(|| Note::parse("restated").expect("note")),
                attribution: Default::default(),
            }
        }
        Op::Escalate { level } => ItemAction::Escalate {
            level: EscalationLevel::ALL[*level],
            reason: EscalationReason::Aging,
            note: None,
        },
        Op::Clear { reference, amount } => ItemAction::RecordClearing {
            clearing_reference: Reference::parse(&format!("CLR-{reference}")).expect("reference"),
            amount: Money::parse(AMOUNTS[*amount], "CNY").expect("amount"),
        },
        Op::ResolveAll => {
            let Some(loaded) = h.log.load(id).await.expect("loads") else {
                return;
            };
            ItemAction::Resolve(ResolutionRequest {
                method: ResolutionMethod::Refunded,
                amount: loaded.state.outstanding(),
                posted_to: None,
                note: None,
            })
        }
        Op::Reopen => ItemAction::Reopen {
            reason: Note::parse("bounced").expect("note"),
        },
        Op::Comment => ItemAction::Comment {
            text: Note::parse("noted").expect("note"),
        },
        Op::Assign { team } => ItemAction::Assign {
            team: suspense_domain::TeamId::parse(TEAMS[*team]).expect("team"),
            assignee: None,
            reason: None,
        },
        Op::Attribute { counterparty } => ItemAction::Classify {
            category: suspense_domain::RootCauseCategory::ExternalCause,
            code: suspense_domain::RootCauseCode::parse("EXT-PARTNER").expect("code"),
            reason: Some(Note::parse("restated").expect("note")),
            attribution: suspense_domain::Attribution {
                responsible: None,
                counterparty: counterparty.map(|c| {
                    suspense_domain::CounterpartyCode::parse(COUNTERPARTIES[c]).expect("code")
                }),
            },
        },
        // The item's half of an incident link: what the incident's command writes with it.
        Op::Link { incident } | Op::Unlink { incident } => {
            let incident =
                suspense_domain::incident::IncidentReference::parse(INCIDENTS[*incident])
                    .expect("incident");
            let reason = Note::parse("same outage").expect("note");
            if matches!(op, Op::Link { .. }) {
                ItemAction::LinkIncident { incident, reason }
            } else {
                ItemAction::UnlinkIncident { incident, reason }
            }
        }
        Op::Customer { funds_held } => ItemAction::RecordCustomerImpact {
            customer: Some(suspense_domain::CustomerReference::parse("C-0042").expect("customer")),
            funds_held: *funds_held,
        },
        Op::Fee { amount } => ItemAction::RecordFee {
            fee_reference: suspense_domain::FeeReference::parse(&format!("LATE-{amount}"))
                .expect("fee"),
            amount: Money::parse(AMOUNTS[*amount], "CNY").expect("amount"),
        },
        Op::Refund { amount } => ItemAction::RefundFee {
            fee_reference: suspense_domain::FeeReference::parse(&format!("LATE-{amount}"))
                .expect("fee"),
            amount: Money::parse("0.01", "CNY").expect("amount"),
        },
        Op::Complaint { close } => {
            let complaint = suspense_domain::ComplaintReference::parse("CMP-1").expect("complaint");
            let now = suspense_domain::Clock::now(&*h.clock);
            if *close {
                ItemAction::CloseComplaint {
                    complaint,
                    closed_at: now,
                    note: None,
                }
            } else {
                ItemAction::RecordComplaint {
                    complaint,
                    received_at: now - Days::hours(30),
                    channel: suspense_domain::ComplaintChannel::Phone,
                }
            }
        }
        Op::Remind { day } => ItemAction::RecordReminderDue {
            day: *day,
            due_on: suspense_domain::Clock::now(&*h.clock).date_naive(),
        },
    };
    match h
        .log
        .execute(
            id,
            ItemCommand::new(user("ops"), action),
            &RequestMetadata::default(),
            None,
        )
        .await
    {
        Ok(_) | Err(StoreError::Rejected(_)) => {}
        Err(other) => panic!("unexpected store error: {other}"),
    }
}

/// Catches up in batches of `batch_size` events (each folded while the one before it is
/// written), then rebuilds every model in one batch: the two must agree.
async fn rebuilt_equals_incremental(h: &Harness, batch_size: u32) -> Result<(), TestCaseError> {
    let pipelined =
        suspense_read_models::Projector::new(Arc::clone(&h.log), *h.projector.settings())
            .await
            .expect("projector")
            .with_batch_size(batch_size);
    pipelined.refresh(WAIT).await.expect("catches up");
    let incremental = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    let mismatches = month_end_stock_mismatches(&h.log).await;
    prop_assert!(mismatches.is_empty(), "{:#?}", mismatches);
    prop_assert_eq!(
        h.reports().open_balance().await.expect("balance"),
        h.reports().register_balance().await.expect("register sum"),
        "open balance ties out with the register"
    );
    prop_assert_eq!(
        cube_by_holder(&h.log).await,
        register_by_holder(&h.log).await,
        "items opened and open now per team, counterparty and incident tie out with the register"
    );
    // Rebuilt as a big log would be: on SQLite without the secondary indexes, created again
    // at the end.
    let indexes = index_definitions(&h.log).await;
    let rebuilding =
        suspense_read_models::Projector::new(Arc::clone(&h.log), *h.projector.settings())
            .await
            .expect("projector")
            .with_bulk_build_threshold(0);
    for &model in ReadModel::ALL {
        rebuilding.rebuild(model, |_| {}).await.expect("rebuilds");
    }
    let rebuilt = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    prop_assert_eq!(rebuilt, incremental);
    prop_assert_eq!(index_definitions(&h.log).await, indexes);
    Ok(())
}

/// A check run after each random history.
type Check = for<'a> fn(
    &'a Harness,
    usize,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), TestCaseError>> + 'a>,
>;

/// Plays `cases` random histories of up to `max_ops` operations on one harness (each case on
/// its own items) and runs `check` after each.
fn for_random_histories(backend: Backend, cases: u32, max_ops: usize, check: Check) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let h = runtime.block_on(Harness::new(backend, "Asia/Shanghai"));
    let case = std::sync::atomic::AtomicUsize::new(0);
    TestRunner::new(Config::with_cases(cases))
        .run(&proptest::collection::vec(op(), 1..max_ops), |ops| {
            let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(async {
                for (item, hours, op) in &ops {
                    let now = suspense_domain::Clock::now(&*h.clock);
                    h.clock.set(now + Days::hours(*hours));
                    apply(&h, case, *item, op).await;
                }
                check(&h, case).await
            })
        })
        .expect("holds for every history");
}

fn rebuild_equals_incremental_for_random_histories(backend: Backend) {
    for_random_histories(backend, 24, 60, |h, case| {
        Box::pin(rebuilt_equals_incremental(h, 1 + (case % 4) as u32))
    });
}

/// Aging as of today is read from the register while nothing is dated later, and from the
/// balance movements once something is: an item booked tomorrow must not change today's
/// aging, so the two routes must agree.
async fn aging_as_of_today_ignores_tomorrow(h: &Harness, case: usize) -> Result<(), TestCaseError> {
    h.projector.refresh(WAIT).await.expect("catches up");
    let now = suspense_domain::Clock::now(&*h.clock);
    let today = now.date_naive();
    let policy = AgingPolicy::default();
    let from_register = h.reports().aging(today, &policy).await.expect("aging");
    h.clock.set(now + Days::days(1));
    let tomorrow = Op::Open {
        amount: 0,
        branch: 0,
        back_days: 0,
    };
    apply(h, case, 99, &tomorrow).await;
    h.projector.refresh(WAIT).await.expect("catches up");
    let from_movements = h.reports().aging(today, &policy).await.expect("aging");
    prop_assert_eq!(from_movements, from_register);
    Ok(())
}

/// Aging as of any date, read from the month-end stocks (and the movements since the last
/// month end), equals aging summed item by item from every movement up to the date: at every
/// month end of the history, the days either side of it, and mid-month.
async fn aging_at_month_ends_equals_the_movements(
    h: &Harness,
    _case: usize,
) -> Result<(), TestCaseError> {
    use chrono::{Datelike, NaiveDate};
    h.projector.refresh(WAIT).await.expect("catches up");
    let today = suspense_domain::Clock::now(&*h.clock).date_naive();
    let policy = AgingPolicy::default();
    let mut month = NaiveDate::from_ymd_opt(today.year() - 1, today.month(), 1).expect("month");
    while month <= today {
        let next = month + chrono::Months::new(1);
        let end = next.pred_opt().expect("a day before");
        for as_of in [
            end.pred_opt().expect("day"),
            end,
            next,
            month + Days::days(14),
        ] {
            let stocks = h.reports().aging(as_of, &policy).await.expect("aging");
            let movements = h
                .reports()
                .aging_from_movements(as_of, &policy)
                .await
                .expect("aging");
            prop_assert_eq!(stocks, movements, "as of {}", as_of);
        }
        month = next;
    }
    Ok(())
}

fn aging_at_month_ends_for_random_histories(backend: Backend) {
    for_random_histories(backend, 16, 60, |h, case| {
        Box::pin(aging_at_month_ends_equals_the_movements(h, case))
    });
}

#[test]
fn aging_at_month_ends_equals_the_movements_for_random_histories_on_sqlite() {
    aging_at_month_ends_for_random_histories(Backend::Sqlite);
}

#[test]
fn aging_at_month_ends_equals_the_movements_for_random_histories_on_postgres() {
    aging_at_month_ends_for_random_histories(Backend::Postgres);
}

fn aging_reads_the_same_on_either_route_for_random_histories(backend: Backend) {
    for_random_histories(backend, 16, 40, |h, case| {
        Box::pin(aging_as_of_today_ignores_tomorrow(h, case))
    });
}

#[test]
fn aging_reads_the_same_on_either_route_for_random_histories_on_sqlite() {
    aging_reads_the_same_on_either_route_for_random_histories(Backend::Sqlite);
}

#[test]
fn aging_reads_the_same_on_either_route_for_random_histories_on_postgres() {
    aging_reads_the_same_on_either_route_for_random_histories(Backend::Postgres);
}

#[test]
fn rebuild_equals_incremental_for_random_histories_on_sqlite() {
    rebuild_equals_incremental_for_random_histories(Backend::Sqlite);
}

#[test]
fn rebuild_equals_incremental_for_random_histories_on_postgres() {
    rebuild_equals_incremental_for_random_histories(Backend::Postgres);
}

/// An item resolved in the month it was opened, in a later batch, after another item stayed
/// open in an earlier month: the month's net flow is nothing, yet it is stored (with the
/// earlier item's stock) whether the two came in one batch or two.
async fn opened_and_resolved_in_one_month_rebuilds_as_kept(backend: Backend) {
    let h = Harness::new(backend, "UTC").await;
    let open = Op::Open {
        amount: 0,
        branch: 0,
        back_days: 0,
    };
    apply(&h, 0, 0, &open).await;
    let classify = Op::Classify {
        code: 0,
        reason: false,
    };
    for (hours, op) in [
        (24 * 40, &open),
        (0, &Op::CatchUp),
        (1, &classify),
        (1, &Op::ResolveAll),
    ] {
        let now = suspense_domain::Clock::now(&*h.clock);
        h.clock.set(now + Days::hours(hours));
        apply(&h, 0, 1, op).await;
    }
    apply(&h, 0, 1, &Op::CatchUp).await;
    rebuilt_equals_incremental(&h, 1)
        .await
        .expect("rebuilt equals incremental");
}

#[tokio::test]
async fn opened_and_resolved_in_one_month_rebuilds_as_kept_on_sqlite() {
    opened_and_resolved_in_one_month_rebuilds_as_kept(Backend::Sqlite).await;
}

#[tokio::test]
async fn opened_and_resolved_in_one_month_rebuilds_as_kept_on_postgres() {
    opened_and_resolved_in_one_month_rebuilds_as_kept(Backend::Postgres).await;
}

/// A rebuild runs while commands keep arriving and reports its progress; once writers stop,
/// the rebuilt model equals another rebuild from scratch.
async fn rebuild_while_writers_run_reports_progress(backend: Backend) {
    let h = Arc::new(Harness::new(backend, "UTC").await);
    for n in 0..150 {
        apply(
            &h,
            0,
            n,
            &Op::Open {
                amount: n % 4,
                branch: n % 2,
                back_days: 3,
            },
        )
        .await;
    }
    h.projector.refresh(WAIT).await.expect("catches up");
    let writer = {
        let h = Arc::clone(&h);
        tokio::spawn(async move {
            for n in 0..60 {
                apply(
                    &h,
                    1,
                    n,
                    &Op::Open {
                        amount: 1,
                        branch: 0,
                        back_days: 0,
                    },
                )
                .await;
                apply(&h, 0, n, &Op::Comment).await;
            }
        })
    };
    let mut progress = Vec::new();
    let projector = suspense_read_models::Projector::new(Arc::clone(&h.log), settings("UTC"))
        .await
        .expect("projector")
        .with_batch_size(25);
    projector
        .rebuild(ReadModel::ITEM_REGISTER, |p| progress.push(p))
        .await
        .expect("rebuilds");
    writer.await.expect("writer finishes");
    assert!(
        progress.len() >= 6,
        "progress reported per batch: {progress:?}"
    );
    assert!(progress.windows(2).all(|w| w[0].position <= w[1].position));
    let last = progress.last().expect("some progress");
    assert!(last.position >= 150 && last.position <= last.head);
    h.projector.refresh(WAIT).await.expect("catches up");
    let incremental = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    h.projector
        .rebuild(ReadModel::ITEM_REGISTER, |_| {})
        .await
        .expect("rebuilds");
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        incremental
    );
}
on_both_backends!(
    rebuild_while_writers_run_reports_progress,
    super::rebuild_while_writers_run_reports_progress
);

/// PostgreSQL: many writers commit out of order, with random delays and some rollbacks, while
/// the projector runs in the background. Afterwards every read model equals a rebuild.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_after_racing_writers_with_rollbacks_equals_incremental() {
    use sqlx::Connection;
    let h = Arc::new(Harness::new(Backend::Postgres, "Asia/Shanghai").await);
    let TestDatabase::Postgres(pg) = &h.db else {
        unreachable!("postgres harness")
    };
    let url = pg.url().to_owned();
    let background = Arc::clone(&h.projector_handle()).spawn(Duration::from_millis(3));

    let raw_writers: Vec<_> = (0..6)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = sqlx::PgConnection::connect(&url).await.expect("connects");
                for n in 0..8 {
                    let reference = format!("RAW-{w}-{n}");
                    let item = booking(&reference, "12.34");
                    let id = ItemId::for_reference(&item.reference);
                    let event = suspense_domain::SuspenseItemEvent::Opened {
                        at: instant("2026-03-31T16:10:00Z"),
                        by: user("raw"),
                        item,
                    };
                    let payload = serde_json::to_string(&event).expect("json").replace('\'', "''");
                    sqlx::query("BEGIN").execute(&mut conn).await.expect("begin");
                    sqlx::query(&format!(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                         VALUES ('SuspenseItem', '{id}', 1, 'Opened', '1', '{payload}', '{{}}')"
                    ))
                    .execute(&mut conn)
                    .await
                    .expect("insert");
                    tokio::time::sleep(Duration::from_millis(((w * 5 + n * 3) % 9) as u64 * 4)).await;
                    let fate = if (w + n) % 3 == 0 { "ROLLBACK" } else { "COMMIT" };
                    sqlx::query(fate).execute(&mut conn).await.expect("ends");
                }
            })
        })
        .collect();
    let log_writers: Vec<_> = (0..4)
        .map(|w| {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                for n in 0..10 {
                    apply(
                        &h,
                        100 + w,
                        n % 3,
                        &Op::Open {
                            amount: n % 4,
                            branch: w % 2,
                            back_days: 1,
                        },
                    )
                    .await;
                    apply(
                        &h,
                        100 + w,
                        n % 3,
                        &Op::Classify {
                            code: n % 14,
                            reason: true,
                        },
                    )
                    .await;
                    apply(
                        &h,
                        100 + w,
                        n % 3,
                        &Op::Clear {
                            reference: n % 3,
                            amount: 2,
                        },
                    )
                    .await;
                    apply(&h, 100 + w, n % 3, &Op::ResolveAll).await;
                    apply(&h, 100 + w, n % 3, &Op::Reopen).await;
                }
            })
        })
        .collect();
    for writer in raw_writers.into_iter().chain(log_writers) {
        writer.await.expect("writer finishes");
    }
    h.projector.refresh(WAIT).await.expect("catches up");
    background.abort();
    let incremental = ReadModelSnapshot::take(&h.log).await.expect("snapshot");
    assert_eq!(
        incremental.register.len(),
        6 * 8 - 16 + 4 * 3,
        "committed raw items plus log items"
    );
    assert_eq!(
        h.reports().open_balance().await.expect("balance"),
        h.reports().register_balance().await.expect("sum")
    );
    for &model in ReadModel::ALL {
        h.projector.rebuild(model, |_| {}).await.expect("rebuilds");
    }
    assert_eq!(
        ReadModelSnapshot::take(&h.log).await.expect("snapshot"),
        incremental
    );
}

/// (team, counterparty, incident) → (items opened, items open now).
type ByHolder = Vec<(String, String, String, i64, i64)>;

async fn by_holder(log: &suspense_store::EventLog, sql: &str) -> ByHolder {
    match log.pool() {
        suspense_database::Pool::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
        suspense_database::Pool::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .expect("rows")
}

/// The statistics' items per team, counterparty and incident: every item counts under its
/// current ones, whenever it was opened.
async fn cube_by_holder(log: &suspense_store::EventLog) -> ByHolder {
    by_holder(
        log,
        "SELECT team, counterparty, incident, CAST(SUM(opened_count) AS BIGINT),
                CAST(SUM(opened_count - resolved_count + reopened_count) AS BIGINT)
           FROM root_cause_monthly GROUP BY team, counterparty, incident
         HAVING SUM(opened_count) <> 0 ORDER BY 1, 2, 3",
    )
    .await
}

/// The same counted in the register.
async fn register_by_holder(log: &suspense_store::EventLog) -> ByHolder {
    by_holder(
        log,
        "SELECT COALESCE(team, 'unassigned'), COALESCE(counterparty, 'none'),
                COALESCE(incident, 'none'), CAST(COUNT(*) AS BIGINT),
                CAST(SUM(CASE WHEN status = 'resolved' THEN 0 ELSE 1 END) AS BIGINT)
           FROM item_register GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .await
}
