//! Tests of what a message means: matching, effects, and the ties that let
//! reports act (the tie rules themselves: `verify.rs`).

use super::*;
use crate::domain::mail::classify;

const JANE: ProspectId = 1;
const RAJ: ProspectId = 2;

fn contacts() -> MailContacts {
    MailContacts {
        by_email: [("jane@acme.io".to_string(), JANE), ("raj@globex.com".to_string(), RAJ)].into(),
        by_sent_id: [
            ("s1@us.example".to_string(), JANE),
            ("o1@rapport.us.example".to_string(), RAJ),
        ]
        .into(),
        evidence: SentEvidence {
            sent: [
                ("s1@us.example".to_string(), JANE),
                ("o1@rapport.us.example".to_string(), RAJ),
            ]
            .into(),
            outbox: [("o1@rapport.us.example".to_string(), RAJ)].into(),
            sends_to: [("raj@globex.com".to_string(), vec![at("2026-11-20T09:00:00Z")])].into(),
        },
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn effects_of(raw: &str) -> Vec<MailEffect> {
    effects_at(
        raw,
        &contacts(),
        Some(at("2026-11-27T10:00:00Z")),
        at("2026-11-27T10:05:00Z"),
    )
}

/// The effects of `raw`, received by the server at `received`, read at `now`.
fn effects_at(
    raw: &str,
    contacts: &MailContacts,
    received: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<MailEffect> {
    let mut envelope = Envelope::parse(raw.as_bytes()).expect("headers");
    envelope.received_at = received;
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let reading = classify(raw.as_bytes(), day).expect("classified");
    let actor = Actor::System("mail-sync:test".into());
    received_effects(&envelope, &reading, contacts, &actor, now)
}

/// A DSN for `recipient` with `status`, quoting `original` (a Message-ID) when given.
fn dsn(recipient: &str, status: &str, original: Option<&str>, date: &str) -> String {
    let quoted = original.map_or(String::new(), |id| {
        format!("--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{id}>\r\nTo: {recipient}\r\n")
    });
    format!(
        "From: MAILER-DAEMON@mx.example\r\nTo: ann@us.example\r\nDate: {date}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{status}@mx.example>\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; 550 {status} refused\r\n{quoted}--B--\r\n"
    )
}

const FUTURE: &str = "Fri, 1 Jan 2100 00:00:00 +0000";
const TODAY: &str = "Fri, 27 Nov 2026 10:00:00 +0000";

#[test]
fn a_forged_hard_bounce_changes_nothing_and_says_why() {
    // Nothing was ever sent to Jane's address, and the report quotes nothing.
    let effects = effects_of(&dsn("jane@acme.io", "5.1.1", None, TODAY));
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
    assert!(effects[0].suppress.is_empty());
    assert_eq!(effects[0].event.data.value()["report"], "bounce");
    assert!(
        effects[0].event.data.value()["unverified"]
            .as_str()
            .unwrap()
            .contains("nothing was ever sent"),
        "{}",
        effects[0].event.data
    );
}

#[test]
fn a_bounce_quoting_a_message_nobody_sent_changes_nothing() {
    let effects = effects_of(&dsn("raj@globex.com", "5.1.1", Some("made-up@evil.example"), TODAY));
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
    assert!(effects[0].suppress.is_empty());
}

#[test]
fn a_bounce_that_arrived_before_anything_was_sent_changes_nothing() {
    let raw = dsn("raj@globex.com", "5.1.1", None, TODAY);
    let effects = effects_at(
        &raw,
        &contacts(),
        Some(at("2026-11-19T09:00:00Z")),
        at("2026-11-27T10:00:00Z"),
    );
    assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED, "{effects:?}");
    assert!(effects[0].suppress.is_empty());
}

#[test]
fn a_hard_bounce_after_a_send_to_the_address_suppresses_it() {
    let effects = effects_of(&dsn("raj@globex.com", "5.1.1", None, TODAY));
    assert_eq!(effects[0].event.kind, EMAIL_BOUNCED, "{effects:?}");
    assert_eq!(effects[0].event.data.value()["hard"], true);
    assert_eq!(effects[0].suppress.len(), 1);
    assert_eq!(
        effects[0].event.data.value()["verified_by"],
        "an earlier send to the address"
    );
}

#[test]
fn only_a_policy_refusal_of_rapports_own_mail_pauses_the_mailbox() {
    let forged = effects_of(&dsn("raj@globex.com", "5.7.1", None, FUTURE));
    assert_eq!(
        forged[0].event.kind, EMAIL_BOUNCED,
        "tied by the earlier send: {forged:?}"
    );
    assert_eq!(
        forged[0].event.data.value()["sender_problem"],
        false,
        "{}",
        forged[0].event.data
    );
    assert_eq!(forged[0].event.data.value()["policy_refusal"], true);
    let own = effects_of(&dsn("raj@globex.com", "5.7.1", Some("o1@rapport.us.example"), TODAY));
    assert_eq!(
        own[0].event.data.value()["sender_problem"],
        true,
        "{}",
        own[0].event.data
    );
    assert_eq!(own[0].event.data.value()["verified_by"], "a message rapport sent");
}

#[test]
fn an_events_time_is_when_the_server_received_it_never_later_than_now() {
    let raw = dsn("raj@globex.com", "5.7.1", Some("o1@rapport.us.example"), FUTURE);
    let now = at("2026-11-27T10:05:00Z");
    let received = effects_at(&raw, &contacts(), Some(at("2026-11-27T10:00:00Z")), now);
    assert_eq!(received[0].event.occurred_at, at("2026-11-27T10:00:00Z"));
    assert_eq!(
        received[0].event.data.value()["date"],
        "2100-01-01T00:00:00Z",
        "the Date header is shown"
    );
    let unknown = effects_at(&raw, &contacts(), None, now);
    assert_eq!(unknown[0].event.occurred_at, now);
    let skewed = effects_at(&raw, &contacts(), Some(at("2030-01-01T00:00:00Z")), now);
    assert_eq!(skewed[0].event.occurred_at, now);
}

#[test]
fn an_out_of_office_acts_only_when_tied_to_mail_sent() {
    let ooo = |extra: &str, from: &str| {
        format!(
            "From: {from}\r\nTo: ann@us.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\
             Message-ID: <ooo-{from}>\r\n{extra}\r\nI am away until 8 December 2026.\r\n"
        )
    };
    let forged = effects_of(&ooo("", "jane@acme.io"));
    assert_eq!(forged[0].event.kind, EMAIL_UNVERIFIED, "{forged:?}");
    assert!(forged[0].away_until.is_none());
    assert_eq!(forged[0].event.data.value()["report"], "out_of_office");
    let answering = effects_of(&ooo("In-Reply-To: <s1@us.example>\r\n", "jane@acme.io"));
    assert_eq!(answering[0].event.kind, EMAIL_AUTO_REPLIED, "{answering:?}");
    assert!(answering[0].away_until.is_some());
    let after_a_send = effects_of(&ooo("", "raj@globex.com"));
    assert_eq!(after_a_send[0].event.kind, EMAIL_AUTO_REPLIED, "{after_a_send:?}");
}

#[test]
fn an_answer_to_sent_mail_belongs_to_that_prospect_even_from_a_colleague() {
    let effects = effects_of(
        "From: Kim <kim@acme.io>\r\nTo: ann@us.example\r\nSubject: Re: hello\r\nMessage-ID: <r9@acme.io>\r\n\
         In-Reply-To: <s1@us.example>\r\n\r\nJane asked me to answer: yes, let's talk.\r\n",
    );
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].event.prospect_id, JANE);
    assert_eq!(effects[0].event.kind, EMAIL_REPLIED);
    assert_eq!(effects[0].event.source_key, "mail:1:r9@acme.io");
}

