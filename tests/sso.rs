//! Single sign-on: access tokens from the bank's identity provider. The provider here is the
//! test's own: a key pair made for the run, its JWKS served on a local port. A valid token is
//! accepted and its subject recorded as the actor; an expired token, a wrong issuer or
//! audience, an unknown key id, `alg: none`, a tampered payload and a token signed with the
//! public key as a shared secret all get 401 and write nothing. `cargo test sso` runs these.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use suspense_testkit::{Backend, TestDatabase};
use suspense_tests::app::{booking, spawn_app_configured, TestApp};

const ISSUER: &str = "https://idp.bank.test/realms/bank";
const AUDIENCE: &str = "suspense";

/// A signing key of the test's provider, named `kid` in its JWKS.
struct ProviderKey {
    kid: String,
    signing: SigningKey,
}

impl ProviderKey {
    fn new(kid: &str) -> Self {
        // A seed no other run shares: the key pair is made here, not checked in.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let seed: [u8; 32] =
            Sha256::digest(format!("{kid}-{nanos}-{}", std::process::id()).as_bytes()).into();
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The public half, as the provider publishes it.
    fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "use": "sig",
            "alg": "EdDSA",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_bytes()),
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let der = self
            .signing
            .to_pkcs8_der()
            .unwrap_or_else(|e| panic!("pkcs8: {e}"));
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes()))
            .unwrap_or_else(|e| panic!("signs: {e}"))
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a valid token for `sub` with the provider's `roles`, valid for five minutes.
fn claims(sub: &str, roles: &[&str]) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + 300,
        "roles": roles,
    })
}

/// Serves `jwks` at `/jwks` on a random local port; returns its URL.
async fn serve_jwks(jwks: Value) -> String {
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move {
                (
                    [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
                    axum::Json(jwks),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/jwks")
}

async fn spawn_with_provider(key: &ProviderKey) -> TestApp {
    let url = serve_jwks(json!({ "keys": [key.jwk()] })).await;
    let settings = format!(
        "[oidc]\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\njwks_url = \"{url}\"\n\
         branch_claim = \"branch\"\n\n[oidc.role_names]\nSUSPENSE_OPS = \"operator\"\n\
         SUSPENSE_SUP = \"supervisor\"\n"
    );
    spawn_app_configured(TestDatabase::create(Backend::Sqlite).await, &settings).await
}

async fn open_with(app: &TestApp, token: &str, reference: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/v1/items"))
        .bearer_auth(token)
        .json(&booking(reference, "10.00"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn sso_token_from_the_provider_acts_as_its_subject() {
    let key = ProviderKey::new("bank-2026");
    let app = spawn_with_provider(&key).await;
    let token = key.sign(&claims("li.wei", &["SUSPENSE_OPS", "SOME_OTHER_APP"]));

    let opened = open_with(&app, &token, "SSO-1").await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap_or_default();
    let id = opened["id"].as_str().unwrap_or_default();
    let events: Value = app
        .get(&format!("/v1/items/{id}/events"), "ada")
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(events[0]["event"]["Opened"]["by"], "li.wei", "{events}");
    assert_eq!(events[0]["metadata"]["actor"], "li.wei", "{events}");

    // The branch claim scopes the caller as a configured home branch does.
    let mut beijing = claims("bei.jing", &["SUSPENSE_OPS"]);
    beijing["branch"] = json!("BJ-001");
    let refused = open_with(&app, &key.sign(&beijing), "SSO-2").await;
    assert_eq!(refused.status(), 403, "SH-001 is not under BJ-001");

    // Authenticated, but with none of the service's roles.
    let stranger = open_with(&app, &key.sign(&claims("x.y", &["PAYROLL"])), "SSO-3").await;
    assert_eq!(stranger.status(), 403);

    // The configured bearer tokens still work beside the provider's.
    assert_eq!(
        app.post("/v1/items", "olivia", booking("SSO-4", "1.00"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn sso_tokens_that_do_not_verify_get_401_and_write_nothing() {
    let key = ProviderKey::new("bank-2026");
    let app = spawn_with_provider(&key).await;
    let head = app.log_head().await;

    let mut expired = claims("li.wei", &["SUSPENSE_OPS"]);
    expired["exp"] = json!(now() - 600);
    let mut wrong_issuer = claims("li.wei", &["SUSPENSE_OPS"]);
    wrong_issuer["iss"] = json!("https://idp.elsewhere.test");
    let mut wrong_audience = claims("li.wei", &["SUSPENSE_OPS"]);
    wrong_audience["aud"] = json!("another-app");
    let mut not_yet = claims("li.wei", &["SUSPENSE_OPS"]);
    not_yet["nbf"] = json!(now() + 3600);
    let stranger_key = ProviderKey::new("not-published");

    let valid = key.sign(&claims("li.wei", &["SUSPENSE_OPS"]));
    let parts: Vec<&str> = valid.split('.').collect();
    let encode_part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let forged_payload = encode_part(&claims("admin", &["SUSPENSE_SUP"]));
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let unsigned = format!(
        "{}.{}.",
        encode_part(&json!({"alg": "none", "typ": "JWT", "kid": "bank-2026"})),
        parts[1]
    );
    // The public key used as an HMAC secret: whoever reads the JWKS could sign this.
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("bank-2026".to_owned());
    let public = key.signing.verifying_key().to_bytes();
    let hs256 = encode(
        &confused,
        &claims("li.wei", &["SUSPENSE_SUP"]),
        &EncodingKey::from_secret(&public),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    for (case, token) in [
        ("expired", key.sign(&expired)),
        ("wrong issuer", key.sign(&wrong_issuer)),
        ("wrong audience", key.sign(&wrong_audience)),
        ("not yet valid", key.sign(&not_yet)),
        (
            "unknown key id",
            stranger_key.sign(&claims("li.wei", &["SUSPENSE_OPS"])),
        ),
        ("alg none", unsigned),
        ("tampered payload", tampered),
        ("public key as HMAC secret", hs256),
        ("not a token at all", "a.b.c".to_owned()),
    ] {
        let response = open_with(&app, &token, "SSO-BAD").await;
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(body["error"]["code"], "unauthenticated", "{case}: {body}");
    }
    assert_eq!(app.log_head().await, head, "refused tokens write nothing");

    // The same valid token is accepted: the refusals above were the tokens', not the setup's.
    assert_eq!(open_with(&app, &valid, "SSO-OK").await.status(), 201);
}
