//! Commands on one item. Each runs under the caller's role, optionally at the version named in
//! `If-Match`, at most once per `Idempotency-Key`, and answers with the item's new state.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{post, MethodRouter};
use suspense_domain::{ItemAction, ItemId, Note};

use super::item_id;
use super::items::{actor, executed_reply, outcome};
use crate::auth::Role;
use crate::dto::{
    AssignBody, ClassifyBody, ClearingBody, CloseComplaintBody, CommentBody, ComplaintBody,
    CustomerImpactBody, EscalateBody, FeeBody, NoteBody, ReasonBody, ReminderOutcomeBody,
    ResolveBody,
};
use crate::error::ApiError;
use crate::extract::{if_match, Body, Caller};
use crate::idempotency::Idempotent;
use crate::openapi::responses::{Idempotency, IfMatch};
use crate::openapi::{roles, schema_ref, wire, BodySchema, TableCommand};
use crate::state::AppState;

/// Runs `route` on item `path` as `caller`, idempotently.
async fn command(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    path: &str,
    body: Body,
    route: &'static CommandRoute,
) -> Result<Response, ApiError> {
    caller.require(route.roles)?;
    let id = item_id(path)?;
    let expected = if_match(&headers)?;
    let fingerprint = format!("POST /v1/items/{path}{}", route.path);
    let request = Idempotent::new(&state, &caller, &headers, &fingerprint, &body)?;
    Ok(request
        .run(|| async move {
            let actor = actor(&caller, &headers);
            let (executed, status) =
                run_command(&state, &caller, &actor, id, &body, route, expected).await?;
            executed_reply(executed, status)
        })
        .await)
}

/// Runs `route` on item `id` as `caller` (recorded as `actor`) with `body`, at version
/// `expected` if given: the one path of a command on an item, whether it came from the API
/// or from a form of the console. Answers the command's result and the status it earns.
pub(crate) async fn run_command(
    state: &AppState,
    caller: &Caller,
    actor: &suspense::Actor,
    id: ItemId,
    body: &Body,
    route: &CommandRoute,
    expected: Option<u64>,
) -> Result<(suspense::Executed, StatusCode), ApiError> {
    caller.require(route.roles)?;
    let Decided { action, status } = (route.decide)(state, body)?;
    let name = action.name();
    let started = Instant::now();
    let result = if let ItemAction::Assign { .. } = &action {
        assign_as(state, caller, actor, id, action, expected).await?
    } else {
        match expected {
            Some(version) => {
                state
                    .ledger
                    .execute_at_version(actor, id, action, version)
                    .await
            }
            None => state.ledger.execute(actor, id, action).await,
        }
    };
    state
        .metrics
        .record(name, outcome(&result), started.elapsed());
    Ok((result?, status))
}

/// Runs an assignment. A reassignment (the item is assigned elsewhere already) needs a
/// supervisor; the first assignment does not. The role is checked on the item as loaded
/// (`EventLog::load` answers from its cache when that is current) and the command is pinned
/// to that version, so the check holds for the state the command is applied to. A version
/// that turns out stale (another command wrote in between) is loaded and checked again, a
/// bounded number of times, unless the caller pinned it (`If-Match`).
async fn assign_as(
    state: &AppState,
    caller: &Caller,
    actor: &suspense::Actor,
    id: ItemId,
    action: ItemAction,
    expected: Option<u64>,
) -> Result<Result<suspense::Executed, suspense::Error>, ApiError> {
    let ItemAction::Assign { team, assignee, .. } = &action else {
        return Ok(state.ledger.execute(actor, id, action).await);
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(item) = state.ledger.item_for(actor, id).await? else {
            // No such item: the command itself reports it.
            return Ok(state.ledger.execute(actor, id, action).await);
        };
        if item
            .state
            .assignment
            .as_ref()
            .is_some_and(|c| c.team != *team || c.assignee != *assignee)
        {
            caller.require(&[Role::Supervisor])?;
        }
        let version = expected.unwrap_or(item.version);
        let result = state
            .ledger
            .execute_at_version(actor, id, action.clone(), version)
            .await;
        match result {
            Err(suspense::Error::VersionMismatch { .. })
                if expected.is_none() && attempt < ASSIGN_ATTEMPTS =>
            {
                continue
            }
            result => return Ok(result),
        }
    }
}

