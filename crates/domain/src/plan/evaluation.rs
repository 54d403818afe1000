//! The rules that turn figures into verdicts. The figures themselves come from the read
//! models; what they mean for a target is decided here, once, without I/O.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{Comparison, PlanEntryId};
use crate::vocabulary::wire_names;

/// What a target's figures say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The phase is over and the target was reached.
    Met,
    /// The phase is over and the target was not reached.
    Missed,
    /// The phase is running and the figure so far reaches the target.
    OnTrack,
    /// The phase is running and the figure so far does not reach the target.
    AtRisk,
    /// The phase has not started.
    NotStarted,
    /// No figure to judge: nothing counted (no resolutions for a percentile, no volumes for
    /// the rate), or a relative target without a baseline figure.
    NoData,
}

wire_names!(Verdict, "verdict", {
    Met => "met",
    Missed => "missed",
    OnTrack => "on_track",
    AtRisk => "at_risk",
    NotStarted => "not_started",
    NoData => "no_data",
});

/// Where a phase stands on the evaluation's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseProgress {
    NotStarted,
    /// Running: the figure so far covers the phase's months up to the evaluation's date.
    Running,
    Ended,
}

impl Verdict {
    /// The verdict on a target. "On track" is the figure so far of a running phase judged
    /// as if the phase ended today: a flow per month, a rate or a percentile over the months
    /// elapsed, a stock at the evaluation's date.
    pub fn judge(
        progress: PhaseProgress,
        comparison: Comparison,
        actual: Option<Decimal>,
        target: Option<Decimal>,
    ) -> Self {
        if progress == PhaseProgress::NotStarted {
            return Self::NotStarted;
        }
        let (Some(actual), Some(target)) = (actual, target) else {
            return Self::NoData;
        };
        match (progress, comparison.holds(actual, target)) {
            (PhaseProgress::Ended, true) => Self::Met,
            (PhaseProgress::Ended, false) => Self::Missed,
            (_, true) => Self::OnTrack,
            (_, false) => Self::AtRisk,
        }
    }
}

/// One target's figures in an evaluation, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFigures {
    pub target: PlanEntryId,
    /// The metric as displayed (`open_longer_than_90_days`).
    pub metric: String,
    pub comparison: Comparison,
    pub baseline: Option<Decimal>,
    pub actual: Option<Decimal>,
    /// The figure the target asks for (a relative target resolved against the baseline).
    pub target_value: Option<Decimal>,
    pub verdict: Verdict,
}

/// A phase's evaluation as a manager signed it: enough to check a later reproduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvaluation {
    pub phase: u32,
    /// The bank-calendar date the figures were taken at.
    pub as_of: NaiveDate,
    /// The log's head position the read models stood at, and the chain link there (absent
    /// when the chain had not reached it).
    pub log_position: u64,
    pub chain_head: Option<String>,
    pub targets: Vec<TargetFigures>,
}

/// What a measure's before-and-after comparison can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureEffect {
    /// Fewer items of its cause per month after it than before.
    Lower,
    Higher,
    Unchanged,
    /// Too few items on either side to tell a change from chance.
    TooFewItems,
    /// No whole month has passed since it was completed.
    NotYetMeasurable,
}

wire_names!(MeasureEffect, "effect", {
    Lower => "lower",
    Higher => "higher",
    Unchanged => "unchanged",
    TooFewItems => "too_few_items",
    NotYetMeasurable => "not_yet_measurable",
});

impl MeasureEffect {
    /// Below this many items on both sides together, a change is not called.
    pub const MIN_ITEMS: i64 = 20;

    /// The effect of a measure from its cause's items in equal windows of `months` whole
    /// months before and after it. A change under 10 % either way is "unchanged": monthly
    /// counts move that much without a cause.
    pub fn judge(months: u32, before: i64, after: i64) -> Self {
        if months == 0 {
            return Self::NotYetMeasurable;
        }
        if before + after < Self::MIN_ITEMS {
            return Self::TooFewItems;
        }
        // after / before against 0.9 and 1.1, in integers.
        if after * 10 < before * 9 {
            Self::Lower
        } else if after * 10 > before * 11 {
            Self::Higher
        } else {
            Self::Unchanged
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_verdicts_follow_the_documented_rule() {
        use PhaseProgress::*;
        let (ten, twelve) = (Some(Decimal::TEN), Some(Decimal::new(12, 0)));
        assert_eq!(
            Verdict::judge(Ended, Comparison::AtMost, ten, twelve),
            Verdict::Met
        );
        assert_eq!(
            Verdict::judge(Ended, Comparison::AtLeast, ten, twelve),
            Verdict::Missed
        );
        assert_eq!(
            Verdict::judge(Running, Comparison::AtMost, ten, twelve),
            Verdict::OnTrack
        );
        assert_eq!(
            Verdict::judge(Running, Comparison::AtMost, twelve, ten),
            Verdict::AtRisk
        );
        assert_eq!(
            Verdict::judge(NotStarted, Comparison::AtMost, ten, ten),
            Verdict::NotStarted
        );
        assert_eq!(
            Verdict::judge(Ended, Comparison::AtMost, None, ten),
            Verdict::NoData
        );
    }

    #[test]
    fn plan_measure_effects_need_enough_items_and_a_whole_month() {
        assert_eq!(
            MeasureEffect::judge(0, 50, 10),
            MeasureEffect::NotYetMeasurable
        );
        assert_eq!(MeasureEffect::judge(3, 8, 2), MeasureEffect::TooFewItems);
        assert_eq!(MeasureEffect::judge(3, 40, 20), MeasureEffect::Lower);
        assert_eq!(MeasureEffect::judge(3, 20, 40), MeasureEffect::Higher);
        assert_eq!(MeasureEffect::judge(3, 30, 29), MeasureEffect::Unchanged);
    }
}
