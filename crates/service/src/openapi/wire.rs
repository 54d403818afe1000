//! The schemas of the domain's values as the API carries them (text), each built from the rule
//! the domain parses it with: the length and line rule of a text, the closed set of names of a
//! vocabulary, the form of an amount. A field of a request body names one of these with
//! `#[schema(value_type = wire::BranchCode)]`, so the document states what `parse` accepts.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Characters no text may hold: the C0 and C1 control characters.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// The same, less tab, line feed and carriage return, which free text may hold.
const CONTROL_BUT_LINES: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

/// A text of at most `max` characters with one character that is not blank, and no control
/// characters (but line breaks and tabs, if `multiline`): the domain's `parse_text`.
fn text(max: usize, multiline: bool, description: &str) -> Schema {
    let refused = if multiline {
        CONTROL_BUT_LINES
    } else {
        CONTROL
    };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(r"^[^{refused}]*[^{refused}\s][^{refused}]*$")))
        .description(Some(description))
        .build()
        .into()
}

/// One of a closed set of names.
fn names<'a>(names: impl IntoIterator<Item = &'a str>, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.into_iter().map(str::to_owned)))
        .description(Some(description))
        .build()
        .into()
}

fn string(pattern: Option<&str>, format: Option<KnownFormat>, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern)
        .format(format.map(SchemaFormat::KnownFormat))
        .description(Some(description))
        .build()
        .into()
}

