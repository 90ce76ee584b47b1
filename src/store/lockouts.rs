//! Failed sign-ins per key (an account's email, a client's address), in the
//! database, so every daemon sharing it counts the same failures: a guesser
//! spreading attempts over several daemons meets one lock.

use super::StoreResult;
use crate::domain::lockout::Policy;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What a key is: the lockout of accounts and of clients are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockoutKind {
    Account,
    Client,
}

impl LockoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockoutKind::Account => "account",
            LockoutKind::Client => "client",
        }
    }
}

#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// Until when the key is locked, if it is.
    async fn login_locked_until(
        &self,
        kind: LockoutKind,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Counts a failure (read and written in one transaction); `Some(until)` when it locks the key.
    async fn record_login_failure(
        &self,
        kind: LockoutKind,
        key: &str,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// A success: the key starts afresh.
    async fn clear_login_failures(&self, kind: LockoutKind, key: &str) -> StoreResult<()>;
    /// Forgets keys not touched since `before`; how many.
    async fn forget_login_failures(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The stored form of a key.
pub fn key_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.as_bytes()))
}
