//! The suspense item (掛賬) domain: the `SuspenseItem` aggregate, its commands, events and
//! business rules, and the validated value types they are made of.
//!
//! This crate does no I/O. Time, the root-cause catalogue and the approval policy come in
//! through [`ItemServices`], so handling a command is deterministic and replays are exact.
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use suspense_domain::*;
//!
//! let services = ItemServices::new(
//!     Arc::new(FixedClock(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap())),
//!     RootCauseCatalogue::default(),
//!     ApprovalPolicy::write_offs_only(),
//! );
//! let open = ItemAction::Open(OpenItem {
//!     reference: SourceReference::parse("CORE", "SH-20260302-0001")?,
//!     account: AccountNumber::parse("2241-01")?,
//!     branch: BranchCode::parse("SH-001")?,
//!     channel: Channel::OnlineBanking,
//!     amount: Money::parse("1250.00", "CNY")?,
//!     direction: Direction::Credit,
//!     booked_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
//!     value_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
//!     description: Note::parse("incoming transfer, beneficiary unknown")?,
//!     customer_impact: CustomerImpact::default(),
//! });
//! let events = SuspenseItem::default()
//!     .decide(ItemCommand::new(UserId::parse("teller-7")?, open), &services)
//!     .expect("a valid booking opens an item");
//! assert_eq!(events[0].name(), "Opened");
//! # Ok::<(), InvalidInput>(())
//! ```

pub mod allocation;
pub mod attribution;
pub mod classification;
pub mod customer;
pub mod identity;
pub mod incident;
pub mod input;
pub mod item;
pub mod money;
pub mod organisation;
pub mod plan;
pub mod policy;
pub mod published;
pub mod services;
pub mod stream;
pub mod vocabulary;
pub mod volume;

pub use attribution::{Attribution, Counterparties, CounterpartyCode};
pub use classification::{
    CatalogueEntry, CatalogueError, RootCause, RootCauseCatalogue, RootCauseCategory, RootCauseCode,
};
pub use customer::{
    ComplaintChannel, ComplaintReference, CustomerReference, FeeReference, ReminderChannel,
};
pub use identity::{
    AccountNumber, BranchCode, ItemId, Note, Reference, SourceReference, SourceSystem, TeamId,
    UserId,
};
pub use input::InvalidInput;
pub use item::{
    Approval, Assignment, Complaint, CustomerSide, Fee, ItemAction, ItemCommand, ItemError,
    ItemState, ItemStatus, OpenItem, PendingResolution, Reminder, ReminderOutcome,
    ResolutionRequest, SuspenseItem, SuspenseItemEvent, EVENT_VERSION,
};
pub use money::{Currency, Money};
pub use plan::{
    PlanAction, PlanCommand, PlanError, PlanEvent, PlanId, PlanState, PlanStatus, RemediationPlan,
};
/// The exact decimal of amounts and plan figures, so embedders need no crate of their own.
pub use rust_decimal::Decimal;
pub use services::{ApprovalPolicy, BusinessDates, Clock, FixedClock, ItemServices};
pub use stream::StreamKind;
pub use vocabulary::{
    Channel, CustomerImpact, Direction, EscalationLevel, EscalationReason, ResolutionMethod,
};
pub use volume::{BranchVolumes, RecordVolume, VolumeEvent};
