//! Commands on one item. Each runs under the caller's role, optionally at the version named in
//! `If-Match`, at most once per `Idempotency-Key`, and answers with the item's new state.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use suspense_domain::{ItemAction, ItemId, Note};

use super::item_id;
use super::items::{actor, executed_reply, outcome};
use crate::app::AppState;
use crate::auth::Role;
use crate::dto::{
    AssignBody, ClassifyBody, ClearingBody, CommentBody, EscalateBody, NoteBody, ReasonBody,
    ResolveBody,
};
use crate::error::ApiError;
use crate::extract::{if_match, Body, Caller};
use crate::idempotency;

/// Runs `decide(body)` → action as `caller`, idempotently.
async fn command<F>(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    path: &str,
    body: Body,
    roles: &'static [Role],
    decide: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&AppState, &Caller, ItemId, &Body) -> Result<Decided, ApiError> + Send,
{
    caller.require(roles)?;
    let id = item_id(path)?;
    let expected = if_match(&headers)?;
    let key = idempotency::key(&headers)?;
    let pool = state.ledger.log().pool().clone();
    let user = caller.0.user.to_string();
    let fingerprint = format!("POST {path}");
    let raw = body.0.clone();
    Ok(idempotency::once(
        &pool,
        &user,
        key,
        &[fingerprint.as_bytes(), &raw],
        || async move {
            let Decided {
                action,
                status,
                needs,
            } = decide(&state, &caller, id, &body)?;
            if let Some(role) = needs {
                caller.require(&[role])?;
            }
            let name = action.name();
            let actor = actor(&caller, &headers);
            let started = Instant::now();
            let result = if let ItemAction::Assign { .. } = &action {
                assign_as(&state, &caller, &actor, id, action, expected).await?
            } else {
                match expected {
                    Some(version) => {
                        state
                            .ledger
                            .execute_at_version(&actor, id, action, version)
                            .await
                    }
                    None => state.ledger.execute(&actor, id, action).await,
                }
            };
            state
                .metrics
                .record(name, outcome(&result), started.elapsed());
            executed_reply(result?, status)
        },
    )
    .await)
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
        let Some(item) = state.ledger.item(id).await? else {
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
    /// A role needed beyond the route's, decided from the request.
    needs: Option<Role>,
}

impl From<ItemAction> for Decided {
    fn from(action: ItemAction) -> Self {
        Self {
            action,
            status: StatusCode::OK,
            needs: None,
        }
    }
}

const OPERATOR: &[Role] = &[Role::Operator];
const SUPERVISOR: &[Role] = &[Role::Supervisor];
const OPERATOR_OR_SUPERVISOR: &[Role] = &[Role::Operator, Role::Supervisor];

pub async fn classify(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, OPERATOR_OR_SUPERVISOR, |_, _, _, body| {
        Ok(body.json::<ClassifyBody>()?.parse()?.into())
    })
    .await
}

pub async fn assign(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, OPERATOR_OR_SUPERVISOR, |_, _, _, body| {
        Ok(body.json::<AssignBody>()?.parse()?.into())
    })
    .await
}

pub async fn escalate(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, SUPERVISOR, |_, _, _, body| {
        Ok(body.json::<EscalateBody>()?.parse()?.into())
    })
    .await
}

pub async fn clearing(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, OPERATOR, |_, _, _, body| {
        Ok(body.json::<ClearingBody>()?.parse()?.into())
    })
    .await
}

/// Resolves directly, or, when the approval policy says so (write-offs, large amounts),
/// records a proposal for a supervisor and answers 202 Accepted.
pub async fn resolve(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, OPERATOR, |state, _, _, body| {
        let resolution = body.json::<ResolveBody>()?.parse()?;
        if state
            .settings
            .approval
            .requires_approval(resolution.method, &resolution.amount)
        {
            Ok(Decided {
                action: ItemAction::ProposeResolution(resolution),
                status: StatusCode::ACCEPTED,
                needs: None,
            })
        } else {
            Ok(ItemAction::Resolve(resolution).into())
        }
    })
    .await
}

pub async fn approve(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, SUPERVISOR, |_, _, _, body| {
        let note = body.json_or_default::<NoteBody>()?.note;
        let note = note
            .map(|n| Note::parse(&n).map_err(|e| e.for_field("note")))
            .transpose()?;
        Ok(ItemAction::ApproveResolution { note }.into())
    })
    .await
}

pub async fn reject(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, SUPERVISOR, |_, _, _, body| {
        Ok(ItemAction::RejectResolution {
            reason: body.json::<ReasonBody>()?.parse()?,
        }
        .into())
    })
    .await
}

pub async fn reopen(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, SUPERVISOR, |_, _, _, body| {
        Ok(ItemAction::Reopen {
            reason: body.json::<ReasonBody>()?.parse()?,
        }
        .into())
    })
    .await
}

pub async fn comment(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Body,
) -> Result<Response, ApiError> {
    command(s, c, h, &id, b, OPERATOR_OR_SUPERVISOR, |_, _, _, body| {
        let text = body.json::<CommentBody>()?.text;
        Ok(ItemAction::Comment {
            text: Note::parse(&text).map_err(|e| e.for_field("text"))?,
        }
        .into())
    })
    .await
}
