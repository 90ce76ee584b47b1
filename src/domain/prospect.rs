//! Reps and prospects, and the checks every way of creating them shares.

use super::money::Amount;
use super::profile::ProfileUrl;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

pub type RepId = i64;
pub type ProspectId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Nb,
}

impl Language {
    pub fn parse(text: &str) -> Result<Language, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Language::En),
            "nb" => Ok(Language::Nb),
            other => Err(format!(
                "'{other}' is not a supported language; use en (English) or nb (Norwegian Bokmål)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Nb => "nb",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rep {
    pub id: RepId,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    /// Local hour, 0–23, at which the daily digest goes out.
    pub digest_hour: u8,
    pub language: Language,
}

impl Rep {
    /// The rep's time zone (checked when the rep was made; UTC if the stored one is unknown).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

#[derive(Debug, Clone)]
pub struct NewRep {
    pub name: String,
    pub email: String,
    pub time_zone: String,
    pub digest_hour: u8,
    pub language: Language,
}

impl NewRep {
    pub fn validate(
        name: &str,
        email: &str,
        time_zone: &str,
        digest_hour: u8,
        language: &str,
    ) -> Result<NewRep, String> {
        if digest_hour > 23 {
            return Err(format!(
                "digest hour {digest_hour} is not an hour of the day; use 0 to 23"
            ));
        }
        Ok(NewRep {
            name: required_text("rep name", name)?,
            email: normalize_email(email)?,
            time_zone: validate_time_zone(time_zone)?,
            digest_hour,
            language: Language::parse(language)?,
        })
    }
}

/// A stored prospect: its id, the owning rep's address, and its data.
#[derive(Debug, Clone, Serialize)]
pub struct Prospect {
    pub id: ProspectId,
    pub rep_email: String,
    #[serde(flatten)]
    pub data: ProspectData,
    /// Out of office until this date, as their auto-reply said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub away_until: Option<NaiveDate>,
}

/// Everything recorded about a prospect, validated: what creating one takes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProspectData {
    pub rep_id: RepId,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub time_zone: Option<String>,
    pub pipeline: String,
    pub stage: String,
    pub value: Amount,
    pub currency: String,
    pub probability_override: Option<u8>,
    pub expected_close: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub profiles: Vec<ProfileUrl>,
}

/// A changed field set for `prospect edit`: `None` leaves a field alone,
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ProspectEdit {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub time_zone: Option<Option<String>>,
    pub value: Option<Amount>,
    pub currency: Option<String>,
    pub probability_override: Option<Option<u8>>,
    pub expected_close: Option<Option<NaiveDate>>,
    pub notes: Option<Option<String>>,
    pub rep_id: Option<RepId>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub set_fields: BTreeMap<String, String>,
    pub unset_fields: Vec<String>,
    pub add_profiles: Vec<ProfileUrl>,
    pub remove_profiles: Vec<String>,
}

/// How a command names a prospect: its id, its email address, or one of
/// their profile URLs (in its canonical spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProspectRef {
    Id(ProspectId),
    Email(String),
    Profile(String),
}

impl FromStr for ProspectRef {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(id) = text.parse::<i64>() {
            return Ok(ProspectRef::Id(id));
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return super::profile::normalize_profile_url(text).map(|p| ProspectRef::Profile(p.url));
        }
        if text.contains('@') {
            return normalize_email(text).map(ProspectRef::Email);
        }
        Err(format!(
            "'{text}' is neither a prospect id, an email address nor a profile URL; see `rapport prospect list`"
        ))
    }
}

impl std::fmt::Display for ProspectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProspectRef::Id(id) => write!(f, "#{id}"),
            ProspectRef::Email(email) => f.write_str(email),
            ProspectRef::Profile(url) => f.write_str(url),
        }
    }
}

/// Checks an address by the rules lettre sends by (the same `email_address`
/// and IDNA checks, so nothing accepted here is refused at send time) and
/// lower-cases it, so the same person typed twice is one prospect.
pub fn normalize_email(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let refused = || format!("'{trimmed}' is not an email address; write it like jane@example.com");
    let (user, domain) = trimmed.rsplit_once('@').ok_or_else(refused)?;
    let domain_ok = |domain: &str| {
        email_address::EmailAddress::is_valid_domain(domain)
            || domain
                .strip_prefix('[')
                .and_then(|ip| ip.strip_suffix(']'))
                .unwrap_or(domain)
                .parse::<std::net::IpAddr>()
                .is_ok()
    };
    let domain_valid = domain_ok(domain) || idna::domain_to_ascii(domain).is_ok_and(|ascii| domain_ok(&ascii));
    match email_address::EmailAddress::is_valid_local_part(user) && domain_valid {
        true => Ok(trimmed.to_lowercase()),
        false => Err(refused()),
    }
}

pub fn validate_time_zone(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    trimmed
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| {
            format!("'{trimmed}' is not a time zone; use an IANA name such as Europe/Oslo or America/New_York")
        })
}

pub fn validate_probability(value: i64) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| format!("probability {value} is not between 0 and 100"))
}

pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let trimmed = text.trim();
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .map_err(|_| format!("'{trimmed}' is not a date; write it as YYYY-MM-DD"))
}

/// Tags are short lower-case labels, so `VIP` and `vip` are one tag.
pub fn normalize_tag(text: &str) -> Result<String, String> {
    let tag = text.trim().to_lowercase();
    if tag.is_empty() || tag.len() > 64 || tag.chars().any(|c| c.is_control() || c == ',') {
        return Err(format!("'{text}' is not a tag; use up to 64 characters with no commas"));
    }
    Ok(tag)
}

/// Custom field names: lower-case words joined by `_`, usable from templates.
pub fn normalize_field_name(text: &str) -> Result<String, String> {
    let mut name = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_').to_string();
    if name.is_empty() {
        return Err(format!("'{text}' is not a field name; use letters, digits and '_'"));
    }
    Ok(name)
}

pub fn required_text(what: &str, text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(format!(
            "the {what} contains a control character (line break or tab); remove it"
        ));
    }
    Ok(trimmed.to_string())
}

/// An optional one-line field: blank means absent.
pub fn optional_text(what: &str, text: Option<&str>) -> Result<Option<String>, String> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required_text(what, value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prospect_refs() {
        assert_eq!("42".parse::<ProspectRef>(), Ok(ProspectRef::Id(42)));
        assert_eq!(
            "Jane@Example.COM".parse::<ProspectRef>(),
            Ok(ProspectRef::Email("jane@example.com".into()))
        );
        assert!("jane".parse::<ProspectRef>().is_err());
    }

    #[test]
    fn field_checks() {
        assert!(normalize_email("jane@").is_err());
        assert!(normalize_email("a b@example.com").is_err());
        assert_eq!(validate_time_zone("Europe/Oslo").unwrap(), "Europe/Oslo");
        assert!(validate_time_zone("Mars/Olympus").is_err());
        assert!(validate_probability(101).is_err());
        assert_eq!(
            normalize_field_name(" Company Size (FTE) ").unwrap(),
            "company_size_fte"
        );
        assert!(required_text("name", "a\r\nBcc: x").is_err());
        assert!(NewRep::validate("A", "a@x.com", "UTC", 24, "en").is_err());
        assert!(NewRep::validate("A", "a@x.com", "UTC", 7, "de").is_err());
    }
}
