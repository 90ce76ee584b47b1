//! One simulated week of a small world on real servers: a prospect's GitHub
//! feed on a local HTTP server, the rep's mailbox on Dovecot (a reply and an
//! unsubscribe arrive there), a sequence sent through aiosmtpd, the rules and
//! the daily digests. Each day runs what the daemon's jobs run, with `--now`.
//! The same week runs again with the data on PostgreSQL.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::http::{Response, Server};
use common::imap::{Dovecot, PASSWORD};
use common::smtp::{header, SmtpSink};
use common::Workspace;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Jane's GitHub activity: the feed is read twice a day, and each day shows
/// one more entry, dated Monday, Tuesday and Wednesday morning.
fn github_feed(polls: &AtomicUsize) -> Vec<u8> {
    let shown = polls.fetch_add(1, Ordering::SeqCst) / 2 + 1;
    let entries: String = [
        ("2026-11-30T08:00:00Z", "Faster CSV import"),
        ("2026-12-01T08:00:00Z", "Streaming exports"),
        ("2026-12-02T08:00:00Z", "A new deploy pipeline"),
    ]
    .iter()
    .take(shown)
    .enumerate()
    .map(|(n, (at, title))| {
        format!(
            "<entry><id>tag:github.com,2008:Push/{n}</id><published>{at}</published><updated>{at}</updated>\
             <link rel=\"alternate\" href=\"https://github.com/jane/shipit/commit/{n}\"/>\
             <title>jane pushed: {title}</title><content type=\"html\">{title} for shipit</content></entry>"
        )
    })
    .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>tag:github.com,2008:https://github.com/jane</id><title>jane</title>\
         <updated>2026-12-02T08:00:00Z</updated>{entries}</feed>"
    )
    .into_bytes()
}

