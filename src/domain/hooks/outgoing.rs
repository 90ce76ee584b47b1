//! Outgoing webhooks in the Standard Webhooks format
//! (<https://www.standardwebhooks.com>): each delivery carries `webhook-id`
//! (the same on every retry, so a receiver can drop a duplicate),
//! `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature:
//! v1,BASE64`, the HMAC-SHA256 of `id.timestamp.body` with the endpoint's
//! secret (`whsec_` and base64, or plain text). Failed attempts are retried
//! on a widening schedule for 24 hours. Pure: times are passed in.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// How long a delivery is retried before rapport gives up.
pub const RETRY_FOR_HOURS: i64 = 24;

/// Waits after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h.
const WAITS_SECS: [i64; 6] = [5, 300, 1800, 7200, 18000, 36000];

/// The key a secret names: the bytes after `whsec_` (base64), else the text itself.
pub fn signing_key(secret: &str) -> Result<Vec<u8>, String> {
    match secret.strip_prefix("whsec_") {
        Some(encoded) => STANDARD.decode(encoded.trim()).map_err(|e| {
            format!("the part after whsec_ is not base64 ({e}); paste the secret as the receiver shows it")
        }),
        None if secret.len() >= 16 => Ok(secret.as_bytes().to_vec()),
        None => Err("the secret is shorter than 16 characters; use a long random one (or whsec_ and base64)".into()),
    }
}

/// `v1,BASE64` of HMAC-SHA256(`id.timestamp.body`).
pub fn signature(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The id of an event's delivery to an endpoint: the same on every retry
/// and after a restart.
pub fn message_id(endpoint: &str, event_id: i64) -> String {
    format!("msg_{endpoint}_{event_id}")
}

/// When to try again after `attempts` failed ones, or `None` once the 24
/// hours from the first are over (the delivery is given up).
pub fn next_attempt(created_at: DateTime<Utc>, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let index = (attempts.max(1) as usize - 1).min(WAITS_SECS.len() - 1);
    let next = now + Duration::seconds(WAITS_SECS[index]);
    (next <= created_at + Duration::hours(RETRY_FOR_HOURS)).then_some(next)
}

/// The body of a delivery: `{type, timestamp, data}` as Standard Webhooks suggests.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub timestamp: DateTime<Utc>,
    pub data: Data<'a>,
}

#[derive(Debug, Serialize)]
pub struct Data<'a> {
    pub event_id: i64,
    pub prospect: Prospect<'a>,
    /// Who or what recorded it: `user`, `rule`, `import`, `system`, `webhook`.
    pub actor_kind: &'a str,
    pub actor: &'a str,
    /// The event's own details (a stage change's from, to and reason).
    pub details: &'a serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct Prospect<'a> {
    pub id: i64,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub company: Option<&'a str>,
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub rep: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks reference libraries.
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(signing_key("whsec_not base64!").is_err());
        assert!(signing_key("short").is_err());
        assert_eq!(
            signing_key("a-long-enough-plain-secret").unwrap(),
            b"a-long-enough-plain-secret"
        );
    }

    #[test]
    fn retries_widen_and_stop_after_a_day() {
        let created = at("2026-12-01T09:00:00Z");
        assert_eq!(next_attempt(created, 1, created), Some(at("2026-12-01T09:00:05Z")));
        assert_eq!(next_attempt(created, 2, created), Some(at("2026-12-01T09:05:00Z")));
        let late = at("2026-12-02T00:00:00Z");
        assert_eq!(next_attempt(created, 9, late), None, "10 h more passes the 24 h");
        assert_eq!(
            next_attempt(created, 9, at("2026-12-01T20:00:00Z")),
            Some(at("2026-12-02T06:00:00Z"))
        );
        assert_eq!(message_id("e1", 42), "msg_e1_42");
    }
}
