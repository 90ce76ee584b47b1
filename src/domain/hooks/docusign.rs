//! DocuSign Connect (JSON SIM): `X-DocuSign-Signature-1` … `-N`, each the
//! base64 HMAC-SHA256 of the body with one of the account's Connect keys;
//! any one matching is enough. `envelope-completed` is a signed proposal
//! for each signer of `data.envelopeSummary.recipients.signers`,
//! `envelope-sent` a proposal sent; the key is the envelope and the event.

use super::{address, addresses, signed_by, time_or, Happened, Incoming, Named, Reading, Refusal, Secrets};
use base64::Engine;
use serde::Deserialize;

pub fn verify(secrets: Secrets<'_>, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let signatures: Vec<&str> = incoming
        .headers
        .iter()
        .filter(|(name, _)| name.starts_with("x-docusign-signature-"))
        .map(|(_, value)| value.as_str())
        .collect();
    if signatures.is_empty() {
        return Err(Refusal::Unsigned("no X-DocuSign-Signature-N header"));
    }
    let mut malformed = None;
    for signature in signatures {
        match base64::engine::general_purpose::STANDARD.decode(signature.trim()) {
            Ok(bytes) if signed_by(secrets, &[incoming.body], &bytes) => return Ok(()),
            Ok(_) => {}
            Err(e) => malformed = Some(format!("not base64: {e}")),
        }
    }
    Err(malformed.map_or(Refusal::Mismatch, Refusal::Malformed))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    event: String,
    generated_date_time: Option<String>,
    data: Data,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    envelope_id: Option<String>,
    envelope_summary: Option<Summary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    email_subject: Option<String>,
    recipients: Option<Recipients>,
    sender: Option<Sender>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sender {
    email: Option<String>,
}

#[derive(Deserialize)]
struct Recipients {
    #[serde(default)]
    signers: Vec<Named>,
}

pub fn read(incoming: &Incoming<'_>) -> Reading {
    let delivery: Delivery =
        serde_json::from_slice(incoming.body).map_err(|e| format!("not a DocuSign Connect delivery: {e}"))?;
    let kind = match delivery.event.as_str() {
        "envelope-completed" => "proposal.signed",
        "envelope-sent" => "proposal.sent",
        other => return Err(format!("DocuSign event '{other}' is not one rapport records")),
    };
    let envelope = delivery.data.envelope_id.unwrap_or_default();
    let summary = delivery.data.envelope_summary;
    let subject = summary
        .as_ref()
        .and_then(|s| s.email_subject.clone())
        .unwrap_or_else(|| "an envelope".into());
    let organizer = summary
        .as_ref()
        .and_then(|s| s.sender.as_ref())
        .and_then(|s| s.email.as_deref().and_then(address));
    let emails = summary
        .and_then(|s| s.recipients)
        .map(|r| addresses(&r.signers))
        .unwrap_or_default();
    Ok(vec![Happened {
        kind,
        emails,
        key: format!("docusign:{envelope}:{}", delivery.event),
        at: time_or(delivery.generated_date_time.as_deref(), incoming.received_at),
        summary: format!("{subject} (DocuSign)"),
        starts_at: None,
        organizer,
    }])
}

#[cfg(test)]
mod tests {
    use super::super::{at, sign, verify as verify_any, Provider};
    use super::*;

    const BODY: &str = r#"{"event":"envelope-completed","apiVersion":"v2.1","retryCount":0,
        "generatedDateTime":"2026-12-01T09:00:00.0000000Z",
        "data":{"accountId":"acc","envelopeId":"env-42","envelopeSummary":{"status":"completed",
        "emailSubject":"Please sign: Acme proposal","sender":{"userName":"Ann","email":"ann@team.example"},
        "recipients":{"signers":[{"email":"pia@example.org","status":"completed"},{"email":"cfo@example.org","status":"completed"}]}}}}"#;

    fn incoming<'a>(headers: &'a [(String, String)], body: &'a str) -> Incoming<'a> {
        Incoming {
            headers,
            query: "",
            body: body.as_bytes(),
            received_at: at("2026-12-01T09:00:05Z"),
        }
    }

    fn b64(secret: &[u8], body: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(sign(secret, &[body.as_bytes()]))
    }

    #[test]
    fn any_one_of_the_signatures_matching_is_enough() {
        let secrets = Secrets {
            current: b"connect-key-2",
            previous: None,
        };
        let check = |headers: &[(String, String)], body: &str| {
            verify_any(Provider::Docusign, secrets, &incoming(headers, body), 180)
        };
        let two = vec![
            ("x-docusign-signature-1".to_string(), b64(b"connect-key-1", BODY)),
            ("x-docusign-signature-2".to_string(), b64(b"connect-key-2", BODY)),
        ];
        assert_eq!(check(&two, BODY), Ok(()));
        assert_eq!(
            check(&two[..1], BODY),
            Err(Refusal::Mismatch),
            "only another key's signature"
        );
        assert_eq!(check(&two, &BODY.replace("env-42", "env-43")), Err(Refusal::Mismatch));
        assert!(matches!(check(&[], BODY), Err(Refusal::Unsigned(_))));
        let junk = vec![("x-docusign-signature-1".to_string(), "%%%".to_string())];
        assert!(matches!(check(&junk, BODY), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn a_completed_envelope_is_signed_by_every_signer() {
        let none = Vec::new();
        let signed = read(&incoming(&none, BODY)).unwrap();
        assert_eq!(signed[0].kind, "proposal.signed");
        assert_eq!(signed[0].emails, ["pia@example.org", "cfo@example.org"]);
        assert_eq!(signed[0].key, "docusign:env-42:envelope-completed");
        assert!(signed[0].summary.contains("Acme proposal"));
        let sent = read(&incoming(&none, &BODY.replace("envelope-completed", "envelope-sent"))).unwrap();
        assert_eq!(sent[0].kind, "proposal.sent");
        assert!(read(&incoming(&none, &BODY.replace("envelope-completed", "envelope-voided"))).is_err());
    }
}
