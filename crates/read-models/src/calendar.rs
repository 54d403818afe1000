//! The bank's calendar: reports are per calendar period in the bank's own time zone, not UTC.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use suspense_domain::InvalidInput;

/// The IANA time zone in which instants become business dates (default UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingCalendar {
    tz: Tz,
}

impl Default for ReportingCalendar {
    fn default() -> Self {
        Self { tz: Tz::UTC }
    }
}

impl ReportingCalendar {
    pub fn new(tz: Tz) -> Self {
        Self { tz }
    }

    /// Parses an IANA name such as `Asia/Shanghai`.
    pub fn parse(name: &str) -> Result<Self, InvalidInput> {
        name.trim().parse::<Tz>().map(Self::new).map_err(|_| {
            InvalidInput::new("time_zone", format!("'{name}' is not an IANA time zone"))
        })
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The bank's calendar date at instant `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of `date` in the bank's time zone.
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.tz.from_local_datetime(&midnight).earliest() {
            Some(local) => local.with_timezone(&Utc),
            // Midnight skipped by a DST change: the day starts at the first hour that exists.
            None => self
                .tz
                .from_local_datetime(&(midnight + Duration::hours(1)))
                .earliest()
                .map_or_else(|| midnight.and_utc(), |l| l.with_timezone(&Utc)),
        }
    }
}

/// The first day of the month `date` falls in.
pub fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// Month, quarter or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub const ALL: [Self; 3] = [Self::Month, Self::Quarter, Self::Year];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                InvalidInput::new(
                    "period",
                    format!("'{value}' is not one of month, quarter, year"),
                )
            })
    }

    fn months(&self) -> u32 {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
        }
    }
}

/// One calendar period: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
}

impl PartialOrd for PeriodKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PeriodKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.months().cmp(&other.months())
    }
}

impl Period {
    /// The period of `kind` that contains `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Self {
        let month0 = date.month0() - date.month0() % kind.months();
        let start = NaiveDate::from_ymd_opt(date.year(), month0 + 1, 1).unwrap_or(date);
        Self { kind, start }
    }

    /// First day after the period.
    pub fn end(&self) -> NaiveDate {
        add_months(self.start, self.kind.months() as i32)
    }

    pub fn previous(&self) -> Self {
        Self {
            kind: self.kind,
            start: add_months(self.start, -(self.kind.months() as i32)),
        }
    }

    /// The same period a year before.
    pub fn year_earlier(&self) -> Self {
        Self {
            kind: self.kind,
            start: add_months(self.start, -12),
        }
    }

    pub fn next(&self) -> Self {
        Self {
            kind: self.kind,
            start: self.end(),
        }
    }

    /// The first days of the months in the period.
    pub fn months(&self) -> Vec<NaiveDate> {
        (0..self.kind.months() as i32)
            .map(|m| add_months(self.start, m))
            .collect()
    }

    /// `2026-03`, `2026-Q1` or `2026`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month => self.start.format("%Y-%m").to_string(),
            PeriodKind::Quarter => {
                format!("{}-Q{}", self.start.year(), self.start.month0() / 3 + 1)
            }
            PeriodKind::Year => self.start.year().to_string(),
        }
    }

    /// Every period of `kind` that overlaps `[from, to]`, oldest first (at most `limit`).
    pub fn range(kind: PeriodKind, from: NaiveDate, to: NaiveDate, limit: usize) -> Vec<Period> {
        let mut periods = Vec::new();
        let mut period = Period::containing(kind, from);
        while period.start <= to && periods.len() < limit {
            periods.push(period);
            period = period.next();
        }
        periods
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(date)
}

/// Time to resolution is kept as a histogram of fine buckets, so that medians and 90th
/// percentiles can be summed over any cells and periods without storing every duration:
/// buckets 0..=719 are whole hours (under 30 days), 720..=4339 whole days (30 days to 10
/// years), 4340 everything longer. A percentile is reported as the upper bound of its bucket:
/// exact to the hour under 30 days, to the day up to 10 years.
pub mod resolution_time {
    pub const HOURLY_BUCKETS: i64 = 720;
    pub const LAST_BUCKET: i32 = 4340;