#[test]
fn mail_from_nobody_we_know_is_ignored() {
    let effects = effects_of("From: x@elsewhere.example\r\nSubject: hi\r\nMessage-ID: <x1@e>\r\n\r\nHello\r\n");
    assert!(effects.is_empty());
}

#[test]
fn the_reps_sent_mail_is_a_touch_and_remembers_its_message_id() {
    let raw = b"From: ann@us.example\r\nTo: Jane <jane@acme.io>, bob@other.example\r\nCc: raj@globex.com\r\n\
Message-ID: <s2@us.example>\r\nSubject: Notes\r\n\r\nHi\r\n";
    let envelope = Envelope::parse(raw).unwrap();
    assert!(is_from_rep(&envelope, &["ann@us.example".to_string()]));
    let effects = sent_effects(&envelope, &contacts(), true, &Actor::System("t".into()), Utc::now());
    let prospects: Vec<ProspectId> = effects.iter().map(|e| e.event.prospect_id).collect();
    assert_eq!(prospects, [JANE, RAJ]);
    assert!(effects.iter().all(|e| e.event.kind == EMAIL_SENT));
    assert_eq!(effects[0].sent_id, Some(("s2@us.example".to_string(), JANE)));
}

#[test]
fn an_unsubscribe_suppresses_the_sender() {
    let effects = effects_of(
        "From: raj@globex.com\r\nSubject: unsubscribe\r\nMessage-ID: <u1@globex.com>\r\n\r\nunsubscribe\r\n",
    );
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].event.kind, EMAIL_UNSUBSCRIBED);
    assert_eq!(
        effects[0].suppress,
        [("raj@globex.com".to_string(), "unsubscribed by reply".to_string())]
    );
}

