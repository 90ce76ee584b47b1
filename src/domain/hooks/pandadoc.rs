//! PandaDoc: the query parameter `signature`, the hex HMAC-SHA256 of the
//! body; the body is an array of `{event, data}`. A `document_state_changed`
//! to `document.completed` is a signed proposal for each of
//! `data.recipients`, to `document.sent` a proposal sent; other changes are
//! ignored. The key is the `X-PandaDoc-Webhook-Event-Id` header, else the
//! document and its status.

use super::{address, addresses, check, hex_signature, time_or, Happened, Incoming, Named, Reading, Refusal, Secrets};
use serde::Deserialize;

pub fn verify(secrets: Secrets<'_>, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let signature = url::form_urlencoded::parse(incoming.query.as_bytes())
        .find(|(name, _)| name == "signature")
        .map(|(_, value)| value.into_owned())
        .ok_or(Refusal::Unsigned("no signature query parameter"))?;
    check(secrets, &[incoming.body], &hex_signature(&signature)?)
}

#[derive(Deserialize)]
struct Delivery {
    event: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    date_modified: Option<String>,
    #[serde(default)]
    recipients: Vec<Named>,
    sent_by: Option<Named>,
    created_by: Option<Named>,
}

pub fn read(incoming: &Incoming<'_>) -> Reading {
    let deliveries: Vec<Delivery> =
        serde_json::from_slice(incoming.body).map_err(|e| format!("not a PandaDoc delivery: {e}"))?;
    let event_id = incoming.header("x-pandadoc-webhook-event-id").next().map(str::trim);
    let mut happened = Vec::new();
    for (n, delivery) in deliveries.into_iter().enumerate() {
        if delivery.event != "document_state_changed" {
            continue;
        }
        let data = delivery.data;
        let status = data.status.unwrap_or_default();
        let kind = match status.as_str() {
            "document.completed" => "proposal.signed",
            "document.sent" => "proposal.sent",
            _ => continue,
        };
        let document = data.id.unwrap_or_default();
        happened.push(Happened {
            kind,
            emails: addresses(&data.recipients),
            key: match event_id {
                Some(id) if !id.is_empty() => format!("pandadoc:{id}:{n}"),
                _ => format!("pandadoc:{document}:{status}"),
            },
            at: time_or(data.date_modified.as_deref(), incoming.received_at),
            summary: format!("{} (PandaDoc)", data.name.unwrap_or_else(|| "a document".into())),
            starts_at: None,
            organizer: [data.sent_by, data.created_by]
                .into_iter()
                .flatten()
                .find_map(|p| p.email.as_deref().and_then(address)),
        });
    }
    Ok(happened)
}

#[cfg(test)]
mod tests {
    use super::super::{at, sign, verify as verify_any, Provider};
    use super::*;

    const BODY: &str = r#"[{"event":"document_state_changed","data":{"id":"doc-9","name":"Acme proposal",
        "status":"document.completed","date_modified":"2026-12-01T09:00:00.000000Z",
        "recipients":[{"email":"Pia@example.org","role":"Client"}]}},
        {"event":"recipient_completed","data":{"id":"doc-9"}}]"#;

    fn incoming<'a>(headers: &'a [(String, String)], query: &'a str, body: &'a str) -> Incoming<'a> {
        Incoming {
            headers,
            query,
            body: body.as_bytes(),
            received_at: at("2026-12-01T09:00:05Z"),
        }
    }

    #[test]
    fn the_signature_in_the_query_verifies_the_body() {
        let secrets = Secrets {
            current: b"pd-key",
            previous: Some(b"pd-old"),
        };
        let none = Vec::new();
        let query =
            |secret: &[u8], body: &str| format!("foo=1&signature={}", hex::encode(sign(secret, &[body.as_bytes()])));
        let check = |q: &str, body: &str| verify_any(Provider::Pandadoc, secrets, &incoming(&none, q, body), 180);
        assert_eq!(check(&query(b"pd-key", BODY), BODY), Ok(()));
        assert_eq!(
            check(&query(b"pd-old", BODY), BODY),
            Ok(()),
            "the previous key while rotating"
        );
        assert_eq!(check(&query(b"nope", BODY), BODY), Err(Refusal::Mismatch));
        assert_eq!(
            check(&query(b"pd-key", BODY), &BODY.replace("doc-9", "doc-8")),
            Err(Refusal::Mismatch)
        );
        assert!(matches!(check("foo=1", BODY), Err(Refusal::Unsigned(_))));
        assert!(matches!(check("signature=xyz", BODY), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn a_completed_document_is_signed_and_other_events_are_ignored() {
        let none = Vec::new();
        let read_it = |headers: &[(String, String)], body: &str| read(&incoming(headers, "", body)).unwrap();
        let signed = read_it(&none, BODY);
        assert_eq!(
            signed.len(),
            1,
            "the recipient_completed event is not one rapport records"
        );
        assert_eq!(
            (signed[0].kind, signed[0].emails.as_slice()),
            ("proposal.signed", &["pia@example.org".to_string()][..])
        );
        assert_eq!(signed[0].key, "pandadoc:doc-9:document.completed");
        let with_id = vec![("x-pandadoc-webhook-event-id".to_string(), "evt-77".to_string())];
        assert_eq!(read_it(&with_id, BODY)[0].key, "pandadoc:evt-77:0");
        assert_eq!(
            read_it(&none, &BODY.replace("document.completed", "document.sent"))[0].kind,
            "proposal.sent"
        );
        assert!(read_it(&none, &BODY.replace("document.completed", "document.viewed")).is_empty());
        assert!(read(&incoming(&none, "", "{}")).is_err());
    }
}
