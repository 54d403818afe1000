//! Configuration: a TOML file, overridden by environment variables and flags (clap reads
//! both), validated once into `Settings`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::openapi::wire;
use suspense::delivery::{Subscription, SubscriptionSpec};
use suspense_domain::organisation::AccessScope;
use suspense_domain::policy::MAX_APPROVALS;
use suspense_domain::{
    ApprovalPolicy, BranchCode, BusinessDates, CatalogueEntry, Counterparties, CounterpartyCode,
    Currency, InvalidInput, RootCauseCatalogue, RootCauseCategory, RootCauseCode, UserId,
};
use suspense_read_models::{AgingBasis, AgingPolicy, ReportingCalendar};

use crate::auth::oidc::{KeySource, OidcSettings, OidcVerifier, MAX_LEEWAY_SECS};
use crate::auth::{Principal, Role, Users};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "./suspense.db";

/// The configuration file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    /// A PostgreSQL streaming replica of `database_url` that reports read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_database_url: Option<String>,
    /// IANA time zone of the bank's calendar (default UTC).
    pub time_zone: Option<String>,
    /// How often the service's projector brings the read models up to date, in milliseconds
    /// (default 500). Reports asked with `fresh=true` catch up first whatever this is.
    pub projector_interval_ms: Option<u64>,
    /// How often the service runs the escalation sweep, in seconds (default 3600; 0 turns
    /// it off, e.g. where another instance or a scheduler runs `suspense sweep`).
    pub sweep_interval_secs: Option<u64>,
    #[serde(default)]
    pub aging: AgingConfig,
    #[serde(default)]
    pub approval: ApprovalConfig,
    #[serde(default)]
    pub business_dates: BusinessDatesConfig,
    /// Replaces the starter root-cause catalogue when present.
    #[serde(default)]
    pub root_causes: Vec<RootCauseConfig>,
    /// The counterparties (third-party payment platforms, partner institutions) an external
    /// cause may be attributed to: code = name.
    #[serde(default)]
    pub counterparties: BTreeMap<String, String>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Single sign-on: access tokens from the bank's identity provider, besides `users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcConfig>,
    /// The web console's sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleConfig>,
    /// The bank's systems that hear of events: one deliverer each, on the leading instance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// A subscription as written (`[[subscriptions]]`), and as a supervisor's request for one
/// (`POST /v1/subscriptions`) carries it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = NewSubscription)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    #[schema(value_type = wire::SubscriptionName)]
    pub name: String,
    /// Event types as the log names them (`Escalated`); all when left out.
    #[serde(default)]
    #[schema(value_type = Vec<wire::EventType>)]
    pub event_types: Vec<String>,
    /// Branch codes; every branch when left out.
    #[serde(default)]
    #[schema(value_type = Vec<wire::BranchCode>)]
    pub branches: Vec<String>,
    /// A webhook target: the URL, and a secret of at least 32 bytes that signs every
    /// request (see docs/delivery.md).
    #[serde(default)]
    #[schema(value_type = Option<wire::WebhookUrl>)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    #[schema(min_length = 32)]
    pub webhook_secret: Option<String>,
    /// A JetStream target: the server and the subject its stream takes.
    #[serde(default)]
    #[schema(value_type = Option<wire::NatsServer>)]
    pub nats_server: Option<String>,
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
    pub jetstream_subject: Option<String>,
    /// `now` (default): the events after the log's head when first seen; `beginning`: all.
    #[serde(default)]
    #[schema(value_type = Option<wire::StartAt>)]
    pub start: Option<String>,
    /// Attempts at one event before the subscription parks (default 8).
    #[serde(default, deserialize_with = "crate::dto::whole::optional")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_attempts: Option<u32>,
}

