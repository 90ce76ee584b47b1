//! Delay warnings and failure notices of the common mail systems, each in the
//! shape its software writes: a delay is never a failure, and a notice is
//! known by its own wording even without a daemon's address or headers.

use chrono::NaiveDate;

use crate::domain::mail::{classify, MailClass};

fn class_and_recipients(raw: &str) -> (MailClass, Vec<String>) {
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let c = classify(raw.as_bytes(), day).unwrap_or_else(|e| panic!("not classified: {e}"));
    (c.class, c.recipients.into_iter().map(|r| r.address).collect())
}

fn notice(from: &str, subject: &str, body: &str) -> String {
    format!("From: {from}\nTo: ann@us.example\nSubject: {subject}\n\n{body}")
}

const DAEMON: &str = "Mail Delivery System <MAILER-DAEMON@mx.example.net>";

#[test]
fn delay_warnings_of_every_common_mail_system_are_delays() {
    let warnings = [
        (
            "Exim",
            "Warning: message 1abc-000 delayed 24 hours",
            "This message was created automatically by mail delivery software.\nA message that you sent has not \
             yet been delivered to one or more of its\nrecipients after more than 24 hours on the queue on \
             mx.example.net.\n\nThe address to which the message has not yet been delivered is:\n\n  \
             jane@acme.example\n    Delay reason: SMTP error from remote mail server after RCPT TO:\n    451 \
             Temporary local problem\n\nNo action is required on your part. Delivery attempts will continue for\n\
             some time, and this warning may be repeated at intervals.\n",
        ),
        (
            "Postfix",
            "Delayed Mail (still being retried)",
            "This is the mail system at host mx.example.net.\n\n####################################################\
             #################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n\
             #####################################################################\n\nYour message could not be \
             delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n\
             <jane@acme.example>: connect to mx.acme.example[192.0.2.1]:25: Connection timed out\n",
        ),
        (
            "qmail",
            "failure notice",
            "Hi. This is the qmail-send program at mx.example.net.\nI'm having trouble delivering your message to \
             the following address.\nI'll keep trying until the message is a week old.\n\n<jane@acme.example>:\n\
             Connection to 192.0.2.1 timed out.\n",
        ),
        (
            "Sendmail",
            "Warning: could not send message for past 4 hours",
            "    **********************************************\n    **      THIS IS A WARNING MESSAGE ONLY      \
             **\n    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n    **********************************************\n\n\
             The original message was received at Mon, 1 Dec 2026 09:00:00 GMT\n\n   ----- Transcript of session \
             follows -----\n<jane@acme.example>... Deferred: Connection timed out with mx.acme.example.\n\
             Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n",
        ),
        (
            "Exchange",
            "Delivery Status Notification (Delay)",
            "Delivery is delayed to these recipients or groups:\n\njane@acme.example\n\nSubject: Hello\n\nThis \
             message hasn't been delivered yet. Delivery will continue to be attempted.\n",
        ),
        (
            "Gmail",
            "Delivery Status Notification (Delay)",
            "** Delivery incomplete **\n\nThere was a temporary problem delivering your message to \
             jane@acme.example. Gmail will retry for 47 more hours. You'll be notified if the delivery fails \
             permanently.\n",
        ),
        (
            "Lotus Domino",
            "Delivery Delayed: Hello",
            "Your message\n\n  Subject: Hello\n\nhas not been delivered yet to: jane@acme.example\n\nbecause: \
             the remote server did not respond. Delivery will be retried.\n",
        ),
        (
            "GroupWise",
            "Message status - delayed",
            "The message is delayed.\n\nTo: jane@acme.example\nThe system will retry delivery.\n",
        ),
    ];
    for (system, subject, body) in warnings {
        let (class, recipients) = class_and_recipients(&notice(DAEMON, subject, body));
        assert_eq!(class, MailClass::DsnDelayed, "{system}");
        assert_eq!(recipients, vec!["jane@acme.example".to_string()], "{system}");
    }
}

