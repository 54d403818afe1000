//! What a remediation plan (整改方案) is made of: its id, months, phases, targets and
//! measures. Each value is parsed once at the boundary, like the item's.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::classification::{RootCauseCategory, RootCauseCode};
use crate::identity::{BranchCode, Note, TeamId, UserId};
use crate::input::{text_newtype, InvalidInput};
use crate::money::Currency;
use crate::vocabulary::{wire_names, Channel};

text_newtype!(
    /// The bank's own reference for a plan (`2027-suspense-remediation`); the plan's id is
    /// derived from it, so drafting the same plan twice lands on the same plan.
    PlanReference, field = "reference", max = 64, multiline = false
);
text_newtype!(
    /// A plan's or a phase's name, as the bank's document titles it.
    PlanName, field = "name", max = 200, multiline = false
);
text_newtype!(
    /// A target's or a measure's short id within its plan (`T1`, `M-training`).
    PlanEntryId, field = "id", max = 32, multiline = false
);

/// Namespace for plan ids (UUID v5 of the reference). Never change it.
const PLAN_ID_NAMESPACE: Uuid = Uuid::from_u128(0x3b0e_91c4_6a2d_4f57_8e19_d4a7_52c3_e860);

/// The id of a remediation plan, derived from its [`PlanReference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlanId(Uuid);

impl PlanId {
    pub fn for_reference(reference: &PlanReference) -> Self {
        Self(Uuid::new_v5(
            &PLAN_ID_NAMESPACE,
            reference.as_str().as_bytes(),
        ))
    }

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Uuid::parse_str(value)
            .map(Self)
            .map_err(|_| InvalidInput::new("plan_id", format!("'{value}' is not a UUID")))
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A calendar month of the bank's calendar, written `2027-03`. Plans are laid out in whole
/// months because the statistics they are evaluated on are monthly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month(NaiveDate);

impl Month {
    pub fn parse(field: &str, value: &str) -> Result<Self, InvalidInput> {
        crate::input::parse_date(field, &format!("{value}-01"))
            .ok()
            .filter(|_| value.len() == 7)
            .map(Self)
            .ok_or_else(|| InvalidInput::new(field, format!("'{value}' is not a month (YYYY-MM)")))
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self(date.with_day(1).unwrap_or(date))
    }

    /// Its first day.
    pub fn first_day(&self) -> NaiveDate {
        self.0
    }

    /// The month `n` months later; `None` past the calendar's end.
    pub fn plus(&self, n: u32) -> Option<Self> {
        self.0.checked_add_months(Months::new(n)).map(Self)
    }

    /// The month `n` months earlier.
    pub fn minus(&self, n: u32) -> Option<Self> {
        self.0.checked_sub_months(Months::new(n)).map(Self)
    }

    /// Months from `self` to `later` (0 for the same month, negative when `later` is before).
    pub fn months_until(&self, later: Month) -> i64 {
        let (a, b) = (self.0, later.0);
        i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

impl TryFrom<String> for Month {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("month", &value)
    }
}

impl From<Month> for String {
    fn from(value: Month) -> Self {
        value.to_string()
    }
}

/// Whole months, first to last inclusive (`2027-01` to `2027-03` is a quarter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MonthSpanFields")]
pub struct MonthSpan {
    pub from: Month,
    pub to: Month,
}

#[derive(Deserialize)]
struct MonthSpanFields {
    from: Month,
    to: Month,
}

impl TryFrom<MonthSpanFields> for MonthSpan {
    type Error = InvalidInput;
    fn try_from(value: MonthSpanFields) -> Result<Self, Self::Error> {
        Self::new(value.from, value.to)
    }
}

impl MonthSpan {
    /// Months are at most ten years: no plan or baseline is longer.
    pub const MAX_MONTHS: i64 = 120;

    pub fn new(from: Month, to: Month) -> Result<Self, InvalidInput> {
        let months = from.months_until(to) + 1;
        if months < 1 {
            return Err(InvalidInput::in_context("to", "must not be before from"));
        }
        if months > Self::MAX_MONTHS {
            return Err(InvalidInput::in_context(
                "to",
                format!("a span is at most {} months", Self::MAX_MONTHS),
            ));
        }
        Ok(Self { from, to })
    }

    /// How many months it covers (at least 1).
    pub fn months(&self) -> u32 {
        u32::try_from(self.from.months_until(self.to) + 1).unwrap_or(1)
    }

