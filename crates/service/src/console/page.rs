//! What every page shares: the context the layout needs (texts, language, who is signed in,
//! what they may open, the assets), rendering, and the error page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::assets;
use super::i18n::{Lang, Texts};
use super::session::{urlencode, Viewer};
use crate::auth::{Principal, Role};
use crate::error::ApiError;

/// Which pages the signed-in person may open: the API's role rules for the reads behind
/// each page.
pub struct Nav {
    pub overview: bool,
    pub worklist: bool,
    pub approvals: bool,
    pub audit: bool,
}

impl Nav {
    pub fn of(principal: &Principal) -> Self {
        Self {
            overview: principal.has_any(OVERVIEW_READERS),
            worklist: principal.has_any(WORKLIST_READERS),
            approvals: principal.has_any(&[Role::Supervisor]),
            audit: principal.has_any(&[Role::Auditor]),
        }
    }
}

/// Who reads the reports of the overview (as `GET /v1/reports/*`).
pub const OVERVIEW_READERS: &[Role] = &[Role::Reporter, Role::Auditor, Role::Supervisor];
/// Who reads the register and items (as `GET /v1/items`).
pub const WORKLIST_READERS: &[Role] = &[Role::Operator, Role::Supervisor, Role::Auditor];
/// Who reads an item's events (as `GET /v1/items/{id}/events`).
pub const TIMELINE_READERS: &[Role] = &[Role::Auditor, Role::Supervisor];

/// What the layout shows around every page.
pub struct Ctx {
    pub t: &'static Texts,
    pub lang: Lang,
    /// The page's path and query, to come back to after switching language.
    pub here: String,
    pub user: Option<String>,
    pub roles: String,
    pub csrf: String,
    pub nav: Nav,
    pub css: String,
    pub js: String,
}

impl Ctx {
    pub fn for_viewer(viewer: &Viewer, here: &str) -> Self {
        let principal = &viewer.caller.0;
        let roles: Vec<String> = principal
            .roles
            .iter()
            .map(|r| viewer.lang.label(r.as_str()))
            .collect();
        Self {
            user: Some(principal.user.to_string()),
            roles: roles.join(", "),
            csrf: viewer.csrf.clone(),
            nav: Nav::of(principal),
            ..Self::anonymous(viewer.lang, here)
        }
    }

    pub fn anonymous(lang: Lang, here: &str) -> Self {
        Self {
            t: lang.texts(),
            lang,
            here: here.to_owned(),
            user: None,
            roles: String::new(),
            csrf: String::new(),
            nav: Nav {
                overview: false,
                worklist: false,
                approvals: false,
                audit: false,
            },
            css: assets::url("console.css"),
            js: assets::url("console.js"),
        }
    }

    /// The link that shows this page in the other language.
    pub fn switch_language(&self) -> String {
        let to = match self.lang {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        };
        format!(
            "/console/language?to={}&back={}",
            to.tag(),
            urlencode(&self.here)
        )
    }

    /// The other language's name, in itself.
    pub fn other_language(&self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "English",
            Lang::En => "中文",
        }
    }

    /// A code of the API in this page's language.
    pub fn label(&self, code: &str) -> String {
        self.lang.label(code)
    }

    /// `err` with its message in this page's language (see `Lang::refusal`).
    pub fn localised(&self, mut err: ApiError) -> ApiError {
        err.message = self.lang.refusal(err.code, &err.message);
        err
    }
}

/// Renders `page` as HTML.
pub fn render<T: Template>(page: &T) -> Result<Html<String>, ApiError> {
    page.render().map(Html).map_err(ApiError::internal)
}

/// `page` as the response, with `status` (a page that failed to render is a 500).
pub fn respond<T: Template>(status: StatusCode, page: &T) -> Response {
    match render(page) {
        Ok(html) => (status, html).into_response(),
        Err(err) => err.into_response(),
    }
}

/// The reason `error` gives for the field `name`, if it names that field: what a page shows
/// beside the field.
pub fn field_error<'a>(error: Option<&'a ApiError>, name: &str) -> Option<&'a str> {
    error
        .filter(|e| e.field.as_deref() == Some(name))
        .map(|e| e.message.as_str())
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignInPage {
    pub ctx: Ctx,
    pub csrf: String,
    pub next: String,
    pub message: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub ctx: Ctx,
    pub heading: &'static str,
    pub message: String,
}

/// An error of a page as a page: the status the API would answer, the API's message.
pub fn error_page(ctx: Ctx, err: &ApiError) -> Response {
    let heading = match err.status {
        StatusCode::FORBIDDEN => ctx.t.not_allowed,
        StatusCode::NOT_FOUND => ctx.t.not_found,
        _ => ctx.t.failed,
    };
    let page = ErrorPage {
        heading,
        message: ctx.lang.refusal(err.code, &err.message),
        ctx,
    };
    respond(err.status, &page)
}
