//! The watch list (風險預警): open items that will cross a threshold of the escalation
//! policy within a horizon, and items already older than their cause usually takes to
//! resolve (the 90th percentile of the last twelve months' resolutions). Each entry says
//! why it is listed; entries are ranked per currency by risk, the outstanding amount times
//! how far through its allowance the item is (amounts in different currencies are never
//! compared).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use suspense_database::Statement;
use suspense_domain::plan::Month;
use suspense_domain::policy::{crossings, Crossing, PolicyVersion, Trigger};
use suspense_domain::{BranchCode, Currency, EscalationLevel, InvalidInput, ItemStatus, Money};

use super::{age_column, days_before, push_covered, PolicyRow, POLICY_COLUMNS};
use crate::calendar::resolution_time;
use crate::reports::{ReportError, Reports};

/// The longest horizon a watch list looks ahead, in days.
pub const MAX_HORIZON_DAYS: u32 = 366;
/// The most entries listed per currency.
pub const MAX_WATCH_LIMIT: u32 = 1_000;
/// Resolutions a cause code needs in the window for its own 90th percentile; with fewer,
/// its category's is used.
pub const MIN_RESOLUTIONS: i64 = 10;
/// Months of resolutions the usual time to resolve is taken over, ending with `as_of`'s.
const USUAL_TIME_MONTHS: u32 = 12;

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchQuery {
    pub as_of: NaiveDate,
    /// Days ahead: a threshold crossed by `as_of + horizon_days` lists the item.
    pub horizon_days: u32,
    pub branch: Option<BranchCode>,
    pub currency: Option<Currency>,
    /// Entries listed per currency, highest risk first.
    pub limit: u32,
}

impl WatchQuery {
    /// A query over every branch and currency, checked: the horizon at most
    /// `MAX_HORIZON_DAYS`, the limit 1 to `MAX_WATCH_LIMIT`.
    pub fn new(as_of: NaiveDate, horizon_days: u32, limit: u32) -> Result<Self, InvalidInput> {
        if horizon_days > MAX_HORIZON_DAYS {
            return Err(InvalidInput::new(
                "horizon_days",
                format!("must be at most {MAX_HORIZON_DAYS}, got {horizon_days}"),
            ));
        }
        if limit == 0 || limit > MAX_WATCH_LIMIT {
            return Err(InvalidInput::new(
                "limit",
                format!("must be 1 to {MAX_WATCH_LIMIT}, got {limit}"),
            ));
        }
        Ok(Self {
            as_of,
            horizon_days,
            branch: None,
            currency: None,
            limit,
        })
    }
}

