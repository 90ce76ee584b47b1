//! Mail rapport writes to a rep itself (the daily digest, the alert that a
//! mailbox was paused): one way to address, date and mark it, so every such
//! message is from "rapport" at the rep's own address, to the rep, and
//! marked machine-made (RFC 3834 `Auto-Submitted`) so auto-responders and
//! rapport's own mail sync leave it alone.

use super::Mailer;
use crate::domain::prospect::Rep;
use crate::domain::sequence::enrolment::one_line;
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

/// What to tell the rep.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    /// An HTML alternative to the text.
    pub html: Option<&'a str>,
    /// Without angle brackets; one is made when `None`.
    pub message_id: Option<&'a str>,
    /// BCP 47 tag of the text's language, when it is not English.
    pub language: Option<&'a str>,
}

/// The notice as an email to the rep.
pub fn to_rep(rep: &Rep, notice: &Notice<'_>, now: DateTime<Utc>) -> Result<lettre::Message, String> {
    let to = Mailbox::new(
        Some(one_line(&rep.name)),
        rep.email
            .parse()
            .map_err(|e| format!("the rep's address {}: {e}", rep.email))?,
    );
    let from = Mailbox::new(Some("rapport".into()), to.email.clone());
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(notice.subject))
        .date(now.into())
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    if let Some(id) = notice.message_id {
        builder = builder.message_id(Some(format!("<{id}>")));
    }
    if let Some(language) = notice.language {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            language.into(),
        ));
    }
    let message = match notice.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            notice.text.to_string(),
            html.to_string(),
        )),
        None => builder.header(ContentType::TEXT_PLAIN).body(notice.text.to_string()),
    };
    message.map_err(|e| format!("the message to {} cannot be built: {e}", rep.email))
}

/// Sends the notice to the rep through `mailer`.
pub async fn notify_rep(mailer: &Mailer, rep: &Rep, notice: &Notice<'_>, now: DateTime<Utc>) -> Result<(), String> {
    let message = to_rep(rep, notice, now)?;
    mailer.send(message).await.map_err(|e| e.to_string())
}
