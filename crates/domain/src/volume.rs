//! Transaction volumes (the suspense rate's denominator) as events: each branch's monthly
//! figures are a stream of the log, so a rate replays exactly as it was known, and a
//! correction is a later event that names the figure it replaces.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{BranchCode, Note, UserId};
use crate::input::InvalidInput;
use crate::plan::Month;

/// The current version of the volume event payload.
pub const VOLUME_EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VolumeEvent {
    /// A branch's transactions in a month; `replaces` is the figure it corrects, if any.
    VolumeRecorded {
        at: DateTime<Utc>,
        by: UserId,
        branch: BranchCode,
        month: Month,
        transactions: u64,
        replaces: Option<u64>,
        reason: Option<Note>,
    },
}

impl VolumeEvent {
    pub const NAMES: [&'static str; 1] = ["VolumeRecorded"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::VolumeRecorded { .. } => "VolumeRecorded",
        }
    }
}

/// A request to record a branch's transactions for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordVolume {
    pub branch: BranchCode,
    pub month: Month,
    pub transactions: u64,
    /// Why a recorded figure is corrected; kept with the correction.
    pub reason: Option<Note>,
}

impl RecordVolume {
    /// Figures above this are refused as a typo: no branch books a trillion transactions.
    pub const MAX_TRANSACTIONS: u64 = 1_000_000_000_000;

    pub fn new(
        branch: BranchCode,
        month: Month,
        transactions: u64,
        reason: Option<Note>,
    ) -> Result<Self, InvalidInput> {
        if transactions > Self::MAX_TRANSACTIONS {
            return Err(InvalidInput::new("transactions", "is too large"));
        }
        Ok(Self {
            branch,
            month,
            transactions,
            reason,
        })
    }
}

/// One branch's recorded figures: the stream's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchVolumes {
    pub months: BTreeMap<Month, u64>,
}

impl BranchVolumes {
    /// The aggregate type volume events are stored under.
    pub const TYPE: &'static str = "TransactionVolumes";

    pub fn apply(&mut self, event: &VolumeEvent) {
        let VolumeEvent::VolumeRecorded {
            month,
            transactions,
            ..
        } = event;
        self.months.insert(*month, *transactions);
    }

    /// The event recording `command`; none when the month already has that figure.
    pub fn decide(&self, command: RecordVolume, by: UserId, at: DateTime<Utc>) -> Vec<VolumeEvent> {
        let replaces = self.months.get(&command.month).copied();
        if replaces == Some(command.transactions) {
            return Vec::new();
        }
        vec![VolumeEvent::VolumeRecorded {
            at,
            by,
            branch: command.branch,
            month: command.month,
            transactions: command.transactions,
            replaces,
            reason: command.reason,
        }]
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn record(month: &str, transactions: u64) -> RecordVolume {
        RecordVolume::new(
            BranchCode::parse("SH-001").expect("valid"),
            Month::parse("month", month).expect("valid"),
            transactions,
            None,
        )
        .expect("valid")
    }

    #[test]
    fn a_first_figure_is_recorded_a_repeat_is_nothing_and_a_correction_names_the_old() {
        let at = Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap();
        let by = UserId::parse("reporter").expect("valid");
        let mut volumes = BranchVolumes::default();
        let first = volumes.decide(record("2027-01", 10_000), by.clone(), at);
        assert!(matches!(
            first.as_slice(),
            [VolumeEvent::VolumeRecorded {
                replaces: None,
                transactions: 10_000,
                ..
            }]
        ));
        first.iter().for_each(|e| volumes.apply(e));
        assert!(volumes
            .decide(record("2027-01", 10_000), by.clone(), at)
            .is_empty());
        let correction = volumes.decide(record("2027-01", 12_000), by, at);
        assert!(matches!(
            correction.as_slice(),
            [VolumeEvent::VolumeRecorded {
                replaces: Some(10_000),
                transactions: 12_000,
                ..
            }]
        ));
    }

    #[test]
    fn an_absurd_figure_is_refused_naming_the_field() {
        let err = RecordVolume::new(
            BranchCode::parse("SH-001").expect("valid"),
            Month::parse("month", "2027-01").expect("valid"),
            RecordVolume::MAX_TRANSACTIONS + 1,
            None,
        )
        .expect_err("too large");
        assert_eq!(err.field, "transactions");
    }
}
