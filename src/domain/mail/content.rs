//! What the classifier reads from a parsed message: the top-level header fields, the readable
//! body, the machine-readable report parts and the headers of a returned original message.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::headers::{first_address, header_fields, message_ids, unfold};

/// The parts of a message the decision rules look at, decoded once.
pub struct MailContent {
    /// Top-level header fields in order, names lower-cased, values unfolded.
    pub fields: Vec<(String, String)>,
    pub subject: String,
    pub from: Option<String>,
    /// The text of the root message's text parts (HTML converted when there is no plain text).
    pub body: String,
    /// The raw HTML of the first HTML body part, kept for reply-text cutting.
    pub html: Option<String>,
    /// The body was converted from HTML because the message has no plain text.
    pub body_is_html: bool,
    /// `message/delivery-status` (or the global variant) text.
    pub delivery_status: Option<String>,
    /// `message/feedback-report` text.
    pub feedback_report: Option<String>,
    /// Header fields of the returned original (an attached message or `text/rfc822-headers`).
    pub original: Option<Vec<(String, String)>>,
    /// Recipients of the returned original message (its To and Cc).
    pub original_recipients: Vec<String>,
    /// Message-ID of the returned original message.
    pub original_message_id: Option<String>,
}

impl MailContent {
    pub fn read(message: &Message<'_>) -> Self {
        let fields = raw_fields(message.raw_message(), message);
        let mut content = MailContent {
            fields,
            subject: message.subject().map(unfold).unwrap_or_default(),
            from: first_address(message.from()),
            body: String::new(),
            html: None,
            body_is_html: false,
            delivery_status: None,
            feedback_report: None,
            original: None,
            original_recipients: Vec::new(),
            original_message_id: None,
        };
        // A nested message keeps its own parts, so these are the root message's alone.
        for part in &message.parts {
            content.read_part(message, part);
        }
        if content.body.trim().is_empty() {
            if let Some(html) = &content.html {
                content.body = mail_parser::decoders::html::html_to_text(html);
                content.body_is_html = true;
            }
        }
        content
    }

    /// The value of the first top-level header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        super::headers::field(&self.fields, name)
    }

    /// The lower-cased value of a header, empty when absent.
    pub fn header_lower(&self, name: &str) -> String {
        self.header(name).unwrap_or_default().to_lowercase()
    }

    fn read_part(&mut self, message: &Message<'_>, part: &MessagePart<'_>) {
        let (ctype, subtype) = content_type_of(part);
        match (ctype.as_str(), subtype.as_str()) {
            // A multipart whose boundary could not be read: its body is the only text there is.
            ("multipart", _) if part.sub_parts().is_none_or(|children| children.is_empty()) => {
                let raw_body = message
                    .raw_message()
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default();
                self.append_body(&String::from_utf8_lossy(raw_body))
            }
            ("multipart", _) => {}
            ("message", "delivery-status" | "global-delivery-status") => {
                append(&mut self.delivery_status, &decoded_text(part));
            }
            ("message", "feedback-report") => append(&mut self.feedback_report, &decoded_text(part)),
            ("message", "rfc822" | "global") | ("text", "rfc822-headers") => self.read_original(message, part),
            // Only the first HTML part is kept; later ones are alternatives or attachments.
            ("text", "html") => self.html = self.html.take().or_else(|| part_text(part)),
            ("text", _) | ("", _) if !is_named_attachment(part) => {
                if let Some(text) = part_text(part) {
                    self.append_body(&text);
                }
            }
            _ => {}
        }
    }

    fn append_body(&mut self, text: &str) {
        if !self.body.is_empty() {
            self.body.push('\n');
        }
        self.body.push_str(text);
    }

    fn read_original(&mut self, message: &Message<'_>, part: &MessagePart<'_>) {
        if self.original.is_some() {
            return;
        }
        let fields = match &part.body {
            // A nested message's header offsets count from the start of the outer message.
            PartType::Message(nested) => raw_fields(message.raw_message(), nested),
            _ => header_fields(header_block(&decoded_text(part))),
        };
        self.set_original(fields);
    }

    /// Records the headers of the returned original message and what we match on.
    pub fn set_original(&mut self, fields: Vec<(String, String)>) {
        let field = |name: &str| super::headers::field(&fields, name).unwrap_or_default().to_string();
        self.original_message_id = message_ids(&field("message-id")).into_iter().next();
        let mut recipients = super::headers::addresses_in(&field("to"));
        recipients.extend(super::headers::addresses_in(&field("cc")));
        self.original_recipients = recipients;
        self.original = Some(fields);
    }
}

/// The header block at the start of `text` (up to the first empty line).
pub fn header_block(text: &str) -> &str {
    let trimmed = text.trim_start_matches(['\r', '\n']);
    let end = trimmed
        .find("\n\n")
        .or_else(|| trimmed.find("\r\n\r\n"))
        .unwrap_or(trimmed.len());
    trimmed.get(..end).unwrap_or(trimmed)
}

fn content_type_of(part: &MessagePart<'_>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => (String::new(), String::new()),
    }
}

fn is_named_attachment(part: &MessagePart<'_>) -> bool {
    part.attachment_name().is_some() && part.content_disposition().is_some_and(|cd| cd.is_attachment())
}

/// The decoded text of a text or HTML part.
fn part_text(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Text(text) | PartType::Html(text) => Some(text.to_string()),
        _ => None,
    }
}

fn decoded_text(part: &MessagePart<'_>) -> String {
    part_text(part).unwrap_or_else(|| String::from_utf8_lossy(part.contents()).into_owned())
}

/// A message's top-level header fields in order: names lower-cased, raw values unfolded.
/// `raw` is the bytes the offsets count in: the outermost message's.
fn raw_fields(raw: &[u8], message: &Message<'_>) -> Vec<(String, String)> {
    message
        .root_part()
        .headers
        .iter()
        .map(|h| {
            let value = raw
                .get(h.offset_start as usize..h.offset_end as usize)
                .unwrap_or_default();
            (h.name().to_ascii_lowercase(), unfold(&String::from_utf8_lossy(value)))
        })
        .collect()
}

fn append(slot: &mut Option<String>, text: &str) {
    let target = slot.get_or_insert_with(String::new);
    target.push_str(text);
    target.push('\n');
}
