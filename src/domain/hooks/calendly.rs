//! Calendly: `Calendly-Webhook-Signature: t=UNIX,v1=HEX`, the HMAC-SHA256 of
//! `t + "." + body`, refused when `t` is further from now than the tolerance
//! (a replayed old delivery). `invitee.created` is a booked meeting,
//! `invitee.canceled` a canceled one — except in a reschedule, which cancels
//! the old invitee and creates a new one: the new one is kept, the
//! cancellation ignored. The prospect is `payload.email`; the key is the
//! invitee's URI and the event.

use super::{address, check, hex_signature, time, time_or, Happened, Incoming, Reading, Refusal, Secrets};
use serde::Deserialize;

pub fn verify(secrets: Secrets<'_>, incoming: &Incoming<'_>, tolerance_secs: i64) -> Result<(), Refusal> {
    let header = incoming
        .header("calendly-webhook-signature")
        .next()
        .ok_or(Refusal::Unsigned("no Calendly-Webhook-Signature header"))?;
    let (mut t, mut v1) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = Some(value.trim()),
            Some(("v1", value)) => v1 = Some(value.trim()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(Refusal::Malformed("expected t=UNIX,v1=HEX".into()));
    };
    let stamp: i64 = t
        .parse()
        .map_err(|_| Refusal::Malformed(format!("t={t} is not a time")))?;
    let age = incoming.received_at.timestamp() - stamp;
    if age.abs() > tolerance_secs {
        return Err(Refusal::Stale {
            age_secs: age,
            tolerance_secs,
        });
    }
    check(secrets, &[t.as_bytes(), b".", incoming.body], &hex_signature(v1)?)
}

#[derive(Deserialize)]
struct Delivery {
    event: String,
    created_at: Option<String>,
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    email: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    rescheduled: bool,
    scheduled_event: Option<Scheduled>,
}

#[derive(Deserialize)]
struct Scheduled {
    name: Option<String>,
    start_time: Option<String>,
    /// The hosts (`user_email`).
    #[serde(default)]
    event_memberships: Vec<Member>,
}

#[derive(Deserialize)]
struct Member {
    user_email: Option<String>,
}

pub fn read(incoming: &Incoming<'_>) -> Reading {
    let delivery: Delivery =
        serde_json::from_slice(incoming.body).map_err(|e| format!("not a Calendly delivery: {e}"))?;
    let kind = match (delivery.event.as_str(), delivery.payload.rescheduled) {
        ("invitee.created", _) => "meeting.booked",
        // The old half of a reschedule: the new booking arrives as invitee.created.
        ("invitee.canceled", true) => return Ok(Vec::new()),
        ("invitee.canceled", false) => "meeting.canceled",
        (other, _) => return Err(format!("Calendly event '{other}' is not one rapport records")),
    };
    let emails: Vec<String> = delivery
        .payload
        .email
        .as_deref()
        .and_then(address)
        .into_iter()
        .collect();
    let uri = delivery.payload.uri.unwrap_or_default();
    let event = delivery.payload.scheduled_event;
    let name = event
        .as_ref()
        .and_then(|e| e.name.clone())
        .unwrap_or_else(|| "a meeting".into());
    let start = event.as_ref().and_then(|e| e.start_time.clone());
    Ok(vec![Happened {
        kind,
        emails,
        key: format!("calendly:{uri}:{}", delivery.event),
        at: time_or(delivery.created_at.as_deref(), incoming.received_at),
        starts_at: time(start.as_deref()),
        organizer: event.as_ref().and_then(|e| {
            e.event_memberships
                .iter()
                .find_map(|m| m.user_email.as_deref().and_then(address))
        }),
        summary: match start {
            Some(start) => format!("{name} at {start} (Calendly)"),
            None => format!("{name} (Calendly)"),
        },
    }])
}

#[cfg(test)]
mod tests {
    use super::super::{at, sign, verify as verify_any, Provider};
    use super::*;

