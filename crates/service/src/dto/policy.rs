//! The escalation policy on the wire: the document a supervisor publishes (`POST /v1/policy`,
//! `suspense policy publish --file`), the versions read back, and a sweep's outcome. A bad
//! value is named by its place (`rules[2].raise_to`).

use crate::openapi::wire;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suspense::SweepOutcome;
use suspense_domain::organisation::Jurisdiction;
use suspense_domain::policy::{
    AgeFrom, ApprovalBand, EscalationPolicies, EscalationRule, PolicyVersion, PublishPolicy,
    RegulatoryAction, ReminderRule, Trigger,
};
use suspense_domain::{
    BranchCode, Currency, Direction, EscalationLevel, InvalidInput, Note, RootCauseCategory,
};

use super::{date, decimal};

/// A policy version as written down.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[schema(value_type = wire::Date)]
    pub effective_from: String,
    #[schema(value_type = wire::Text)]
    pub reason: String,
    #[serde(deserialize_with = "super::object::list")]
    pub rules: Vec<RuleBody>,
    /// Who approves a resolution, by amount (docs/organisation.md).
    #[serde(default, deserialize_with = "super::object::list")]
    pub approval_bands: Vec<BandBody>,
    /// When customers must be reminded of their items (docs/customers.md).
    #[serde(default, deserialize_with = "super::object::list")]
    pub reminders: Vec<ReminderBody>,
}

/// A reminder rule: items (of a category, of branches) whose customer is reminded the given
/// days after booking while the item is open.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReminderRule)]
#[serde(deny_unknown_fields)]
pub struct ReminderBody {
    #[schema(value_type = Option<wire::RootCauseCategory>)]
    pub category: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<wire::BranchCode>)]
    pub branches: Vec<String>,
    #[serde(deserialize_with = "super::whole::list")]
    pub days_after_booking: Vec<u32>,
}

impl ReminderBody {
    fn parse(&self) -> Result<ReminderRule, InvalidInput> {
        Ok(ReminderRule {
            category: self
                .category
                .as_deref()
                .map(RootCauseCategory::parse)
                .transpose()?,
            branches: self
                .branches
                .iter()
                .map(|b| BranchCode::parse(b).map_err(|e| e.for_field("branches")))
                .collect::<Result<_, _>>()?,
            days_after_booking: self.days_after_booking.clone(),
        })
    }
}

impl From<&ReminderRule> for ReminderBody {
    fn from(rule: &ReminderRule) -> Self {
        Self {
            category: rule.category.map(|c| c.as_str().to_owned()),
            branches: rule.branches.iter().map(ToString::to_string).collect(),
            days_after_booking: rule.days_after_booking.clone(),
        }
    }
}

/// An approval band: resolutions in `currency` clearing more than `above` need `approvals`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ApprovalBand)]
#[serde(deny_unknown_fields)]
pub struct BandBody {
    #[schema(value_type = wire::Currency)]
    pub currency: String,
    #[schema(value_type = wire::Decimal)]
    pub above: String,
    #[serde(deserialize_with = "super::whole::number")]
    #[schema(minimum = 1, maximum = 3)]
    pub approvals: u8,
    #[serde(default)]
    pub another_branch: bool,
}

impl BandBody {
    fn parse(&self) -> Result<ApprovalBand, InvalidInput> {
        Ok(ApprovalBand {
            currency: Currency::parse(&self.currency)?,
            above: decimal("above", &self.above)?,
            approvals: self.approvals,
            another_branch: self.another_branch,
        })
    }
}

impl From<&ApprovalBand> for BandBody {
    fn from(band: &ApprovalBand) -> Self {
        Self {
            currency: band.currency.code().to_owned(),
            above: band.above.to_string(),
            approvals: band.approvals,
            another_branch: band.another_branch,
        }
    }
}

/// One rule: what it matches, when it fires (exactly one of `age_days` and
/// `amount_at_least`), the level it raises to, and an optional regulatory action.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PolicyRule)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    #[serde(default)]
    #[schema(value_type = Vec<wire::BranchCode>)]
    pub branches: Vec<String>,
    /// Items of the branches the organisation registry puts in these jurisdictions.
    #[serde(default)]
    #[schema(value_type = Vec<wire::Jurisdiction>)]
    pub jurisdictions: Vec<String>,
    #[schema(value_type = Option<wire::Direction>)]
    pub direction: Option<String>,
    #[schema(value_type = Option<wire::RootCauseCategory>)]
    pub category: Option<String>,
    #[schema(value_type = Option<wire::Currency>)]
    pub currency: Option<String>,
    #[schema(value_type = Option<wire::Decimal>)]
    pub min_amount: Option<String>,
    #[schema(value_type = Option<wire::Decimal>)]
    pub max_amount: Option<String>,
    #[serde(default, deserialize_with = "super::whole::optional")]
    pub age_days: Option<u32>,
    /// `booking_date` (default) or `value_date`.
    #[schema(value_type = Option<wire::AgeFrom>)]
    pub age_from: Option<String>,
    #[schema(value_type = Option<wire::Decimal>)]
    pub amount_at_least: Option<String>,
    #[schema(value_type = wire::EscalationLevel)]
    pub raise_to: String,
    #[serde(default, deserialize_with = "super::object::optional")]
    pub action: Option<ActionBody>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RegulatoryAction)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// `provision`, `move_to_blocked_account` or `review`.
    #[schema(value_type = wire::ActionKind)]
    pub kind: String,
    #[schema(value_type = Option<wire::Decimal>)]
    pub percent: Option<String>,
    #[schema(value_type = Option<wire::Text>)]
    pub note: Option<String>,
}

