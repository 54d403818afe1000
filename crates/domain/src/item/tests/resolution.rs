//! Resolving an item: resolutions by their method, and maker-checker approval of the ones
//! that need a second person (by method, by amount, by the policy's approval bands).

use super::*;

// --- resolve ----------------------------------------------------------------------------

#[test]
fn resolve_clears_the_outstanding_amount_and_closes_the_item() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd("ops", ItemAction::Resolve(refunded("1000"))))
        .then_expect_events(vec![resolved()]);
}

#[test]
fn resolve_after_partial_clearings_clears_only_the_rest() {
    test()
        .given(vec![opened(), classified(), clearing("CLR-1", "400")])
        .when(cmd("ops", ItemAction::Resolve(refunded("600"))))
        .then_expect_events(vec![SuspenseItemEvent::Resolved {
            at: now(),
            by: user("ops"),
            resolution: refunded("600"),
            approval: None,
        }]);
}

#[test]
fn resolve_of_a_fully_cleared_item_clears_zero() {
    test()
        .given(vec![opened(), classified(), clearing("CLR-1", "1000")])
        .when(cmd("ops", ItemAction::Resolve(refunded("0"))))
        .then_expect_events(vec![SuspenseItemEvent::Resolved {
            at: now(),
            by: user("ops"),
            resolution: refunded("0"),
            approval: None,
        }]);
}

#[test]
fn resolve_without_a_root_cause_is_rejected() {
    test()
        .given(vec![opened()])
        .when(cmd("ops", ItemAction::Resolve(refunded("1000"))))
        .then_expect_error(ItemError::NotClassified);
}

#[test]
fn resolve_for_less_than_the_outstanding_amount_is_rejected() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd("ops", ItemAction::Resolve(refunded("999.99"))))
        .then_expect_error(ItemError::ResolutionAmountMismatch {
            outstanding: cny("1000"),
            requested: cny("999.99"),
        });
}

#[test]
fn resolve_in_another_currency_is_rejected() {
    let mut request = refunded("1000");
    request.amount = Money::parse("1000", "USD").expect("valid");
    test()
        .given(vec![opened(), classified()])
        .when(cmd("ops", ItemAction::Resolve(request)))
        .then_expect_error(ItemError::CurrencyMismatch {
            field: "amount",
            expected: Currency::parse("CNY").expect("CNY"),
            got: Currency::parse("USD").expect("USD"),
        });
}

#[test]
fn resolve_by_posting_needs_the_target_account() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "ops",
            ItemAction::Resolve(resolution(ResolutionMethod::PostedToAccount, "1000")),
        ))
        .then_expect_error(ItemError::Required {
            field: "posted_to",
            why: "a posted_to_account resolution names the account it was posted to",
        });
}

#[test]
fn resolve_by_write_off_needs_approval() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "ops",
            ItemAction::Resolve(resolution(ResolutionMethod::WrittenOff, "1000")),
        ))
        .then_expect_error(ItemError::ApprovalRequired {
            method: ResolutionMethod::WrittenOff,
            amount: cny("1000"),
        });
}

#[test]
fn resolve_above_the_amount_threshold_needs_approval() {
    let mut big = booking();
    big.amount = cny("250000");
    test()
        .given(vec![
            SuspenseItemEvent::Opened {
                at: now(),
                by: user("teller"),
                item: big,
            },
            classified(),
        ])
        .when(cmd("ops", ItemAction::Resolve(refunded("250000"))))
        .then_expect_error(ItemError::ApprovalRequired {
            method: ResolutionMethod::Refunded,
            amount: cny("250000"),
        });
}

#[test]
fn resolve_while_a_proposal_is_pending_is_rejected() {
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("ops", refunded("1000")),
        ])
        .when(cmd("ops", ItemAction::Resolve(refunded("1000"))))
        .then_expect_error(ItemError::ProposalPending);
}

#[test]
fn a_resolved_item_accepts_nothing_but_reopen_and_comment() {
    for action in [
        classify(RootCauseCategory::SystemFailure, "SYS-OUTAGE", Some("x")),
        assign("recon", None),
        escalate(EscalationLevel::Management),
        record_clearing("CLR-9", cny("1")),
        ItemAction::Resolve(refunded("0")),
        ItemAction::ProposeResolution(refunded("0")),
        ItemAction::ApproveResolution { note: None },
        ItemAction::RejectResolution { reason: note("no") },
    ] {
        test()
            .given(vec![opened(), classified(), resolved()])
            .when(cmd("ops", action))
            .then_expect_error(ItemError::AlreadyResolved);
    }
}

// --- maker-checker ----------------------------------------------------------------------

#[test]
fn propose_records_a_resolution_awaiting_approval() {
    let write_off = resolution(ResolutionMethod::WrittenOff, "1000");
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "maker",
            ItemAction::ProposeResolution(write_off.clone()),
        ))
        .then_expect_events(vec![proposed("maker", write_off)]);
}

#[test]
fn propose_is_checked_like_a_resolution() {
    test()
        .given(vec![opened()])
        .when(cmd(
            "maker",
            ItemAction::ProposeResolution(refunded("1000")),
        ))
        .then_expect_error(ItemError::NotClassified);
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("maker", refunded("1000")),
        ])
        .when(cmd(
            "maker",
            ItemAction::ProposeResolution(refunded("1000")),
        ))
        .then_expect_error(ItemError::ProposalPending);
}

#[test]
fn approve_by_another_person_resolves_the_item() {
    let write_off = resolution(ResolutionMethod::WrittenOff, "1000");
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("maker", write_off.clone()),
        ])
        .when(cmd(
            "checker",
            ItemAction::ApproveResolution {
                note: Some(note("loss booked to 6711")),
            },
        ))
        .then_expect_events(vec![SuspenseItemEvent::Resolved {
            at: now(),
            by: user("checker"),
            resolution: write_off,
            approval: Some(Approval {
                proposed_by: user("maker"),
                proposed_at: now(),
                note: Some(note("loss booked to 6711")),
            }),
        }]);
}

#[test]
fn approve_by_the_proposer_is_rejected() {
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("maker", refunded("1000")),
        ])
        .when(cmd("maker", ItemAction::ApproveResolution { note: None }))
        .then_expect_error(ItemError::SelfApproval);
}

#[test]
fn approve_or_reject_without_a_proposal_is_rejected() {
    test()
        .given(vec![opened(), classified()])
        .when(cmd("checker", ItemAction::ApproveResolution { note: None }))
        .then_expect_error(ItemError::NoPendingProposal);
    test()
        .given(vec![opened(), classified()])
        .when(cmd(
            "checker",
            ItemAction::RejectResolution { reason: note("no") },
        ))
        .then_expect_error(ItemError::NoPendingProposal);
}

#[test]
fn reject_withdraws_the_proposal_and_keeps_the_item_open() {
    test()
        .given(vec![
            opened(),
            classified(),
            proposed("maker", refunded("1000")),
        ])
        .when(cmd(
            "checker",
            ItemAction::RejectResolution {
                reason: note("customer not yet contacted"),
            },
        ))
        .then_expect_events(vec![SuspenseItemEvent::ResolutionRejected {
            at: now(),
            by: user("checker"),
            proposed_by: user("maker"),
            reason: note("customer not yet contacted"),
        }]);
}