    /// The first day of the month after it: the span is `from.first_day()..end()`.
    pub fn end(&self) -> NaiveDate {
        self.to
            .plus(1)
            .map(|m| m.first_day())
            .unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(&self, month: Month) -> bool {
        self.from <= month && month <= self.to
    }

    pub fn overlaps(&self, other: &MonthSpan) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// Each month in order.
    pub fn each(&self) -> impl Iterator<Item = Month> + '_ {
        (0..self.months()).filter_map(|n| self.from.plus(n))
    }
}

impl fmt::Display for MonthSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

/// A phase of the plan (階段), numbered from 1 in month order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub number: u32,
    pub name: PlanName,
    pub months: MonthSpan,
}

/// What the plan covers: the whole bank (both lists empty), or some branches and/or root-cause
/// categories. Every figure of the plan is taken within it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanScope {
    #[serde(default)]
    pub branches: Vec<BranchCode>,
    #[serde(default)]
    pub categories: Vec<RootCauseCategory>,
}

/// The figures a target can be set on. Each is computed from the read models' monthly
/// statistics, register and the transaction volumes in the log (docs/plans.md defines them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum Metric {
    /// Items opened per 10,000 transactions (掛賬率).
    SuspenseRate,
    /// Items opened, per month.
    ItemsOpened,
    /// The share (%) of items opened whose category is the target's `category`.
    CategoryShare,
    /// Median hours from booking to resolution of the items resolved.
    MedianHoursToResolve,
    /// 90th-percentile hours from booking to resolution.
    P90HoursToResolve,
    /// Items open longer than `days` days at the end of the window.
    OpenLongerThan { days: u32 },
    /// Escalations, per month.
    Escalations,
    /// Reopened items per 100 resolved (%).
    ReopenRate,
    /// Amount written off, per month, in one currency.
    WrittenOffAmount { currency: Currency },
}

/// The metric names, for errors and documentation.
pub const METRIC_NAMES: [&str; 9] = [
    "suspense_rate",
    "items_opened",
    "category_share",
    "median_hours_to_resolve",
    "p90_hours_to_resolve",
    "open_longer_than",
    "escalations",
    "reopen_rate",
    "written_off_amount",
];

impl Metric {
    pub fn name(&self) -> &'static str {
        match self {
            Self::SuspenseRate => "suspense_rate",
            Self::ItemsOpened => "items_opened",
            Self::CategoryShare => "category_share",
            Self::MedianHoursToResolve => "median_hours_to_resolve",
            Self::P90HoursToResolve => "p90_hours_to_resolve",
            Self::OpenLongerThan { .. } => "open_longer_than",
            Self::Escalations => "escalations",
            Self::ReopenRate => "reopen_rate",
            Self::WrittenOffAmount { .. } => "written_off_amount",
        }
    }

    /// Flows summed over a window are compared as a monthly average, so that a 12-month
    /// baseline and a 3-month phase are comparable.
    pub fn is_per_month(&self) -> bool {
        matches!(
            self,
            Self::ItemsOpened | Self::Escalations | Self::WrittenOffAmount { .. }
        )
    }

    /// Parses a metric from its name and the parameters some metrics need.
    pub fn parse(
        name: &str,
        days: Option<u32>,
        currency: Option<&str>,
    ) -> Result<Self, InvalidInput> {
        let metric = match name {
            "suspense_rate" => Self::SuspenseRate,
            "items_opened" => Self::ItemsOpened,
            "category_share" => Self::CategoryShare,
            "median_hours_to_resolve" => Self::MedianHoursToResolve,
            "p90_hours_to_resolve" => Self::P90HoursToResolve,
            "open_longer_than" => Self::OpenLongerThan {
                days: days.ok_or_else(|| {
                    InvalidInput::in_context("days", "is required for open_longer_than")
                })?,
            },
            "escalations" => Self::Escalations,
            "reopen_rate" => Self::ReopenRate,
            "written_off_amount" => Self::WrittenOffAmount {
                currency: Currency::parse(currency.ok_or_else(|| {
                    InvalidInput::in_context("currency", "is required for written_off_amount")
                })?)?,
            },
            other => {
                return Err(InvalidInput::new(
                    "metric",
                    format!("'{other}' is not one of {}", METRIC_NAMES.join(", ")),
                ))
            }
        };
        if let Self::OpenLongerThan { days } = metric {
            if days == 0 || days > 3650 {
                return Err(InvalidInput::new("days", "must be 1 to 3650"));
            }
        }
        Ok(metric)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OpenLongerThan { days } => write!(f, "open_longer_than_{days}_days"),
            Self::WrittenOffAmount { currency } => write!(f, "written_off_amount_{currency}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Narrows a target's metric to part of the plan's scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MetricFilter {
    #[serde(default)]
    pub branch: Option<BranchCode>,
    #[serde(default)]
    pub category: Option<RootCauseCategory>,
    #[serde(default)]
    pub code: Option<RootCauseCode>,
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// Whether the actual figure must stay at or below the target, or reach at least it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtMost,
    AtLeast,
}

wire_names!(Comparison, "comparison", { AtMost => "at_most", AtLeast => "at_least" });

impl Comparison {
    /// True when `actual` satisfies the comparison against `target`.
    pub fn holds(&self, actual: Decimal, target: Decimal) -> bool {
        match self {
            Self::AtMost => actual <= target,
            Self::AtLeast => actual >= target,
        }
    }
}

/// A target's figure: absolute, or a change in percent against the baseline's figure
/// (`-30` = 30 % below the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum TargetValue {
    Absolute(Decimal),
    ChangeFromBaseline(Decimal),
}