impl PolicyDocument {
    pub fn parse(&self) -> Result<PublishPolicy, InvalidInput> {
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                rule.parse().map_err(|e| {
                    let field = format!("rules[{i}].{}", e.field);
                    e.for_field(field)
                })
            })
            .collect::<Result<_, _>>()?;
        let approval_bands = self
            .approval_bands
            .iter()
            .enumerate()
            .map(|(i, band)| {
                band.parse().map_err(|e| {
                    let field = format!("approval_bands[{i}].{}", e.field);
                    e.for_field(field)
                })
            })
            .collect::<Result<_, _>>()?;
        let reminders = self
            .reminders
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                rule.parse().map_err(|e| {
                    let field = format!("reminders[{i}].{}", e.field);
                    e.for_field(field)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PublishPolicy {
            effective_from: date("effective_from", &self.effective_from)?,
            reason: Note::parse(&self.reason).map_err(|e| e.for_field("reason"))?,
            rules,
            approval_bands,
            reminders,
        })
    }
}

impl RuleBody {
    fn parse(&self) -> Result<EscalationRule, InvalidInput> {
        let trigger = match (self.age_days, self.amount_at_least.as_deref()) {
            (Some(days), None) => Trigger::Age {
                days,
                from: self
                    .age_from
                    .as_deref()
                    .map(AgeFrom::parse)
                    .transpose()
                    .map_err(|e| e.for_field("age_from"))?
                    .unwrap_or(AgeFrom::BookingDate),
            },
            (None, Some(amount)) => Trigger::AmountAtLeast {
                amount: decimal("amount_at_least", amount)?,
            },
            _ => {
                return Err(InvalidInput::in_context(
                    "age_days",
                    "give exactly one of age_days and amount_at_least",
                ))
            }
        };
        let action = self
            .action
            .as_ref()
            .map(|a| match a.kind.as_str() {
                "provision" => Ok(RegulatoryAction::Provision {
                    percent: decimal(
                        "action.percent",
                        a.percent.as_deref().ok_or_else(|| {
                            InvalidInput::in_context(
                                "action.percent",
                                "is required for a provision",
                            )
                        })?,
                    )?,
                }),
                "move_to_blocked_account" => Ok(RegulatoryAction::MoveToBlockedAccount),
                "review" => Ok(RegulatoryAction::Review {
                    note: Note::parse(a.note.as_deref().ok_or_else(|| {
                        InvalidInput::in_context("action.note", "is required for a review")
                    })?)
                    .map_err(|e| e.for_field("action.note"))?,
                }),
                other => Err(InvalidInput::new(
                    "action.kind",
                    format!("'{other}' is not one of {}", super::ACTION_KINDS.join(", ")),
                )),
            })
            .transpose()?;
        Ok(EscalationRule {
            branches: self
                .branches
                .iter()
                .map(|b| BranchCode::parse(b).map_err(|e| e.for_field("branches")))
                .collect::<Result<_, _>>()?,
            jurisdictions: self
                .jurisdictions
                .iter()
                .map(|j| Jurisdiction::parse(j).map_err(|e| e.for_field("jurisdictions")))
                .collect::<Result<_, _>>()?,
            direction: self
                .direction
                .as_deref()
                .map(Direction::parse)
                .transpose()?,
            category: self
                .category
                .as_deref()
                .map(RootCauseCategory::parse)
                .transpose()?,
            currency: self.currency.as_deref().map(Currency::parse).transpose()?,
            min_amount: self
                .min_amount
                .as_deref()
                .map(|a| decimal("min_amount", a))
                .transpose()?,
            max_amount: self
                .max_amount
                .as_deref()
                .map(|a| decimal("max_amount", a))
                .transpose()?,
            trigger,
            raise_to: EscalationLevel::parse(&self.raise_to)
                .map_err(|e| e.for_field("raise_to"))?,
            action,
        })
    }
}

