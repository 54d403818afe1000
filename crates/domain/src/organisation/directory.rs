//! The registry as the item commands consult it: shared, and replaced whole when a version
//! is published or read again from the log. Holding no registry at all (nothing published)
//! accepts every branch and team, as before a bank writes its registry down.

use std::sync::{Arc, RwLock};

use chrono::NaiveDate;

use super::{OrganisationVersion, Organisations};
use crate::identity::{BranchCode, TeamId};

#[derive(Debug, Clone, Default)]
pub struct OrganisationDirectory(Arc<RwLock<Arc<Organisations>>>);

impl OrganisationDirectory {
    pub fn new(organisations: Organisations) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(organisations))))
    }

    /// Every version it holds.
    pub fn current(&self) -> Arc<Organisations> {
        self.0.read().map_or_else(
            |poisoned| Arc::clone(&poisoned.into_inner()),
            |g| Arc::clone(&g),
        )
    }

    /// Replaces what it holds (every clone sees the new registry).
    pub fn replace(&self, organisations: Organisations) {
        let next = Arc::new(organisations);
        match self.0.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

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