#[test]
fn an_unsubscribe_on_the_thread_suppresses_the_prospect_and_the_writer() {
    let effects = effects_of(
        "From: kim@acme.io\r\nSubject: Re: hello\r\nMessage-ID: <u2@acme.io>\r\nIn-Reply-To: <s1@us.example>\r\n\r\n\
         Please remove me from your list.\r\n",
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    let suppressed: Vec<&str> = effects[0].suppress.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(suppressed, ["jane@acme.io", "kim@acme.io"]);
}

#[test]
fn a_reply_asking_removal_in_any_language_suppresses_and_stays_a_reply() {
    let effects = effects_of(
        "From: raj@globex.com\r\nSubject: AW: hallo\r\nMessage-ID: <u3@globex.com>\r\nIn-Reply-To: <o1@rapport.us.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nBitte nehmen Sie mich aus Ihrem Verteiler.\r\n",
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_REPLIED);
    assert_eq!(effects[0].suppress.len(), 1, "{effects:?}");
    assert_eq!(effects[0].suppress[0].0, "raj@globex.com");
    assert!(
        effects[0].suppress[0].1.contains("aus Ihrem Verteiler"),
        "{:?}",
        effects[0].suppress
    );
    let interested = effects_of(
        "From: raj@globex.com\r\nSubject: Re: hello\r\nMessage-ID: <u4@globex.com>\r\nIn-Reply-To: <o1@rapport.us.example>\r\n\r\n\
         Sounds great, let's talk Tuesday.\r\n",
    );
    assert!(interested[0].suppress.is_empty());
}

#[test]
fn a_bounce_for_a_colleague_in_cc_is_not_the_prospects() {
    let effects = effects_of(
        "From: MAILER-DAEMON@mx.us.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b2@mx>\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\n\
         Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; bob@acme.io\r\n\
         Action: failed\r\nStatus: 5.1.1\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         Message-ID: <s1@us.example>\r\nTo: jane@acme.io\r\nCc: bob@acme.io\r\n--B--\r\n",
    );
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn a_soft_bounce_is_recorded_without_suppressing() {
    let effects = effects_of(
        "From: MAILER-DAEMON@mx.us.example\r\nTo: ann@us.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <b1@mx.us.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.us.example\r\n\r\nFinal-Recipient: rfc822; raj@globex.com\r\nAction: failed\r\n\
         Status: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\r\n--B--\r\n",
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_BOUNCED);
    assert_eq!(effects[0].event.prospect_id, RAJ);
    assert_eq!(effects[0].event.data.value()["hard"], false);
    assert!(effects[0].suppress.is_empty());
}

#[test]
fn a_report_quoting_another_prospects_mail_changes_nothing() {
    // Raj received o1 from rapport; a bounce quoting it that names Jane is forged.
    let effects = effects_of(&dsn("jane@acme.io", "5.7.1", Some("o1@rapport.us.example"), TODAY));
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_UNVERIFIED);
    assert!(effects[0].suppress.is_empty());
}

#[test]
fn only_mail_from_the_sent_folder_is_remembered_as_sent() {
    let raw = b"From: ann@us.example\r\nTo: jane@acme.io\r\nMessage-ID: <f1@evil>\r\nSubject: x\r\n\r\nHi\r\n";
    let envelope = Envelope::parse(raw).unwrap();
    let actor = Actor::System("t".into());
    let in_inbox = sent_effects(&envelope, &contacts(), false, &actor, Utc::now());
    assert_eq!(in_inbox.len(), 1, "still the rep's touch");
    assert!(
        in_inbox[0].sent_id.is_none(),
        "but no evidence a report could be tied to"
    );
    assert!(sent_effects(&envelope, &contacts(), true, &actor, Utc::now())[0]
        .sent_id
        .is_some());
}

#[test]
fn a_return_date_years_away_is_not_believed() {
    let raw = "From: raj@globex.com\r\nTo: ann@us.example\r\nSubject: Out of office\r\n\
               Auto-Submitted: auto-replied\r\nMessage-ID: <ooo-far@globex.com>\r\n\
               Date: Fri, 1 Jan 2100 00:00:00 +0000\r\n\r\nI am away until 8 December.\r\n";
    let effects = effects_of(raw);
    assert_eq!(effects[0].event.kind, EMAIL_AUTO_REPLIED, "{effects:?}");
    assert!(effects[0].away_until.is_none(), "{effects:?}");
}

/// An ARF complaint whose addresses the provider redacted is matched through
/// the quoted original's Message-ID (the mail rapport sent to Raj).
#[test]
fn a_complaint_with_redacted_addresses_is_matched_by_the_original_message_id() {
    let effects = effects_of(
        "From: fbl@isp.example\r\nTo: ann@us.example\r\nSubject: FW: abuse report\r\nMessage-ID: <c1@isp.example>\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\
         --B\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n\
         Original-Rcpt-To: xxxxxxxx@globex.com\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <o1@rapport.us.example>\r\n\
         To: redacted@globex.com\r\nSubject: Hello\r\n--B--\r\n",
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_COMPLAINED);
    assert_eq!(effects[0].event.prospect_id, RAJ);
    assert_eq!(
        effects[0].suppress,
        vec![("raj@globex.com".to_string(), "marked as spam".to_string())]
    );
}

fn challenge_to(address: &str) -> String {
    format!(
        "From: Boxbe <notify@boxbe.com>\r\nTo: ann@us.example\r\nSubject: Please verify your email address\r\n\
         Message-ID: <ch-{address}@boxbe.com>\r\n\r\nHello, your message to {address} is waiting.\r\n\
         {address} uses Boxbe to protect the inbox: awaiting verification.\r\n\
         Click to verify you are a person: https://www.boxbe.com/verify?tc=77&ue=x\r\n\
         Privacy: https://www.boxbe.com/privacy\r\n"
    )
}

/// A challenge for mail sent to Raj: an event and a task with the link (never followed);
/// one naming Jane, to whom nothing was sent, is only noted: a forged challenge is phishing.
#[test]
fn a_challenge_tied_to_mail_sent_asks_the_rep_to_verify_and_a_forged_one_is_noted() {
    let effects = effects_of(&challenge_to("raj@globex.com"));
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_CHALLENGED);
    assert_eq!(effects[0].event.prospect_id, RAJ);
    assert_eq!(
        effects[0].event.data.value()["link"],
        "https://www.boxbe.com/verify?tc=77&ue=x"
    );
    let task = effects[0].task.as_ref().expect("a task");
    assert_eq!(task.link.as_deref(), Some("https://www.boxbe.com/verify?tc=77&ue=x"));
    assert_eq!(task.logs, EMAIL_VERIFIED);
    assert!(task.instruction.contains("verify yourself"), "{}", task.instruction);

    let forged = effects_of(&challenge_to("jane@acme.io"));
    assert_eq!(forged.len(), 1, "{forged:?}");
    assert_eq!(forged[0].event.kind, EMAIL_UNVERIFIED);
    assert!(forged[0].task.is_none());
}

