//! A successful response: status, JSON body, and the item version as `ETag` when there is one.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub etag: Option<u64>,
    pub content_type: &'static str,
    pub replayed: bool,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_string(value).map_err(ApiError::internal)?;
        Ok(Self::raw(status, body))
    }

    pub fn raw(status: StatusCode, body: String) -> Self {
        Self {
            status,
            body,
            etag: None,
            content_type: "application/json",
            replayed: false,
            headers: Vec::new(),
        }
    }

    pub fn csv(body: String) -> Self {
        Self {
            content_type: "text/csv; charset=utf-8",
            ..Self::raw(StatusCode::OK, body)
        }
    }

    /// A report: `view` written by `to_csv` when `csv`, else as JSON.
    pub fn report<T: Serialize>(
        csv: bool,
        view: &T,
        to_csv: impl FnOnce(&T) -> Result<String, csv::Error>,
    ) -> Result<Self, ApiError> {
        if csv {
            Ok(Self::csv(to_csv(view).map_err(ApiError::internal)?))
        } else {
            Self::json(StatusCode::OK, view)
        }
    }

    #[must_use]
    pub fn with_etag(mut self, version: u64) -> Self {
        self.etag = Some(version);
        self
    }

    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    #[must_use]
    pub fn replayed(mut self) -> Self {
        self.replayed = true;
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Some(version) = self.etag {
            if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
                headers.insert(header::ETAG, value);
            }
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        if self.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}
