//! Incoming webhooks from the tools reps already use: a booked or canceled
//! meeting (Calendly, Cal.com), a proposal sent or signed (DocuSign Connect,
//! PandaDoc). Each provider's module checks the signature over the raw body
//! before anything is parsed (with the previous secret too, while one is
//! being rotated), then reads the delivery into what happened to whom, with
//! a key that makes a retry or a replay the same event. Pure: the request's
//! parts and the time are passed in; the door keeps secrets and the store.
//! `outgoing` signs rapport's own deliveries to other systems.

pub mod calcom;
pub mod calendly;
pub mod docusign;
pub mod outgoing;
pub mod pandadoc;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A provider rapport takes webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Calendly,
    Calcom,
    Docusign,
    Pandadoc,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Calendly,
        Provider::Calcom,
        Provider::Docusign,
        Provider::Pandadoc,
    ];

    /// The name in `/hooks/NAME` and `[hooks.NAME]`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Calendly => "calendly",
            Provider::Calcom => "calcom",
            Provider::Docusign => "docusign",
            Provider::Pandadoc => "pandadoc",
        }
    }

    /// The provider's own name, as its settings page shows it.
    pub fn title(self) -> &'static str {
        match self {
            Provider::Calendly => "Calendly",
            Provider::Calcom => "Cal.com",
            Provider::Docusign => "DocuSign",
            Provider::Pandadoc => "PandaDoc",
        }
    }

    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The secrets a delivery may be signed with: the current one, and while a
/// rotation is under way the previous one.
#[derive(Debug, Clone, Copy)]
pub struct Secrets<'a> {
    pub current: &'a [u8],
    pub previous: Option<&'a [u8]>,
}

impl Secrets<'_> {
    fn each(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.current).chain(self.previous)
    }
}

/// What a delivery brings: its header lines (names lower-cased), its query
/// string, its raw body, and when it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub headers: &'a [(String, String)],
    pub query: &'a str,
    pub body: &'a [u8],
    pub received_at: DateTime<Utc>,
}

impl Incoming<'_> {
    /// Every value of a header, by its lower-case name.
    fn header<'n>(&'n self, name: &'n str) -> impl Iterator<Item = &'n str> + 'n {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a delivery is refused (answered 401, and logged without the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no signature ({0})")]
    Unsigned(&'static str),
    #[error("the signature is not in the provider's format ({0})")]
    Malformed(String),
    #[error("the signature does not match the body with the configured secret")]
    Mismatch,
    #[error("the signed timestamp is {age_secs} s away from now, more than the {tolerance_secs} s tolerated")]
    Stale { age_secs: i64, tolerance_secs: i64 },
    #[error("the provider sent no secret (its webhook was made without one)")]
    NoSecretProvided,
}

/// One thing that happened to the people a delivery names.
#[derive(Debug, Clone, PartialEq)]
pub struct Happened {
    /// `meeting.booked`, `meeting.canceled`, `proposal.sent`, `proposal.signed`.
    pub kind: &'static str,
    /// Who it is about (lower-cased addresses); each matching prospect gets the event.
    pub emails: Vec<String>,
    /// Unique per delivered fact, the same on every retry or replay.
    pub key: String,
    /// When it happened, as the provider says (else when it arrived).
    pub at: DateTime<Utc>,
    /// A line for the timeline: the meeting's or the document's name and time.
    pub summary: String,
    /// When a booked meeting starts (its place in the rep's calendar).
    pub starts_at: Option<DateTime<Utc>>,
    /// Who on the rep's side organised or sent it (the host, the sender):
    /// a rep with this address is shown it when it matches no prospect.
    pub organizer: Option<String>,
}

/// What a verified delivery says: the facts, or that it is of a kind rapport ignores.
pub type Reading = Result<Vec<Happened>, String>;

/// Checks a delivery's signature with the provider's scheme.
pub fn verify(
    provider: Provider,
    secrets: Secrets<'_>,
    incoming: &Incoming<'_>,
    tolerance_secs: i64,
) -> Result<(), Refusal> {
    match provider {
        Provider::Calendly => calendly::verify(secrets, incoming, tolerance_secs),
        Provider::Calcom => calcom::verify(secrets, incoming),
        Provider::Docusign => docusign::verify(secrets, incoming),
        Provider::Pandadoc => pandadoc::verify(secrets, incoming),
    }
}

/// Reads a verified delivery.
pub fn read(provider: Provider, incoming: &Incoming<'_>) -> Reading {
    match provider {
        Provider::Calendly => calendly::read(incoming),
        Provider::Calcom => calcom::read(incoming),
        Provider::Docusign => docusign::read(incoming),
        Provider::Pandadoc => pandadoc::read(incoming),
    }
}

/// Whether `signature` is the HMAC-SHA256 of `message` with one of the secrets
/// (compared in constant time by the `hmac` crate).
fn signed_by(secrets: Secrets<'_>, message: &[&[u8]], signature: &[u8]) -> bool {
    secrets.each().any(|secret| {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
            return false;
        };
        for part in message {
            mac.update(part);
        }
        mac.verify_slice(signature).is_ok()
    })
}

/// `Ok` when one of the secrets signed the message, else a mismatch.
fn check(secrets: Secrets<'_>, message: &[&[u8]], signature: &[u8]) -> Result<(), Refusal> {
    match signed_by(secrets, message, signature) {
        true => Ok(()),
        false => Err(Refusal::Mismatch),
    }
}

/// Someone a payload names by address (an attendee, a signer, a recipient).
#[derive(serde::Deserialize)]
struct Named {
    email: Option<String>,
}

/// The usable addresses of the people a payload names.
fn addresses(people: &[Named]) -> Vec<String> {
    people
        .iter()
        .filter_map(|p| p.email.as_deref().and_then(address))
        .collect()
}

/// The bytes of a hex signature, or why not.
fn hex_signature(text: &str) -> Result<Vec<u8>, Refusal> {
    hex::decode(text.trim()).map_err(|e| Refusal::Malformed(format!("not hex: {e}")))
}

/// An address as prospects are matched on it.
fn address(text: &str) -> Option<String> {
    let trimmed = text.trim().to_lowercase();
    (trimmed.contains('@') && trimmed.len() <= 254).then_some(trimmed)
}

/// A time the provider gives, if it reads as one.
fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A provider's time, else when the delivery arrived.
fn time_or(text: Option<&str>, fallback: DateTime<Utc>) -> DateTime<Utc> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(fallback, |t| t.with_timezone(&Utc))
}

/// The HMAC-SHA256 of a message (the tests sign their fixtures with it).
#[cfg(test)]
pub(crate) fn sign(secret: &[u8], message: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}