impl SubscriptionConfig {
    /// As the delivery reads it (checked there, field by field).
    pub fn spec(self) -> SubscriptionSpec {
        SubscriptionSpec {
            name: self.name,
            event_types: self.event_types,
            branches: self.branches,
            webhook_url: self.webhook_url,
            webhook_secret: self.webhook_secret,
            nats_server: self.nats_server,
            jetstream_subject: self.jetstream_subject,
            start: self.start,
            max_attempts: self.max_attempts,
        }
    }

    /// The subscription, or the first field it gets wrong, named `subscriptions[i].field`.
    fn parse(self, index: usize) -> Result<Subscription, InvalidInput> {
        self.spec()
            .parse()
            .map_err(|e| InvalidInput::new(format!("subscriptions[{index}].{}", e.field), e.reason))
    }
}

/// Every subscription, checked, with names used once.
fn subscriptions(configs: Vec<SubscriptionConfig>) -> Result<Vec<Subscription>, InvalidInput> {
    let mut parsed: Vec<Subscription> = Vec::with_capacity(configs.len());
    for (index, config) in configs.into_iter().enumerate() {
        let subscription = config.parse(index)?;
        if parsed.iter().any(|s| s.name == subscription.name) {
            return Err(InvalidInput::new(
                format!("subscriptions[{index}].name"),
                format!("'{}' is used by another subscription", subscription.name),
            ));
        }
        parsed.push(subscription);
    }
    Ok(parsed)
}

/// The web console's sessions (`/console`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The key session cookies are encrypted and signed with: 128 hex digits (64 bytes).
    /// Every instance behind one address needs the same key; without one, each process
    /// makes its own, and its sessions end when it stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Hours a sign-in lasts (default 8, at most 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_hours: Option<u64>,
    /// Mark the session cookie `Secure` even without `X-Forwarded-Proto: https` (set this
    /// when TLS ends in front of the service and the proxy does not send that header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_cookie: Option<bool>,
}

/// What the console's sessions run with, validated.
#[derive(Clone)]
pub struct ConsoleSettings {
    pub key: axum_extra::extract::cookie::Key,
    pub session: std::time::Duration,
    pub secure_cookie: bool,
}

impl std::fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("key", &"<secret>")
            .field("session", &self.session)
            .field("secure_cookie", &self.secure_cookie)
            .finish()
    }
}

/// The longest sign-in the console allows.
pub const MAX_SESSION_HOURS: u64 = 24;

impl ConsoleSettings {
    fn parse(config: ConsoleConfig) -> Result<Self, ConfigError> {
        use axum_extra::extract::cookie::Key;
        let key = match config.session_key.as_deref().map(str::trim) {
            None => Key::generate(),
            Some(text) => {
                let bytes = hex::decode(text)
                    .ok()
                    .filter(|b| b.len() == 64)
                    .ok_or_else(|| {
                        InvalidInput::new("console.session_key", "must be 128 hex digits")
                    })?;
                Key::from(&bytes)
            }
        };
        let hours = config.session_hours.unwrap_or(8);
        if !(1..=MAX_SESSION_HOURS).contains(&hours) {
            return Err(InvalidInput::new(
                "console.session_hours",
                format!("must be 1 to {MAX_SESSION_HOURS}, got {hours}"),
            )
            .into());
        }
        Ok(Self {
            key,
            session: std::time::Duration::from_secs(hours * 3600),
            secure_cookie: config.secure_cookie.unwrap_or(false),
        })
    }
}

