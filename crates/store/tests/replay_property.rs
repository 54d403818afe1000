//! Property: for any sequence of commands, the item reloaded from the log equals the item the
//! commands produced in memory, and the log holds exactly the events they produced, on both
//! backends. Rejections write nothing; idempotent repeats write nothing.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use suspense_domain::{
    AccountNumber, EscalationLevel, EscalationReason, ItemAction, ItemCommand, ItemId, Money, Note,
    Reference, ResolutionMethod, ResolutionRequest, RootCauseCatalogue, RootCauseCode,
    SuspenseItem, SuspenseItemEvent, TeamId,
};
use suspense_store::{EventLog, StoreError};

const AMOUNTS: [&str; 5] = ["100.00", "250.50", "400.00", "1000.00", "0.01"];
const USERS: [&str; 2] = ["alice", "bob"];

#[derive(Debug, Clone)]
enum Op {
    Classify {
        code: usize,
        reason: bool,
    },
    Assign {
        team: usize,
        assignee: Option<usize>,
    },
    Escalate {
        level: usize,
    },
    Clear {
        reference: usize,
        amount: usize,
    },
    ResolveOutstanding {
        method: usize,
    },
    ResolveAmount {
        amount: usize,
    },
    ProposeOutstanding {
        method: usize,
    },
    Approve,
    Reject,
    Reopen,
    Comment,
}

fn op() -> impl Strategy<Value = (usize, Op)> {
    let op = prop_oneof![
        (0..14usize, any::<bool>()).prop_map(|(code, reason)| Op::Classify { code, reason }),
        (0..2usize, proptest::option::of(0..2usize))
            .prop_map(|(team, assignee)| Op::Assign { team, assignee }),
        (0..3usize).prop_map(|level| Op::Escalate { level }),
        (0..4usize, 0..5usize).prop_map(|(reference, amount)| Op::Clear { reference, amount }),
        (0..5usize).prop_map(|method| Op::ResolveOutstanding { method }),
        (0..5usize).prop_map(|amount| Op::ResolveAmount { amount }),
        (0..5usize).prop_map(|method| Op::ProposeOutstanding { method }),
        Just(Op::Approve),
        Just(Op::Reject),
        Just(Op::Reopen),
        Just(Op::Comment),
    ];
    (0..2usize, op)
}

fn cny(amount: &str) -> Money {
    Money::parse(amount, "CNY").expect("valid amount")
}

fn note(text: &str) -> Note {
    Note::parse(text).expect("valid note")
}

fn resolution(method: usize, amount: Money) -> ResolutionRequest {
    let method = ResolutionMethod::ALL[method];
    ResolutionRequest {
        method,
        amount,
        posted_to: (method == ResolutionMethod::PostedToAccount)
            .then(|| AccountNumber::parse("1001-22").expect("valid")),
        note: None,
    }
}

/// Turns a generated op into a command, looking at the model only to know the outstanding amount.
fn action(op: &Op, model: &SuspenseItem) -> ItemAction {
    let outstanding = model
        .state()
        .map(|s| s.outstanding())
        .unwrap_or_else(|| cny("0"));
    let codes: Vec<(RootCauseCode, suspense_domain::RootCauseCategory)> =
        RootCauseCatalogue::default()
            .entries()
            .iter()
            .map(|(code, entry)| (code.clone(), entry.category))
            .collect();
    match op {
        Op::Classify { code, reason } => ItemAction::Classify {
            category: codes[*code].1,
            code: codes[*code].0.clone(),
            reason: reason.then(|| note("restated after review")),
            attribution: Default::default(),
        },
        Op::Assign { team, assignee } => ItemAction::Assign {
            team: TeamId::parse(["recon", "cards"][*team]).expect("valid"),
            assignee: assignee.map(|a| user(USERS[a])),
            reason: None,
        },
        Op::Escalate { level } => ItemAction::Escalate {
            level: EscalationLevel::ALL[*level],
            reason: EscalationReason::Aging,
            note: None,
        },
        Op::Clear { reference, amount } => ItemAction::RecordClearing {
            clearing_reference: Reference::parse(&format!("CLR-{reference}")).expect("valid"),
            amount: cny(AMOUNTS[*amount]),
        },
        Op::ResolveOutstanding { method } => ItemAction::Resolve(resolution(*method, outstanding)),
        Op::ResolveAmount { amount } => ItemAction::Resolve(resolution(1, cny(AMOUNTS[*amount]))),
        Op::ProposeOutstanding { method } => {
            ItemAction::ProposeResolution(resolution(*method, outstanding))
        }
        Op::Approve => ItemAction::ApproveResolution { note: None },
        Op::Reject => ItemAction::RejectResolution {
            reason: note("not yet"),
        },
        Op::Reopen => ItemAction::Reopen {
            reason: note("wrongly resolved"),
        },
        Op::Comment => ItemAction::Comment {
            text: note("looked at it"),
        },
    }
}

