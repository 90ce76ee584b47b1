//! Reps' accounts: role, password hash, disabling, and API tokens (kept as
//! digests). Signing in and token checks read these; only an admin's use
//! cases change them.

use super::StoreResult;
use crate::domain::account::{Account, ApiToken, Credentials, Role, Session};
use crate::domain::prospect::RepId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Every rep's account, in the order the reps were added.
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
    async fn set_role(&self, rep: RepId, role: Role) -> StoreResult<()>;
    /// Stores a new password hash (an Argon2id PHC string) and when it changed.
    async fn set_password(&self, rep: RepId, password_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// What signing in as `email` checks; `None` for no such rep.
    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;
    /// Disables a rep (they sign in no more) and revokes their tokens; false when already disabled.
    async fn disable_rep(&self, rep: RepId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Adds a named token (its digest); a `Conflict` when the rep has a token of that name.
    async fn add_api_token(&self, rep: RepId, name: &str, digest: &str, now: DateTime<Utc>) -> StoreResult<ApiToken>;
    /// The tokens of one rep, or of every rep.
    async fn api_tokens(&self, rep: Option<RepId>) -> StoreResult<Vec<ApiToken>>;
    /// Revokes one of the rep's tokens; false when it was already revoked.
    async fn revoke_api_token(&self, rep: RepId, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The rep a token digest belongs to, if the token is live and the rep
    /// enabled, noting its use.
    async fn token_owner(&self, digest: &str, now: DateTime<Utc>) -> StoreResult<Option<Credentials>>;
    /// Starts a session (its id's digest) for a rep, ending at `expires_at`
    /// or when idle past `idle_until`.
    #[allow(clippy::too_many_arguments)]
    async fn start_session(
        &self,
        rep: RepId,
        digest: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A live session (not idle past its time, not past its end, its rep
    /// enabled), kept alive until `idle_until`; an ended one is removed.
    async fn session(
        &self,
        digest: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;
    /// Ends a session (logout); false when there was none.
    async fn end_session(&self, digest: &str) -> StoreResult<bool>;
}
