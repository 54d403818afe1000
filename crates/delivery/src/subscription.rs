//! A subscription: which events (a filter on event types and branches) go where (a webhook or
//! a JetStream subject), checked once when it is read from the configuration, an operator's
//! request or the database (`SubscriptionSpec::parse`), so that a subscription that exists
//! can be delivered.

use std::collections::BTreeSet;
use std::fmt;

use suspense_domain::{BranchCode, InvalidInput, StreamKind};

/// A subscription's name: 1 to 64 of `a-z`, `0-9`, `-`, `_`; its checkpoint's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionName(String);

impl SubscriptionName {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if value.is_empty() || value.len() > 64 || !value.chars().all(allowed) {
            return Err(InvalidInput::new(
                "name",
                format!("'{value}' must be 1 to 64 of a-z, 0-9, '-' and '_'"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubscriptionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The names of every event type of the log: the items' and the other streams'.
/// Every event type of every stream, as the log names them.
pub fn known_event_types() -> impl Iterator<Item = &'static str> {
    StreamKind::ALL
        .iter()
        .flat_map(|kind| kind.event_names().iter().copied())
}

/// Which events a subscription takes: of these types (all when empty) and of items booked at
/// these branches (all when empty; a filter by branch takes only items' events, as the other
/// streams are not booked at a branch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    event_types: BTreeSet<&'static str>,
    branches: BTreeSet<BranchCode>,
}

impl EventFilter {
    /// A filter on event types named as the log names them (`Escalated`, `Resolved`,
    /// `IncidentOpened`) and on branch codes; an unknown event type is refused by name.
    pub fn parse(event_types: &[String], branches: &[String]) -> Result<Self, InvalidInput> {
        let event_types = event_types
            .iter()
            .map(|name| {
                known_event_types()
                    .find(|known| *known == name)
                    .ok_or_else(|| {
                        InvalidInput::new(
                            "event_types",
                            format!(
                                "'{name}' is not an event type; one of {}",
                                known_event_types().collect::<Vec<_>>().join(", ")
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        let branches = branches
            .iter()
            .map(|b| BranchCode::parse(b).map_err(|e| InvalidInput::new("branches", e.reason)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            event_types,
            branches,
        })
    }

    /// The event types taken (all when empty).
    pub fn event_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.event_types.iter().copied()
    }

    /// The branches taken (all when empty).
    pub fn branches(&self) -> impl Iterator<Item = &BranchCode> {
        self.branches.iter()
    }

    /// Whether the filter needs the item's branch to decide (it names branches).
    pub fn by_branch(&self) -> bool {
        !self.branches.is_empty()
    }

    /// Whether an event of `event_type` of an item booked at `branch` passes.
    pub fn admits(&self, event_type: &str, branch: Option<&BranchCode>) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(event_type))
            && (self.branches.is_empty() || branch.is_some_and(|b| self.branches.contains(b)))
    }
}

/// An `http` or `https` URL a webhook is posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(reqwest::Url);

impl WebhookUrl {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        // The URL parser drops blanks around a URL and tabs or line breaks in it; such a value
        // is refused here instead, as the API document's pattern refuses it.
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidInput::new(
                "webhook_url",
                format!("'{value}' must not contain blanks or control characters"),
            ));
        }
        let url = reqwest::Url::parse(value).map_err(|e| {
            InvalidInput::new("webhook_url", format!("'{value}' is not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(InvalidInput::new(
                "webhook_url",
                format!("'{value}' must be an http or https URL with a host"),
            ));
        }
        Ok(Self(url))
    }

    pub fn as_url(&self) -> &reqwest::Url {
        &self.0
    }
}

/// The secret a webhook's signatures are made with: at least 32 bytes, as HMAC-SHA256 wants
/// a key as long as its output to be at full strength.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub const MIN_LEN: usize = 32;

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        if value.len() < Self::MIN_LEN {
            return Err(InvalidInput::new(
                "webhook_secret",
                format!("must be at least {} bytes long", Self::MIN_LEN),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret itself, for the table that keeps subscriptions made through the API.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A NATS server's address: `nats://host:port` (or `host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsServer(String);

impl NatsServer {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let address = value.strip_prefix("nats://").unwrap_or(value);
        let valid = address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid || address.contains('/') {
            return Err(InvalidInput::new(
                "nats_server",
                format!("'{value}' must be nats://host:port"),
            ));
        }
        Ok(Self(format!("nats://{address}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NatsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject a JetStream stream takes the events on: dot-separated tokens of letters,
/// digits, `-` and `_`, no wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JetStreamSubject(String);

impl JetStreamSubject {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let token_ok = |t: &str| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if value.len() > 255 || !value.split('.').all(token_ok) {
            return Err(InvalidInput::new(
                "jetstream_subject",
                format!("'{value}' must be dot-separated tokens of letters, digits, '-' and '_'"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JetStreamSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a subscription's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Posted one by one, signed with the secret.
    Webhook {
        url: WebhookUrl,
        secret: WebhookSecret,
    },
    /// Published to a JetStream stream's subject, each with `Nats-Msg-Id` = the event's id.
    JetStream {
        server: NatsServer,
        subject: JetStreamSubject,
    },
}

/// Where a new subscription starts: the log's first event, or the events after the log's
/// head when the subscription is first seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StartAt {
    Beginning,
    #[default]
    Now,
}

impl StartAt {
    pub const ALL: [Self; 2] = [Self::Beginning, Self::Now];

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|start| start.as_str() == value)
            .ok_or_else(|| {
                InvalidInput::new("start", format!("'{value}' is not one of beginning, now"))
            })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Beginning => "beginning",
            Self::Now => "now",
        }
    }
}

/// A subscription as the deliverer runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub name: SubscriptionName,
    pub filter: EventFilter,
    pub target: Target,
    pub start: StartAt,
    /// Attempts at one event before the subscription parks (at least 1).
    pub max_attempts: u32,
}

impl Subscription {
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
    pub const MAX_ATTEMPTS: u32 = 100;

    /// Checks the attempts: 1 to `MAX_ATTEMPTS`.
    pub fn attempts(value: u32) -> Result<u32, InvalidInput> {
        if value == 0 || value > Self::MAX_ATTEMPTS {
            return Err(InvalidInput::new(
                "max_attempts",
                format!("must be 1 to {}, got {value}", Self::MAX_ATTEMPTS),
            ));
        }
        Ok(value)
    }

    /// The subscription as written, secret included.
    pub fn spec(&self) -> SubscriptionSpec {
        let (webhook_url, webhook_secret, nats_server, jetstream_subject) = match &self.target {
            Target::Webhook { url, secret } => (
                Some(url.as_url().to_string()),
                Some(secret.expose().to_owned()),
                None,
                None,
            ),
            Target::JetStream { server, subject } => (
                None,
                None,
                Some(server.to_string()),
                Some(subject.to_string()),
            ),
        };
        SubscriptionSpec {
            name: self.name.to_string(),
            event_types: self.filter.event_types().map(str::to_owned).collect(),
            branches: self
                .filter
                .branches()
                .map(|b| b.as_str().to_owned())
                .collect(),
            webhook_url,
            webhook_secret,
            nats_server,
            jetstream_subject,
            start: Some(self.start.as_str().to_owned()),
            max_attempts: Some(self.max_attempts),
        }
    }
}

/// A subscription as written: in the service's configuration file, in an operator's request,
/// or in the table of subscriptions made through the API. Fields are named as here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionSpec {
    pub name: String,
    /// Event types as the log names them (`Escalated`); all when empty.
    pub event_types: Vec<String>,
    /// Branch codes; every branch when empty.
    pub branches: Vec<String>,
    /// A webhook target: the URL, and a secret of at least 32 bytes that signs every request.
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// A JetStream target: the server and the subject its stream takes.
    pub nats_server: Option<String>,
    pub jetstream_subject: Option<String>,
    /// `now` (default) or `beginning`.
    pub start: Option<String>,
    /// Attempts at one event before the subscription parks (default 8).
    pub max_attempts: Option<u32>,
}

impl SubscriptionSpec {
    /// The subscription, or the first field it gets wrong.
    pub fn parse(&self) -> Result<Subscription, InvalidInput> {
        Ok(Subscription {
            name: SubscriptionName::parse(&self.name)?,
            filter: EventFilter::parse(&self.event_types, &self.branches)?,
            target: self.target()?,
            start: self
                .start
                .as_deref()
                .map(StartAt::parse)
                .transpose()?
                .unwrap_or_default(),
            max_attempts: Subscription::attempts(
                self.max_attempts
                    .unwrap_or(Subscription::DEFAULT_MAX_ATTEMPTS),
            )?,
        })
    }

    /// A webhook or a JetStream subject, whichever is written; not both, not neither.
    fn target(&self) -> Result<Target, InvalidInput> {
        let webhook = self.webhook_url.is_some() || self.webhook_secret.is_some();
        let jetstream = self.nats_server.is_some() || self.jetstream_subject.is_some();
        let required = |field: &str, value: &Option<String>| {
            value
                .clone()
                .ok_or_else(|| InvalidInput::in_context(field, "is required"))
        };
        match (webhook, jetstream) {
            (true, false) => Ok(Target::Webhook {
                url: WebhookUrl::parse(&required("webhook_url", &self.webhook_url)?)?,
                secret: WebhookSecret::parse(&required("webhook_secret", &self.webhook_secret)?)?,
            }),
            (false, true) => Ok(Target::JetStream {
                server: NatsServer::parse(&required("nats_server", &self.nats_server)?)?,
                subject: JetStreamSubject::parse(&required(
                    "jetstream_subject",
                    &self.jetstream_subject,
                )?)?,
            }),
            _ => Err(InvalidInput::in_context(
                "webhook_url",
                "give either webhook_url and webhook_secret, or nats_server and jetstream_subject",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_urls_secrets_and_filters_are_checked_by_field() {
        assert!(SubscriptionName::parse("core-banking_1").is_ok());
        for bad in ["", "Core", "a b", &"x".repeat(65)] {
            assert_eq!(
                SubscriptionName::parse(bad).map_err(|e| e.field),
                Err("name".into())
            );
        }
        assert!(WebhookUrl::parse("https://gateway.bank.example/hooks").is_ok());
        for bad in [
            "ftp://host/x",
            "not a url",
            "mailto:ops@bank.example",
            "file:///tmp/x",
        ] {
            assert_eq!(
                WebhookUrl::parse(bad).map_err(|e| e.field),
                Err("webhook_url".into()),
                "{bad}"
            );
        }
        assert_eq!(
            WebhookSecret::parse("short").map_err(|e| e.field),
            Err("webhook_secret".into())
        );
        let refused = EventFilter::parse(&["Escalated".into(), "Exploded".into()], &[])
            .map_err(|e| (e.field, e.reason));
        assert!(matches!(refused, Err((f, r)) if f == "event_types" && r.contains("'Exploded'")));
        assert_eq!(
            Subscription::attempts(0).map_err(|e| e.field),
            Err("max_attempts".into())
        );
        assert_eq!(
            NatsServer::parse("127.0.0.1:4222").map(|s| s.to_string()),
            Ok("nats://127.0.0.1:4222".into())
        );
        for bad in ["127.0.0.1", "nats://host:port", "http://host:4222/x"] {
            assert_eq!(
                NatsServer::parse(bad).map_err(|e| e.field),
                Err("nats_server".into()),
                "{bad}"
            );
        }
        assert!(JetStreamSubject::parse("bank.suspense.events").is_ok());
        for bad in ["bank.*", "bank.>", "bank..x", "", "bank events"] {
            assert_eq!(
                JetStreamSubject::parse(bad).map_err(|e| e.field),
                Err("jetstream_subject".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_subscription_reads_back_from_what_it_writes() {
        let webhook = SubscriptionSpec {
            name: "gateway".into(),
            event_types: vec!["Resolved".into(), "Escalated".into()],
            branches: vec!["SH-001".into()],
            webhook_url: Some("https://gateway.bank.example/hooks".into()),
            webhook_secret: Some("a-webhook-secret-of-32-bytes-or-more".into()),
            start: Some("beginning".into()),
            max_attempts: Some(3),
            ..SubscriptionSpec::default()
        };
        let jetstream = SubscriptionSpec {
            name: "warehouse".into(),
            nats_server: Some("127.0.0.1:4222".into()),
            jetstream_subject: Some("bank.suspense.events".into()),
            ..SubscriptionSpec::default()
        };
        for spec in [webhook, jetstream] {
            let parsed = spec.parse();
            assert!(parsed.is_ok(), "{parsed:?}");
            if let Ok(subscription) = parsed {
                assert_eq!(subscription.spec().parse(), Ok(subscription));
            }
        }
        let neither = SubscriptionSpec {
            name: "nowhere".into(),
            ..SubscriptionSpec::default()
        };
        assert_eq!(
            neither.parse().map_err(|e| e.field),
            Err("webhook_url".into())
        );
    }

    #[test]
    fn a_filter_admits_its_types_and_branches_only() {
        let sh = BranchCode::parse("SH-001").ok();
        let bj = BranchCode::parse("BJ-001").ok();
        let all = EventFilter::default();
        assert!(all.admits("Opened", None));
        let some =
            EventFilter::parse(&["Escalated".into()], &["SH-001".into()]).unwrap_or_default();
        assert!(some.by_branch());
        assert!(some.admits("Escalated", sh.as_ref()));
        assert!(!some.admits("Escalated", bj.as_ref()));
        assert!(!some.admits("Resolved", sh.as_ref()));
        assert!(!some.admits("Escalated", None));
    }
}
