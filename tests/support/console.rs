//! A person at the web console, as a browser without script would be: a cookie jar, forms
//! posted as `application/x-www-form-urlencoded`, redirects looked at rather than followed.

use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::app::{token, TestApp};

pub struct ConsoleSession {
    client: reqwest::Client,
    base: String,
}

/// A page as fetched: its status, body and where it redirects to.
pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
}

impl Page {
    /// The page's CSRF token (the first form's).
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf").unwrap_or_default()
    }

    /// The value of the first hidden field `name` of the form `form_id`.
    pub fn form_field(&self, form_id: &str, name: &str) -> Option<String> {
        let form = self.body.split(&format!("id=\"{form_id}\"")).nth(1)?;
        let form = form.split("</form>").next()?;
        hidden(form, name)
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = html.split(&marker).nth(1)?;
    rest.split('"').next().map(str::to_owned)
}

impl ConsoleSession {
    /// A browser with no session yet.
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            client,
            base: app.url(""),
        }
    }

    /// Signs in as `user` (a test app's user) and returns the session.
    pub async fn signed_in(app: &TestApp, user: &str) -> Self {
        let session = Self::new(app);
        let page = session.sign_in(token(user)).await;
        assert_eq!(page.status, 303, "{user} signs in: {}", page.body);
        session
    }

    /// Posts the sign-in form with `token`.
    pub async fn sign_in(&self, token: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, 200);
        self.post(
            "/console/sign-in",
            &[("csrf", form.csrf().as_str()), ("token", token)],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        page(response).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        page(response).await
    }

    /// Posts the form `form_id` of the item page `item` with `fields` filled in (its hidden
    /// fields as the page gave them).
    pub async fn submit(&self, item: &str, form_id: &str, fields: &[(&str, &str)]) -> Page {
        let path = format!("/console/items/{item}");
        let shown = self.get(&path).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        let command = shown
            .form_field(form_id, "command")
            .unwrap_or_else(|| panic!("no form {form_id} on the page"));
        let version = shown.form_field(form_id, "version").unwrap_or_default();
        let csrf = shown.csrf();
        let mut all = vec![
            ("csrf", csrf.as_str()),
            ("command", command.as_str()),
            ("version", version.as_str()),
        ];
        if form_id == "form-clearing" || form_id == "form-resolve" {
            all.push(("currency", "CNY"));
        }
        all.extend_from_slice(fields);
        self.post(&path, &all).await
    }
}

async fn page(response: reqwest::Response) -> Page {
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    Page {
        status,
        body,
        location,
    }
}
