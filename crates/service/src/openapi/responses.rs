//! What every operation may answer besides its success: the API's one error shape under the
//! statuses `crate::error` maps errors to, and the request headers commands take.

use std::collections::BTreeMap;

use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, RefOr, Response};
use utoipa::IntoResponses;

/// The statuses any refusal may carry.
const ANY: &[(u16, &str)] = &[
    (401, "No or unknown bearer token"),
    (403, "The caller lacks the role, or the branch is outside the caller's scope"),
    (404, "No such item, plan, incident or subscription"),
    (422, "An invalid field value (`invalid_field`), a value not valid with another field or the reference data (`invalid_in_context`), or a rule of the domain"),
    (503, "Database unavailable or request timed out"),
];

/// Those only a refusal of a read carries besides.
const READ: &[(u16, &str)] = &[(
    400,
    "Malformed request (query string syntax, a repeated parameter)",
)];

/// Those only a refusal of a command carries besides.
const WRITE: &[(u16, &str)] = &[
    (
        400,
        "Malformed request (JSON syntax, wrong types, missing or unknown fields, a bad header)",
    ),
    (
        409,
        "Duplicate reference, concurrent update, or idempotent request in progress",
    ),
    (412, "If-Match names an older version"),
    (413, "Body larger than the limit"),
];

/// `ANY` and `more`, each with the API's error body.
fn refusals(more: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    ANY.iter()
        .chain(more)
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "Error",
                        ))))
                        .build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// The refusals of a read: reports, lists, one item.
pub struct ReadRefusals;

impl IntoResponses for ReadRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(READ)
    }
}

/// The refusals of a command.
pub struct WriteRefusals;

impl IntoResponses for WriteRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(WRITE)
    }
}

/// The API's one error shape.
#[derive(utoipa::ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `invalid_field`, `not_found`, `forbidden`, ...
    code: String,
    /// What went wrong, for people.
    message: String,
    /// The field, header or query parameter at fault, when one is.
    field: Option<String>,
}

/// `Idempotency-Key`: a retried request with the same key gets the first response.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct Idempotency {
    /// A retried request with the same key gets the first response and writes nothing.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, max_length = 200, pattern = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")]
    key: Option<String>,
}

/// `If-Match` of a command on one item.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatch {
    /// The item version acted on, e.g. `"3"`; 412 if the item moved on.
    #[param(rename = "If-Match", value_type = String, required = false, pattern = r#"^(W/)?"?[0-9]{1,19}"?$"#)]
    version: Option<String>,
}
