//! Single sign-on: OpenID Connect access tokens (JWT) from the bank's identity provider.
//!
//! A token is accepted when its signature verifies with a key of the provider's JWKS (chosen
//! by the token's `kid`, with an asymmetric algorithm the key allows), its issuer and audience
//! are the configured ones, and it is within its `nbf`..`exp`, give or take the configured
//! leeway. The caller is the configured claim (`sub` by default), its roles the role claim's
//! names mapped to the service's roles, its home branch the branch claim if configured and
//! present (head office otherwise). Anything else is refused without saying why to the caller
//! (the log says why).
//!
//! Keys come from a JWKS file read at start, or from a URL fetched on first use and kept until
//! the expiry its `Cache-Control: max-age` gives (an hour without one); a token naming a key
//! the cached set lacks fetches it again, at most once per `REFETCH_AFTER`, so that a
//! provider's key rotation is picked up and a flood of made-up key ids is not passed on.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use suspense_domain::organisation::AccessScope;
use suspense_domain::{BranchCode, InvalidInput, UserId};
use tokio::sync::Mutex;

use super::{Principal, Role};

/// The clock skew allowed at most.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// How long fetched keys are kept when the provider does not say.
const DEFAULT_KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// A key id the cached set lacks fetches the set again no sooner than this after the last
/// fetch.
const REFETCH_AFTER: Duration = Duration::from_secs(30);

/// Only signatures with a public key: a token signed with a shared secret (HS256) could be
/// made by anyone who holds the JWKS.
const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The `[oidc]` settings, validated.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    pub leeway: Duration,
    pub user_claim: String,
    pub roles_claim: String,
    /// The provider's role names and the service role each stands for.
    pub role_names: BTreeMap<String, Role>,
    pub branch_claim: Option<String>,
}

/// Where the provider's keys come from.
#[derive(Debug)]
pub enum KeySource {
    /// Read once, at start.
    Fixed(JwkSet),
    /// Fetched, and fetched again when they expire or a token names a key they lack.
    Url {
        url: String,
        client: reqwest::Client,
        cache: Mutex<Option<FetchedKeys>>,
    },
}

#[derive(Debug)]
pub struct FetchedKeys {
    keys: JwkSet,
    fetched_at: Instant,
    expires_at: Instant,
}

/// Why a token was refused: logged, never told to the caller.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefusal {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    #[error("the token names no key id")]
    NoKeyId,
    #[error("no key {0} in the provider's keys")]
    UnknownKey(String),
    #[error("key {kid} is for {key:?}, the token says {token:?}")]
    KeyAlgorithm {
        kid: String,
        key: String,
        token: Algorithm,
    },
    #[error("the provider's keys could not be fetched: {0}")]
    Keys(String),
    #[error("{0}")]
    Invalid(String),
    #[error("claim {claim}: {reason}")]
    Claim { claim: String, reason: String },
    #[error("the token grants none of the service's roles")]
    NoRole,
}

/// Verifies access tokens against the provider's keys and maps them to callers.
#[derive(Debug)]
pub struct OidcVerifier {
    settings: OidcSettings,
    keys: KeySource,
}

impl OidcVerifier {
    pub fn new(settings: OidcSettings, keys: KeySource) -> Self {
        Self { settings, keys }
    }

    /// Keys from a JWKS document's text; `field` names the setting it came from.
    pub fn parse_keys(text: &str, field: &str) -> Result<JwkSet, InvalidInput> {
        serde_json::from_str(text)
            .map_err(|e| InvalidInput::new(field, format!("not a JWKS document: {e}")))
    }