/// Mail to Raj was forwarded to an address of his that nobody here knows: the
/// DSN names that as Final-Recipient and Raj's as Original-Recipient.
#[test]
fn a_bounce_of_forwarded_mail_is_matched_by_the_original_recipient() {
    let effects = effects_of(
        "From: MAILER-DAEMON@mx.globex.com\r\nTo: ann@us.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <fwd-1@mx.globex.com>\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.globex.com\r\n\r\n\
         Original-Recipient: rfc822; raj@globex.com\r\nFinal-Recipient: rfc822; raj.private@home.example\r\n\
         Action: failed\r\nStatus: 5.1.1\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <o1@rapport.us.example>\r\nTo: raj@globex.com\r\n--B--\r\n",
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(effects[0].event.kind, EMAIL_BOUNCED);
    assert_eq!(effects[0].event.prospect_id, RAJ);
    assert_eq!(effects[0].event.data.value()["recipient"], "raj@globex.com");
}

/// A delay warning (still being retried) is no failure: no event, no suppression,
/// so no sequence stops or retries because of it.
#[test]
fn a_delay_warning_changes_nothing() {
    let effects = effects_of(
        "From: Mail Delivery System <MAILER-DAEMON@mx.globex.com>\r\nTo: ann@us.example\r\n\
         Subject: Warning: message 1abc delayed 24 hours\r\nMessage-ID: <delay-1@mx.globex.com>\r\n\r\n\
         This message was created automatically by mail delivery software.\r\nA message that you sent has not yet \
         been delivered to one or more of its\r\nrecipients after more than 24 hours on the queue.\r\n\r\n  \
         raj@globex.com\r\n    Delay reason: 451 Temporary local problem\r\n\r\nNo action is required on your part. \
         Delivery attempts will continue for\r\nsome time.\r\n",
    );
    assert!(effects.is_empty(), "{effects:?}");
}
