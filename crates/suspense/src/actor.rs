//! Who is acting, and on behalf of which request.

use suspense_domain::organisation::AccessScope;
use suspense_domain::policy::ApproverStanding;
use suspense_domain::UserId;
use suspense_store::RequestMetadata;

/// The authenticated person or service account behind a command, with the request it came in.
///
/// The embedding service authenticates; the library records `user` as the actor of every
/// event the command writes, and `request_id` / `source` in the events' metadata. Its
/// `scope` bounds the items it may see and act on (every branch unless narrowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub metadata: RequestMetadata,
    pub scope: AccessScope,
    /// What their approval of a resolution counts for under approval bands (1 unless a
    /// higher authority is configured for them).
    pub approval_authority: u8,
}

impl Actor {
    pub fn new(user: UserId) -> Self {
        Self {
            user,
            metadata: RequestMetadata::default(),
            scope: AccessScope::Everywhere,
            approval_authority: 1,
        }
    }

    /// Their approval counts for `authority` approvals (a manager's for two, say).
    #[must_use]
    pub fn with_approval_authority(mut self, authority: u8) -> Self {
        self.approval_authority = authority.max(1);
        self
    }

    /// What the approval bands look at: their authority and home branch (none for head
    /// office).
    pub fn standing(&self) -> ApproverStanding {
        ApproverStanding {
            authority: self.approval_authority,
            home_branch: match &self.scope {
                AccessScope::Branch(home) => Some(home.clone()),
                AccessScope::Everywhere => None,
            },
        }
    }

    /// The calling system, e.g. `core-banking` or `card-switch`.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.metadata.source = Some(source.into());
        self
    }

    /// Narrows what the actor sees and acts on (a home branch and the branches under it).
    #[must_use]
    pub fn with_scope(mut self, scope: AccessScope) -> Self {
        self.scope = scope;
        self
    }

    /// The caller's request or correlation id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.metadata.request_id = Some(request_id.into());
        self
    }
}