/// Checks and attempts of an assignment racing other commands on its item.
const ASSIGN_ATTEMPTS: u32 = 20;

struct Decided {
    action: ItemAction,
    status: StatusCode,
}

impl From<ItemAction> for Decided {
    fn from(action: ItemAction) -> Self {
        Self {
            action,
            status: StatusCode::OK,
        }
    }
}

const OPERATOR: &[Role] = &[Role::Operator];
const SUPERVISOR: &[Role] = &[Role::Supervisor];
const OPERATOR_OR_SUPERVISOR: &[Role] = &[Role::Operator, Role::Supervisor];

/// A command on one item as the API takes it: `POST /v1/items/{id}{path}`, by a caller with
/// one of `roles`, its body turned into the action by `decide`.
pub struct CommandRoute {
    pub path: &'static str,
    roles: &'static [Role],
    decide: fn(&AppState, &Body) -> Result<Decided, ApiError>,
    /// What the command does, and the body it takes, for the API's description.
    summary: &'static str,
    body: BodySchema,
}

/// Every command route. A new command is one line here and its `decide` below.
#[rustfmt::skip]
pub const COMMAND_ROUTES: &[CommandRoute] = &[
    CommandRoute { path: "/classify", roles: OPERATOR_OR_SUPERVISOR, decide: classify,
        summary: "Set or change the root cause", body: BodySchema::of::<ClassifyBody>() },
    CommandRoute { path: "/assign", roles: OPERATOR_OR_SUPERVISOR, decide: assign,
        summary: "Assign to a team and person (reassigning needs a supervisor)", body: BodySchema::of::<AssignBody>() },
    CommandRoute { path: "/escalate", roles: SUPERVISOR, decide: escalate,
        summary: "Raise the escalation level", body: BodySchema::of::<EscalateBody>() },
    CommandRoute { path: "/clearings", roles: OPERATOR, decide: clearing,
        summary: "Record a partial clearing", body: BodySchema::of::<ClearingBody>() },
    CommandRoute { path: "/resolve", roles: OPERATOR, decide: resolve,
        summary: "Resolve, or propose when approval is required (202)", body: BodySchema::of::<ResolveBody>() },
    CommandRoute { path: "/resolution/approve", roles: SUPERVISOR, decide: approve,
        summary: "Approve the pending resolution (not by its proposer)", body: BodySchema::optional::<NoteBody>() },
    CommandRoute { path: "/resolution/reject", roles: SUPERVISOR, decide: reject,
        summary: "Reject the pending resolution", body: BodySchema::of::<ReasonBody>() },
    CommandRoute { path: "/reopen", roles: SUPERVISOR, decide: reopen,
        summary: "Reopen a wrongly resolved item", body: BodySchema::of::<ReasonBody>() },
    CommandRoute { path: "/comments", roles: OPERATOR_OR_SUPERVISOR, decide: comment,
        summary: "Add a comment", body: BodySchema::of::<CommentBody>() },
    CommandRoute { path: "/customer", roles: OPERATOR_OR_SUPERVISOR, decide: customer,
        summary: "Record the customer harmed and whether their funds are held", body: BodySchema::of::<CustomerImpactBody>() },
    CommandRoute { path: "/fees", roles: OPERATOR, decide: fee,
        summary: "Record a fee the customer incurred (idempotent on fee_reference; in the item's currency)", body: BodySchema::of::<FeeBody>() },
    CommandRoute { path: "/fees/refunds", roles: OPERATOR, decide: refund,
        summary: "Refund part or all of a recorded fee (never more than the fee)", body: BodySchema::of::<FeeBody>() },
    CommandRoute { path: "/complaints", roles: OPERATOR_OR_SUPERVISOR, decide: complaint,
        summary: "Record a customer complaint (idempotent on the complaint reference)", body: BodySchema::of::<ComplaintBody>() },
    CommandRoute { path: "/complaints/close", roles: OPERATOR_OR_SUPERVISOR, decide: close_complaint,
        summary: "Close a customer complaint", body: BodySchema::of::<CloseComplaintBody>() },
    CommandRoute { path: "/reminders/outcome", roles: OPERATOR, decide: reminder_outcome,
        summary: "The messaging gateway's report on a reminder", body: BodySchema::of::<ReminderOutcomeBody>() },
];

