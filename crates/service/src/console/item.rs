//! The item page: its facts and balance, its timeline, and the forms of the commands the
//! viewer's roles and the item's state allow. A form runs the API's own command path
//! (`routes::commands::run_command`): its fields are the API's JSON fields, so a refusal
//! names the same field with the same reason, shown beside it, and nothing is written.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{Map, Value};
use suspense_domain::{EscalationLevel, ItemId, ResolutionMethod};

use super::format::{grouped, local_time};
use super::page::{error_page, respond, Ctx, TIMELINE_READERS, WORKLIST_READERS};
use super::session::Viewer;
use crate::dto::ItemView;
use crate::error::ApiError;
use crate::extract::{Body, Caller};
use crate::routes::commands::{run_command, CommandRoute};
use crate::routes::item_id;
use crate::state::AppState;

/// One event of the timeline.
pub struct TimelineRow {
    pub when: String,
    pub who: String,
    pub what: String,
    pub why: String,
    pub request_id: String,
    pub source: String,
}

/// A form that was refused: which command, which field, why.
pub struct Refusal {
    pub command: String,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Template)]
#[template(path = "console/item.html")]
pub struct ItemPage {
    pub ctx: Ctx,
    pub item: ItemView,
    pub timeline: Option<Vec<TimelineRow>>,
    /// The commands the viewer may run on the item now (`CommandRoute` paths).
    pub commands: Vec<&'static str>,
    pub categories: Vec<(&'static str, String)>,
    pub codes: Vec<(String, String)>,
    pub methods: Vec<(&'static str, String)>,
    pub levels: Vec<(&'static str, String)>,
    pub done: Option<&'static str>,
    pub refusal: Option<Refusal>,
}

impl ItemPage {
    pub fn can(&self, command: &str) -> bool {
        self.commands.contains(&command)
    }

    /// The reason the form of `command` was refused for `field`.
    pub fn field_error(&self, command: &str, field: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.command == command && r.field.as_deref() == Some(field))
            .map(|r| r.message.as_str())
    }

    /// The refusal of the form of `command` that names no field of it.
    pub fn form_error(&self, command: &str, fields: &[&str]) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| {
                r.command == command && r.field.as_deref().is_none_or(|f| !fields.contains(&f))
            })
            .map(|r| r.message.as_str())
    }

    pub fn money(&self, amount: &str) -> String {
        grouped(amount)
    }
}

#[derive(Deserialize)]
pub struct ItemQuery {
    done: Option<String>,
}

/// `GET /console/items/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ItemQuery>,
) -> Response {
    let t = viewer.lang.texts();
    let done = match query.done.as_deref() {
        Some("proposed") => Some(t.proposed),
        Some(_) => Some(t.done),
        None => None,
    };
    page(&state, &viewer, &id, done, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    done: Option<&'static str>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::for_viewer(viewer, &format!("/console/items/{id}"));
    match item_page(state, &viewer.caller, id, ctx, done, refusal).await {
        Ok(page) => respond(status, &page),
        Err((ctx, err)) => error_page(ctx, &err),
    }
}

async fn item_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    ctx: Ctx,
    done: Option<&'static str>,
    refusal: Option<Refusal>,
) -> Result<ItemPage, (Ctx, ApiError)> {
    let found = async {
        caller.require(WORKLIST_READERS)?;
        let id = item_id(id)?;
        let actor = caller.actor();
        let item = state
            .ledger
            .item_for(&actor, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no item {id}")))?;
        let timeline = if caller.0.has_any(TIMELINE_READERS) {
            Some(timeline(state, &ctx, &actor, id).await?)
        } else {
            None
        };
        Ok::<_, ApiError>((item, timeline))
    }
    .await;
    let (item, timeline) = match found {
        Ok(found) => found,
        Err(err) => return Err((ctx, err)),
    };
    let item = ItemView::from(item);
    let commands = allowed(caller, item.status);
    Ok(ItemPage {
        categories: suspense_domain::RootCauseCategory::ALL
            .iter()
            .map(|c| (c.as_str(), ctx.label(c.as_str())))
            .collect(),
        codes: state
            .settings
            .catalogue
            .entries()
            .iter()
            .map(|(code, entry)| (code.to_string(), entry.category.as_str().to_owned()))
            .collect(),
        methods: ResolutionMethod::ALL
            .iter()
            .map(|m| (m.as_str(), ctx.label(m.as_str())))
            .collect(),
        levels: EscalationLevel::ALL
            .iter()
            .map(|l| (l.as_str(), ctx.label(l.as_str())))
            .collect(),
        ctx,
        item,
        timeline,
        commands,
        done,
        refusal,
    })
}

/// The commands `caller`'s roles allow on an item in `status`. The domain decides in the
/// end; this only leaves out forms that could not succeed.
fn allowed(caller: &Caller, status: &str) -> Vec<&'static str> {
    let by_state: &[&'static str] = match status {
        "open" => &[
            "/classify",
            "/assign",
            "/escalate",
            "/clearings",
            "/resolve",
            "/comments",
        ],
        "pending_approval" => &["/resolution/approve", "/resolution/reject", "/comments"],
        _ => &["/reopen", "/comments"],
    };
    by_state
        .iter()
        .copied()
        .filter(|path| CommandRoute::find(path).is_some_and(|r| r.allows(&caller.0)))
        .collect()
}

