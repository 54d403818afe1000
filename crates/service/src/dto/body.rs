//! Request bodies. Each is deserialised into plain fields, then parsed into domain values, so
//! that every bad value is reported with its field name. Amounts travel as decimal strings: a
//! JSON number (a float) is refused.

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyBody {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenItemBody {
    pub source_system: String,
    pub reference: String,
    pub account: String,
    pub branch: String,
    pub channel: String,
    pub amount: String,
    pub currency: String,
    pub direction: String,
    pub booked_on: String,
    /// Defaults to `booked_on`.
    pub value_date: Option<String>,
    pub description: String,
    #[serde(default)]
    pub funds_held: bool,
    pub fee: Option<MoneyBody>,
    /// The bank's pseudonymous reference of the customer harmed.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyBody {
    pub category: String,
    pub code: String,
    pub reason: Option<String>,
    /// The staff member responsible for an operational error.
    pub responsible: Option<String>,
    /// The counterparty behind an external cause, from the configured list.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub team: String,
    pub assignee: Option<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub level: String,
    pub reason: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearingBody {
    pub clearing_reference: String,
    pub amount: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub method: String,
    pub amount: String,
    pub currency: String,
    pub posted_to: Option<String>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub note: Option<String>,
}

impl NoteBody {
    pub fn parse(self) -> Result<Option<Note>, InvalidInput> {
        self.note
            .map(|n| Note::parse(&n).map_err(|e| e.for_field("note")))
            .transpose()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

impl ReasonBody {
    pub fn parse(self) -> Result<Note, InvalidInput> {
        Note::parse(&self.reason).map_err(|e| e.for_field("reason"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeBody {
    pub branch: String,
    /// Any day of the month, or `YYYY-MM`.
    pub month: String,
    pub transactions: u64,
    /// Why a recorded figure is corrected.
    #[serde(default)]
    pub reason: Option<String>,
}

impl VolumeBody {
    pub fn parse(self) -> Result<RecordVolume, InvalidInput> {
        let text = self.month.trim();
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
