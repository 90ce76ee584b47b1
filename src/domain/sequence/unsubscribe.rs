//! One-click unsubscribe tokens: the enrolment id signed with HMAC-SHA256,
//! so a link cannot be forged or altered to unsubscribe someone else.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept in a token: 128 bits.
const MAC_BYTES: usize = 16;

fn mac(secret: &[u8], enrolment: i64) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
    mac.update(b"rapport-unsubscribe:");
    mac.update(&enrolment.to_be_bytes());
    mac
}

/// `ENROLMENT.MAC` (hex), safe in a URL path.
pub fn token(secret: &[u8], enrolment: i64) -> String {
    let tag = mac(secret, enrolment).finalize().into_bytes();
    format!("{enrolment}.{}", hex::encode(&tag[..MAC_BYTES]))
}

/// The enrolment a token was made for, if it is genuine.
pub fn verify(secret: &[u8], token: &str) -> Option<i64> {
    let (id, tag) = token.split_once('.')?;
    let enrolment: i64 = id.parse().ok()?;
    let tag = hex::decode(tag).ok()?;
    (tag.len() == MAC_BYTES).then_some(())?;
    mac(secret, enrolment).verify_truncated_left(&tag).ok()?;
    Some(enrolment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_tokens_verify_and_altered_ones_do_not() {
        let secret = b"a long random secret from the config";
        let good = token(secret, 42);
        assert_eq!(verify(secret, &good), Some(42));
        assert_eq!(verify(b"another secret", &good), None);
        let (_, tag) = good.split_once('.').unwrap();
        assert_eq!(
            verify(secret, &format!("43.{tag}")),
            None,
            "another enrolment with the same MAC"
        );
        for bad in ["", "42", "42.", "x.00", "42.zz", "42.00ff", &good[..good.len() - 1]] {
            assert_eq!(verify(secret, bad), None, "{bad}");
        }
    }
}