/// The bank's OpenID Connect provider, whose access tokens (JWT) the service accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The tokens' `iss`, exactly.
    pub issuer: String,
    /// What the tokens' `aud` must hold: the service's client id at the provider.
    pub audience: String,
    /// The provider's keys as a JWKS document on disk; or
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<PathBuf>,
    /// where the provider publishes them (fetched, and kept as long as it says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds (default 60, at most 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway_secs: Option<u64>,
    /// The claim naming the caller, recorded as the actor of what they do (default `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_claim: Option<String>,
    /// The claim listing the caller's roles: an array, or space-separated (default `roles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles_claim: Option<String>,
    /// The provider's role names and the service role each stands for; without it, the
    /// claim's names are the service's own (`operator`, `supervisor`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub role_names: BTreeMap<String, Role>,
    /// The claim holding the caller's home branch; a token without it is head office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_claim: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingConfig {
    /// Upper bounds in days, ascending (default 30, 60, 90, 180).
    pub buckets: Option<Vec<u32>>,
    /// `booking_date` (default) or `value_date`.
    pub basis: Option<AgingBasis>,
}

/// The window of plausible business dates on a booking.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessDatesConfig {
    /// The earliest booking or value date accepted, `YYYY-MM-DD` (default 1990-01-01).
    pub earliest: Option<String>,
    /// How many days after today a booking or value date may be (default 31).
    pub max_days_ahead: Option<u32>,
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
    /// The branch they work at: without `head_office = true` they see and act on items of
    /// this branch and the branches under it only. Without a home branch, every branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_branch: Option<String>,
    /// Sees every branch although a home branch is given (head-office staff).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub head_office: bool,
    /// What their approval counts for under approval bands (1 to 3, default 1): a manager
    /// whose approval stands for two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_authority: Option<u8>,
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
    /// Where reports read the read models from, if not the primary.
    pub read_database_url: Option<String>,
    pub calendar: ReportingCalendar,
    pub aging: AgingPolicy,
    pub approval: ApprovalPolicy,
    pub business_dates: BusinessDates,
    pub catalogue: RootCauseCatalogue,
    pub counterparties: Counterparties,
    pub users: Users,
    /// Access tokens from the identity provider, when configured.
    pub oidc: Option<Arc<OidcVerifier>>,
    pub projector_interval: std::time::Duration,
    /// `None`: the service does not sweep on its own.
    pub sweep_interval: Option<std::time::Duration>,
    pub console: ConsoleSettings,
    pub subscriptions: Vec<Subscription>,
}

/// Each catch-up of the projector costs a few dozen statements whether one event or a
/// thousand arrived; under load, polling less often leaves more of the database to commands.
pub const DEFAULT_PROJECTOR_INTERVAL_MS: u64 = 500;