/// Declares `$name`, the wire schema of a value, named `$name` in the document.
macro_rules! wire_schema {
    ($(#[$meta:meta])* $name:ident => $schema:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T($schema)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A text newtype of the domain: its length and line rule.
macro_rules! text_schema {
    ($name:ident, $domain:ty, $description:literal) => {
        wire_schema!($name => text(<$domain>::MAX_CHARS, <$domain>::MULTILINE, $description));
    };
}

/// A vocabulary of the domain: its names.
macro_rules! names_schema {
    ($name:ident, $domain:ty, $description:literal) => {
        wire_schema!($name => names(<$domain>::ALL.iter().map(|v| v.as_str()), $description));
    };
}

use suspense_domain as domain;

text_schema!(
    SourceSystem,
    domain::SourceSystem,
    "The system that booked the item."
);
text_schema!(
    Reference,
    domain::Reference,
    "The caller's reference, unique within its source system."
);
text_schema!(
    UserId,
    domain::UserId,
    "A member of staff or a service account."
);
text_schema!(TeamId, domain::TeamId, "A handling team.");
text_schema!(BranchCode, domain::BranchCode, "A branch or org unit.");
text_schema!(
    AccountNumber,
    domain::AccountNumber,
    "A general-ledger account."
);
text_schema!(
    Text,
    domain::Note,
    "Free text: line breaks and tabs allowed, no other control characters."
);
text_schema!(
    RootCauseCode,
    domain::RootCauseCode,
    "A sub-code of the root-cause catalogue."
);
text_schema!(
    CounterpartyCode,
    domain::CounterpartyCode,
    "A counterparty from the configured list."
);
text_schema!(
    ComplaintReference,
    domain::ComplaintReference,
    "The bank's reference of a complaint."
);
text_schema!(
    IncidentReference,
    domain::incident::IncidentReference,
    "The bank's reference of an incident."
);
text_schema!(
    PlanName,
    domain::plan::PlanName,
    "A name in a remediation plan."
);
text_schema!(
    PlanEntryId,
    domain::plan::PlanEntryId,
    "The id of a target or measure within its plan."
);
text_schema!(
    Region,
    domain::organisation::Region,
    "A region of the organisation."
);
text_schema!(
    Jurisdiction,
    domain::organisation::Jurisdiction,
    "A jurisdiction of the organisation."
);
text_schema!(
    BranchName,
    domain::organisation::BranchName,
    "A branch's name."
);

names_schema!(Channel, domain::Channel, "Where the posting came from.");
names_schema!(
    Direction,
    domain::Direction,
    "The side of the suspense account."
);
names_schema!(
    EscalationLevel,
    domain::EscalationLevel,
    "How far up an item is escalated."
);
names_schema!(
    EscalationReason,
    domain::EscalationReason,
    "Why an item is escalated."
);
names_schema!(
    ResolutionMethod,
    domain::ResolutionMethod,
    "How an item is cleared."
);
names_schema!(
    ComplaintChannel,
    domain::ComplaintChannel,
    "How a complaint was received."
);
names_schema!(
    ReminderChannel,
    domain::ReminderChannel,
    "How a reminder reached the customer."
);
names_schema!(
    Comparison,
    domain::plan::Comparison,
    "How a target's value is compared."
);
names_schema!(
    AgeFrom,
    domain::policy::AgeFrom,
    "The date an item's age is counted from."
);
names_schema!(ItemStatus, domain::ItemStatus, "An item's status.");

names_schema!(
    RootCauseCategory,
    domain::RootCauseCategory,
    "A root-cause category."
);

wire_schema!(
    /// An ISO 4217 code of a currency with minor units.
    Currency => names(domain::Currency::codes(), "An ISO 4217 currency with minor units.")
);

/// The form `Money::parse` reads: up to `WHOLE_DIGITS` digits, then up to `DECIMALS`.
fn amount_pattern(lookahead: &str) -> String {
    format!(
        r"^{lookahead}[0-9]{{1,{}}}(\.[0-9]{{1,{}}})?$",
        domain::Money::WHOLE_DIGITS,
        domain::Money::DECIMALS
    )
}

wire_schema!(
    /// A non-negative amount as a plain decimal string.
    Amount => string(
        Some(&amount_pattern("")),
        None,
        "A plain decimal, not negative: at most 15 digits before the point and 3 after, and no \
         more decimals than the currency's minor units (2 for CNY, 0 for JPY, 3 for KWD)."
    )
);

wire_schema!(
    /// A calendar date.
    Date => string(None, Some(KnownFormat::Date), "A calendar date, e.g. 2026-03-31.")
);

wire_schema!(
    /// A point in time.
    Instant => string(
        None,
        Some(KnownFormat::DateTime),
        "An RFC 3339 time, e.g. 2026-04-01T09:30:00+08:00."
    )
);

wire_schema!(
    /// A month.
    Month => string(Some(r"^[0-9]{4}-(0[1-9]|1[0-2])$"), None, "A month, e.g. 2026-03.")
);

wire_schema!(
    /// An id the service gave out.
    Uuid => string(None, Some(KnownFormat::Uuid), "A UUID.")
);

wire_schema!(
    /// The pseudonymous customer reference.
    CustomerReference => {
        use domain::CustomerReference as Reference;
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(Reference::MIN))
            .max_length(Some(Reference::MAX))
            .pattern(Some(format!(
                r"^(?=.*[A-Za-z])[A-Za-z0-9._:-]{{{},{}}}$",
                Reference::MIN,
                Reference::MAX
            )))
            .description(Some(format!(
                "The bank's pseudonymous token of a customer: {} to {} ASCII letters, digits, \
                 '-', '_', '.' or ':', at least one a letter.",
                Reference::MIN,
                Reference::MAX
            )))
            .build()
            .into()
    }
);

text_schema!(
    PlanReference,
    domain::plan::PlanReference,
    "The bank's own reference of a plan."
);

wire_schema!(
    /// The name of a plan's metric.
    Metric => names(domain::plan::METRIC_NAMES, "What a target measures.")
);

wire_schema!(
    /// A regulatory action's kind.
    ActionKind => names(
        crate::dto::ACTION_KINDS.iter().copied(),
        "A regulatory action: `provision` needs `percent`."
    )
);

wire_schema!(
    /// How a reminder went.
    ReminderResult => names(
        crate::dto::REMINDER_OUTCOMES.iter().copied(),
        "`sent` needs `channel`; `failed` needs `reason`."
    )
);

wire_schema!(
    /// A signed decimal: a figure, a percentage, a threshold.
    Decimal => string(
        Some(crate::dto::DECIMAL_PATTERN),
        None,
        "A decimal number as a string, e.g. \"0.50\" or \"-30\"."
    )
);

wire_schema!(
    /// A month, or any day in it.
    MonthOrDate => string(
        Some(r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"),
        None,
        "A month (2026-03) or any day of it (2026-03-31)."
    )
);

names_schema!(
    ReportFormat,
    crate::dto::ReportFormat,
    "JSON (the default), or CSV as `Accept: text/csv` also asks."
);
names_schema!(
    PeriodKind,
    suspense_read_models::PeriodKind,
    "The length of each period."
);

wire_schema!(
    /// The dimensions a report is summed over, comma-separated.
    Dimensions => {
        let one = suspense_read_models::CauseDimension::ALL
            .map(|d| d.as_str())
            .join("|");
        string(
            Some(&format!("^({one})(,({one}))*$")),
            None,
            "Dimensions to sum over, comma-separated, each at most once.",
        )
    }
);

wire_schema!(
    /// A subscription's name.
    SubscriptionName => string(Some(r"^[a-z0-9_-]{1,64}$"), None, "1 to 64 of a-z, 0-9, '-' and '_'.")
);

wire_schema!(
    /// The name of an event type as the log names it.
    EventType => names(
        suspense::delivery::known_event_types(),
        "An event type as the log names it."
    )
);

names_schema!(
    StartAt,
    suspense::delivery::StartAt,
    "`now` (the default): after the log's head; `beginning`: every event."
);

wire_schema!(
    /// An amount above zero.
    PositiveAmount => string(
        // An `Amount` with a digit other than zero somewhere (leading zeros are allowed).
        Some(&amount_pattern("(?=[0-9.]*[1-9])")),
        None,
        "An `Amount` above zero."
    )
);

wire_schema!(
    /// A target's figure: a decimal not below zero.
    Figure => string(
        Some(r"^[0-9]{1,15}(\.[0-9]{1,6})?$"),
        None,
        "A decimal not below zero, as a string, e.g. \"0.50\"."
    )
);

wire_schema!(
    /// A change against the baseline in percent: not below -100.
    Change => string(
        Some(r"^(-(100(\.0{1,6})?|[0-9]{1,2}(\.[0-9]{1,6})?)|[0-9]{1,15}(\.[0-9]{1,6})?)$"),
        None,
        "A change in percent against the baseline, -100 or more, e.g. \"-30\"."
    )
);

/// A TCP port, 0 to 65535.
macro_rules! port {
    () => {
        r"([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
    };
}

/// An http(s) URL with a host name (ASCII labels, the last one starting with a letter so it
/// cannot be read as an IP address), an optional port, path and query.
const WEBHOOK_URL_PATTERN: &str = concat!(
    r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    r"(:",
    port!(),
    r")?(/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$"
);

/// `nats://host:port` (the scheme may be left out).
const NATS_SERVER_PATTERN: &str = concat!(r"^(nats://)?[^/:\s][^/\s]*:", port!(), "$");

wire_schema!(
    /// Where a webhook subscription posts.
    WebhookUrl => string(Some(WEBHOOK_URL_PATTERN), None, "An http or https URL with a host name.")
);

wire_schema!(
    /// The NATS server of a JetStream subscription.
    NatsServer => string(Some(NATS_SERVER_PATTERN), None, "nats://host:port")
);
