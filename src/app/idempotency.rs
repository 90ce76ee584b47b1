//! Idempotency keys for the API's creating requests (the IETF
//! `Idempotency-Key` header): the first request with a key is answered and
//! its answer kept a day; a retry with the same key and body gets that
//! answer again, and nothing is created twice; the same key with another
//! body, or while the first is still being answered, is refused.

use super::{invalid, AppResult, Core};
use crate::domain::prospect::RepId;
use crate::store::IdempotentClaim;
use sha2::{Digest, Sha256};

/// How long a key is remembered.
const KEPT_HOURS: i64 = 24;
/// Longest key accepted.
const MAX_KEY: usize = 255;

/// Claims `key` for this request (method, path and body), or says how it was used.
pub async fn claim(core: &Core, rep: RepId, key: &str, request: &[u8]) -> AppResult<IdempotentClaim> {
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY} visible ASCII characters, like a UUID"
        )));
    }
    let digest = hex::encode(Sha256::digest(request));
    let now = core.clock.now();
    Ok(core
        .store
        .claim_idempotency_key(rep, key, &digest, now, now - chrono::Duration::hours(KEPT_HOURS))
        .await?)
}

/// Keeps the answer to a claimed key.
pub async fn answer(core: &Core, rep: RepId, key: &str, status: u16, body: &str) -> AppResult<()> {
    Ok(core.store.answer_idempotency_key(rep, key.trim(), status, body).await?)
}

/// Lets a claimed key go after a failure on rapport's side, so a retry may try again.
pub async fn release(core: &Core, rep: RepId, key: &str) -> AppResult<()> {
    Ok(core.store.release_idempotency_key(rep, key.trim()).await?)
}
