//! Mail anyone can forge must not change what rapport does: bounces,
//! complaints and out-of-office answers act only when tied to mail really
//! sent to the address, and an event's time is when the server received the
//! message. Real Dovecot (the rep's mailbox) and aiosmtpd (what rapport sends);
//! simulated days pass with `--now`.

mod common;

use chrono::{DateTime, Utc};
use common::imap::{Dovecot, PASSWORD};
use common::smtp::{header, SmtpSink};
use common::Workspace;
use serde_json::Value;

const TWO_EMAILS: &str = "name = \"Two\"\n\
    [[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n\
    [[steps]]\ntype = \"email\"\nafter = \"1 business day\"\nsubject = \"Again\"\ntext = \"Hi again\"\n";

/// A date no server could have received anything at: a forger's `Date:`.
const FAR_FUTURE: &str = "Fri, 1 Jan 2100 00:00:00 +0000";
/// When the server received the reports dated `FAR_FUTURE` (INTERNALDATE).
const RECEIVED: &str = "2026-11-30T13:00:00Z";

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("time")
}

/// Ann's world: Jane and Raj in a two-email sequence whose first email went
/// out on Monday 30 November; Kim (qualification) was never mailed.
fn world(smtp: &SmtpSink, dovecot: &Dovecot) -> Workspace {
    let ws = Workspace::with_rep();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    common::write_sending_config(
        &ws,
        smtp.port,
        common::imap::free_port(),
        &dovecot.mailbox_config(&password),
        "",
    );
    ws.write("config/sequences/two.toml", TWO_EMAILS);
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    ws.ok(&["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"]);
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Kim Lee",
        "--email",
        "kim@initech.example",
        "--stage",
        "qualification",
    ]);
    let monday = "2026-11-30T09:00:00Z";
    ws.at(monday, &["sequence", "enroll", "two", "--stage", "prospecting"]);
    ws.at(monday, &["sequence", "send", "--once"]);
    assert_eq!(smtp.received().len(), 2, "the first email to Jane and Raj");
    ws
}

/// The Message-ID rapport sent to `address`, without brackets.
fn sent_id(smtp: &SmtpSink, address: &str) -> String {
    smtp.received()
        .iter()
        .find(|m| header(m, "X-RcptTo").as_deref() == Some(address))
        .and_then(|m| header(m, "Message-ID"))
        .expect("a message to the address")
        .trim_matches(['<', '>'])
        .to_string()
}

/// A DSN from a remote server: `status` for `recipient`, quoting the
/// original's Message-ID when given (as real reports do in their
/// text/rfc822-headers part).
fn dsn(n: u32, recipient: &str, status: &str, original: Option<&str>, date: &str) -> Vec<u8> {
    let quoted = original.map_or(String::new(), |id| {
        format!(
            "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Ann Rep <ann@example.com>\r\n\
             To: {recipient}\r\nSubject: Hello\r\nMessage-ID: <{id}>\r\n\r\n"
        )
    });
    let text = if status.starts_with("5.7") {
        "Our system has detected that this message is likely unsolicited mail; the sending IP has a poor reputation."
    } else {
        "The email account that you tried to reach does not exist."
    };
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>\r\nTo: ann@example.com\r\n\
         Date: {date}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn{n}@mx.remote.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n{text}\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.remote.example\r\n\r\n\
         Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; 550 {status} {text}\r\n{quoted}--B--\r\n"
    )
    .into_bytes()
}

/// An out-of-office answer from `from`, in no thread.
fn out_of_office(from: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Ann Rep <ann@example.com>\r\nSubject: Automatic reply: Hello\r\n\
         Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <ooo@{from}>\r\nAuto-Submitted: auto-replied\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Thank you for your message. I am out of the office and will be back on 21 December.\r\n"
    )
    .into_bytes()
}

