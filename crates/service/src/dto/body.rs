//! Request bodies. Each is deserialised into plain fields, then parsed into domain values, so
//! that every bad value is reported with its field name. Amounts travel as decimal strings: a
//! JSON number (a float) is refused.

use crate::openapi::wire;
use serde::Deserialize;
use suspense_domain::plan::Month;
use suspense_domain::{
    AccountNumber, Attribution, BranchCode, Channel, CounterpartyCode, CustomerImpact,
    CustomerReference, Direction, EscalationLevel, EscalationReason, InvalidInput, ItemAction,
    Money, Note, OpenItem, RecordVolume, Reference, ResolutionMethod, ResolutionRequest,
    RootCauseCategory, RootCauseCode, SourceReference, TeamId, UserId,
};

use super::date;

fn money(amount: &str, currency: &str, field: &str) -> Result<Money, InvalidInput> {
    Money::parse(amount, currency).map_err(|e| {
        if e.field == "amount" {
            e.for_field(field)
        } else {
            e
        }
    })
}

fn note(field: &str, value: Option<&str>) -> Result<Option<Note>, InvalidInput> {
    value
        .map(|v| Note::parse(v).map_err(|e| e.for_field(field)))
        .transpose()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Money)]
#[serde(deny_unknown_fields)]
pub struct MoneyBody {
    #[schema(value_type = wire::Amount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = OpenItem)]
#[serde(deny_unknown_fields)]
pub struct OpenItemBody {
    #[schema(value_type = wire::SourceSystem)]
    pub source_system: String,
    #[schema(value_type = wire::Reference)]
    pub reference: String,
    #[schema(value_type = wire::AccountNumber)]
    pub account: String,
    #[schema(value_type = wire::BranchCode)]
    pub branch: String,
    #[schema(value_type = wire::Channel)]
    pub channel: String,
    #[schema(value_type = wire::Amount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
    #[schema(value_type = wire::Direction)]
    pub direction: String,
    #[schema(value_type = wire::Date)]
    pub booked_on: String,
    /// Defaults to `booked_on`.
    #[schema(value_type = Option<wire::Date>)]
    pub value_date: Option<String>,
    #[schema(value_type = wire::Text)]
    pub description: String,
    #[serde(default)]
    pub funds_held: bool,
    #[serde(default, deserialize_with = "super::object::optional")]
    pub fee: Option<MoneyBody>,
    /// The bank's pseudonymous reference of the customer harmed.
    #[schema(value_type = Option<wire::CustomerReference>)]
    pub customer: Option<String>,
}

impl OpenItemBody {
    pub fn parse(self) -> Result<OpenItem, InvalidInput> {
        let booked_on = date("booked_on", &self.booked_on)?;
        Ok(OpenItem {
            reference: SourceReference::parse(&self.source_system, &self.reference)?,
            account: AccountNumber::parse(&self.account)?,
            branch: BranchCode::parse(&self.branch)?,
            channel: Channel::parse(&self.channel)?,
            amount: Money::parse(&self.amount, &self.currency)?,
            direction: Direction::parse(&self.direction)?,
            booked_on,
            value_date: match &self.value_date {
                Some(v) => date("value_date", v)?,
                None => booked_on,
            },
            description: Note::parse(&self.description).map_err(|e| e.for_field("description"))?,
            customer_impact: CustomerImpact {
                funds_held: self.funds_held,
                fee: self
                    .fee
                    .map(|f| money(&f.amount, &f.currency, "fee.amount"))
                    .transpose()?,
                customer: self
                    .customer
                    .as_deref()
                    .map(CustomerReference::parse)
                    .transpose()?,
            },
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Classify)]
#[serde(deny_unknown_fields)]
pub struct ClassifyBody {
    #[schema(value_type = wire::RootCauseCategory)]
    pub category: String,
    #[schema(value_type = wire::RootCauseCode)]
    pub code: String,
    #[schema(value_type = Option<wire::Text>)]
    pub reason: Option<String>,
    /// The staff member responsible for an operational error.
    #[schema(value_type = Option<wire::UserId>)]
    pub responsible: Option<String>,
    /// The counterparty behind an external cause, from the configured list.
    #[schema(value_type = Option<wire::CounterpartyCode>)]
    pub counterparty: Option<String>,
}

impl ClassifyBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::Classify {
            category: RootCauseCategory::parse(&self.category)?,
            code: RootCauseCode::parse(&self.code)?,
            reason: note("reason", self.reason.as_deref())?,
            attribution: Attribution {
                responsible: self
                    .responsible
                    .as_deref()
                    .map(|name| UserId::parse(name).map_err(|e| e.for_field("responsible")))
                    .transpose()?,
                counterparty: self
                    .counterparty
                    .as_deref()
                    .map(CounterpartyCode::parse)
                    .transpose()?,
            },
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Assign)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    #[schema(value_type = wire::TeamId)]
    pub team: String,
    #[schema(value_type = Option<wire::UserId>)]
    pub assignee: Option<String>,
    #[schema(value_type = Option<wire::Text>)]
    pub reason: Option<String>,
}

impl AssignBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::Assign {
            team: TeamId::parse(&self.team)?,
            assignee: self
                .assignee
                .map(|a| UserId::parse(&a).map_err(|e| e.for_field("assignee")))
                .transpose()?,
            reason: note("reason", self.reason.as_deref())?,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Escalate)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    #[schema(value_type = wire::EscalationLevel)]
    pub level: String,
    #[schema(value_type = wire::EscalationReason)]
    pub reason: String,
    #[schema(value_type = Option<wire::Text>)]
    pub note: Option<String>,
}

impl EscalateBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::Escalate {
            level: EscalationLevel::parse(&self.level)?,
            reason: EscalationReason::parse(&self.reason)?,
            note: note("note", self.note.as_deref())?,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Clearing)]
