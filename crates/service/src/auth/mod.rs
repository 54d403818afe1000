//! Who calls: bearer tokens from the configuration mapped to people and their roles (tokens
//! are stored only as SHA-256 hashes), or the identity provider's access tokens (`oidc`).

pub mod oidc;

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use suspense_domain::organisation::AccessScope;
use suspense_domain::{InvalidInput, UserId};

/// What a person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opens, classifies, assigns, records clearings, comments, proposes resolutions.
    Operator,
    /// Escalates, approves or rejects resolutions, reassigns, reopens.
    Supervisor,
    /// Reads reports.
    Reporter,
    /// Reads everything, including event history.
    Auditor,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Supervisor => "supervisor",
            Self::Reporter => "reporter",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        match value.trim() {
            "operator" => Ok(Self::Operator),
            "supervisor" => Ok(Self::Supervisor),
            "reporter" => Ok(Self::Reporter),
            "auditor" => Ok(Self::Auditor),
            other => Err(InvalidInput::new(
                "role",
                format!("'{other}' is not one of operator, supervisor, reporter, auditor"),
            )),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub roles: BTreeSet<Role>,
    /// Where they work: they see and act on this branch and the branches under it only.
    /// `None` (head office) sees every branch.
    pub scope: AccessScope,
    /// What their approval of a resolution counts for under approval bands.
    pub approval_authority: u8,
}

impl Principal {
    /// A head-office caller with `roles`.
    pub fn new(user: UserId, roles: impl IntoIterator<Item = Role>) -> Self {
        Self {
            user,
            roles: roles.into_iter().collect(),
            scope: AccessScope::Everywhere,
            approval_authority: 1,
        }
    }

    /// Whether they see every branch.
    pub fn is_head_office(&self) -> bool {
        self.scope == AccessScope::Everywhere
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.roles.contains(r))
    }
}

/// The configured users, by token hash.
#[derive(Debug, Clone, Default)]
pub struct Users {
    by_hash: HashMap<String, Principal>,
}

impl Users {
    pub fn add(&mut self, token_sha256: &str, principal: Principal) -> Result<(), InvalidInput> {
        let hash = token_sha256.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(InvalidInput::new(
                "users.token_sha256",
                format!("for {} must be 64 hex digits", principal.user),
            ));
        }
        if principal.roles.is_empty() {
            return Err(InvalidInput::new(
                "users.roles",
                format!("{} has no role", principal.user),
            ));
        }
        if self.by_hash.values().any(|p| p.user == principal.user) {
            return Err(InvalidInput::new(
                "users.name",
                format!("{} appears twice", principal.user),
            ));
        }
        self.by_hash.insert(hash, principal);
        Ok(())
    }

    pub fn authenticate(&self, token: &str) -> Option<&Principal> {
        self.by_hash.get(&token_hash(token))
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A new random bearer token: `sus_` and 64 hex digits (256 bits).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("sus_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_by_hash_only() {
        let token = new_token().expect("random");
        let mut users = Users::default();
        let who = Principal::new(UserId::parse("li.wei").expect("valid"), [Role::Operator]);
        users
            .add(&token_hash(&token), who.clone())
            .expect("valid user");
        assert_eq!(users.authenticate(&token), Some(&who));
        assert_eq!(users.authenticate("sus_wrong"), None);
        assert!(users.add("abc", who.clone()).is_err());
    }
}