    /// Keys fetched from `url` on first use.
    pub fn keys_at(url: &str) -> Result<KeySource, InvalidInput> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(InvalidInput::new("oidc.jwks_url", "must be an http(s) URL"));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| InvalidInput::new("oidc.jwks_url", e.to_string()))?;
        Ok(KeySource::Url {
            url: url.to_owned(),
            client,
            cache: Mutex::new(None),
        })
    }

    /// Whether `token` looks like a JWT (three dot-separated parts) rather than one of the
    /// configured bearer tokens.
    pub fn is_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// The caller `token` stands for, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenRefusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenRefusal::Malformed(e.to_string()))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(TokenRefusal::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(TokenRefusal::NoKeyId)?;
        let jwk = self.key(&kid).await?;
        if let Some(key_alg) = jwk.common.key_algorithm {
            // The key's own algorithm, when it names one, must be the token's.
            if key_alg.to_string().parse::<Algorithm>().ok() != Some(header.alg) {
                return Err(TokenRefusal::KeyAlgorithm {
                    kid,
                    key: key_alg.to_string(),
                    token: header.alg,
                });
            }
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| TokenRefusal::Invalid(e.to_string()))?;
        let s = &self.settings;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&s.issuer]);
        validation.set_audience(&[&s.audience]);
        validation.leeway = s.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| TokenRefusal::Invalid(e.to_string()))?
            .claims;
        self.principal(&claims)
    }

    /// The caller the verified `claims` describe.
    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, TokenRefusal> {
        let s = &self.settings;
        let claim = |name: &str, reason: String| TokenRefusal::Claim {
            claim: name.to_owned(),
            reason,
        };
        let user = claims
            .get(&s.user_claim)
            .and_then(Value::as_str)
            .ok_or_else(|| claim(&s.user_claim, "missing or not a string".into()))?;
        let user = UserId::parse(user).map_err(|e| claim(&s.user_claim, e.to_string()))?;
        // An array of names, or one string of space-separated names (as `scope` is).
        let names: Vec<&str> = match claims.get(&s.roles_claim) {
            Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => text.split_whitespace().collect(),
            _ => Vec::new(),
        };
        let roles: BTreeSet<Role> = names
            .into_iter()
            .filter_map(|name| {
                if s.role_names.is_empty() {
                    Role::parse(name).ok()
                } else {
                    s.role_names.get(name).copied()
                }
            })
            .collect();
        if roles.is_empty() {
            return Err(TokenRefusal::NoRole);
        }
        let mut principal = Principal::new(user, roles);
        if let Some(branch_claim) = &s.branch_claim {
            if let Some(value) = claims.get(branch_claim) {
                let branch = value
                    .as_str()
                    .ok_or_else(|| claim(branch_claim, "not a string".into()))?;
                let branch =
                    BranchCode::parse(branch).map_err(|e| claim(branch_claim, e.to_string()))?;
                principal.scope = AccessScope::Branch(branch);
            }
        }
        Ok(principal)
    }

    /// The key `kid`, from the fixed set or the fetched one (fetched again when expired, or
    /// when it lacks `kid` and was not fetched just now).
    async fn key(&self, kid: &str) -> Result<Jwk, TokenRefusal> {
        let (url, client, cache) = match &self.keys {
            KeySource::Fixed(keys) => {
                return keys
                    .find(kid)
                    .cloned()
                    .ok_or_else(|| TokenRefusal::UnknownKey(kid.to_owned()))
            }
            KeySource::Url { url, client, cache } => (url, client, cache),
        };
        // One fetch at a time: callers waiting meanwhile use what it brought.
        let mut cached = cache.lock().await;
        let now = Instant::now();
        if let Some(fetched) = cached.as_ref() {
            let found = fetched.keys.find(kid).cloned();
            let fresh = now < fetched.expires_at;
            let recently = now.duration_since(fetched.fetched_at) < REFETCH_AFTER;
            match found {
                Some(jwk) if fresh => return Ok(jwk),
                None if fresh && recently => return Err(TokenRefusal::UnknownKey(kid.to_owned())),
                _ => {}
            }
        }
        let fetched = fetch(client, url).await?;
        let found = fetched.keys.find(kid).cloned();
        *cached = Some(fetched);
        found.ok_or_else(|| TokenRefusal::UnknownKey(kid.to_owned()))
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<FetchedKeys, TokenRefusal> {
    let failed = |e: reqwest::Error| TokenRefusal::Keys(e.to_string());
    let response = client
        .get(url)
        .send()
        .await
        .map_err(failed)?
        .error_for_status()
        .map_err(failed)?;
    let max_age = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age)
        .unwrap_or(DEFAULT_KEYS_MAX_AGE);
    let text = response.text().await.map_err(failed)?;
    let keys = OidcVerifier::parse_keys(&text, "oidc.jwks_url")
        .map_err(|e| TokenRefusal::Keys(e.to_string()))?;
    let fetched_at = Instant::now();
    Ok(FetchedKeys {
        keys,
        fetched_at,
        expires_at: fetched_at + max_age,
    })
}

/// The `max-age` of a `Cache-Control` header.
fn max_age(header: &str) -> Option<Duration> {
    header
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.trim().parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=600, must-revalidate"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("no-store"), None);
    }

    #[test]
    fn only_three_part_tokens_are_taken_for_jwts() {
        assert!(OidcVerifier::is_jwt("a.b.c"));
        assert!(!OidcVerifier::is_jwt("sus_0123abcd"));
    }
}