    pub fn bucket(hours: i64) -> i32 {
        let hours = hours.max(0);
        if hours < HOURLY_BUCKETS {
            hours as i32
        } else {
            let days = hours / 24;
            (HOURLY_BUCKETS + (days - 30)).min(i64::from(LAST_BUCKET)) as i32
        }
    }

    /// The largest duration, in hours, that falls into `bucket` (its upper bound).
    pub fn upper_bound_hours(bucket: i32) -> i64 {
        let bucket = i64::from(bucket);
        if bucket < HOURLY_BUCKETS {
            bucket + 1
        } else {
            (bucket - HOURLY_BUCKETS + 30 + 1) * 24
        }
    }

    /// The median and the 90th percentile (`percentile`), or none without resolutions.
    pub fn median_and_p90(histogram: &[(i32, i64)]) -> (Option<i64>, Option<i64>) {
        match percentile(histogram, 50) {
            Some(median) => (Some(median), percentile(histogram, 90)),
            None => (None, None),
        }
    }

    /// Nearest-rank percentile (0 < p ≤ 100) over `(bucket, count)` pairs sorted by bucket.
    pub fn percentile(histogram: &[(i32, i64)], p: u32) -> Option<i64> {
        let total: i64 = histogram.iter().map(|(_, c)| *c).sum();
        if total <= 0 {
            return None;
        }
        let rank = (i64::from(p) * total + 99) / 100; // ceil(p% of total), at least 1
        let mut seen = 0;
        for (bucket, count) in histogram {
            seen += count;
            if seen >= rank.max(1) {
                return Some(upper_bound_hours(*bucket));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn shanghai_dates_cross_the_month_boundary_before_utc_does() {
        let shanghai = ReportingCalendar::parse("Asia/Shanghai").expect("IANA name");
        let at = Utc
            .with_ymd_and_hms(2026, 3, 31, 16, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(shanghai.local_date(at), date(2026, 4, 1));
        assert_eq!(
            ReportingCalendar::default().local_date(at),
            date(2026, 3, 31)
        );
        assert_eq!(
            shanghai.start_of_day(date(2026, 4, 1)),
            Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0)
                .single()
                .expect("valid")
        );
        assert!(ReportingCalendar::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn periods_contain_and_step() {
        let q = Period::containing(PeriodKind::Quarter, date(2026, 5, 17));
        assert_eq!(q.start, date(2026, 4, 1));
        assert_eq!(q.end(), date(2026, 7, 1));
        assert_eq!(q.label(), "2026-Q2");
        assert_eq!(q.previous().label(), "2026-Q1");
        assert_eq!(
            q.months(),
            vec![date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
        );
        let jan = Period::containing(PeriodKind::Month, date(2026, 1, 9));
        assert_eq!(jan.previous().label(), "2025-12");
        assert_eq!(
            Period::containing(PeriodKind::Year, date(2026, 12, 31)).label(),
            "2026"
        );
        let months = Period::range(PeriodKind::Month, date(2025, 11, 5), date(2026, 2, 1), 100);
        let labels: Vec<String> = months.iter().map(Period::label).collect();
        assert_eq!(labels, vec!["2025-11", "2025-12", "2026-01", "2026-02"]);
    }

    #[test]
    fn resolution_time_buckets_are_hourly_then_daily() {
        use resolution_time::*;
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(719), 719);
        assert_eq!(bucket(720), 720);
        assert_eq!(bucket(30 * 24 + 23), 720);
        assert_eq!(bucket(31 * 24), 721);
        assert_eq!(bucket(100 * 365 * 24), LAST_BUCKET);
        assert_eq!(upper_bound_hours(5), 6);
        assert_eq!(upper_bound_hours(720), 31 * 24);
        assert_eq!(percentile(&[(1, 1), (5, 1), (9, 2)], 50), Some(6));
        assert_eq!(percentile(&[(1, 1), (5, 1), (9, 2)], 90), Some(10));
        assert_eq!(percentile(&[], 50), None);
    }
}