impl TargetValue {
    /// The figure to compare with, given the baseline's; `None` for a relative target
    /// without a baseline figure.
    pub fn resolve(&self, baseline: Option<Decimal>) -> Option<Decimal> {
        match self {
            Self::Absolute(value) => Some(*value),
            Self::ChangeFromBaseline(percent) => baseline
                .map(|b| (b * (Decimal::ONE_HUNDRED + percent) / Decimal::ONE_HUNDRED).round_dp(4)),
        }
    }

    fn check(&self) -> Result<(), InvalidInput> {
        match self {
            Self::Absolute(v) if v.is_sign_negative() => {
                Err(InvalidInput::new("value", "must not be negative"))
            }
            Self::ChangeFromBaseline(p) if *p < -Decimal::ONE_HUNDRED => Err(InvalidInput::new(
                "value",
                "a change from the baseline is at least -100 %",
            )),
            _ => Ok(()),
        }
    }
}

/// A target (目標) of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub id: PlanEntryId,
    #[serde(flatten)]
    pub metric: Metric,
    #[serde(default)]
    pub filter: MetricFilter,
    pub comparison: Comparison,
    pub value: TargetValue,
    /// The phase it applies to; `None` = every phase and the plan as a whole.
    #[serde(default)]
    pub phase: Option<u32>,
}

impl Target {
    /// Checks what can be checked of a target on its own (the plan checks the rest).
    pub fn new(
        id: PlanEntryId,
        metric: Metric,
        filter: MetricFilter,
        comparison: Comparison,
        value: TargetValue,
        phase: Option<u32>,
    ) -> Result<Self, InvalidInput> {
        value.check()?;
        if metric == Metric::CategoryShare && filter.category.is_none() {
            return Err(InvalidInput::in_context(
                "category",
                "is required for category_share: the share of which category",
            ));
        }
        if matches!(metric, Metric::SuspenseRate) && filter.channel.is_some() {
            return Err(InvalidInput::in_context(
                "channel",
                "transaction volumes are per branch, so the suspense rate cannot be cut by channel",
            ));
        }
        if matches!(metric, Metric::OpenLongerThan { .. })
            && (filter.code.is_some() || filter.channel.is_some())
        {
            return Err(InvalidInput::in_context(
                if filter.code.is_some() {
                    "code"
                } else {
                    "channel"
                },
                "items open at a date are counted per branch and category (the aging)",
            ));
        }
        Ok(Self {
            id,
            metric,
            filter,
            comparison,
            value,
            phase,
        })
    }
}

/// Where a measure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Planned,
    InProgress,
    Done,
    Dropped,
}

wire_names!(MeasureStatus, "status", {
    Planned => "planned",
    InProgress => "in_progress",
    Done => "done",
    Dropped => "dropped",
});

/// A measure (整改措施) the bank takes against a cause, as first written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureSpec {
    pub id: PlanEntryId,
    pub title: PlanName,
    /// The cause it addresses: a category, and optionally one of its codes.
    pub category: RootCauseCategory,
    #[serde(default)]
    pub code: Option<RootCauseCode>,
    pub owner_team: TeamId,
    pub owner: UserId,
    pub due: NaiveDate,
    #[serde(default)]
    pub description: Option<Note>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Month {
        Month::parse("month", text).expect("valid month")
    }

    fn span(from: &str, to: &str) -> MonthSpan {
        MonthSpan::new(month(from), month(to)).expect("valid span")
    }

    #[test]
    fn plan_ids_are_stable_per_reference() {
        let reference = PlanReference::parse("2027-remediation").expect("valid");
        assert_eq!(
            PlanId::for_reference(&reference),
            PlanId::for_reference(&reference)
        );
        assert_eq!(
            PlanId::for_reference(&reference).to_string(),
            PlanId::for_reference(&PlanReference::parse(" 2027-remediation ").expect("valid"))
                .to_string()
        );
    }

    #[test]
    fn plan_months_parse_strictly() {
        assert_eq!(
            Month::parse("from", "2027-13").expect_err("bad").field,
            "from"
        );
        assert_eq!(
            Month::parse("from", "2027-1").expect_err("bad").field,
            "from"
        );
        assert!(MonthSpan::new(month("2027-03"), month("2027-01")).is_err());
        assert_eq!(span("2026-01", "2026-12").months(), 12);
        assert_eq!(
            span("2027-01", "2027-03").end(),
            NaiveDate::from_ymd_opt(2027, 4, 1).expect("valid")
        );
    }
}
