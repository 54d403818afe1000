//! Transaction volumes per branch and month, for the suspense rate (掛賬率): read from the
//! log's volume streams (`VolumeRecorded` events), the latest figure of each month counting.
//! Being events, they replay with everything else: a report as known at a date divides by
//! the figures known then.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use suspense_domain::plan::Month;
use suspense_domain::VolumeEvent;

use super::{ReportError, Reports};

/// The transactions recorded per (branch, month), latest figure of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFigures {
    figures: BTreeMap<(String, Month), u64>,
}

impl VolumeFigures {
    /// Each branch's transactions in the months `from..to` (only `branches`', if not empty).
    pub fn per_branch(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        branches: &[&str],
    ) -> HashMap<String, i64> {
        let mut sums: HashMap<String, i64> = HashMap::new();
        for ((branch, month), transactions) in &self.figures {
            let day = month.first_day();
            if day >= from
                && day < to
                && (branches.is_empty() || branches.contains(&branch.as_str()))
            {
                *sums.entry(branch.clone()).or_default() +=
                    i64::try_from(*transactions).unwrap_or(i64::MAX);
            }
        }
        sums
    }
}

impl Reports<'_> {
    /// Every branch's recorded transaction volumes, as the log holds them now.
    pub async fn volume_figures(&self) -> Result<VolumeFigures, ReportError> {
        let mut figures = BTreeMap::new();
        for recorded in self.log.volume_events().await? {
            let VolumeEvent::VolumeRecorded {
                branch,
                month,
                transactions,
                ..
            } = recorded.event;
            // Events come by branch and sequence: a correction follows what it replaces.
            figures.insert((branch.to_string(), month), transactions);
        }
        Ok(VolumeFigures { figures })
    }
}