/// An hourly sweep: escalation clocks count days, and each sweep is cheap when little is due.
pub const DEFAULT_SWEEP_INTERVAL_SECS: u64 = 3600;

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
        let mut counterparties = BTreeMap::new();
        for (code, name) in &file.counterparties {
            let code = CounterpartyCode::parse(code)
                .map_err(|e| e.for_field(format!("counterparties.{code}")))?;
            if name.trim().is_empty() {
                return Err(
                    InvalidInput::new(format!("counterparties.{code}"), "needs a name").into(),
                );
            }
            counterparties.insert(code, name.trim().to_owned());
        }
        let counterparties = Counterparties::new(counterparties);
        let interval_ms = file
            .projector_interval_ms
            .unwrap_or(DEFAULT_PROJECTOR_INTERVAL_MS);
        if !(10..=60_000).contains(&interval_ms) {
            return Err(InvalidInput::new(
                "projector_interval_ms",
                format!("{interval_ms} is not between 10 and 60000"),
            )
            .into());
        }
        let sweep_secs = file
            .sweep_interval_secs
            .unwrap_or(DEFAULT_SWEEP_INTERVAL_SECS);
        if sweep_secs > 86_400 {
            return Err(InvalidInput::new(
                "sweep_interval_secs",
                format!("{sweep_secs} is not 0 (off) or between 1 and 86400"),
            )
            .into());
        }
        let defaults = BusinessDates::default();
        let business_dates = BusinessDates {
            earliest: match file.business_dates.earliest.as_deref() {
                Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                    InvalidInput::new(
                        "business_dates.earliest",
                        format!("'{text}' is not a date like 1990-01-01"),
                    )
                })?,
                None => defaults.earliest,
            },
            max_days_ahead: file
                .business_dates
                .max_days_ahead
                .unwrap_or(defaults.max_days_ahead),
        };
        let mut users = Users::default();
        for user in file.users {
            let name = UserId::parse(&user.name).map_err(|e| e.for_field("users.name"))?;
            let home_branch = user
                .home_branch
                .as_deref()
                .map(BranchCode::parse)
                .transpose()
                .map_err(|e| e.for_field("users.home_branch"))?;
            let mut principal = Principal::new(name, user.roles);
            if let (Some(home), false) = (home_branch, user.head_office) {
                principal.scope = AccessScope::Branch(home);
            }
            principal.approval_authority = match user.approval_authority {
                None => 1,
                Some(n) if (1..=MAX_APPROVALS).contains(&n) => n,
                Some(n) => {
                    return Err(InvalidInput::new(
                        "users.approval_authority",
                        format!(
                            "for {} must be 1 to {MAX_APPROVALS}, got {n}",
                            principal.user
                        ),
                    )
                    .into())
                }
            };
            users.add(&user.token_sha256, principal)?;
        }
        let oidc = file.oidc.map(oidc_verifier).transpose()?.map(Arc::new);
        let console = ConsoleSettings::parse(file.console.unwrap_or_default())?;
        let subscriptions = subscriptions(file.subscriptions)?;
        Ok(Self {
            listen,
            database_url: database_url
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
            read_database_url: file.read_database_url,
            calendar,
            aging,
            approval,
            catalogue,
            counterparties,
            users,
            oidc,
            projector_interval: std::time::Duration::from_millis(interval_ms),
            business_dates,
            sweep_interval: (sweep_secs > 0).then(|| std::time::Duration::from_secs(sweep_secs)),
            console,
            subscriptions,
        })
    }
}