async fn check_sequence(
    log: &EventLog,
    case: usize,
    ops: &[(usize, Op)],
) -> Result<(), TestCaseError> {
    let services = fixed_services();
    let open = booking(&format!("PROP-{case}"), "1000.00");
    let id = ItemId::for_reference(&open.reference);
    let mut model = SuspenseItem::default();
    let mut written: Vec<SuspenseItemEvent> = Vec::new();
    let commands = std::iter::once((0, None)).chain(ops.iter().map(|(u, op)| (*u, Some(op))));
    for (who, op) in commands {
        let action = match op {
            None => ItemAction::Open(open.clone()),
            Some(op) => action(op, &model),
        };
        let command = ItemCommand::new(user(USERS[who]), action);
        let expected = model.decide(command.clone(), &services);
        let actual = log.execute(id, command, &meta(), None).await;
        match (expected, actual) {
            (Ok(events), Ok(executed)) => {
                let got: Vec<SuspenseItemEvent> =
                    executed.events.into_iter().map(|(_, e)| e).collect();
                prop_assert_eq!(&got, &events);
                for event in events {
                    cqrs_es::Aggregate::apply(&mut model, event.clone());
                    written.push(event);
                }
            }
            (Err(rule), Err(StoreError::Rejected(actual_rule))) => {
                prop_assert_eq!(rule, actual_rule)
            }
            (expected, actual) => {
                return Err(TestCaseError::fail(format!(
                    "model said {expected:?}, log said {actual:?}"
                )))
            }
        }
    }
    let loaded = log.load(id).await.expect("loads").expect("opened");
    prop_assert_eq!(Some(&loaded.state), model.state());
    prop_assert_eq!(loaded.version, written.len() as u64);
    let history: Vec<SuspenseItemEvent> = log
        .history(id)
        .await
        .expect("reads")
        .into_iter()
        .map(|e| e.event)
        .collect();
    prop_assert_eq!(&history, &written);
    // A page as the projector reads it (decoded off the runtime's workers): the same events
    // as the plain read.
    let head = log.settle(SETTLE).await.expect("settles");
    let limit = u32::try_from(head).unwrap_or(u32::MAX);
    let page = log.read_page(0, limit).await.expect("reads a page");
    let plain = log.read_after(0, limit).await.expect("reads");
    prop_assert_eq!(page.events(), plain.as_slice());
    let on_page: Vec<&SuspenseItemEvent> = page
        .events()
        .iter()
        .filter(|e| e.item_id == id)
        .map(|e| &e.event)
        .collect();
    prop_assert_eq!(on_page, written.iter().collect::<Vec<_>>());
    Ok(())
}

fn replay_equals_the_commands(backend: Backend) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let db = runtime.block_on(TestDatabase::create(backend));
    let log = runtime.block_on(open_log(&db));
    let mut runner = TestRunner::new(Config::with_cases(48));
    // Each case works on its own item, so cases share one database.
    let case = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(check_sequence(&log, case, &ops))
        })
        .expect("replay from the log equals the in-memory fold");
}

#[test]
fn replay_equals_the_commands_on_sqlite() {
    replay_equals_the_commands(Backend::Sqlite);
}

#[test]
fn replay_equals_the_commands_on_postgres() {
    replay_equals_the_commands(Backend::Postgres);
}
