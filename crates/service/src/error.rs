//! The one error shape of the API, `{"error":{"code","message","field"}}`, and the single
//! place where errors of every layer become HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use suspense::store::StoreError;
use suspense::IncidentQueryError;
use suspense::ProjectionError;
use suspense::{EvaluationError, SweepError};
use suspense_domain::incident::IncidentError;
use suspense_domain::{InvalidInput, ItemError, PlanError};
use suspense_read_models::ReportError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required",
        )
    }

    pub fn forbidden(needed: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the {needed} role"),
        )
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the service log",
        )
    }

    /// The body as sent, for storing under an idempotency key.
    pub fn body(&self) -> String {
        serde_json::to_string(&Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        });
        (self.status, body).into_response()
    }
}

impl From<InvalidInput> for ApiError {
    fn from(err: InvalidInput) -> Self {
        let code = if err.in_context {
            "invalid_in_context"
        } else {
            "invalid_field"
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, err.reason.clone()).with_field(err.field)
    }
}

impl From<ItemError> for ApiError {
    fn from(err: ItemError) -> Self {
        let status = match err {
            ItemError::NotOpened => StatusCode::NOT_FOUND,
            ItemError::ReferenceConflict { .. } | ItemError::InAnotherIncident { .. } => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let api = Self::new(status, err.code(), err.to_string());
        match err.field() {
            Some(field) => api.with_field(field),
            None => api,
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(err: PlanError) -> Self {
        let status = match err {
            PlanError::NotDrafted => StatusCode::NOT_FOUND,
            PlanError::ReferenceConflict { .. } => StatusCode::CONFLICT,
            ref e if e.is_bad_input() => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        let api = Self::new(status, err.code(), err.to_string());
        match err.field() {
            Some(field) => api.with_field(field),
            None => api,
        }
    }
}

impl From<EvaluationError> for ApiError {
    fn from(err: EvaluationError) -> Self {
        match err {
            EvaluationError::NoSuchPlan => Self::not_found(err.to_string()),
            EvaluationError::Report(e) => e.into(),
            EvaluationError::Log(e) => e.into(),
            EvaluationError::Projection(e) => e.into(),
        }
    }
}

impl From<suspense::delivery::DeliveryError> for ApiError {
    fn from(err: suspense::delivery::DeliveryError) -> Self {
        use suspense::delivery::DeliveryError;
        match err {
            DeliveryError::UnknownSubscription(_) | DeliveryError::NoCheckpoint(_) => {
                Self::not_found(err.to_string())
            }
            DeliveryError::Invalid(e) => e.into(),
            DeliveryError::NameTaken(_) => {
                Self::new(StatusCode::CONFLICT, "subscription_exists", err.to_string())
                    .with_field("name")
            }
            DeliveryError::Configured(_) => Self::new(
                StatusCode::CONFLICT,
                "subscription_configured",
                err.to_string(),
            ),
            DeliveryError::Log(e) => e.into(),
            other => Self::internal(other),
        }
    }
}

impl From<SweepError> for ApiError {
    fn from(err: SweepError) -> Self {
        match err {
            SweepError::Projection(e) => e.into(),
            SweepError::Report(e) => e.into(),
            SweepError::Log(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Rejected(rule) => rule.into(),
            StoreError::ShareRejected {
                index,
                item_id,
                error,
            } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.code(),
                format!("shares[{index}]: item {item_id}: {error}"),
            )
            .with_field(format!(
                "shares[{index}].{}",
                match &error {
                    ItemError::NotOpened => "item_id",
                    other => other.field().unwrap_or("item_id"),
                }
            )),
            StoreError::PlanRejected(rule) => rule.into(),
            StoreError::IncidentRejected(rule) => rule.into(),
            StoreError::PolicyRejected(refusal) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "policy_refused",
                refusal.to_string(),
            )
            .with_field(refusal.field()),
            StoreError::OutOfScope { .. } => {
                Self::new(StatusCode::FORBIDDEN, "out_of_scope", err.to_string())
                    .with_field("branch")
            }
            StoreError::OrganisationRejected(refusal) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "organisation_refused",
                refusal.to_string(),
            )
            .with_field(refusal.field),
            StoreError::Conflict { .. } | StoreError::StreamConflict { .. } => {
                Self::new(StatusCode::CONFLICT, "concurrent_update", err.to_string())
            }
            StoreError::VersionMismatch { .. } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                err.to_string(),
            ),
            StoreError::Unavailable(_) | StoreError::SettleTimeout { .. } => {
                tracing::warn!(error = %err, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
            }
            other => Self::internal(other),
        }
    }
}

impl From<IncidentQueryError> for ApiError {
    fn from(err: IncidentQueryError) -> Self {
        match err {
            IncidentQueryError::NoSuchIncident => Self::not_found(err.to_string()),
            IncidentQueryError::Report(e) => e.into(),
            IncidentQueryError::Log(e) => e.into(),
        }
    }
}

impl From<IncidentError> for ApiError {
    fn from(err: IncidentError) -> Self {
        let status = match err {
            IncidentError::NotOpened => StatusCode::NOT_FOUND,
            IncidentError::ReferenceConflict { .. } => StatusCode::CONFLICT,
            IncidentError::Resolved | IncidentError::ItemInAnotherIncident { .. } => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let api = Self::new(status, err.code(), err.to_string());
        match err.field() {
            Some(field) => api.with_field(field),
            None => api,
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(err: ProjectionError) -> Self {
        match err {
            ProjectionError::Store(store) => store.into(),
            ProjectionError::Timeout { .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                err.to_string(),
            ),
            other => Self::internal(other),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(err: ReportError) -> Self {
        match err {
            ReportError::Invalid(invalid) => invalid.into(),
            ReportError::Database(db) => StoreError::from(db).into(),
            ReportError::Log(store) => store.into(),
        }
    }
}
