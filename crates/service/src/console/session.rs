//! Signing in to the console: a person's bearer token (or identity-provider access token)
//! exchanged for a session cookie, checked again on every page with the API's own
//! authentication (`Caller::authenticate`), so the console never holds a second copy of who
//! may do what.
//!
//! The cookie is encrypted and signed with the console's key (`PrivateCookieJar`):
//! `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure` behind TLS. It holds the token,
//! the session's CSRF token and when the session ends. Every form carries the CSRF token;
//! the sign-in form, before there is a session, carries one from a short-lived cookie of its
//! own. A removed user or an expired access token ends the session at the next page.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use axum_extra::extract::{CookieJar, PrivateCookieJar};
use serde::{Deserialize, Serialize};

use super::i18n::{Lang, LANG_COOKIE};
use super::page::{render, Ctx, SignInPage};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;

const SESSION_COOKIE: &str = "suspense_session";
const SIGN_IN_COOKIE: &str = "suspense_sign_in";
/// Where the console's cookies are sent: the console only, never the API.
pub const COOKIE_PATH: &str = "/console";
/// How long a sign-in form stays valid.
const SIGN_IN_FORM: Duration = Duration::from_secs(30 * 60);

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.settings.console.key.clone()
    }
}

/// What the session cookie holds.
#[derive(Serialize, Deserialize)]
struct SessionData {
    token: String,
    csrf: String,
    /// Seconds since the epoch when the session ends.
    ends: u64,
}

/// The signed-in person viewing a console page: who they are (as the API would see their
/// token), the session's CSRF token and their language.
pub struct Viewer {
    pub caller: Caller,
    pub csrf: String,
    pub lang: Lang,
}

impl Viewer {
    /// Whether `submitted` is this session's CSRF token.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        same(self.csrf.as_bytes(), submitted.as_bytes())
    }
}

/// The language of the request: the person's choice, else Chinese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    let jar = CookieJar::from_headers(headers);
    Lang::from_tag(jar.get(LANG_COOKIE).map(Cookie::value))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let jar =
            PrivateCookieJar::from_headers(&parts.headers, state.settings.console.key.clone());
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let to_sign_in = |reason: &str| {
            Redirect::to(&format!(
                "/console/sign-in?reason={reason}&next={}",
                urlencode(&back)
            ))
            .into_response()
        };
        let Some(data) = jar
            .get(SESSION_COOKIE)
            .and_then(|c| serde_json::from_str::<SessionData>(c.value()).ok())
        else {
            return Err(to_sign_in("none"));
        };
        if data.ends <= now_secs() {
            return Err(to_sign_in("ended"));
        }
        match Caller::authenticate(state, &data.token).await {
            Ok(caller) => Ok(Viewer {
                caller,
                csrf: data.csrf,
                lang,
            }),
            Err(_) => Err(to_sign_in("ended")),
        }
    }
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    reason: Option<String>,
}

/// The sign-in page, with a fresh form token.
pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: PrivateCookieJar,
    Query(query): Query<SignInQuery>,
) -> Result<Response, ApiError> {
    let lang = lang_of(&headers);
    let csrf = random_token().map_err(ApiError::internal)?;
    let t = lang.texts();
    let message = match query.reason.as_deref() {
        Some("ended") => Some(t.session_ended),
        _ => None,
    };
    let page = SignInPage {
        ctx: Ctx::anonymous(lang, "/console/sign-in"),
        csrf: csrf.clone(),
        next: safe_next(query.next.as_deref()).to_owned(),
        message,
    };
    let cookie = cookie(
        SIGN_IN_COOKIE,
        serde_json::to_string(&SessionData {
            token: String::new(),
            csrf,
            ends: now_secs() + SIGN_IN_FORM.as_secs(),
        })
        .map_err(ApiError::internal)?,
        secure(&state, &headers),
    );
    Ok((jar.add(cookie), render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
    csrf: String,
    next: Option<String>,
}

/// Checks the token as the API would and starts a session with it.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: PrivateCookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let form_ok = jar
        .get(SIGN_IN_COOKIE)
        .and_then(|c| serde_json::from_str::<SessionData>(c.value()).ok())
        .is_some_and(|d| d.ends > now_secs() && same(d.csrf.as_bytes(), form.csrf.as_bytes()));
    let next = safe_next(form.next.as_deref()).to_owned();
    let refused = |message: &'static str, status: StatusCode| -> Result<Response, ApiError> {
        let page = SignInPage {
            ctx: Ctx::anonymous(lang, "/console/sign-in"),
            csrf: form.csrf.clone(),
            next: next.clone(),
            message: Some(message),
        };
        Ok((status, render(&page)?).into_response())
    };
    if !form_ok {
        return refused(t.form_expired, StatusCode::FORBIDDEN);
    }
    let token = form.token.trim();
    if token.is_empty() || Caller::authenticate(&state, token).await.is_err() {
        return refused(t.token_refused, StatusCode::UNAUTHORIZED);
    }
    let session = SessionData {
        token: token.to_owned(),
        csrf: random_token().map_err(ApiError::internal)?,
        ends: now_secs() + state.settings.console.session.as_secs(),
    };
    let value = serde_json::to_string(&session).map_err(ApiError::internal)?;
    let jar = jar
        .remove(Cookie::build(SIGN_IN_COOKIE).path(COOKIE_PATH))
        .add(cookie(SESSION_COOKIE, value, secure(&state, &headers)));
    Ok((jar, Redirect::to(&next)).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Ends the session.
pub async fn sign_out(
    viewer: Viewer,
    jar: PrivateCookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.csrf_matches(&form.csrf) {
        return (StatusCode::FORBIDDEN, viewer.lang.texts().form_expired).into_response();
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path(COOKIE_PATH));
    (jar, Redirect::to("/console/sign-in")).into_response()
}

#[derive(Deserialize)]
pub struct LanguageQuery {
    to: Option<String>,
    back: Option<String>,
}

/// Switches the language (a preference only, so a plain link), back to the page it was
/// asked from.
pub async fn switch_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let lang = Lang::from_tag(query.to.as_deref());
    let mut cookie = cookie(LANG_COOKIE, lang.tag().to_owned(), secure(&state, &headers));
    cookie.make_permanent();
    (
        jar.add(cookie),
        Redirect::to(safe_next(query.back.as_deref())),
    )
        .into_response()
}

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, value);
    cookie.set_path(COOKIE_PATH);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(secure);
    cookie
}

/// Whether the cookies must be `Secure`: configured so, or TLS ended in front of the service.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.settings.console.secure_cookie
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `next` if it is a console page of this service, else the overview: never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/console/")
                && !path.starts_with("/console//")
                && !path.contains('\\')
                && !path.starts_with("/console/sign-") =>
        {
            path
        }
        _ => "/console",
    }
}

/// 256 random bits as hex.
fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Compares in time independent of where the two differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes `text` for a query parameter.
pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_places_to_return_to() {
        assert_eq!(safe_next(Some("/console/items/x")), "/console/items/x");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/console//evil.example",
            "/console/\\evil",
            "/v1/items",
            "/console/sign-in",
        ] {
            assert_eq!(safe_next(Some(elsewhere)), "/console", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