    const BODY: &str = r#"{"event":"invitee.created","created_at":"2026-12-01T09:00:00.000000Z",
        "payload":{"email":"Pia@Example.org","name":"Pia Lund","rescheduled":false,
        "uri":"https://api.calendly.com/scheduled_events/EV1/invitees/IN1",
        "scheduled_event":{"name":"Intro call","start_time":"2026-12-03T13:00:00.000000Z",
        "event_memberships":[{"user":"https://api.calendly.com/users/U1","user_email":"ann@team.example"}]}}}"#;

    fn signed(secret: &[u8], t: i64, body: &str) -> Vec<(String, String)> {
        let v1 = hex::encode(sign(secret, &[t.to_string().as_bytes(), b".", body.as_bytes()]));
        vec![("calendly-webhook-signature".into(), format!("t={t},v1={v1}"))]
    }

    fn incoming<'a>(headers: &'a [(String, String)], body: &'a str) -> Incoming<'a> {
        Incoming {
            headers,
            query: "",
            body: body.as_bytes(),
            received_at: at("2026-12-01T09:00:30Z"),
        }
    }

    #[test]
    fn a_signed_fresh_delivery_verifies_and_anything_else_is_refused() {
        let now = at("2026-12-01T09:00:30Z").timestamp();
        let secrets = Secrets {
            current: b"whsec-new",
            previous: Some(b"whsec-old"),
        };
        let check = |headers: &[(String, String)], body: &str| {
            verify_any(Provider::Calendly, secrets, &incoming(headers, body), 180)
        };
        assert_eq!(check(&signed(b"whsec-new", now - 10, BODY), BODY), Ok(()));
        assert_eq!(
            check(&signed(b"whsec-old", now - 10, BODY), BODY),
            Ok(()),
            "the previous secret, while rotating"
        );
        assert_eq!(check(&signed(b"wrong", now - 10, BODY), BODY), Err(Refusal::Mismatch));
        let one_byte = BODY.replacen("Pia@", "Pib@", 1);
        assert_eq!(
            check(&signed(b"whsec-new", now - 10, BODY), &one_byte),
            Err(Refusal::Mismatch)
        );
        assert!(matches!(
            check(&signed(b"whsec-new", now - 600, BODY), BODY),
            Err(Refusal::Stale { .. })
        ));
        assert_eq!(
            check(&[], BODY),
            Err(Refusal::Unsigned("no Calendly-Webhook-Signature header"))
        );
        let garbled = vec![("calendly-webhook-signature".to_string(), "v1=zz".to_string())];
        assert!(matches!(check(&garbled, BODY), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn a_booking_is_a_meeting_and_a_reschedules_cancellation_is_not() {
        let none = Vec::new();
        let read_it = |body: &str| read(&incoming(&none, body)).unwrap();
        let booked = read_it(BODY);
        assert_eq!(booked.len(), 1);
        assert_eq!(
            (booked[0].kind, booked[0].emails.as_slice()),
            ("meeting.booked", &["pia@example.org".to_string()][..])
        );
        assert_eq!(
            booked[0].key,
            "calendly:https://api.calendly.com/scheduled_events/EV1/invitees/IN1:invitee.created"
        );
        assert_eq!(booked[0].at, at("2026-12-01T09:00:00Z"));
        assert!(booked[0].summary.contains("Intro call"));
        let canceled = BODY.replace("invitee.created", "invitee.canceled");
        assert_eq!(read_it(&canceled)[0].kind, "meeting.canceled");
        let moved = canceled.replace("\"rescheduled\":false", "\"rescheduled\":true");
        assert!(read_it(&moved).is_empty(), "the new booking comes as its own delivery");
        assert!(read(&incoming(
            &none,
            r#"{"event":"routing_form_submission.created","payload":{}}"#
        ))
        .is_err());
        assert!(read(&incoming(&none, "not json")).is_err());
    }
}
