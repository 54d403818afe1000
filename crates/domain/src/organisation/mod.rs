//! The organisation registry: the bank's branches (with their parent, region and
//! jurisdiction) and handling teams (with their branch), published in versions with an
//! effective-from date like the escalation policy. Bookings to a branch, and assignments to
//! a team, that the registry does not know are refused, so one typo cannot make a new branch
//! in every report; access is scoped to a branch and the branches under it.

mod directory;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use directory::OrganisationDirectory;

use crate::identity::{BranchCode, Note, TeamId, UserId};
use crate::input::text_newtype;

text_newtype!(
    /// A region branches are grouped in for reports (`East China`).
    Region, field = "region", max = 64, multiline = false
);
text_newtype!(
    /// The jurisdiction whose regulator's clocks apply to a branch (`CN`, `HK`, `IN`).
    Jurisdiction, field = "jurisdiction", max = 32, multiline = false
);
text_newtype!(
    /// A branch's name as people know it (`上海分行`).
    BranchName, field = "name", max = 128, multiline = false
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub code: BranchCode,
    pub name: Option<BranchName>,
    /// The branch above it (head office has none).
    pub parent: Option<BranchCode>,
    pub region: Option<Region>,
    pub jurisdiction: Option<Jurisdiction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub branch: BranchCode,
}

/// One published version of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationVersion {
    /// 1, 2, 3 … in publication order.
    pub version: u32,
    /// The first bank-calendar day it is in force.
    pub effective_from: NaiveDate,
    pub branches: Vec<Branch>,
    pub teams: Vec<Team>,
}

impl OrganisationVersion {
    pub fn branch(&self, code: &BranchCode) -> Option<&Branch> {
        self.branches.iter().find(|b| &b.code == code)
    }

    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| &t.id == id)
    }

    /// Whether `branch` is `root` or lies under it.
    pub fn is_within(&self, branch: &BranchCode, root: &BranchCode) -> bool {
        let mut current = self.branch(branch);
        // A published version has no cycles; the bound guards against one anyway.
        for _ in 0..=self.branches.len() {
            match current {
                Some(b) if &b.code == root => return true,
                Some(b) => current = b.parent.as_ref().and_then(|p| self.branch(p)),
                None => return false,
            }
        }
        false
    }

    /// `root` and every branch under it, in code order.
    pub fn subtree(&self, root: &BranchCode) -> BTreeSet<BranchCode> {
        self.branches
            .iter()
            .filter(|b| self.is_within(&b.code, root))
            .map(|b| b.code.clone())
            .collect()
    }

    /// The branches of a jurisdiction, in code order.
    pub fn in_jurisdiction(&self, jurisdiction: &Jurisdiction) -> BTreeSet<BranchCode> {
        self.branches
            .iter()
            .filter(|b| b.jurisdiction.as_ref() == Some(jurisdiction))
            .map(|b| b.code.clone())
            .collect()
    }
}

/// Where a person may see and act on items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum AccessScope {
    /// Every branch: head office, auditors, the sweep.
    #[default]
    Everywhere,
    /// A home branch and every branch under it in the registry (the branch alone while no
    /// registry is published).
    Branch(BranchCode),
}

impl AccessScope {
    /// The branches admitted under `registry`, in code order; `None` for every branch.
    pub fn branches(&self, registry: Option<&OrganisationVersion>) -> Option<BTreeSet<BranchCode>> {
        match self {
            Self::Everywhere => None,
            Self::Branch(home) => Some(match registry {
                Some(version) if version.branch(home).is_some() => version.subtree(home),
                _ => BTreeSet::from([home.clone()]),
            }),
        }
    }

    /// Whether an item of `branch` is in scope under `registry`.
    pub fn admits(&self, branch: &BranchCode, registry: Option<&OrganisationVersion>) -> bool {
        match self {
            Self::Everywhere => true,
            Self::Branch(home) => {
                home == branch || registry.is_some_and(|version| version.is_within(branch, home))
            }
        }
    }
}

/// The current version of the registry's event payload.
pub const ORGANISATION_EVENT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrganisationEvent {
    OrganisationPublished {
        at: DateTime<Utc>,
        by: UserId,
        reason: Note,
        organisation: OrganisationVersion,
    },
}

impl OrganisationEvent {
    /// Every registry event's type name (distinct from every other stream's).
    pub const NAMES: [&'static str; 1] = ["OrganisationPublished"];

    pub fn name(&self) -> &'static str {
        match self {
            Self::OrganisationPublished { .. } => "OrganisationPublished",
        }
    }
}