/// The verifier `config` describes: issuer and audience given, keys from exactly one place,
/// a bounded leeway.
fn oidc_verifier(config: OidcConfig) -> Result<OidcVerifier, ConfigError> {
    for (field, value) in [
        ("oidc.issuer", &config.issuer),
        ("oidc.audience", &config.audience),
    ] {
        if value.trim().is_empty() {
            return Err(InvalidInput::new(field, "must not be empty").into());
        }
    }
    let leeway = config.leeway_secs.unwrap_or(60);
    if leeway > MAX_LEEWAY_SECS {
        return Err(InvalidInput::new(
            "oidc.leeway_secs",
            format!("at most {MAX_LEEWAY_SECS}, got {leeway}"),
        )
        .into());
    }
    let keys = match (&config.jwks_file, &config.jwks_url) {
        (Some(path), None) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            KeySource::Fixed(OidcVerifier::parse_keys(&text, "oidc.jwks_file")?)
        }
        (None, Some(url)) => OidcVerifier::keys_at(url)?,
        _ => {
            return Err(InvalidInput::new(
                "oidc.jwks_url",
                "give the provider's keys as one of jwks_file or jwks_url",
            )
            .into())
        }
    };
    let settings = OidcSettings {
        issuer: config.issuer,
        audience: config.audience,
        leeway: std::time::Duration::from_secs(leeway),
        user_claim: config.user_claim.unwrap_or_else(|| "sub".to_owned()),
        roles_claim: config.roles_claim.unwrap_or_else(|| "roles".to_owned()),
        role_names: config.role_names,
        branch_claim: config.branch_claim,
    };
    Ok(OidcVerifier::new(settings, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> Result<Settings, ConfigError> {
        let file: ConfigFile = toml::from_str(toml_text).expect("valid TOML");
        Settings::resolve(file, None, None)
    }

    #[test]
    fn the_projector_interval_defaults_and_can_be_set() {
        let default = settings("").expect("valid");
        assert_eq!(
            default.projector_interval,
            std::time::Duration::from_millis(DEFAULT_PROJECTOR_INTERVAL_MS)
        );
        let set = settings("projector_interval_ms = 50").expect("valid");
        assert_eq!(set.projector_interval, std::time::Duration::from_millis(50));
    }

    #[test]
    fn single_sign_on_needs_one_key_source_and_a_bounded_leeway() {
        let base = "[oidc]\nissuer = \"https://idp\"\naudience = \"suspense\"\n";
        let url = "jwks_url = \"https://idp/certs\"\n";
        assert!(settings(&format!("{base}{url}"))
            .expect("valid")
            .oidc
            .is_some());
        for (extra, field) in [
            ("", "oidc.jwks_url"),
            (
                "jwks_url = \"https://idp/certs\"\njwks_file = \"keys.json\"\n",
                "oidc.jwks_url",
            ),
            ("jwks_url = \"ftp://idp/certs\"\n", "oidc.jwks_url"),
            (
                "jwks_url = \"https://idp/certs\"\nleeway_secs = 301\n",
                "oidc.leeway_secs",
            ),
        ] {
            let err = settings(&format!("{base}{extra}")).expect_err("refused");
            assert!(err.to_string().contains(field), "{extra}: {err}");
        }
        let blank = "[oidc]\nissuer = \" \"\naudience = \"suspense\"\njwks_url = \"https://idp\"";
        let err = settings(blank).expect_err("refused");
        assert!(err.to_string().contains("oidc.issuer"), "{err}");
        let dir = tempfile::tempdir().expect("a directory");
        let keys = dir.path().join("jwks.json");
        std::fs::write(&keys, "{\"keys\": []}").expect("written");
        let file = format!("{base}jwks_file = {:?}\n", keys.display().to_string());
        assert!(settings(&file).expect("valid").oidc.is_some());
        std::fs::write(&keys, "not json").expect("written");
        let err = settings(&file).expect_err("refused");
        assert!(err.to_string().contains("oidc.jwks_file"), "{err}");
    }

    #[test]
    fn counterparties_are_configured_with_names() {
        let set = settings("[counterparties]\nALIPAY = \"支付宝\"").expect("valid");
        let alipay = suspense_domain::CounterpartyCode::parse("ALIPAY").expect("code");
        assert_eq!(set.counterparties.name(&alipay), Some("支付宝"));
        let err = settings("[counterparties]\nALIPAY = \" \"").expect_err("refused");
        assert!(err.to_string().contains("counterparties.ALIPAY"), "{err}");
    }

    #[test]
    fn an_out_of_range_projector_interval_names_the_setting() {
        for value in ["0", "9", "60001"] {
            let err = settings(&format!("projector_interval_ms = {value}")).expect_err("rejected");
            let message = err.to_string();
            assert!(
                message.contains("projector_interval_ms") && message.contains(value),
                "{message}"
            );
        }
    }

    #[test]
    fn the_business_date_window_and_the_sweep_interval_are_set_and_checked() {
        let set = settings(
            "sweep_interval_secs = 0\n[business_dates]\nearliest = \"2020-01-01\"\nmax_days_ahead = 3",
        )
        .expect("valid");
        assert_eq!(set.sweep_interval, None);
        assert_eq!(set.business_dates.max_days_ahead, 3);
        assert_eq!(set.business_dates.earliest.to_string(), "2020-01-01");
        let default = settings("").expect("valid");
        assert_eq!(
            default.sweep_interval,
            Some(std::time::Duration::from_secs(DEFAULT_SWEEP_INTERVAL_SECS))
        );
        let bad = settings("[business_dates]\nearliest = \"yesterday\"").expect_err("refused");
        assert!(bad.to_string().contains("business_dates.earliest"), "{bad}");
        let bad = settings("sweep_interval_secs = 90000").expect_err("refused");
        assert!(bad.to_string().contains("sweep_interval_secs"), "{bad}");
    }
}
