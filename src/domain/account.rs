//! Accounts: what a rep may do (their role), what a password must be, and
//! the form of an API token and of its stored digest. Hashing passwords
//! (slow on purpose) and drawing random tokens are the application's.

use super::prospect::RepId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A rep's account as shown (never the password's hash).
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub rep_id: RepId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub has_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What signing in checks a password against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub rep_id: RepId,
    pub name: String,
    pub role: Role,
    /// An Argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    pub disabled: bool,
}

/// A signed-in session as the store holds it (its id only as a digest).
#[derive(Debug, Clone)]
pub struct Session {
    pub credentials: Credentials,
    /// The token every form of this session carries (CSRF).
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// An API token as shown: its name and use, never its text or digest.
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub rep_id: RepId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a signed-in rep may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Their own prospects.
    Rep,
    /// The team's prospects: read them and hand them to another rep.
    Manager,
    /// The team's, and the reps and settings.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Role, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "rep" => Ok(Role::Rep),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!("'{other}' is not a role; use rep, manager or admin")),
        }
    }
}

/// The fewest characters a password may have (NIST SP 800-63B asks for at
/// least 8; a sales team's shared machines get more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most: long enough for any passphrase, short enough to hash quickly.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password rapport accepts: long enough, not absurdly long, not blank.
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if password.trim().is_empty() {
        return Err("the password is empty; give at least 12 characters".into());
    }
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password has {chars} characters; give at least {MIN_PASSWORD_CHARS} (a passphrase of a few words is easiest)"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password has {chars} characters; give at most {MAX_PASSWORD_CHARS}"
        ));
    }
    Ok(())
}

/// What every API token starts with, so a leaked one is recognised (and
/// secret scanners can be taught it).
pub const TOKEN_PREFIX: &str = "rapport_";

/// An API token's text from its 32 random bytes.
pub fn token_text(bytes: &[u8; 32]) -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// How a token is stored and looked up: SHA-256 of its text, in hex. A
/// token is 256 random bits, so a fast hash is enough (no password stretching).
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Whether text has the form of a token (before it is looked up).
pub fn looks_like_token(text: &str) -> bool {
    let text = text.trim();
    text.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_for_length_in_characters() {
        assert!(check_password("correct horse battery").is_ok());
        assert!(check_password("short").unwrap_err().contains("at least 12"));
        assert!(check_password("            ").unwrap_err().contains("empty"));
        assert!(check_password("ÆØÅæøåÆØÅæøå").is_ok(), "12 characters, 24 bytes");
        assert!(check_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn tokens_have_a_recognisable_form_and_are_stored_as_their_digest() {
        let token = token_text(&[7; 32]);
        assert!(looks_like_token(&token));
        assert!(!looks_like_token("rapport_xyz"));
        assert_eq!(token_digest(&token).len(), 64);
        assert_ne!(token_digest(&token), token);
        assert_eq!(Role::parse("Admin").unwrap(), Role::Admin);
        assert!(Role::parse("boss").is_err());
    }
}