/// A request to publish a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishOrganisation {
    pub effective_from: NaiveDate,
    pub reason: Note,
    pub branches: Vec<Branch>,
    pub teams: Vec<Team>,
}

/// A version refused at publication: the place in the document and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct OrganisationError {
    /// `branches[3].parent`, `teams[0].branch`, `effective_from`.
    pub field: String,
    pub reason: String,
}

fn refuse<T>(field: String, reason: impl Into<String>) -> Result<T, OrganisationError> {
    Err(OrganisationError {
        field,
        reason: reason.into(),
    })
}

/// Checks a registry as a whole: at least one branch; codes and team ids unique; every
/// parent and every team's branch known; no branch its own ancestor.
fn check(branches: &[Branch], teams: &[Team]) -> Result<(), OrganisationError> {
    if branches.is_empty() {
        return refuse(
            "branches".to_owned(),
            "a registry needs at least one branch",
        );
    }
    let mut index: BTreeMap<&BranchCode, usize> = BTreeMap::new();
    for (i, branch) in branches.iter().enumerate() {
        if let Some(first) = index.insert(&branch.code, i) {
            return refuse(
                format!("branches[{i}].code"),
                format!("{} is already branches[{first}]", branch.code),
            );
        }
    }
    for (i, branch) in branches.iter().enumerate() {
        let Some(parent) = &branch.parent else {
            continue;
        };
        if !index.contains_key(parent) {
            return refuse(
                format!("branches[{i}].parent"),
                format!("{parent} is not a branch of the registry"),
            );
        }
        // Walk up from the branch: meeting it again is a cycle.
        let mut seen = BTreeSet::from([&branch.code]);
        let mut up = Some(parent);
        while let Some(code) = up {
            if !seen.insert(code) {
                return refuse(
                    format!("branches[{i}].parent"),
                    format!("{} would be under itself", branch.code),
                );
            }
            up = index.get(code).and_then(|&j| branches[j].parent.as_ref());
        }
    }
    let mut team_index: BTreeMap<&TeamId, usize> = BTreeMap::new();
    for (i, team) in teams.iter().enumerate() {
        if let Some(first) = team_index.insert(&team.id, i) {
            return refuse(
                format!("teams[{i}].id"),
                format!("{} is already teams[{first}]", team.id),
            );
        }
        if !index.contains_key(&team.branch) {
            return refuse(
                format!("teams[{i}].branch"),
                format!("{} is not a branch of the registry", team.branch),
            );
        }
    }
    Ok(())
}

/// Every version published, oldest first: the registry stream's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisations {
    pub versions: Vec<OrganisationVersion>,
}

impl Organisations {
    /// The aggregate type registry events are stored under, and the stream's one id.
    pub const TYPE: &'static str = "Organisation";
    pub const STREAM: &'static str = "organisation";

    pub fn apply(&mut self, event: &OrganisationEvent) {
        let OrganisationEvent::OrganisationPublished { organisation, .. } = event;
        self.versions.push(organisation.clone());
    }

    /// The version in force on `date`: the latest published with an effective date on or
    /// before it; before the first version's date, the first (a registry describes branches
    /// that existed before it was written down).
    pub fn in_force(&self, date: NaiveDate) -> Option<&OrganisationVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= date)
            .or_else(|| self.versions.first())
    }

    pub fn latest(&self) -> Option<&OrganisationVersion> {
        self.versions.last()
    }

    /// The event publishing `command` as the next version, or what it breaks.
    pub fn decide(
        &self,
        command: PublishOrganisation,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<OrganisationEvent, OrganisationError> {
        check(&command.branches, &command.teams)?;
        let latest = self.versions.last();
        if let Some(latest) = latest {
            if command.effective_from < latest.effective_from {
                return refuse(
                    "effective_from".to_owned(),
                    format!(
                        "{} is before version {}'s ({}): versions take effect in publication order",
                        command.effective_from, latest.version, latest.effective_from
                    ),
                );
            }
            if latest.effective_from == command.effective_from
                && latest.branches == command.branches
                && latest.teams == command.teams
            {
                return refuse(
                    "branches".to_owned(),
                    format!(
                        "the registry is version {}'s: nothing to publish",
                        latest.version
                    ),
                );
            }
        }
        Ok(OrganisationEvent::OrganisationPublished {
            at,
            by,
            reason: command.reason,
            organisation: OrganisationVersion {
                version: latest.map_or(1, |v| v.version + 1),
                effective_from: command.effective_from,
                branches: command.branches,
                teams: command.teams,
            },
        })
    }
}
