//! Configuration: a TOML file, overridden by environment variables and flags (clap reads
//! both), validated once into `Settings`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use suspense_domain::{
    ApprovalPolicy, CatalogueEntry, Currency, InvalidInput, RootCauseCatalogue, RootCauseCategory,
    RootCauseCode, UserId,
};
use suspense_read_models::{AgingBasis, AgingPolicy, ReportingCalendar};

use crate::auth::{Principal, Role, Users};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "./suspense.db";

/// The configuration file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    /// IANA time zone of the bank's calendar (default UTC).
    pub time_zone: Option<String>,
    #[serde(default)]
    pub aging: AgingConfig,
    #[serde(default)]
    pub approval: ApprovalConfig,
    /// Replaces the starter root-cause catalogue when present.
    #[serde(default)]
    pub root_causes: Vec<RootCauseConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingConfig {
    /// Upper bounds in days, ascending (default 30, 60, 90, 180).
    pub buckets: Option<Vec<u32>>,
    /// `booking_date` (default) or `value_date`.
    pub basis: Option<AgingBasis>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    pub write_offs_need_approval: Option<bool>,
    /// Per currency code: resolutions clearing more than this need approval (decimal string).
    #[serde(default)]
    pub amount_thresholds: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCauseConfig {
    pub code: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub roles: Vec<Role>,
    /// SHA-256 of the bearer token, hex. The token itself is never stored.
    pub token_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("configuration {0}")]
    Invalid(#[from] InvalidInput),
}

impl ConfigFile {
    /// Reads `path`; a missing file is an empty configuration only when `must_exist` is false.
    pub fn load(path: &Path, must_exist: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Self::default())
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Everything the service runs with, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub calendar: ReportingCalendar,
    pub aging: AgingPolicy,
    pub approval: ApprovalPolicy,
    pub catalogue: RootCauseCatalogue,
    pub users: Users,
}

impl Settings {
    /// Validates `file` with `listen` and `database_url` from flags or environment taking
    /// precedence over the file.
    pub fn resolve(
        file: ConfigFile,
        listen: Option<String>,
        database_url: Option<String>,
    ) -> Result<Self, ConfigError> {
        let listen_text = listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|_| {
            InvalidInput::new(
                "listen",
                format!("'{listen_text}' is not an address like 127.0.0.1:8080"),
            )
        })?;
        let calendar = match file.time_zone {
            Some(tz) => ReportingCalendar::parse(&tz)?,
            None => ReportingCalendar::default(),
        };
        let default_aging = AgingPolicy::default();
        let aging = AgingPolicy::new(
            file.aging
                .buckets
                .unwrap_or(default_aging.bucket_upper_days),
            file.aging.basis.unwrap_or(default_aging.basis),
        )?;
        let mut approval = ApprovalPolicy::write_offs_only();
        if let Some(flag) = file.approval.write_offs_need_approval {
            approval.write_offs_need_approval = flag;
        }
        for (code, limit) in file.approval.amount_thresholds {
            let currency =
                Currency::parse(&code).map_err(|e| e.for_field("approval.amount_thresholds"))?;
            let limit = limit.trim().parse().map_err(|_| {
                InvalidInput::new(
                    "approval.amount_thresholds",
                    format!("'{limit}' is not a decimal amount"),
                )
            })?;
            approval = approval.with_threshold(currency, limit);
        }
        let catalogue = if file.root_causes.is_empty() {
            RootCauseCatalogue::default()
        } else {
            let mut entries = BTreeMap::new();
            for entry in file.root_causes {
                let code = RootCauseCode::parse(&entry.code)
                    .map_err(|e| e.for_field("root_causes.code"))?;
                let category = RootCauseCategory::parse(&entry.category)
                    .map_err(|e| e.for_field("root_causes.category"))?;
                if entries
                    .insert(
                        code.clone(),
                        CatalogueEntry {
                            category,
                            description: entry.description,
                        },
                    )
                    .is_some()
                {
                    return Err(InvalidInput::new(
                        "root_causes.code",
                        format!("'{code}' appears twice"),
                    )
                    .into());
                }
            }
            RootCauseCatalogue::new(entries)
        };
        let mut users = Users::default();
        for user in file.users {
            let name = UserId::parse(&user.name).map_err(|e| e.for_field("users.name"))?;
            users.add(
                &user.token_sha256,
                Principal {
                    user: name,
                    roles: user.roles.into_iter().collect(),
                },
            )?;
        }
        Ok(Self {
            listen,
            database_url: database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
            calendar,
            aging,
            approval,
            catalogue,
            users,
        })
    }
}
