//! One-click unsubscribe (RFC 8058): a signed link from a sequence email
//! stops the sequence and suppresses the address for good. The link's token
//! is checked here; an erased prospect is already suppressed, so the answer
//! is the same either way.

use super::{AppResult, Core};
use crate::domain::sequence::unsubscribe;

/// What became of a one-click unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribe {
    Done,
    /// The token is not one rapport signed (forged, cut, or from another install).
    InvalidLink,
}

pub async fn one_click(core: &Core, secret: &[u8], token: &str) -> AppResult<Unsubscribe> {
    let Some(enrolment) = unsubscribe::verify(secret, token) else {
        return Ok(Unsubscribe::InvalidLink);
    };
    core.store.unsubscribe_enrolment(enrolment, core.clock.now()).await?;
    Ok(Unsubscribe::Done)
}

/// Whether a token is one rapport signed (the confirmation page asks first).
pub fn is_valid_link(secret: &[u8], token: &str) -> bool {
    unsubscribe::verify(secret, token).is_some()
}

/// The key unsubscribe links are signed with (made at first use, kept in the database).
pub async fn key(core: &Core) -> AppResult<Vec<u8>> {
    Ok(crate::sequences::unsubscribe_key(core.store.as_ref()).await?)
}
