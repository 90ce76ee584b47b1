//! A sequence email as it goes out: headers that cannot be forged by a
//! prospect's data, a Message-ID chosen (and stored) before sending, one-click
//! unsubscribe (RFC 8058) plus a mailto, the sender's postal address, and
//! threading under the first email when the sequence asks for it.

use crate::domain::sequence::enrolment::one_line;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use std::time::SystemTime;

/// Everything one email needs besides its rendered text.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from_name: &'a str,
    pub from_email: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    /// With angle brackets, e.g. `<rapport.12.3.x@example.com>`.
    pub message_id: &'a str,
    /// The first email's Message-ID, when follow-ups thread under it.
    pub thread_under: Option<&'a str>,
    /// HTTPS one-click URL and mailto address for List-Unsubscribe.
    pub unsubscribe_url: &'a str,
    pub unsubscribe_mailto: &'a str,
    /// CAN-SPAM: the sender's physical postal address.
    pub postal_address: &'a str,
    pub date: SystemTime,
}

/// Builds the message; an error names the address that is not one.
pub fn compose(envelope: &Envelope, subject: &str, text: &str, html: Option<&str>) -> Result<Message, String> {
    let mailbox = |name: &str, email: &str| {
        let address = email
            .trim()
            .parse()
            .map_err(|e| format!("'{email}' is not an email address ({e})"))?;
        // Display names are kept to one line, so a value cannot start a header.
        let name = one_line(name);
        Ok::<Mailbox, String>(Mailbox::new((!name.is_empty()).then_some(name), address))
    };
    let footer = format!(
        "\n\n--\n{}\nNo more emails from me: {}\n",
        one_line(envelope.postal_address),
        envelope.unsubscribe_url
    );
    let mut builder = Message::builder()
        .from(mailbox(envelope.from_name, envelope.from_email)?)
        .to(mailbox(envelope.to_name, envelope.to_email)?)
        .subject(one_line(subject))
        .message_id(Some(one_line(envelope.message_id)))
        .date(envelope.date)
        .raw_header(raw("List-Unsubscribe", &list_unsubscribe(envelope)))
        .raw_header(raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
    if let Some(first) = envelope.thread_under {
        builder = builder.in_reply_to(one_line(first)).references(one_line(first));
    }
    let text_part = SinglePart::plain(format!("{}{footer}", text.trim_end()));
    let built = match html {
        None => builder.singlepart(text_part),
        Some(html) => {
            let html_footer = format!(
                "<hr><p>{}<br><a href=\"{}\">No more emails from me</a></p>",
                escape(&one_line(envelope.postal_address)),
                escape(envelope.unsubscribe_url)
            );
            let html_part = SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(format!("{html}{html_footer}"));
            builder.multipart(MultiPart::alternative().singlepart(text_part).singlepart(html_part))
        }
    };
    built.map_err(|e| format!("the message cannot be built: {e}"))
}

fn list_unsubscribe(envelope: &Envelope) -> String {
    format!(
        "<{}>, <mailto:{}?subject=unsubscribe>",
        one_line(envelope.unsubscribe_url),
        one_line(envelope.unsubscribe_mailto)
    )
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), one_line(value))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope<'a>(to_name: &'a str, thread_under: Option<&'a str>) -> Envelope<'a> {
        Envelope {
            from_name: "Ann Rep",
            from_email: "ann@us.example",
            to_name,
            to_email: "jane@acme.io",
            message_id: "<rapport.1.0.abc@us.example>",
            thread_under,
            unsubscribe_url: "https://rapport.us.example/u/1.00ff",
            unsubscribe_mailto: "unsubscribe@us.example",
            postal_address: "Ann Rep, Storgata 1, 0155 Oslo, Norway",
            date: SystemTime::UNIX_EPOCH,
        }
    }

    /// The header block, unfolded.
    fn headers(message: &Message) -> String {
        let text = String::from_utf8_lossy(&message.formatted()).into_owned();
        text.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ")
    }

    #[test]
    fn the_message_carries_its_id_unsubscribe_headers_and_footer() {
        let message = compose(&envelope("Jane Doe", None), "Acme and faster deploys", "Hi Jane", None).unwrap();
        let head = headers(&message);
        assert!(head.contains("Message-ID: <rapport.1.0.abc@us.example>"), "{head}");
        assert!(head.contains("List-Unsubscribe: <https://rapport.us.example/u/1.00ff>, <mailto:unsubscribe@us.example?subject=unsubscribe>"), "{head}");
        assert!(
            head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{head}"
        );
        assert!(
            head.contains("Subject: Acme and faster deploys"),
            "never a fake Re: {head}"
        );
        assert!(!head.contains("In-Reply-To"));
        let body = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(body.contains("Storgata 1, 0155 Oslo"), "{body}");
    }

    #[test]
    fn follow_ups_thread_under_the_first_email() {
        let message = compose(
            &envelope("Jane", Some("<rapport.1.0.abc@us.example>")),
            "Follow-up",
            "Hi",
            None,
        )
        .unwrap();
        let head = headers(&message);
        assert!(head.contains("In-Reply-To: <rapport.1.0.abc@us.example>"), "{head}");
        assert!(head.contains("References: <rapport.1.0.abc@us.example>"), "{head}");
    }

    #[test]
    fn no_value_can_add_a_header() {
        let evil = "Jane\r\nBcc: everyone@example.com";
        let message = compose(
            &envelope(evil, None),
            "Hi\r\nBcc: x@example.com",
            "Hi",
            Some("<p>Hi</p>"),
        )
        .unwrap();
        let head = headers(&message);
        let lines: Vec<&str> = head.split("\r\n").filter(|l| l.starts_with("Bcc")).collect();
        assert!(lines.is_empty(), "{head}");
        assert!(!head.to_lowercase().contains("\r\nbcc:"), "{head}");
    }

    #[test]
    fn a_bad_address_is_named() {
        let mut bad = envelope("Jane", None);
        bad.to_email = "not an address";
        assert!(compose(&bad, "Hi", "Hi", None)
            .unwrap_err()
            .contains("'not an address'"));
    }
}