/// Why an item is on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchReason {
    /// A rule of the policy fires within the horizon (or fired, and no sweep raised it yet).
    Threshold(Crossing),
    /// Older than the 90th percentile of the time its cause took to resolve.
    BeyondUsualTime {
        /// The code the percentile is of; `None` when it is the category's (the code had
        /// fewer than `MIN_RESOLUTIONS` resolutions in the window).
        code: Option<String>,
        p90_hours: i64,
        /// `p90_hours` in whole days, rounded up.
        p90_days: i64,
        /// Resolutions the percentile is taken over.
        resolutions: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEntry {
    pub item_id: String,
    pub source_system: String,
    pub reference: String,
    pub branch: String,
    pub category: Option<String>,
    pub code: Option<String>,
    pub amount: Money,
    pub outstanding: Money,
    pub booked_on: NaiveDate,
    /// Days since booking on `as_of`.
    pub age_days: i64,
    pub escalation_level: Option<EscalationLevel>,
    /// The item's age over the threshold it is listed for, the highest among its reasons
    /// (above 1 when overdue), to two decimals.
    pub overdue_ratio: Decimal,
    /// `outstanding × overdue_ratio`, rounded to the item's currency.
    pub risk: Decimal,
    pub reasons: Vec<WatchReason>,
}

/// One currency's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchGroup {
    pub currency: Currency,
    /// Items of the currency on the list before the limit.
    pub listed: usize,
    pub entries: Vec<WatchEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchList {
    pub as_of: NaiveDate,
    pub horizon_days: u32,
    /// The policy version in force on `as_of` (`None`: no thresholds to cross yet).
    pub policy_version: Option<u32>,
    /// The months the usual times to resolve are taken over.
    pub usual_time_window: (Month, Month),
    pub groups: Vec<WatchGroup>,
}

/// The 90th percentile of a cause's resolution times, and how many it is taken over.
#[derive(Debug, Clone, Copy)]
struct UsualTime {
    p90_hours: i64,
    resolutions: i64,
}

impl UsualTime {
    fn of(histogram: &mut [(i32, i64)]) -> Option<Self> {
        histogram.sort_unstable();
        Some(Self {
            p90_hours: resolution_time::percentile(histogram, 90)?,
            resolutions: histogram.iter().map(|(_, count)| count).sum(),
        })
    }

    fn days(&self) -> i64 {
        (self.p90_hours + 23) / 24
    }
}

/// The usual times to resolve per category and per code within it.
#[derive(Debug, Default)]
struct UsualTimes {
    categories: BTreeMap<String, (UsualTime, BTreeMap<String, UsualTime>)>,
}

impl UsualTimes {
    /// What an item of `category` and `code` is measured against: its code's percentile
    /// when there are enough resolutions, else its category's.
    fn of(&self, category: &str, code: Option<&str>) -> Option<(Option<&str>, UsualTime)> {
        let (whole, codes) = self.categories.get(category)?;
        match code.and_then(|c| codes.get_key_value(c)) {
            Some((code, time)) => Some((Some(code.as_str()), *time)),
            None => Some((None, *whole)),
        }
    }
}

#[derive(sqlx::FromRow)]
struct HistogramRow {
    category: String,
    code: String,
    #[sqlx(json)]
    buckets: Vec<(i32, i64)>,
}

impl Reports<'_> {
    /// The watch list as the register stands, for `policy` (the version in force on
    /// `query.as_of`, if any).
    pub async fn watch_list(
        &self,
        query: &WatchQuery,
        policy: Option<&PolicyVersion>,
    ) -> Result<WatchList, ReportError> {
        let window_end = Month::of(query.as_of);
        let window_start = window_end
            .minus(USUAL_TIME_MONTHS - 1)
            .unwrap_or(window_end);
        let usual = self.usual_times(window_start, window_end).await?;
        let rows = self.watch_candidates(query, policy, &usual).await?;
        let mut groups: BTreeMap<Currency, Vec<WatchEntry>> = BTreeMap::new();
        for row in rows {
            if let Some(entry) = watch_entry(&row, query, policy, &usual, self.registry.as_ref())? {
                groups
                    .entry(entry.outstanding.currency())
                    .or_default()
                    .push(entry);
            }
        }
        let groups = groups
            .into_iter()
            .map(|(currency, mut entries)| {
                entries.sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.item_id.cmp(&b.item_id)));
                let listed = entries.len();
                entries.truncate(query.limit as usize);
                WatchGroup {
                    currency,
                    listed,
                    entries,
                }
            })
            .collect();
        Ok(WatchList {
            as_of: query.as_of,
            horizon_days: query.horizon_days,
            policy_version: policy.map(|p| p.version),
            usual_time_window: (window_start, window_end),
            groups,
        })
    }

    /// The 90th percentile of resolution times per category and code over `from..=to`, bank
    /// wide: a cause's usual time does not depend on where the item was booked.
    async fn usual_times(&self, from: Month, to: Month) -> Result<UsualTimes, ReportError> {
        let end = to.plus(1).map_or(NaiveDate::MAX, |m| m.first_day());
        let mut q = Statement::new(
            "SELECT category, code, buckets FROM resolution_time_histogram WHERE month >= ",
        );
        q.push_param(from.first_day())
            .push(" AND month < ")
            .push_param(end);
        let rows: Vec<HistogramRow> = q.fetch_all(self.pool).await?;
        type Histograms = HashMap<String, Vec<(i32, i64)>>;
        let mut categories: BTreeMap<String, (Vec<(i32, i64)>, Histograms)> = BTreeMap::new();
        for row in rows {
            let (whole, codes) = categories.entry(row.category).or_default();
            whole.extend(row.buckets.iter().copied());
            codes.entry(row.code).or_default().extend(row.buckets);
        }
        let mut usual = UsualTimes::default();
        for (category, (mut whole, codes)) in categories {
            let Some(whole) = UsualTime::of(&mut whole) else {
                continue;
            };
            let codes = codes
                .into_iter()
                .filter_map(|(code, mut histogram)| Some((code, UsualTime::of(&mut histogram)?)))
                .filter(|(_, time)| time.resolutions >= MIN_RESOLUTIONS)
                .collect();
            usual.categories.insert(category, (whole, codes));
        }
        Ok(usual)
    }

    /// Open register rows that may be listed: a rule could cross within the horizon, or the
    /// item is older than its cause's usual time. Each is decided again in `watch_entry`.
    async fn watch_candidates(
        &self,
        query: &WatchQuery,
        policy: Option<&PolicyVersion>,
        usual: &UsualTimes,
    ) -> Result<Vec<PolicyRow>, ReportError> {
        let mut q = Statement::new(format!(
            "SELECT {}, outstanding_minor FROM item_register WHERE status = ",
            POLICY_COLUMNS.join(", ")
        ));
        q.push_param(ItemStatus::Open.as_str());
        if let Some(branch) = &query.branch {
            q.push(" AND branch = ").push_param(branch.as_str());
        }
        self.push_scope(&mut q, "branch");
        if let Some(currency) = query.currency {
            q.push(" AND currency = ").push_param(currency.code());
        }
        q.push(" AND (1 = 0");
        let until = query
            .as_of
            .checked_add_days(chrono::Days::new(u64::from(query.horizon_days)))
            .unwrap_or(NaiveDate::MAX);
        for rule in policy.map_or(&[][..], |p| &p.rules) {
            let Trigger::Age { days, from } = rule.trigger else {
                continue;
            };
            let column = age_column(from);
            q.push(" OR (1 = 1");
            push_covered(&mut q, rule, self.registry.as_ref());
            q.push(&format!(" AND {column} <= "))
                .push_param(days_before(until, days))
                .push(" AND (escalation_level < ")
                .push_param(i64::from(rule.raise_to.rank()));
            if rule.action.is_some() {
                q.push(&format!(" OR {column} > "))
                    .push_param(days_before(query.as_of, days));
            }
            q.push("))");
        }
        for (category, (whole, codes)) in &usual.categories {
            for (code, time) in codes {
                q.push(" OR (category = ")
                    .push_param(category.as_str())
                    .push(" AND code = ")
                    .push_param(code.as_str())
                    .push(" AND booked_on < ")
                    .push_param(days_before(query.as_of, day_count(time.days())))
                    .push(")");
            }
            q.push(" OR (category = ").push_param(category.as_str());
            if !codes.is_empty() {
                q.push(" AND code NOT IN (")
                    .push_params(codes.keys().map(String::as_str))
                    .push(")");
            }
            q.push(" AND booked_on < ")
                .push_param(days_before(query.as_of, day_count(whole.days())))
                .push(")");
        }
        q.push(")");
        Ok(q.fetch_all(self.pool).await?)
    }
}

