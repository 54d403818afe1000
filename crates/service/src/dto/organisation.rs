//! The organisation registry on the wire: the document an administrator publishes
//! (`POST /v1/organisation`, `suspense org publish --file`) and the versions read back. A
//! bad value is named by its place (`branches[2].parent`).

use crate::openapi::wire;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense_domain::organisation::{
    Branch, BranchName, Jurisdiction, OrganisationVersion, Organisations, PublishOrganisation,
    Region, Team,
};
use suspense_domain::{BranchCode, InvalidInput, Note, TeamId};

use super::date;

/// A registry version as written down.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationDocument {
    #[schema(value_type = wire::Date)]
    pub effective_from: String,
    #[schema(value_type = wire::Text)]
    pub reason: String,
    #[serde(deserialize_with = "super::object::list")]
    pub branches: Vec<BranchBody>,
    #[serde(default, deserialize_with = "super::object::list")]
    pub teams: Vec<TeamBody>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Branch)]
#[serde(deny_unknown_fields)]
pub struct BranchBody {
    #[schema(value_type = wire::BranchCode)]
    pub code: String,
    #[schema(value_type = Option<wire::BranchName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<wire::BranchCode>)]
    pub parent: Option<String>,
    #[schema(value_type = Option<wire::Region>)]
    pub region: Option<String>,
    #[schema(value_type = Option<wire::Jurisdiction>)]
    pub jurisdiction: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Team)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    #[schema(value_type = wire::TeamId)]
    pub id: String,
    #[schema(value_type = wire::BranchCode)]
    pub branch: String,
}

/// `value` parsed by `parse`, an error named `place.field`.
fn at<T>(
    place: &str,
    value: &str,
    parse: fn(&str) -> Result<T, InvalidInput>,
) -> Result<T, InvalidInput> {
    parse(value).map_err(|e| {
        let field = format!("{place}.{}", e.field);
        e.for_field(field)
    })
}

fn optional<T>(
    place: &str,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<T>, InvalidInput> {
    value.map(|v| at(place, v, parse)).transpose()
}

impl OrganisationDocument {
    pub fn parse(&self) -> Result<PublishOrganisation, InvalidInput> {
        let branches = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let place = format!("branches[{i}]");
                Ok(Branch {
                    code: at(&place, &b.code, BranchCode::parse)
                        .map_err(|e| e.for_field(format!("{place}.code")))?,
                    name: optional(&place, b.name.as_deref(), BranchName::parse)?,
                    parent: optional(&place, b.parent.as_deref(), BranchCode::parse)
                        .map_err(|e| e.for_field(format!("{place}.parent")))?,
                    region: optional(&place, b.region.as_deref(), Region::parse)?,
                    jurisdiction: optional(&place, b.jurisdiction.as_deref(), Jurisdiction::parse)?,
                })
            })
            .collect::<Result<_, InvalidInput>>()?;
        let teams = self
            .teams
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let place = format!("teams[{i}]");
                Ok(Team {
                    id: at(&place, &t.id, TeamId::parse)
                        .map_err(|e| e.for_field(format!("{place}.id")))?,
                    branch: at(&place, &t.branch, BranchCode::parse)?,
                })
            })
            .collect::<Result<_, InvalidInput>>()?;
        Ok(PublishOrganisation {
            effective_from: date("effective_from", &self.effective_from)?,
            reason: Note::parse(&self.reason).map_err(|e| e.for_field("reason"))?,
            branches,
            teams,
        })
    }
}

/// One version read back, in the document's own shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganisationVersionView {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub branches: Vec<BranchBody>,
    pub teams: Vec<TeamBody>,
}

impl From<&OrganisationVersion> for OrganisationVersionView {
    fn from(v: &OrganisationVersion) -> Self {
        let text = |t: Option<&str>| t.map(str::to_owned);
        Self {
            version: v.version,
            effective_from: v.effective_from,
            branches: v
                .branches
                .iter()
                .map(|b| BranchBody {
                    code: b.code.to_string(),
                    name: text(b.name.as_ref().map(BranchName::as_str)),
                    parent: text(b.parent.as_ref().map(BranchCode::as_str)),
                    region: text(b.region.as_ref().map(Region::as_str)),
                    jurisdiction: text(b.jurisdiction.as_ref().map(Jurisdiction::as_str)),
                })
                .collect(),
            teams: v
                .teams
                .iter()
                .map(|t| TeamBody {
                    id: t.id.to_string(),
                    branch: t.branch.to_string(),
                })
                .collect(),
        }
    }
}

/// Every version and the one in force today.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganisationView {
    pub in_force: Option<u32>,
    pub versions: Vec<OrganisationVersionView>,
}

impl OrganisationView {
    pub fn new(registry: &Organisations, today: NaiveDate) -> Self {
        Self {
            in_force: registry.in_force(today).map(|v| v.version),
            versions: registry.versions.iter().map(Into::into).collect(),
        }
    }
}