#[serde(deny_unknown_fields)]
pub struct ClearingBody {
    #[schema(value_type = wire::Reference)]
    pub clearing_reference: String,
    #[schema(value_type = wire::Amount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
}

impl ClearingBody {
    pub fn parse(self) -> Result<ItemAction, InvalidInput> {
        Ok(ItemAction::RecordClearing {
            clearing_reference: Reference::parse(&self.clearing_reference)
                .map_err(|e| e.for_field("clearing_reference"))?,
            amount: Money::parse(&self.amount, &self.currency)?,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Resolve)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    #[schema(value_type = wire::ResolutionMethod)]
    pub method: String,
    #[schema(value_type = wire::Amount)]
    pub amount: String,
    #[schema(value_type = wire::Currency)]
    pub currency: String,
    #[schema(value_type = Option<wire::AccountNumber>)]
    pub posted_to: Option<String>,
    #[schema(value_type = Option<wire::Text>)]
    pub note: Option<String>,
}

impl ResolveBody {
    pub fn parse(self) -> Result<ResolutionRequest, InvalidInput> {
        Ok(ResolutionRequest {
            method: ResolutionMethod::parse(&self.method)?,
            amount: Money::parse(&self.amount, &self.currency)?,
            posted_to: self
                .posted_to
                .map(|a| AccountNumber::parse(&a).map_err(|e| e.for_field("posted_to")))
                .transpose()?,
            note: note("note", self.note.as_deref())?,
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = Note)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[schema(value_type = Option<wire::Text>)]
    pub note: Option<String>,
}

impl NoteBody {
    pub fn parse(self) -> Result<Option<Note>, InvalidInput> {
        self.note
            .map(|n| Note::parse(&n).map_err(|e| e.for_field("note")))
            .transpose()
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Reason)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schema(value_type = wire::Text)]
    pub reason: String,
}

impl ReasonBody {
    pub fn parse(self) -> Result<Note, InvalidInput> {
        Note::parse(&self.reason).map_err(|e| e.for_field("reason"))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Comment)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    #[schema(value_type = wire::Text)]
    pub text: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Volume)]
#[serde(deny_unknown_fields)]
pub struct VolumeBody {
    #[schema(value_type = wire::BranchCode)]
    pub branch: String,
    /// Any day of the month, or `YYYY-MM`.
    #[schema(value_type = wire::MonthOrDate)]
    pub month: String,
    #[serde(deserialize_with = "super::whole::number")]
    #[schema(maximum = 1_000_000_000_000_u64)]
    pub transactions: u64,
    /// Why a recorded figure is corrected.
    #[serde(default)]
    #[schema(value_type = Option<wire::Text>)]
    pub reason: Option<String>,
}

impl VolumeBody {
    pub fn parse(self) -> Result<RecordVolume, InvalidInput> {
        let text = self.month.as_str();
        let day = if text.len() == 7 {
            date("month", &format!("{text}-01"))?
        } else {
            date("month", text)?
        };
        RecordVolume::new(
            BranchCode::parse(&self.branch)?,
            Month::of(day),
            self.transactions,
            self.reason
                .as_deref()
                .map(|r| Note::parse(r).map_err(|e| e.for_field("reason")))
                .transpose()?,
        )
    }
}
