//! Request extractors that fail with the API's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::auth::oidc::{OidcVerifier, TokenRefusal};
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller (`Authorization: Bearer <token>`: a configured token, or an
/// access token from the identity provider).
pub struct Caller(pub Principal);

impl Caller {
    /// The caller as the library's actor for a read: who, and the branches they see.
    pub fn actor(&self) -> suspense::Actor {
        suspense::Actor::new(self.0.user.clone())
            .with_scope(self.0.scope.clone())
            .with_approval_authority(self.0.approval_authority)
    }

    /// 403 unless the caller sees every branch: for what covers the whole bank at once (the
    /// log's export, a plan's evaluation).
    pub fn require_head_office(&self) -> Result<(), ApiError> {
        if self.0.is_head_office() {
            Ok(())
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "out_of_scope",
                "this covers every branch: it needs a head-office user",
            ))
        }
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.0.has_any(roles) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(Role::as_str).collect();
            Err(ApiError::forbidden(&names.join(" or ")))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthenticated)?;
        Caller::authenticate(state, token).await
    }
}

impl Caller {
    /// Who `token` is: a configured user's bearer token, or an access token from the identity
    /// provider. The API checks it on every request; the console on every page of a session
    /// signed in with it.
    pub async fn authenticate(state: &AppState, token: &str) -> Result<Self, ApiError> {
        if let Some(oidc) = &state.settings.oidc {
            if OidcVerifier::is_jwt(token) {
                return match oidc.verify(token).await {
                    Ok(principal) => Ok(Caller(principal)),
                    Err(TokenRefusal::NoRole) => Err(ApiError::forbidden(
                        "operator, supervisor, reporter or auditor",
                    )),
                    Err(refusal) => {
                        // The caller learns only that the token is not accepted.
                        tracing::info!(reason = %refusal, "access token refused");
                        Err(ApiError::unauthenticated())
                    }
                };
            }
        }
        state
            .settings
            .users
            .authenticate(token)
            .cloned()
            .map(Caller)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The raw body, with the size limit reported as 413 in the API's error shape.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the request body is too large",
                    )
                } else {
                    ApiError::malformed(rejection.body_text())
                }
            })
    }
}

impl Body {
    /// Parses the body as JSON of `T`; syntax errors, wrong types, missing and unknown fields
    /// are 400 with serde's description (which names the field).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.0.is_empty() {
            return Err(ApiError::malformed("a JSON body is required"));
        }
        // Every body is an object; serde would take a struct's fields from an array too.
        if self.0.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::malformed("the body must be a JSON object"));
        }
        serde_json::from_slice(&self.0).map_err(|e| {
            let error = ApiError::malformed(format!("invalid JSON body: {e}"));
            match named_field(&e.to_string()) {
                Some(field) => error.with_field(field),
                None => error,
            }
        })
    }

    /// Like `json`, but an empty body means `T::default()`.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        // `null` is no body too: the API's document calls such a body optional (nullable).
        if self.0.is_empty() || self.0.trim_ascii() == b"null" {
            Ok(T::default())
        } else {
            self.json()
        }
    }
}

/// `If-Match: "3"` (or `3`): the item version the client acted on.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        ApiError::malformed("If-Match must be an item version such as \"3\"").with_field("If-Match")
    })
}

pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(128).collect())
}

/// The field serde's message names, if it is about one field: "missing field `text`",
/// "unknown field `x`, expected ...".
fn named_field(message: &str) -> Option<&str> {
    ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.split_once(prefix))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(field, _)| field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_unknown_field_is_named() {
        assert_eq!(
            named_field("missing field `text` at line 1 column 2"),
            Some("text")
        );
        assert_eq!(
            named_field("unknown field `colour`, expected one of `text`"),
            Some("colour")
        );
        assert_eq!(named_field("expected value at line 1 column 1"), None);
    }
}