impl From<&EscalationRule> for RuleBody {
    fn from(rule: &EscalationRule) -> Self {
        let (age_days, age_from, amount_at_least) = match rule.trigger {
            Trigger::Age { days, from } => (Some(days), Some(from.as_str().to_owned()), None),
            Trigger::AmountAtLeast { amount } => (None, None, Some(amount.to_string())),
        };
        Self {
            branches: rule.branches.iter().map(ToString::to_string).collect(),
            jurisdictions: rule.jurisdictions.iter().map(ToString::to_string).collect(),
            direction: rule.direction.map(|d| d.as_str().to_owned()),
            category: rule.category.map(|c| c.as_str().to_owned()),
            currency: rule.currency.map(|c| c.code().to_owned()),
            min_amount: rule.min_amount.map(|a| a.to_string()),
            max_amount: rule.max_amount.map(|a| a.to_string()),
            age_days,
            age_from,
            amount_at_least,
            raise_to: rule.raise_to.as_str().to_owned(),
            action: rule.action.as_ref().map(|a| match a {
                RegulatoryAction::Provision { percent } => ActionBody {
                    kind: "provision".to_owned(),
                    percent: Some(percent.to_string()),
                    note: None,
                },
                RegulatoryAction::MoveToBlockedAccount => ActionBody {
                    kind: "move_to_blocked_account".to_owned(),
                    percent: None,
                    note: None,
                },
                RegulatoryAction::Review { note } => ActionBody {
                    kind: "review".to_owned(),
                    percent: None,
                    note: Some(note.to_string()),
                },
            }),
        }
    }
}

/// One published version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyVersionView {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub rules: Vec<RuleBody>,
    pub approval_bands: Vec<BandBody>,
    pub reminders: Vec<ReminderBody>,
}

impl From<&PolicyVersion> for PolicyVersionView {
    fn from(v: &PolicyVersion) -> Self {
        Self {
            version: v.version,
            effective_from: v.effective_from,
            rules: v.rules.iter().map(Into::into).collect(),
            approval_bands: v.approval_bands.iter().map(Into::into).collect(),
            reminders: v.reminders.iter().map(Into::into).collect(),
        }
    }
}

/// `GET /v1/policy`: every version, and the one in force today.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub in_force: Option<u32>,
    pub versions: Vec<PolicyVersionView>,
}

impl PolicyView {
    pub fn new(policies: &EscalationPolicies, today: NaiveDate) -> Self {
        Self {
            in_force: policies.in_force(today).map(|v| v.version),
            versions: policies.versions.iter().map(Into::into).collect(),
        }
    }
}

/// What a sweep did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SweepView {
    pub as_of: Option<NaiveDate>,
    pub policy_version: Option<u32>,
    pub candidates: usize,
    pub escalated: Vec<SweptItemView>,
    pub actions_due: Vec<DueActionView>,
    /// Customers to remind: `ReminderDue` events written.
    pub reminded: Vec<ReminderDueView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReminderDueView {
    pub item_id: String,
    /// Days after booking.
    pub day: u32,
    pub due_on: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SweptItemView {
    pub item_id: String,
    pub level: &'static str,
    pub reason: &'static str,
    pub rule: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DueActionView {
    pub item_id: String,
    pub rule: usize,
    pub kind: &'static str,
    pub percent: Option<String>,
    pub note: Option<String>,
}

impl From<&SweepOutcome> for SweepView {
    fn from(outcome: &SweepOutcome) -> Self {
        Self {
            as_of: outcome.as_of,
            policy_version: outcome.policy_version,
            candidates: outcome.candidates,
            escalated: outcome
                .escalated
                .iter()
                .map(|(id, e)| SweptItemView {
                    item_id: id.to_string(),
                    level: e.level.as_str(),
                    reason: e.reason.as_str(),
                    rule: e.rule,
                })
                .collect(),
            actions_due: outcome
                .actions_due
                .iter()
                .map(|(id, a)| {
                    let (kind, percent, note) = action_parts(&a.action);
                    DueActionView {
                        item_id: id.to_string(),
                        rule: a.rule,
                        kind,
                        percent,
                        note,
                    }
                })
                .collect(),
            reminded: outcome
                .reminded
                .iter()
                .map(|(id, due)| ReminderDueView {
                    item_id: id.to_string(),
                    day: due.day,
                    due_on: due.due_on,
                })
                .collect(),
        }
    }
}

/// A regulatory action's kind, percentage and note, as the wire names them.
pub(super) fn action_parts(
    action: &RegulatoryAction,
) -> (&'static str, Option<String>, Option<String>) {
    match action {
        RegulatoryAction::Provision { percent } => ("provision", Some(percent.to_string()), None),
        RegulatoryAction::MoveToBlockedAccount => ("move_to_blocked_account", None, None),
        RegulatoryAction::Review { note } => ("review", None, Some(note.to_string())),
    }
}

/// `POST /v1/sweep`: the instant to sweep at (default now).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = Sweep)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    #[schema(value_type = Option<wire::Date>)]
    pub as_of: Option<String>,
}