#[test]
fn a_delay_notice_that_has_given_up_is_a_failure() {
    let body = "This message was created automatically by mail delivery software.\nA message that you sent could \
                not be delivered to one or more of its\nrecipients. This is a permanent error. The following \
                address(es) failed:\n\n  jane@acme.example\n    retry timeout exceeded\n";
    let (class, _) = class_and_recipients(&notice(DAEMON, "Mail delivery failed", body));
    assert_eq!(class, MailClass::Bounce);
}

#[test]
fn a_notice_is_known_by_its_wording_without_headers_that_say_so() {
    // Forwarded or exported without its daemon sender and subject.
    let body = "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your \
                message could not\nbe delivered to one or more recipients.\n\n<jane@acme.example>: host \
                mx.acme.example[192.0.2.1] said: 550\n    5.1.1 <j.doe@acme.example>... User unknown (in reply to \
                RCPT TO command)\n";
    let (class, recipients) = class_and_recipients(&notice("Ann <ann@us.example>", "Fwd: hello", body));
    assert_eq!(class, MailClass::Bounce);
    // The paragraph's address, not the one the remote server echoed inside it.
    assert_eq!(recipients, vec!["jane@acme.example".to_string()]);
}

#[test]
fn every_failed_recipient_of_a_qmail_notice_is_named_even_if_the_original_lists_one() {
    let body = "Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able to deliver your \
                message to the\nfollowing addresses. This is a permanent error; I've given up.\n\n\
                <jane@acme.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n\n<raj@globex.example>:\n\
                Sorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\n\
                To: jane@acme.example\nSubject: hi\n\nhi\n";
    let (class, recipients) = class_and_recipients(&notice(DAEMON, "failure notice", body));
    assert_eq!(class, MailClass::Bounce);
    assert_eq!(
        recipients,
        vec!["jane@acme.example".to_string(), "raj@globex.example".to_string()]
    );
}

#[test]
fn the_sender_named_in_a_notice_is_never_the_failed_recipient() {
    let body = "Your message to jane@acme.example couldn't be delivered.\njane wasn't found at acme.example.\n\n\
                Sender Address: bounces+a1b2@us.example\nRecipient Address: jane@acme.example\n\
                Error: 550 5.1.10 RESOLVER.ADR.RecipientNotFound\n";
    let (class, recipients) = class_and_recipients(&notice(
        "Microsoft Outlook <MicrosoftExchange@acme.example>",
        "Undeliverable: hello",
        body,
    ));
    assert_eq!(class, MailClass::Bounce);
    assert_eq!(recipients, vec!["jane@acme.example".to_string()]);
}

#[test]
fn every_address_in_x_failed_recipients_is_a_failed_recipient() {
    let raw = "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: ann@us.example\n\
               Subject: Mail delivery failed: returning message to sender\n\
               X-Failed-Recipients: jane@acme.example, raj@globex.example\n\n\
               This message was created automatically by mail delivery software.\n\n\
               A message that you sent could not be delivered to one or more of its\nrecipients. \
               This is a permanent error. The following address(es) failed:\n\n  jane@acme.example\n    \
               Unrouteable address\n";
    let (class, recipients) = class_and_recipients(raw);
    assert_eq!(class, MailClass::Bounce);
    assert_eq!(
        recipients,
        vec!["jane@acme.example".to_string(), "raj@globex.example".to_string()]
    );
}

#[test]
fn a_mailing_lists_addresses_are_never_the_failed_recipient() {
    let raw =
        "From: MAILER-DAEMON@mx.example.net\nTo: ann@us.example\nSubject: Undelivered Mail Returned to Sender\n\n\
               Your message could not be delivered to jane@acme.example: user unknown.\n\
               Please contact sales-list-owner@lists.us.example for help.\n\n\
               ------ Original message ------\nFrom: ann@us.example\nTo: jane@acme.example\n\
               List-Owner: <mailto:sales-list-owner@lists.us.example>\nSubject: hi\n\nhi\n";
    let (_, recipients) = class_and_recipients(raw);
    assert_eq!(recipients, vec!["jane@acme.example".to_string()]);
}
