//! Cal.com: `X-Cal-Signature-256`, the hex HMAC-SHA256 of the body (the
//! literal `no-secret-provided` means the webhook has no secret: refused).
//! `BOOKING_CREATED` and `BOOKING_RESCHEDULED` are a booked meeting,
//! `BOOKING_CANCELLED` a canceled one, for each of `payload.attendees`; the
//! key is the booking's uid and the trigger.

use super::{
    address, addresses, check, hex_signature, time, time_or, Happened, Incoming, Named, Reading, Refusal, Secrets,
};
use serde::Deserialize;

pub fn verify(secrets: Secrets<'_>, incoming: &Incoming<'_>) -> Result<(), Refusal> {
    let signature = incoming
        .header("x-cal-signature-256")
        .next()
        .ok_or(Refusal::Unsigned("no X-Cal-Signature-256 header"))?;
    if signature.trim() == "no-secret-provided" {
        return Err(Refusal::NoSecretProvided);
    }
    check(secrets, &[incoming.body], &hex_signature(signature)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    trigger_event: String,
    created_at: Option<String>,
    payload: Payload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    uid: Option<String>,
    title: Option<String>,
    start_time: Option<String>,
    #[serde(default)]
    attendees: Vec<Named>,
    organizer: Option<Named>,
}

pub fn read(incoming: &Incoming<'_>) -> Reading {
    let delivery: Delivery =
        serde_json::from_slice(incoming.body).map_err(|e| format!("not a Cal.com delivery: {e}"))?;
    let kind = match delivery.trigger_event.as_str() {
        "BOOKING_CREATED" | "BOOKING_RESCHEDULED" => "meeting.booked",
        "BOOKING_CANCELLED" => "meeting.canceled",
        other => return Err(format!("Cal.com trigger '{other}' is not one rapport records")),
    };
    let payload = delivery.payload;
    let title = payload.title.unwrap_or_else(|| "a meeting".into());
    Ok(vec![Happened {
        kind,
        emails: addresses(&payload.attendees),
        key: format!("calcom:{}:{}", payload.uid.unwrap_or_default(), delivery.trigger_event),
        at: time_or(delivery.created_at.as_deref(), incoming.received_at),
        starts_at: time(payload.start_time.as_deref()),
        organizer: payload.organizer.and_then(|o| o.email.as_deref().and_then(address)),
        summary: match payload.start_time {
            Some(start) => format!("{title} at {start} (Cal.com)"),
            None => format!("{title} (Cal.com)"),
        },
    }])
}

#[cfg(test)]
mod tests {
    use super::super::{at, sign, verify as verify_any, Provider};
    use super::*;

    const BODY: &str = r#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-12-01T09:00:00.000Z",
        "payload":{"uid":"bk_123","title":"Demo","startTime":"2026-12-04T10:00:00.000Z",
        "organizer":{"email":"ann@team.example","name":"Ann"},
        "attendees":[{"email":"pia@example.org","name":"Pia"},{"email":"ola@example.org","name":"Ola"}]}}"#;

    fn incoming<'a>(headers: &'a [(String, String)], body: &'a str) -> Incoming<'a> {
        Incoming {
            headers,
            query: "",
            body: body.as_bytes(),
            received_at: at("2026-12-01T09:00:05Z"),
        }
    }

    fn signed(secret: &[u8], body: &str) -> Vec<(String, String)> {
        vec![(
            "x-cal-signature-256".into(),
            hex::encode(sign(secret, &[body.as_bytes()])),
        )]
    }

    #[test]
    fn the_body_signed_with_the_secret_verifies_and_nothing_else() {
        let secrets = Secrets {
            current: b"cal-secret",
            previous: None,
        };
        let check = |headers: &[(String, String)], body: &str| {
            verify_any(Provider::Calcom, secrets, &incoming(headers, body), 180)
        };
        assert_eq!(check(&signed(b"cal-secret", BODY), BODY), Ok(()));
        assert_eq!(check(&signed(b"other", BODY), BODY), Err(Refusal::Mismatch));
        assert_eq!(
            check(&signed(b"cal-secret", BODY), &BODY.replace("bk_123", "bk_124")),
            Err(Refusal::Mismatch)
        );
        let none = vec![("x-cal-signature-256".to_string(), "no-secret-provided".to_string())];
        assert_eq!(check(&none, BODY), Err(Refusal::NoSecretProvided));
        assert!(matches!(check(&[], BODY), Err(Refusal::Unsigned(_))));
    }

    #[test]
    fn bookings_name_every_attendee_and_each_trigger_is_its_own_key() {
        let none = Vec::new();
        let booked = read(&incoming(&none, BODY)).unwrap();
        assert_eq!(booked[0].kind, "meeting.booked");
        assert_eq!(booked[0].emails, ["pia@example.org", "ola@example.org"]);
        assert_eq!(booked[0].key, "calcom:bk_123:BOOKING_CREATED");
        assert_eq!(booked[0].organizer.as_deref(), Some("ann@team.example"));
        let moved = read(&incoming(
            &none,
            &BODY.replace("BOOKING_CREATED", "BOOKING_RESCHEDULED"),
        ))
        .unwrap();
        assert_eq!(
            (moved[0].kind, moved[0].key.as_str()),
            ("meeting.booked", "calcom:bk_123:BOOKING_RESCHEDULED")
        );
        let canceled = read(&incoming(&none, &BODY.replace("BOOKING_CREATED", "BOOKING_CANCELLED"))).unwrap();
        assert_eq!(canceled[0].kind, "meeting.canceled");
        assert!(read(&incoming(&none, &BODY.replace("BOOKING_CREATED", "MEETING_ENDED"))).is_err());
    }
}