fn kinds(ws: &Workspace, email: &str) -> Vec<String> {
    let shown = ws.json(&["prospect", "show", email]);
    shown["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn pause_alerts(smtp: &SmtpSink) -> usize {
    smtp.received()
        .iter()
        .filter(|m| header(m, "Subject").as_deref() == Some("Rapport paused your sequences"))
        .count()
}

fn enrolment(ws: &Workspace, now: &str, email: &str) -> Value {
    let status = ws.json_at(now, &["sequence", "status"]);
    status
        .as_array()
        .and_then(|all| all.iter().find(|e| e["prospect_email"] == email))
        .cloned()
        .expect("enrolment")
}

#[test]
fn forged_reports_change_nothing_and_show_as_unverified() {
    let smtp = SmtpSink::start();
    let dovecot = Dovecot::start();
    let ws = world(&smtp, &dovecot);
    let mut imap = dovecot.client();
    imap.append_all(
        "INBOX",
        &[
            // A hard bounce for an address nothing was ever sent to.
            dsn(
                1,
                "kim@initech.example",
                "5.1.1",
                None,
                "Mon, 30 Nov 2026 13:00:00 +0000",
            ),
            // A hard bounce quoting a made-up message.
            dsn(
                3,
                "raj@globex.com",
                "5.1.1",
                Some("made-up@evil.example"),
                "Mon, 30 Nov 2026 13:00:00 +0000",
            ),
            out_of_office("kim@initech.example"),
            // "Mail from the rep" that is only in INBOX, and a bounce quoting it.
            b"From: Ann Rep <ann@example.com>\r\nTo: kim@initech.example\r\nSubject: Hello\r\n\
              Message-ID: <forged-2@example.com>\r\nDate: Mon, 30 Nov 2026 12:30:00 +0000\r\n\r\nHi\r\n"
                .to_vec(),
            dsn(
                4,
                "kim@initech.example",
                "5.1.1",
                Some("forged-2@example.com"),
                "Mon, 30 Nov 2026 13:00:00 +0000",
            ),
        ],
    );
    // "Bad reputation" quoting a message nobody sent, dated far in the future.
    let forged = dsn(2, "jane@acme.io", "5.7.1", Some("forged-1@evil.example"), FAR_FUTURE);
    imap.append_received("INBOX", &forged, utc(RECEIVED));
    let tuesday = "2026-12-01T09:00:00Z";
    ws.at(tuesday, &["mail", "sync", "--once"]);
    ws.at(tuesday, &["sequence", "send", "--once"]);

    for email in ["jane@acme.io", "raj@globex.com", "kim@initech.example"] {
        let shown = ws.json(&["prospect", "show", email]);
        assert_eq!(shown["suppressed"], false, "{email} is not suppressed: {shown}");
        assert!(shown["prospect"]["away_until"].is_null(), "{email}: {shown}");
        let kinds = kinds(&ws, email);
        assert!(
            !kinds.iter().any(|k| k == "email.bounced" || k == "email.auto_replied"),
            "{email}: {kinds:?}"
        );
    }
    assert_eq!(
        kinds(&ws, "kim@initech.example")
            .iter()
            .filter(|k| *k == "email.unverified")
            .count(),
        3
    );
    assert_eq!(pause_alerts(&smtp), 0, "the mailbox is not paused");
    for email in ["jane@acme.io", "raj@globex.com"] {
        let enrolment = enrolment(&ws, tuesday, email);
        assert_eq!(enrolment["state"], "finished", "{email} got every step: {enrolment}");
    }
    assert_eq!(smtp.received().len(), 4, "the second email went to Jane and Raj");

    // Shown, with the reason, where the rep looks.
    let status = ws.json_at(tuesday, &["mail", "status"]);
    let unverified = status["unverified"].as_array().expect("unverified reports");
    assert_eq!(unverified.len(), 5, "{status}");
    let jane = unverified
        .iter()
        .find(|u| u["prospect_email"] == "jane@acme.io")
        .expect("Jane's forged report");
    assert_eq!(jane["report"], "bounce");
    assert!(
        jane["why"].as_str().unwrap().contains("forged-1@evil.example"),
        "{jane}"
    );
    assert_eq!(jane["date"], "2100-01-01T00:00:00Z", "the Date header is shown");
    assert_eq!(jane["received_at"], RECEIVED, "timed by when the server received it");
    let text = ws.at(tuesday, &["mail", "status"]);
    assert!(
        text.contains("unverified: it quotes no Message-ID and nothing was ever sent to kim@initech.example"),
        "{text}"
    );
    let digest = ws.at("2026-12-02T09:00:00Z", &["digest", "--date", "2026-12-02"]);
    assert!(digest.contains("Needs a look"), "{digest}");
    assert!(digest.contains("- Kim Lee: a bounce"), "{digest}");
}

#[test]
fn reports_quoting_rapports_own_mail_act_and_a_resume_holds() {
    let smtp = SmtpSink::start();
    let dovecot = Dovecot::start();
    let ws = world(&smtp, &dovecot);
    let jane_id = sent_id(&smtp, "jane@acme.io");
    let raj_id = sent_id(&smtp, "raj@globex.com");
    let mut imap = dovecot.client();
    // Received on Monday afternoon, whatever the sender wrote in Date.
    imap.append_received(
        "INBOX",
        &dsn(1, "jane@acme.io", "5.7.1", Some(&jane_id), FAR_FUTURE),
        utc(RECEIVED),
    );
    imap.append(
        "INBOX",
        &dsn(
            2,
            "raj@globex.com",
            "5.1.1",
            Some(&raj_id),
            "Mon, 30 Nov 2026 13:00:00 +0000",
        ),
    );
    let tuesday = "2026-12-01T09:00:00Z";
    ws.at(tuesday, &["mail", "sync", "--once"]);
    // Stopped as soon as the bounce is recorded, before any send pass.
    let stopped = enrolment(&ws, tuesday, "raj@globex.com");
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    ws.at(tuesday, &["sequence", "send", "--once"]);
    let raj = ws.json(&["prospect", "show", "raj@globex.com"]);
    assert_eq!(
        raj["suppressed"], true,
        "a hard bounce of rapport's own mail suppresses: {raj}"
    );
    assert_eq!(
        pause_alerts(&smtp),
        1,
        "a policy refusal of rapport's own mail pauses the mailbox: {}",
        ws.ok(&["prospect", "show", "jane@acme.io"])
    );
    assert_eq!(smtp.received().len(), 3, "nothing more went out");
    let bounce = raj["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "email.bounced")
        .cloned()
        .expect("bounce");
    assert_eq!(bounce["data"]["verified_by"], "a message rapport sent", "{bounce}");

    // The rep resumes; the refusal dated 2100 does not pause again.
    ws.at("2026-12-01T10:00:00Z", &["sequence", "resume"]);
    for now in ["2026-12-01T11:00:00Z", "2026-12-02T09:00:00Z", "2026-12-03T09:00:00Z"] {
        ws.at(now, &["mail", "sync", "--once"]);
        ws.at(now, &["sequence", "send", "--once"]);
    }
    assert_eq!(pause_alerts(&smtp), 1, "resumed for good");
    let to_jane = smtp
        .received()
        .iter()
        .filter(|m| header(m, "X-RcptTo").as_deref() == Some("jane@acme.io"))
        .count();
    assert_eq!(to_jane, 2, "Jane got the second email after the resume");
    let raj = enrolment(&ws, "2026-12-03T09:00:00Z", "raj@globex.com");
    assert_eq!(raj["state"], "stopped", "{raj}");
    assert_eq!(raj["stop_reason"], "hard bounce (user_unknown)", "{raj}");
}
