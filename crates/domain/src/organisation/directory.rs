//! The registry as the item commands consult it. Holding no registry at all (nothing
//! published) accepts every branch and team, as before a bank writes its registry down.

use chrono::NaiveDate;

use super::{OrganisationVersion, Organisations};
use crate::identity::{BranchCode, TeamId};
use crate::published::Published;

/// The organisation registry shared by the item commands.
pub type OrganisationDirectory = Published<Organisations>;

impl Published<Organisations> {
    /// How many versions it holds.
    pub fn versions(&self) -> usize {
        self.current().versions.len()
    }

    /// The version in force on `date`, if a registry is published.
    pub fn in_force(&self, date: NaiveDate) -> Option<OrganisationVersion> {
        self.current().in_force(date).cloned()
    }

    /// Why `branch` may not be booked to on `date`; `None` when it may.
    pub fn branch_refusal(&self, branch: &BranchCode, date: NaiveDate) -> Option<String> {
        let registry = self.current();
        let version = registry.in_force(date)?;
        version.branch(branch).is_none().then(|| {
            format!(
                "{branch} is not a branch of the organisation registry (version {})",
                version.version
            )
        })
    }

    /// Why `team` may not be assigned on `date`; `None` when it may.
    pub fn team_refusal(&self, team: &TeamId, date: NaiveDate) -> Option<String> {
        let registry = self.current();
        let version = registry.in_force(date)?;
        version.team(team).is_none().then(|| {
            format!(
                "{team} is not a team of the organisation registry (version {})",
                version.version
            )
        })
    }
}