fn day_count(days: i64) -> u32 {
    u32::try_from(days.max(0)).unwrap_or(u32::MAX)
}

/// The entry for `row`, or `None` when nothing lists it after all.
fn watch_entry(
    row: &PolicyRow,
    query: &WatchQuery,
    policy: Option<&PolicyVersion>,
    usual: &UsualTimes,
    registry: Option<&suspense_domain::organisation::OrganisationVersion>,
) -> Result<Option<WatchEntry>, ReportError> {
    let facts = row.facts(registry)?;
    let age_days = facts.age_days(suspense_domain::policy::AgeFrom::BookingDate, query.as_of);
    let mut reasons = Vec::new();
    let mut ratio = Decimal::ZERO;
    let mut consider = |age: i64, threshold: i64| {
        if threshold > 0 {
            ratio = ratio.max(Decimal::from(age) / Decimal::from(threshold));
        }
    };
    if let Some(policy) = policy {
        for crossing in crossings(policy, &facts, query.as_of, query.horizon_days) {
            let threshold = i64::from(crossing.threshold_days);
            consider(
                threshold - (crossing.on - query.as_of).num_days(),
                threshold,
            );
            reasons.push(WatchReason::Threshold(crossing));
        }
    }
    if let Some(category) = &row.category {
        if let Some((code, time)) = usual.of(category, row.code.as_deref()) {
            if age_days > time.days() {
                consider(age_days, time.days());
                reasons.push(WatchReason::BeyondUsualTime {
                    code: code.map(str::to_owned),
                    p90_hours: time.p90_hours,
                    p90_days: time.days(),
                    resolutions: time.resolutions,
                });
            }
        }
    }
    if reasons.is_empty() {
        return Ok(None);
    }
    let outstanding = row.outstanding()?;
    let currency = outstanding.currency();
    let mut overdue_ratio = ratio.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    overdue_ratio.rescale(2);
    let risk = (outstanding.amount() * ratio).round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    Ok(Some(WatchEntry {
        item_id: row.item_id.clone(),
        source_system: row.source_system.clone(),
        reference: row.reference.clone(),
        branch: row.branch.clone(),
        category: row.category.clone(),
        code: row.code.clone(),
        amount: facts.amount,
        outstanding,
        booked_on: row.booked_on,
        age_days,
        escalation_level: facts.escalation,
        overdue_ratio,
        risk,
        reasons,
    }))
}
