//! Classifying with an attribution: the responsible staff member of an operational error, the
//! counterparty of an external cause from the bank's list.

use super::*;
use crate::attribution::{Attribution, Counterparties, CounterpartyCode};

fn partner(code: &str) -> CounterpartyCode {
    CounterpartyCode::parse(code).expect("valid counterparty")
}

fn with_partners() -> ItemTest {
    let list = [(partner("ALIPAY"), "支付宝".to_owned())]
        .into_iter()
        .collect();
    TestFramework::with(services().with_counterparties(Counterparties::new(list)))
}

fn classify_attributed(
    category: RootCauseCategory,
    code: &str,
    reason: Option<&str>,
    attribution: Attribution,
) -> ItemAction {
    ItemAction::Classify {
        category,
        code: RootCauseCode::parse(code).expect("valid code"),
        reason: reason.map(note),
        attribution,
    }
}

fn responsible(name: &str) -> Attribution {
    Attribution {
        responsible: Some(user(name)),
        counterparty: None,
    }
}

fn attributed(attribution: Attribution) -> SuspenseItemEvent {
    SuspenseItemEvent::Attributed {
        at: now(),
        by: user("ops"),
        attribution,
    }
}

fn keying() -> RootCause {
    cause(RootCauseCategory::OperationalError, "OP-KEYING")
}

fn classified_as(cause: RootCause) -> SuspenseItemEvent {
    SuspenseItemEvent::Classified {
        at: now(),
        by: user("ops"),
        cause,
    }
}

#[test]
fn classify_an_operational_error_with_the_responsible_staff_member() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::OperationalError,
                "OP-KEYING",
                None,
                responsible("teller-7"),
            ),
        ))
        .then_expect_events(vec![
            classified_as(keying()),
            attributed(responsible("teller-7")),
        ]);
}

#[test]
fn the_same_classification_and_attribution_again_changes_nothing() {
    let plain = classify_attributed(
        RootCauseCategory::OperationalError,
        "OP-KEYING",
        None,
        Attribution::default(),
    );
    test()
        .given(vec![
            opened(),
            classified_as(keying()),
            attributed(responsible("teller-7")),
        ])
        .when(cmd("ops", plain))
        .then_expect_events(vec![]);
}

#[test]
fn another_responsible_for_the_same_cause_is_only_an_attribution() {
    test()
        .given(vec![
            opened(),
            classified_as(keying()),
            attributed(responsible("teller-7")),
        ])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::OperationalError,
                "OP-KEYING",
                None,
                responsible("teller-9"),
            ),
        ))
        .then_expect_events(vec![attributed(responsible("teller-9"))]);
}

#[test]
fn reclassifying_away_from_an_operational_error_clears_the_responsible() {
    test()
        .given(vec![
            opened(),
            classified_as(keying()),
            attributed(responsible("teller-7")),
        ])
        .when(cmd(
            "ops",
            classify(
                RootCauseCategory::SystemFailure,
                "SYS-OUTAGE",
                Some("the core was down"),
            ),
        ))
        .then_expect_events(vec![
            SuspenseItemEvent::Reclassified {
                at: now(),
                by: user("ops"),
                from: keying(),
                to: cause(RootCauseCategory::SystemFailure, "SYS-OUTAGE"),
                reason: note("the core was down"),
            },
            attributed(Attribution::default()),
        ]);
}

#[test]
fn classify_rejects_a_responsible_for_a_cause_other_than_an_operational_error() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::SystemFailure,
                "SYS-OUTAGE",
                None,
                responsible("teller-7"),
            ),
        ))
        .then_expect_error(ItemError::AttributionNotAdmitted {
            field: "responsible",
            category: RootCauseCategory::SystemFailure,
        });
}

#[test]
fn classify_an_external_cause_with_a_listed_counterparty() {
    let alipay = Attribution {
        responsible: None,
        counterparty: Some(partner("ALIPAY")),
    };
    with_partners()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::ExternalCause,
                "EXT-TPP-SETTLEMENT",
                None,
                alipay.clone(),
            ),
        ))
        .then_expect_events(vec![
            classified_as(cause(
                RootCauseCategory::ExternalCause,
                "EXT-TPP-SETTLEMENT",
            )),
            attributed(alipay),
        ]);
}

#[test]
fn classify_rejects_a_counterparty_outside_the_list() {
    with_partners()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::ExternalCause,
                "EXT-TPP-SETTLEMENT",
                None,
                Attribution {
                    responsible: None,
                    counterparty: Some(partner("PAYPAL")),
                },
            ),
        ))
        .then_expect_error(ItemError::UnknownCounterparty {
            counterparty: partner("PAYPAL"),
        });
}

#[test]
fn classify_rejects_a_counterparty_for_a_cause_other_than_an_external_one() {
    with_partners()
        .given(vec![opened()])
        .when(cmd(
            "ops",
            classify_attributed(
                RootCauseCategory::CustomerCause,
                "CUS-REFERENCE",
                None,
                Attribution {
                    responsible: None,
                    counterparty: Some(partner("ALIPAY")),
                },
            ),
        ))
        .then_expect_error(ItemError::AttributionNotAdmitted {
            field: "counterparty",
            category: RootCauseCategory::CustomerCause,
        });
}
