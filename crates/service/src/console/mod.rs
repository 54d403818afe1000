//! The web console (`/console`): server-rendered pages for the handling team, supervisors,
//! management and auditors, in Chinese and English, served by the service itself with every
//! asset compiled in.
//!
//! - `session.rs`: signing in with a token, the session cookie, CSRF, the language.
//! - `page.rs`: the layout's context, rendering, the error page, which pages a role opens.
//! - `overview.rs`, `worklist.rs`, `item.rs`, `plan.rs`, `audit.rs`: the pages; a form runs
//!   the API's command path.
//! - `i18n.rs`: every text in both languages; `format.rs`: amounts and times.
//! - `assets.rs`: the stylesheet, the script and Apache ECharts under content-hashed names.
//!
//! Every response carries a Content-Security-Policy that allows scripts and styles from the
//! console's own assets only (no inline script), and is never framed or cached.

mod assets;
mod audit;
mod format;
mod i18n;
mod item;
mod overview;
mod page;
mod plan;
mod session;
mod worklist;

use axum::http::{header, HeaderValue};
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub use i18n::Lang;

/// What a console page may load and do.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, under `/console`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route(
            "/console/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/console/sign-out", axum::routing::post(session::sign_out))
        .route("/console/language", get(session::switch_language))
        .route("/console/overview", get(overview::overview))
        .route(
            "/console/reports/root-causes.csv",
            get(overview::pareto_csv),
        )
        .route(
            "/console/reports/aging.csv",
            get(overview::aging_csv_download),
        )
        .route("/console/worklist", get(worklist::worklist))
        .route("/console/approvals", get(worklist::approvals))
        .route("/console/items/{id}", get(item::show).post(item::act))
        .route("/console/plans", get(plan::list))
        .route("/console/plans/{id}", get(plan::show))
        .route("/console/audit", get(audit::audit))
        .route("/console/audit/export", get(audit::export))
        .route("/console/assets/{name}", get(assets::serve))
        .layer(axum::middleware::map_response(secure_headers))
}

/// The first page the viewer's roles open: the worklist for the people who work items, the
/// overview for management.
async fn home(viewer: session::Viewer) -> Redirect {
    if page::Nav::of(&viewer.caller.0).worklist {
        Redirect::to("/console/worklist")
    } else {
        Redirect::to("/console/overview")
    }
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