impl CommandRoute {
    /// The route whose path (after the item's) is `path`, e.g. `/classify`.
    pub fn find(path: &str) -> Option<&'static CommandRoute> {
        COMMAND_ROUTES.iter().find(|route| route.path == path)
    }

    /// Whether `principal` holds a role this command needs.
    pub fn allows(&self, principal: &crate::auth::Principal) -> bool {
        principal.has_any(self.roles)
    }

    /// The axum handler of this route.
    pub fn handler(&'static self) -> MethodRouter<AppState> {
        post(
            move |State(state): State<AppState>,
                  caller: Caller,
                  headers: HeaderMap,
                  Path(id): Path<String>,
                  body: Body| async move {
                command(state, caller, headers, &id, body, self).await
            },
        )
    }
}

fn classify(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<ClassifyBody>()?.parse()?.into())
}

fn assign(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<AssignBody>()?.parse()?.into())
}

fn escalate(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<EscalateBody>()?.parse()?.into())
}

fn clearing(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<ClearingBody>()?.parse()?.into())
}

/// Resolves directly, or, when the approval policy says so (write-offs, large amounts, the
/// approval bands of the escalation policy in force), records a proposal for a supervisor
/// and answers 202 Accepted.
fn resolve(state: &AppState, body: &Body) -> Result<Decided, ApiError> {
    let resolution = body.json::<ResolveBody>()?.parse()?;
    let services = state.ledger.log().services();
    let needed = services.approval_needed(
        resolution.method,
        &resolution.amount,
        services.clock.now().date_naive(),
    );
    if needed.approvals > 0 {
        Ok(Decided {
            action: ItemAction::ProposeResolution(resolution),
            status: StatusCode::ACCEPTED,
        })
    } else {
        Ok(ItemAction::Resolve(resolution).into())
    }
}

fn approve(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    let note = body.json_or_default::<NoteBody>()?.parse()?;
    Ok(ItemAction::ApproveResolution { note }.into())
}

fn reject(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(ItemAction::RejectResolution {
        reason: body.json::<ReasonBody>()?.parse()?,
    }
    .into())
}

fn reopen(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(ItemAction::Reopen {
        reason: body.json::<ReasonBody>()?.parse()?,
    }
    .into())
}

fn comment(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    let text = body.json::<CommentBody>()?.text;
    Ok(ItemAction::Comment {
        text: Note::parse(&text).map_err(|e| e.for_field("text"))?,
    }
    .into())
}

fn customer(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<CustomerImpactBody>()?.parse()?.into())
}

fn fee(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<FeeBody>()?.incurred()?.into())
}

fn refund(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<FeeBody>()?.refund()?.into())
}

fn complaint(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<ComplaintBody>()?.parse()?.into())
}

fn close_complaint(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<CloseComplaintBody>()?.parse()?.into())
}

/// The messaging gateway reports on a reminder it was handed (it acts as an operator).
fn reminder_outcome(_: &AppState, body: &Body) -> Result<Decided, ApiError> {
    Ok(body.json::<ReminderOutcomeBody>()?.parse()?.into())
}

/// Describes every command route in the API's document.
pub struct Described;

impl utoipa::Modify for Described {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::IntoParams;
        let answer = schema_ref::<crate::dto::ItemView>(openapi);
        let id = schema_ref::<wire::Uuid>(openapi);
        let headers = [
            Idempotency::into_params(|| None),
            IfMatch::into_params(|| None),
        ]
        .concat();
        for route in COMMAND_ROUTES {
            let mut ok = vec![(200, "The item's new state; its version in ETag")];
            if route.path == "/resolve" {
                ok.push((202, "Proposed; waits for a supervisor's approval"));
            }
            TableCommand {
                tag: "commands",
                summary: route.summary,
                description: roles(route.roles),
                path_params: vec![("id", id.clone())],
                headers: headers.clone(),
                body: route.body,
                answer: answer.clone(),
                ok,
            }
            .add_to(openapi, format!("/v1/items/{{id}}{}", route.path));
        }
    }
}