async fn timeline(
    state: &AppState,
    ctx: &Ctx,
    actor: &suspense::Actor,
    id: ItemId,
) -> Result<Vec<TimelineRow>, ApiError> {
    let history = state
        .ledger
        .history_for(actor, id)
        .await?
        .unwrap_or_default();
    Ok(history
        .into_iter()
        .map(|recorded| {
            let metadata = &recorded.metadata;
            TimelineRow {
                when: local_time(&state.settings.calendar, recorded.event.at()),
                who: metadata.actor.clone().unwrap_or_default(),
                what: ctx.label(recorded.event.name()),
                why: details(&recorded.event),
                request_id: metadata.request_id.clone().unwrap_or_default(),
                source: metadata.source.clone().unwrap_or_default(),
            }
        })
        .collect())
}

/// What an event says beyond its type and time, as `field: value` pairs.
fn details(event: &suspense_domain::SuspenseItemEvent) -> String {
    let mut pairs = Vec::new();
    if let Ok(Value::Object(tagged)) = serde_json::to_value(event) {
        // `{"Commented": {...}}`: the type is shown already.
        for fields in tagged.values() {
            if let Value::Object(fields) = fields {
                flatten("", fields, &mut pairs);
            }
        }
    }
    pairs.join("; ")
}

fn flatten(prefix: &str, fields: &Map<String, Value>, out: &mut Vec<String>) {
    // A money value reads as one: 100.00 CNY.
    if let (Some(Value::String(amount)), Some(Value::String(currency)), 2) =
        (fields.get("amount"), fields.get("currency"), fields.len())
    {
        out.push(format!("{prefix}: {} {currency}", grouped(amount)));
        return;
    }
    for (name, value) in fields {
        // When and who are columns of their own.
        if matches!(name.as_str(), "at" | "by" | "type") {
            continue;
        }
        let name = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::Null => {}
            Value::Object(inner) => flatten(&name, inner, out),
            Value::Array(items) if items.is_empty() => {}
            Value::String(text) => out.push(format!("{name}: {text}")),
            other => out.push(format!("{name}: {other}")),
        }
    }
}

/// `POST /console/items/{id}`: a form of the item page.
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let command = value("command").unwrap_or_default().to_owned();
    let refuse = |field: Option<&str>, message: String, status: StatusCode| {
        let refusal = Refusal {
            command: command.clone(),
            field: field.map(str::to_owned),
            message,
        };
        (refusal, status)
    };
    let outcome = async {
        if !viewer.csrf_matches(value("csrf").unwrap_or_default()) {
            return Err(refuse(
                None,
                viewer.lang.texts().form_expired.to_owned(),
                StatusCode::FORBIDDEN,
            ));
        }
        let Some(route) = CommandRoute::find(&command) else {
            return Err(refuse(
                Some("command"),
                format!("'{command}' is not a command"),
                StatusCode::BAD_REQUEST,
            ));
        };
        let expected = match value("version").map(str::parse::<u64>) {
            Some(Ok(version)) => Some(version),
            Some(Err(_)) => {
                return Err(refuse(
                    Some("version"),
                    "must be an item version".to_owned(),
                    StatusCode::BAD_REQUEST,
                ))
            }
            None => None,
        };
        let said = |e: &ApiError| viewer.lang.refusal(e.code, &e.message);
        let id = item_id(&id).map_err(|e| refuse(None, said(&e), e.status))?;
        let body = Body(Bytes::from(json_of(&fields).to_string()));
        let actor = actor(&viewer.caller).map_err(|e| refuse(None, said(&e), e.status))?;
        run_command(&state, &viewer.caller, &actor, id, &body, route, expected)
            .await
            .map_err(|e| refuse(e.field.as_deref(), said(&e), e.status))
    }
    .await;
    match outcome {
        Ok((_, status)) => {
            // The lists the person goes back to read the read models: show them this.
            if let Err(err) = state.ledger.refresh().await {
                tracing::warn!(error = %err, "read models not brought up to date after a form");
            }
            let done = if status == StatusCode::ACCEPTED {
                "proposed"
            } else {
                "ok"
            };
            Redirect::to(&format!("/console/items/{id}?done={done}")).into_response()
        }
        Err((refusal, status)) => page(&state, &viewer, &id, None, Some(refusal), status).await,
    }
}

/// The form's fields as the API's JSON body: every field but the form's own, trimmed (a
/// person's stray blank is not an error), empty ones left out (an optional field not filled in).
fn json_of(fields: &[(String, String)]) -> Value {
    let body: Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "csrf" | "command" | "version"))
        .map(|(name, value)| (name, value.trim()))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.clone(), Value::String(value.to_owned())))
        .collect();
    Value::Object(body)
}

/// The viewer as the actor of a command from the console, with a request id of its own so
/// the timeline ties the event to the form that caused it.
fn actor(caller: &Caller) -> Result<suspense::Actor, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(caller
        .actor()
        .with_source("console")
        .with_request_id(format!("console-{}", hex::encode(bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_the_api_body_without_its_own_fields_or_blanks() {
        let fields = [
            ("csrf", "x"),
            ("command", "/classify"),
            ("version", "3"),
            ("category", " system_failure "),
            ("code", "SYS-OUTAGE"),
            ("reason", " "),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        assert_eq!(
            json_of(&fields),
            serde_json::json!({"category": "system_failure", "code": "SYS-OUTAGE"})
        );
    }
}