fn mail(from: &str, subject: &str, id: &str, in_reply_to: Option<&str>, date: &str, body: &str) -> Vec<u8> {
    let thread = in_reply_to
        .map(|parent| format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: Ann Rep <ann@example.com>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{thread}\
         Date: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Tuesday afternoon: Raj answers the first email, Lee asks to be left alone.
fn tuesday_mail(smtp: &SmtpSink, dovecot: &Dovecot) {
    let sent = smtp
        .received()
        .into_iter()
        .find(|m| header(m, "X-RcptTo").as_deref() == Some("raj@globex.com"))
        .expect("Raj's first email");
    let first = header(&sent, "Message-ID")
        .expect("id")
        .trim_matches(['<', '>'])
        .to_string();
    dovecot.client().append_all(
        "INBOX",
        &[
            mail(
                "Raj Patel <raj@globex.com>",
                "Re: Hello Raj",
                "r1@globex.com",
                Some(&first),
                "Tue, 1 Dec 2026 12:00:00 +0000",
                "Sounds good, can you send pricing?\r\n\r\nOn Mon, Ann wrote:\r\n> Hi",
            ),
            mail(
                "Lee Chen <lee@bluepeak.example>",
                "unsubscribe",
                "u1@bluepeak.example",
                None,
                "Tue, 1 Dec 2026 12:30:00 +0000",
                "unsubscribe",
            ),
        ],
    );
}

fn at(ws: &Workspace, now: DateTime<Utc>, args: &[&str]) -> String {
    ws.at(&now.to_rfc3339(), args)
}

#[test]
fn a_week_of_feeds_replies_a_sequence_rules_and_digests() {
    a_week(None);
}

/// The same week with the team's data on PostgreSQL: every use case of the
/// week (polls, mail sync, sending, rules, digests) through the other store.
#[test]
fn the_same_week_on_postgresql() {
    let cluster = common::postgres::Postgres::start();
    a_week(Some(cluster.database("week")));
}

fn a_week(database: Option<String>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let github = Server::start(move |req| match req.path.as_str() {
        "/jane.atom" => Response::new(200, github_feed(&counter)).header("Content-Type", "application/atom+xml"),
        _ => Response::new(404, "not found"),
    });
    let smtp = SmtpSink::start();
    let dovecot = Dovecot::start();
    let ws = Workspace::on_database(database);
    ws.init_ann();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let jobs = common::jobs_off_except(&[]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             [http]\nenabled = false\npublic_url = \"https://rapport.example.com\"\n\
             [sending]\npostal_address = \"Ann Rep, Storgata 1, 0155 Oslo\"\nmin_gap_secs = 0\nmax_jitter_secs = 0\n\
             [fetch]\nper_host_interval_ms = 0\n[fetch.base_urls]\n\"github.com\" = \"{}\"\n{jobs}{}",
            smtp.port,
            github.url(""),
            dovecot.mailbox_config(&password)
        ),
    );
    ws.write(
        "config/sequences/intro.toml",
        "name = \"Intro\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello {{ prospect.first_name }}\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"2 business days\"\nsubject = \"Again\"\ntext = \"Hi again\"\n",
    );
    let monday: DateTime<Utc> = "2026-11-30T05:00:00Z".parse().expect("time");
    at(
        &ws,
        monday,
        &[
            "prospect",
            "add",
            "--name",
            "Jane Doe",
            "--email",
            "jane@acme.io",
            "--company",
            "Acme",
            "--value",
            "80k",
            "--profile",
            "https://github.com/jane",
        ],
    );
    at(
        &ws,
        monday,
        &[
            "prospect",
            "add",
            "--name",
            "Raj Patel",
            "--email",
            "raj@globex.com",
            "--company",
            "Globex",
            "--value",
            "50k",
        ],
    );
    at(
        &ws,
        monday,
        &[
            "prospect",
            "add",
            "--name",
            "Lee Chen",
            "--email",
            "lee@bluepeak.example",
            "--stage",
            "qualification",
            "--value",
            "120k",
        ],
    );
    at(&ws, monday, &["sequence", "enroll", "intro", "raj@globex.com"]);

    for day in 0..7 {
        let morning = monday + Duration::days(day);
        // 07:00 in Oslo: the day's digest.
        at(&ws, morning + Duration::hours(1), &["digest", "--send"]);
        for hour in [4, 13] {
            if day == 1 && hour == 13 {
                tuesday_mail(&smtp, &dovecot);
            }
            let now = morning + Duration::hours(hour);
            at(&ws, now, &["poll", "--once"]);
            at(&ws, now, &["mail", "sync", "--once"]);
            at(&ws, now, &["rules", "run", "--once"]);
            at(&ws, now, &["sequence", "send", "--once"]);
        }
    }

    // Raj: one email, then his reply stopped the sequence and qualified him.
    let to = |address: &str| {
        smtp.received()
            .into_iter()
            .filter(|m| header(m, "X-RcptTo").as_deref() == Some(address))
            .collect::<Vec<_>>()
    };
    assert_eq!(to("raj@globex.com").len(), 1, "nothing after the reply");
    let raj = ws.json(&["prospect", "show", "raj@globex.com"]);
    assert_eq!(raj["prospect"]["stage"], "qualification");
    let moved = raj["events"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["kind"] == "stage.changed"))
        .expect("a stage change");
    assert_eq!(moved["actor"]["name"], "reply-qualifies");
    assert!(
        moved["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("email.replied")),
        "{moved}"
    );
    // Lee: a suggestion with its reason, waiting for Ann.
    let suggestions = ws.json(&["suggestions"]);
    assert_eq!(suggestions[0]["prospect_name"], "Lee Chen", "{suggestions}");
    assert!(suggestions[0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("unsubscribe-suggests-lost")));

    // Seven digests, one a morning; the sections follow the week.
    let digests = to("ann@example.com");
    assert_eq!(digests.len(), 7, "one digest a day");
    assert!(digests
        .iter()
        .all(|d| header(d, "Auto-Submitted").as_deref() == Some("auto-generated")));
    let day = |date: &str| {
        digests
            .iter()
            .find(|d| header(d, "Subject").is_some_and(|s| s.contains(date)))
            .unwrap_or_else(|| panic!("no digest for {date}"))
            .clone()
    };
    let tuesday = day("Tuesday 1 December 2026");
    assert!(
        tuesday.contains("New posts to engage with") && tuesday.contains("Faster CSV import"),
        "{tuesday}"
    );
    let wednesday = day("Wednesday 2 December 2026");
    assert!(
        wednesday.contains("Replies to answer") && wednesday.contains("Sounds good, can you send pricing?"),
        "{wednesday}"
    );
    assert!(!wednesday.contains("On Mon, Ann wrote"), "the fresh text only");
    assert!(
        wednesday.contains("Suggestions to approve") && wednesday.contains("Lee Chen"),
        "{wednesday}"
    );
    let thursday = day("Thursday 3 December 2026");
    assert!(
        thursday.contains("Tasks and reminders due") && thursday.contains("warm"),
        "{thursday}"
    );
    assert!(thursday.contains("Pipeline"), "{thursday}");
}
