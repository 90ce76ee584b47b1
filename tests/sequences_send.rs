//! Sending sequences against real servers on loopback: aiosmtpd records what
//! it receives, Dovecot holds the rep's mailbox (replies and bounces arrive
//! there), and the daemon's listener takes one-click unsubscribes. Simulated
//! days pass by running each command with `--now`.

mod common;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use common::imap::{Dovecot, PASSWORD};
use common::smtp::{header, SmtpSink};
use common::{http_request, stderr, stdout, wait_for_port, Workspace, POSTAL};
use std::collections::BTreeMap;
use std::process::{Child, Stdio};

const THREE_EMAILS: &str = r#"
name = "Three touches"
thread = true

[[steps]]
type = "email"
after = "0"
subject = "{{ prospect.company }} and faster deploys"
text = """
Hi {{ prospect.first_name }},
how does {{ prospect.company }} ship today?
{{ rep.first_name }}
"""

[[steps]]
type = "email"
after = "2 business days"
subject = "{{ prospect.company }} and faster deploys"
text = "Hi {{ prospect.first_name }}, a short follow-up.\n"

[[steps]]
type = "email"
after = "3 business days"
subject = "Last note for {{ prospect.first_name }}"
text = "Hi {{ prospect.first_name }}, one last note.\n"
"#;

/// A config for these servers: everything the daemon would do on its own is
/// off, so only the commands the test runs act.
fn write_config(ws: &Workspace, smtp_port: u16, http_port: u16, mailbox: &str, sending: &str) {
    common::write_sending_config(ws, smtp_port, http_port, mailbox, sending);
}

const ONE_EMAIL: &str =
    "name = \"One\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n";

/// When the one-email tests enrol Jane: Tuesday 1 December 2026, 10:00 UTC.
fn enrolled_at() -> DateTime<Utc> {
    utc("2026-12-01T10:00:00Z")
}

/// Rep Ann with Jane enrolled in a one-email sequence; `edit` changes the
/// config written for `smtp_port` (the rest of the test rewrites it as it likes).
fn jane_in_one_email(smtp_port: u16, edit: impl Fn(String) -> String) -> Workspace {
    let ws = Workspace::with_rep();
    write_config(&ws, smtp_port, common::imap::free_port(), "", "");
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write("config/rapport.toml", edit(config));
    ws.write("config/sequences/one.toml", ONE_EMAIL);
    ws.ok(&["prospect", "add", "--name", "Jane", "--email", "jane@acme.io"]);
    at(
        &ws,
        enrolled_at(),
        &["sequence", "enroll", "one", "--stage", "prospecting"],
    );
    ws
}

fn at(ws: &Workspace, now: DateTime<Utc>, args: &[&str]) -> String {
    ws.at(&now.to_rfc3339(), args)
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("time")
}

/// The daemon, for its HTTP listener only.
fn spawn_listener(ws: &Workspace, port: u16) -> Child {
    let child = ws
        .command()
        .arg("daemon")
        .env("RAPPORT__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(ws.path("daemon.log")).expect("log"))
        .spawn()
        .expect("start daemon");
    wait_for_port(port, std::time::Duration::from_secs(20));
    child
}

/// Received messages by recipient, oldest first.
fn by_recipient(smtp: &SmtpSink) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for message in smtp.received() {
        let to = header(&message, "X-RcptTo").unwrap_or_default().to_lowercase();
        grouped.entry(to).or_default().push(message);
    }
    grouped
}

fn sent_at(message: &str) -> DateTime<Utc> {
    let date = header(message, "Date").expect("Date header");
    DateTime::parse_from_rfc2822(&date)
        .expect("RFC 2822 date")
        .with_timezone(&Utc)
}

fn inside_office_hours(when: DateTime<Utc>, zone: Tz) -> bool {
    let local = when.with_timezone(&zone);
    let open = NaiveTime::from_hms_opt(8, 0, 0).expect("time");
    let close = NaiveTime::from_hms_opt(17, 0, 0).expect("time");
    !matches!(local.weekday(), Weekday::Sat | Weekday::Sun) && local.time() >= open && local.time() < close
}

fn id_of(message: &str) -> String {
    header(message, "Message-ID")
        .expect("Message-ID")
        .trim_matches(['<', '>'])
        .to_string()
}

fn reply(from: &str, to_id: &str, n: usize) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Ann Rep <ann@example.com>\r\nSubject: Re: your note\r\nMessage-ID: <reply{n}@customer.example>\r\n\
         In-Reply-To: <{to_id}>\r\nReferences: <{to_id}>\r\nDate: Mon, 30 Nov 2026 16:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThanks, let's talk on Thursday.\r\n"
    )
    .into_bytes()
}

fn hard_bounce(address: &str, original_id: &str) -> Vec<u8> {
    let fixture = std::fs::read_to_string(common::fixture("mail/bounce_hard_5_1_1.eml")).expect("fixture");
    fixture
        .replace("old.contact@gone.example", address)
        .replace("sam@ourcompany.example", "ann@example.com")
        .replace("outreach-200@ourcompany.example", original_id)
        .replace("26 Nov 2026", "30 Nov 2026")
        .replace('\n', "\r\n")
        .into_bytes()
}

#[test]
fn fifty_prospects_three_steps_end_to_end() {
    let smtp = SmtpSink::start();
    let dovecot = Dovecot::start();
    let ws = Workspace::with_rep();
    let http_port = common::imap::free_port();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    write_config(
        &ws,
        smtp.port,
        http_port,
        &dovecot.mailbox_config(&password),
        "daily_cap = 200",
    );
    ws.write("config/sequences/intro.toml", THREE_EMAILS);
    // Half in Oslo, half in New York: each is mailed in their own office hours.
    let mut csv = String::from("First Name,Last Name,Email,Company,Time Zone\n");
    for n in 0..50 {
        let zone = if n % 2 == 0 { "Europe/Oslo" } else { "America/New_York" };
        csv.push_str(&format!("P{n},Test,p{n}@customer{n}.example,Company {n},{zone}\n"));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);
    let zone_of = |address: &str| -> Tz {
        let n: usize = address[1..address.find('@').unwrap_or(1)].parse().unwrap_or(0);
        if n % 2 == 0 {
            chrono_tz::Europe::Oslo
        } else {
            chrono_tz::America::New_York
        }
    };

    // Monday 30 November 2026, 05:00 UTC: before anyone's window opens.
    let start = utc("2026-11-30T05:00:00Z");
    let enrolled = at(
        &ws,
        start,
        &["--json", "sequence", "enroll", "intro", "--stage", "prospecting"],
    );
    let enrolled: serde_json::Value = serde_json::from_str(&enrolled).expect("JSON");
    assert_eq!(enrolled["enrolled"].as_array().map(Vec::len), Some(50), "{enrolled}");
    let mut listener = spawn_listener(&ws, http_port);

    let mut now = start;
    let first_day_over = utc("2026-11-30T23:00:00Z");
    while now <= first_day_over {
        at(&ws, now, &["sequence", "send", "--once"]);
        now += Duration::hours(1);
    }
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 50, "everyone got the first email on day one");

    // Five answer, one address bounces, two unsubscribe in one click, and one
    // only opens the unsubscribe page (as a link scanner would).
    let first_id = |n: usize| id_of(&received[&format!("p{n}@customer{n}.example")][0]);
    let mut inbox: Vec<Vec<u8>> = (0..5)
        .map(|n| reply(&format!("P{n} Test <p{n}@customer{n}.example>"), &first_id(n), n))
        .collect();
    inbox.push(hard_bounce("p5@customer5.example", &first_id(5)));
    dovecot.client().append_all("INBOX", &inbox);
    at(&ws, now, &["mail", "sync", "--once"]);
    for n in [6, 7, 8] {
        let message = &received[&format!("p{n}@customer{n}.example")][0];
        let list = header(message, "List-Unsubscribe").expect("List-Unsubscribe");
        assert_eq!(
            header(message, "List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let url = list
            .split(['<', '>'])
            .find(|part| part.starts_with("http://"))
            .expect("an HTTP(S) unsubscribe URL");
        let path = &url[url.find("/u/").expect("path")..];
        let (status, page) = http_request(http_port, "GET", path, "");
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("<form method=\"post\">"), "{page}");
        if n != 8 {
            let (status, page) = http_request(http_port, "POST", path, "List-Unsubscribe=One-Click");
            assert_eq!(status, 200, "{page}");
            assert!(page.contains("You are unsubscribed"), "{page}");
        }
    }
    let (status, _) = http_request(http_port, "POST", "/u/1.00000000000000000000000000000000", "");
    assert_eq!(status, 404, "a forged token changes nothing");

    // Two more weeks pass, an hour at a time.
    let end = utc("2026-12-14T23:00:00Z");
    while now <= end {
        at(&ws, now, &["sequence", "send", "--once"]);
        now += Duration::hours(3);
    }
    let _ = listener.kill();
    let _ = listener.wait();

    let received = by_recipient(&smtp);
    for n in 0..50 {
        let address = format!("p{n}@customer{n}.example");
        let messages = &received[&address];
        let expected = if n < 8 { 1 } else { 3 };
        assert_eq!(messages.len(), expected, "{address} got {} emails", messages.len());
        let first = id_of(&messages[0]);
        let times: Vec<DateTime<Utc>> = messages.iter().map(|m| sent_at(m)).collect();
        for (step, message) in messages.iter().enumerate() {
            assert!(
                inside_office_hours(times[step], zone_of(&address)),
                "{address} step {} sent at {} outside office hours in {}",
                step + 1,
                times[step],
                zone_of(&address)
            );
            assert!(message.contains(POSTAL), "postal address in every email");
            if step > 0 {
                assert_eq!(
                    header(message, "In-Reply-To").as_deref(),
                    Some(format!("<{first}>").as_str()),
                    "follow-ups thread under the first"
                );
                assert!(!header(message, "Subject").unwrap_or_default().starts_with("Re:"));
            }
        }
        if expected == 3 {
            assert!(times[1] - times[0] >= Duration::days(2), "{address}: 2 business days");
            assert!(times[2] - times[1] >= Duration::days(3), "{address}: 3 business days");
        }
    }
    let status = ws.json(&["sequence", "status"]);
    let states: BTreeMap<String, (String, Option<String>)> = status
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["prospect_email"].as_str().unwrap_or_default().to_string(),
                (
                    e["state"].as_str().unwrap_or_default().to_string(),
                    e["stop_reason"].as_str().map(String::from),
                ),
            )
        })
        .collect();
    for n in 0..5 {
        assert_eq!(
            states[&format!("p{n}@customer{n}.example")].1.as_deref(),
            Some("replied")
        );
    }
    assert!(states["p5@customer5.example"]
        .1
        .as_deref()
        .is_some_and(|r| r.starts_with("hard bounce")));
    for n in [6, 7] {
        assert_eq!(states[&format!("p{n}@customer{n}.example")].0, "stopped");
        assert_eq!(
            states[&format!("p{n}@customer{n}.example")].1.as_deref(),
            Some("unsubscribed")
        );
    }
    assert_eq!(
        states["p8@customer8.example"].0, "finished",
        "a GET alone never unsubscribes"
    );
    let bounced = ws.json(&["prospect", "show", "p5@customer5.example"]);
    assert_eq!(bounced["suppressed"], true, "{bounced}");
    let unsubscribed = ws.json(&["prospect", "show", "p6@customer6.example"]);
    assert_eq!(unsubscribed["suppressed"], true, "{unsubscribed}");
    let outbox = ws.json(&["sequence", "outbox"]);
    let ids: std::collections::BTreeSet<&str> = outbox
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["message_id"].as_str())
        .collect();
    assert_eq!(
        ids.len(),
        smtp.received().len(),
        "every Message-ID once, each in the outbox"
    );
}

#[test]
fn forty_a_day_go_out_and_the_rest_roll_over_inside_each_window() {
    let smtp = SmtpSink::start();
    let ws = Workspace::with_rep();
    write_config(&ws, smtp.port, common::imap::free_port(), "", "daily_cap = 40");
    ws.write(
        "config/sequences/one.toml",
        "name = \"One\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello {{ prospect.first_name }}\"\ntext = \"Hi\"\n",
    );
    let zones = ["Europe/Oslo", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"];
    let mut csv = String::from("First Name,Last Name,Email,Time Zone\n");
    for n in 0..100 {
        csv.push_str(&format!("C{n},Test,c{n}@cap{n}.example,{}\n", zones[n % 4]));
    }
    ws.write("prospects.csv", csv);
    ws.ok(&["prospect", "import", "prospects.csv"]);
    let start = utc("2026-11-30T00:00:00Z");
    at(&ws, start, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    // Every 30 minutes for five days; the cap's day is the rep's (Oslo).
    let mut now = start;
    while now < utc("2026-12-05T00:00:00Z") {
        at(&ws, now, &["sequence", "send", "--once"]);
        now += Duration::minutes(30);
    }
    let mut per_day: BTreeMap<chrono::NaiveDate, usize> = BTreeMap::new();
    for message in smtp.received() {
        let when = sent_at(&message);
        let to = header(&message, "X-RcptTo").unwrap_or_default();
        let n: usize = to[1..to.find('@').unwrap_or(1)].parse().expect("number");
        let zone: Tz = zones[n % 4].parse().expect("zone");
        assert!(
            inside_office_hours(when, zone),
            "{to} at {when} is outside office hours in {zone}"
        );
        *per_day
            .entry(when.with_timezone(&chrono_tz::Europe::Oslo).date_naive())
            .or_default() += 1;
    }
    let counts: Vec<usize> = per_day.values().copied().collect();
    assert_eq!(counts, vec![40, 40, 20], "{per_day:?}");
}

#[test]
fn a_name_with_line_breaks_never_adds_a_header() {
    let smtp = SmtpSink::start();
    let ws = Workspace::with_rep();
    write_config(&ws, smtp.port, common::imap::free_port(), "", "");
    ws.write(
        "config/sequences/one.toml",
        "name = \"One\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"About {{ prospect.company }}\"\ntext = \"Hi {{ prospect.name }}\"\n",
    );
    let refused = ws.run(&["prospect", "add", "--name", "Eve\r\nBcc: everyone@victim.example"]);
    assert_eq!(refused.status.code(), Some(2), "line breaks are refused at the door");
    assert!(stderr(&refused).contains("control character"), "{}", stderr(&refused));
    // Data can still reach the database another way (an older version, a
    // hand edit): sending must not trust it.
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Eve",
        "--email",
        "eve@evil.example",
        "--company",
        "Evil",
    ]);
    let edit = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             db.execute(\"UPDATE prospects SET name = ?, company = ?\", (sys.argv[2], sys.argv[3])); db.commit()",
        ])
        .arg(ws.path("data/rapport.db"))
        .arg("Eve\r\nBcc: everyone@victim.example")
        .arg("Evil\r\nX-Injected: yes\nCc: more@victim.example")
        .status()
        .expect("python3");
    assert!(edit.success());
    let now = utc("2026-12-01T10:00:00Z");
    at(&ws, now, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    at(&ws, now, &["sequence", "send", "--once"]);
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let head = received[0].split("\r\n\r\n").next().unwrap_or_default().to_lowercase();
    for injected in ["\r\nbcc:", "\r\nx-injected:", "\r\ncc:"] {
        assert!(!head.contains(injected), "{injected:?} in {head}");
    }
    assert_eq!(
        header(&received[0], "X-RcptTo").as_deref(),
        Some("eve@evil.example"),
        "one recipient"
    );
}

#[test]
fn refusals_while_sending_suppress_or_pause_the_mailbox() {
    let smtp = SmtpSink::start_with(common::smtp::SmtpOptions {
        refuse: vec![
            (
                "gone@nowhere.example".into(),
                "550 5.1.1 <gone@nowhere.example>: Recipient address rejected: User unknown".into(),
            ),
            (
                "strict@bank.example".into(),
                "554 5.7.1 Message rejected due to local policy".into(),
            ),
        ],
        ..Default::default()
    });
    let ws = Workspace::with_rep();
    write_config(&ws, smtp.port, common::imap::free_port(), "", "");
    ws.write("config/sequences/one.toml", ONE_EMAIL);
    ws.ok(&["prospect", "add", "--name", "Gone", "--email", "gone@nowhere.example"]);
    ws.ok(&["prospect", "add", "--name", "Strict", "--email", "strict@bank.example"]);
    ws.ok(&["prospect", "add", "--name", "Fine", "--email", "fine@ok.example"]);
    let now = utc("2026-12-01T10:00:00Z");
    at(&ws, now, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    let report: serde_json::Value =
        serde_json::from_str(&at(&ws, now, &["--json", "sequence", "send", "--once"])).expect("JSON");
    assert_eq!(report["refused"], 2, "{report}");
    let gone = ws.json(&["prospect", "show", "gone@nowhere.example"]);
    assert_eq!(gone["suppressed"], true, "a hard refusal suppresses: {gone}");
    let status = ws.json(&["sequence", "status"]);
    let state_of = |email: &str| {
        status
            .as_array()
            .and_then(|all| all.iter().find(|e| e["prospect_email"] == email))
            .map(|e| e["state"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(state_of("gone@nowhere.example").as_deref(), Some("stopped"));
    // The policy refusal paused the mailbox: the rep was told, "Fine" waits.
    let alert = smtp
        .received()
        .into_iter()
        .find(|m| header(m, "Subject").as_deref() == Some("Rapport paused your sequences"));
    let alert = alert.expect("the rep is alerted");
    assert!(alert.contains("5.7.1"), "{alert}");
    let fine_sent = |smtp: &SmtpSink| {
        smtp.received()
            .iter()
            .filter(|m| header(m, "X-RcptTo").as_deref() == Some("fine@ok.example"))
            .count()
    };
    let later = now + Duration::hours(2);
    at(&ws, later, &["sequence", "send", "--once"]);
    let sent_before_resume = fine_sent(&smtp);
    assert!(sent_before_resume <= 1);
    // The rep takes the strict bank out of the sequence, then resumes.
    at(&ws, later, &["prospect", "move", "strict@bank.example", "lost"]);
    at(&ws, later, &["sequence", "resume"]);
    let after = later + Duration::hours(2);
    at(&ws, after, &["sequence", "send", "--once"]);
    assert_eq!(fine_sent(&smtp), 1, "sending went on after resume, one email to Fine");
}

#[test]
fn without_a_postal_address_nothing_is_sent_and_the_key_is_named() {
    let smtp = SmtpSink::start();
    let ws = jane_in_one_email(smtp.port, |config| {
        config.replace(&format!("postal_address = \"{POSTAL}\"\n"), "")
    });
    let out = ws.run(&["--now", &enrolled_at().to_rfc3339(), "sequence", "send", "--once"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("sending.postal_address"), "{}", stderr(&out));
    assert!(smtp.received().is_empty());
}

#[test]
fn smtp_with_starttls_and_auth_and_a_refused_login_is_named() {
    let certificates = tempfile::tempdir().expect("temp dir");
    common::imap::make_certificates(certificates.path());
    let smtp = SmtpSink::start_with(common::smtp::SmtpOptions {
        auth: Some(("ann".into(), "smtp-secret".into())),
        starttls: Some((
            certificates.path().join("server.pem"),
            certificates.path().join("server.key"),
        )),
        ..Default::default()
    });
    let secure = |config: &str, password: &str| {
        config.replace(
            "tls = \"none\"\n",
            &format!(
                "tls = \"starttls\"\nusername = \"ann\"\npassword = \"{password}\"\nca_file = \"{}\"\n",
                certificates.path().join("ca.pem").display()
            ),
        )
    };
    let ws = jane_in_one_email(smtp.port, |config| config);
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write("config/rapport.toml", secure(&config, "wrong"));
    let now = enrolled_at();
    let out = ws.run(&["--now", &now.to_rfc3339(), "sequence", "send", "--once"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("SMTP server 127.0.0.1") && stdout(&out).to_lowercase().contains("auth"),
        "{}",
        stdout(&out)
    );
    assert!(smtp.received().is_empty());
    assert!(
        ws.json(&["sequence", "outbox"]).as_array().is_some_and(Vec::is_empty),
        "nothing was begun"
    );

    ws.write("config/rapport.toml", secure(&config, "smtp-secret"));
    let later = now + Duration::hours(1);
    at(&ws, later, &["sequence", "send", "--once"]);
    assert_eq!(smtp.received().len(), 1, "sent over STARTTLS after logging in");
}

#[test]
fn tasks_are_due_with_their_links_and_done_logs_the_engagement() {
    let smtp = SmtpSink::start();
    let ws = Workspace::with_rep();
    write_config(&ws, smtp.port, common::imap::free_port(), "", "");
    ws.add_jane(None, &["--profile", "https://www.linkedin.com/in/janedoe"]);
    ws.ok(&[
        "log",
        "jane@acme.io",
        "post",
        "--note",
        "Why we moved to trunk-based development",
        "--url",
        "https://blog.acme.io/trunk",
        "--at",
        "2026-11-29T12:00:00Z",
    ]);
    // The shipped example: an email, a task two business days later, an email.
    let monday = utc("2026-11-30T08:00:00Z");
    at(&ws, monday, &["sequence", "enroll", "example", "jane@acme.io"]);
    at(&ws, monday, &["sequence", "send", "--once"]);
    assert_eq!(smtp.received().len(), 1);
    let none: serde_json::Value = serde_json::from_str(&at(&ws, monday, &["--json", "tasks"])).expect("JSON");
    assert_eq!(none, serde_json::json!([]));

    let wednesday = utc("2026-12-02T09:00:00Z");
    at(&ws, wednesday, &["sequence", "send", "--once"]);
    let tasks: serde_json::Value = serde_json::from_str(&at(&ws, wednesday, &["--json", "tasks"])).expect("JSON");
    let task = &tasks[0];
    assert_eq!(task["instruction"], "Like or comment on Jane's latest post", "{tasks}");
    assert_eq!(task["latest_post"], "https://blog.acme.io/trunk", "{tasks}");
    assert_eq!(task["linkedin"], "https://linkedin.com/in/janedoe", "{tasks}");
    let shown = at(&ws, wednesday, &["tasks"]);
    assert!(
        shown.contains("https://blog.acme.io/trunk") && shown.contains("rapport tasks done"),
        "{shown}"
    );

    let id = task["id"].to_string();
    at(
        &ws,
        wednesday,
        &["tasks", "done", &id, "--note", "commented on the trunk post"],
    );
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    let logged = jane["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "social.comment")
        .expect("the engagement is an event");
    assert_eq!(logged["data"]["note"], "commented on the trunk post", "{logged}");
    let again = ws.run(&["--now", &wednesday.to_rfc3339(), "tasks", "done", &id]);
    assert_eq!(again.status.code(), Some(2), "a task is done once: {}", stderr(&again));
    let left: serde_json::Value = serde_json::from_str(&at(&ws, wednesday, &["--json", "tasks"])).expect("JSON");
    assert_eq!(left, serde_json::json!([]));
}

#[test]
fn an_interrupted_send_is_unknown_until_the_rep_decides() {
    // The server stores the message, then answers too late: rapport cannot
    // tell whether it went, and there is no Sent folder to look in.
    let smtp = SmtpSink::start_with(common::smtp::SmtpOptions {
        delay_ms: 4_000,
        ..Default::default()
    });
    let ws = Workspace::with_rep();
    write_config(&ws, smtp.port, common::imap::free_port(), "", "");
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        config.replace("timeout_secs = 5", "timeout_secs = 1"),
    );
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"1 business day\"\nsubject = \"Again\"\ntext = \"Hi again\"\n",
    );
    ws.ok(&["prospect", "add", "--name", "Jane", "--email", "jane@acme.io"]);
    let now = utc("2026-12-01T10:00:00Z");
    at(&ws, now, &["sequence", "enroll", "two", "--stage", "prospecting"]);
    let out = ws.run(&["--now", &now.to_rfc3339(), "--json", "sequence", "send", "--once"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["unknown"], 1, "{report}");
    let unknown = ws.json(&["sequence", "outbox", "--state", "unknown"]);
    let id = unknown[0]["id"].to_string();
    let status = ws.json(&["sequence", "status"]);
    assert_eq!(status[0]["state"], "paused", "{status}");
    assert!(
        status[0]["stop_reason"]
            .as_str()
            .is_some_and(|r| r.contains("sequence resolve")),
        "{status}"
    );
    // Later passes leave it alone: never re-sent blindly. (A second attempt
    // would be an outbox row, and stored by the server before its late answer.)
    at(&ws, now + Duration::hours(1), &["sequence", "send", "--once"]);
    assert_eq!(ws.json(&["sequence", "outbox"]).as_array().map(Vec::len), Some(1));
    assert_eq!(smtp.received().len(), 1);

    // The rep checks their Sent folder by hand and settles it: the sequence goes on.
    at(&ws, now + Duration::hours(2), &["sequence", "resolve", &id, "--sent"]);
    let status = ws.json(&["sequence", "status"]);
    assert_eq!(status[0]["state"], "active", "{status}");
    assert_eq!(status[0]["step"], 1, "{status}");
    let bad = ws.run(&["sequence", "resolve", &id, "--sent"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

#[test]
fn implicit_tls_smtp_verifies_the_server() {
    let certificates = tempfile::tempdir().expect("temp dir");
    common::imap::make_certificates(certificates.path());
    let smtp = SmtpSink::start_with(common::smtp::SmtpOptions {
        starttls: Some((
            certificates.path().join("server.pem"),
            certificates.path().join("server.key"),
        )),
        implicit_tls: true,
        ..Default::default()
    });
    let ws = jane_in_one_email(smtp.port, |config| {
        config.replace("tls = \"none\"\n", "tls = \"implicit\"\n")
    });
    let implicit = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    let now = enrolled_at();
    // A certificate from an unknown CA is refused, and nothing is begun.
    let out = ws.run(&["--now", &now.to_rfc3339(), "sequence", "send", "--once"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("SMTP server 127.0.0.1"), "{}", stdout(&out));
    assert!(smtp.received().is_empty());
    ws.write(
        "config/rapport.toml",
        implicit.replace(
            "timeout_secs = 5\n",
            &format!(
                "timeout_secs = 5\nca_file = \"{}\"\n",
                certificates.path().join("ca.pem").display()
            ),
        ),
    );
    at(&ws, now + Duration::hours(1), &["sequence", "send", "--once"]);
    assert_eq!(smtp.received().len(), 1, "sent over implicit TLS");
}

/// An SMTP server to send through and a Dovecot mailbox the rep's mail is read from.
fn sending_and_reading() -> (SmtpSink, Dovecot, Workspace) {
    let smtp = SmtpSink::start();
    let dovecot = Dovecot::start();
    let ws = Workspace::with_rep();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    write_config(
        &ws,
        smtp.port,
        common::imap::free_port(),
        &dovecot.mailbox_config(&password),
        "",
    );
    (smtp, dovecot, ws)
}

#[test]
fn a_colleagues_reply_stops_it_and_an_out_of_office_snoozes_it() {
    let (smtp, dovecot, ws) = sending_and_reading();
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\nstop_on_colleague_reply = true\n\
         [[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"1 business day\"\nsubject = \"Again\"\ntext = \"Hi again\"\n",
    );
    for (name, email) in [
        ("Jane Doe", "jane@acme.io"),
        ("Joe Bloggs", "joe@acme.io"),
        ("Dana Whitfield", "dana@northwind.example"),
    ] {
        ws.ok(&["prospect", "add", "--name", name, "--email", email]);
    }
    // Monday 30 November: the first email to all three.
    let monday = utc("2026-11-30T09:00:00Z");
    at(&ws, monday, &["sequence", "enroll", "two", "--stage", "prospecting"]);
    at(&ws, monday, &["sequence", "send", "--once"]);
    let received = by_recipient(&smtp);
    let away = format!(
        "From: Dana Whitfield <dana@northwind.example>\r\nTo: Ann Rep <ann@example.com>\r\n\
         Subject: Automatic reply: Hello\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <ooo-1@northwind.example>\r\n\
         In-Reply-To: <{}>\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Thank you for your message. I am out of the office and will be back on 7 December.\r\n",
        id_of(&received["dana@northwind.example"][0])
    );
    dovecot.client().append_all(
        "INBOX",
        &[
            reply("Jane Doe <jane@acme.io>", &id_of(&received["jane@acme.io"][0]), 1),
            away.into_bytes(),
        ],
    );
    let tuesday = utc("2026-12-01T09:00:00Z");
    at(&ws, tuesday, &["mail", "sync", "--once"]);
    at(&ws, tuesday, &["sequence", "send", "--once"]);
    let status = ws.json(&["--now", &tuesday.to_rfc3339(), "sequence", "status"]);
    let find = |email: &str| {
        status
            .as_array()
            .and_then(|all| all.iter().find(|e| e["prospect_email"] == email))
            .cloned()
            .expect("enrolment")
    };
    assert_eq!(find("jane@acme.io")["stop_reason"], "replied");
    assert_eq!(
        find("joe@acme.io")["stop_reason"],
        "a colleague at the same company replied"
    );
    // Back Monday 7 December: one sending day later, Tuesday 8th at 08:00 in Oslo.
    assert_eq!(find("dana@northwind.example")["snoozed_until"], "2026-12-08T07:00:00Z");
    let shown = at(&ws, tuesday, &["sequence", "status"]);
    assert!(shown.contains("snoozed (away)"), "{shown}");

    at(&ws, utc("2026-12-07T12:00:00Z"), &["sequence", "send", "--once"]);
    assert_eq!(by_recipient(&smtp)["dana@northwind.example"].len(), 1, "not while away");
    at(&ws, utc("2026-12-08T07:30:00Z"), &["sequence", "send", "--once"]);
    let received = by_recipient(&smtp);
    assert_eq!(received["dana@northwind.example"].len(), 2, "back: the next step goes");
    assert_eq!(received["jane@acme.io"].len(), 1);
    assert_eq!(received["joe@acme.io"].len(), 1);
}

/// A challenge/response filter answers the first email: the sequence waits,
/// the rep gets a task with the verification link (nothing opens it), and
/// once the task is done the next step goes.
#[test]
fn a_challenge_holds_the_sequence_and_gives_the_rep_a_task_with_the_link() {
    let (smtp, dovecot, ws) = sending_and_reading();
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"1 business day\"\nsubject = \"Again\"\ntext = \"Hi again\"\n",
    );
    ws.ok(&[
        "prospect",
        "add",
        "--name",
        "Dana Whitfield",
        "--email",
        "dana@northwind.example",
    ]);
    let monday = utc("2026-11-30T09:00:00Z");
    at(&ws, monday, &["sequence", "enroll", "two", "--stage", "prospecting"]);
    at(&ws, monday, &["sequence", "send", "--once"]);
    let first = id_of(&by_recipient(&smtp)["dana@northwind.example"][0]);
    let challenge = format!(
        "From: Boxbe <notify@boxbe.com>\r\nTo: Ann Rep <ann@example.com>\r\nSubject: Please verify your email\r\n\
         Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <challenge-1@boxbe.com>\r\nIn-Reply-To: <{first}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYour message to dana@northwind.example is awaiting verification.\r\n\
         Dana uses Boxbe. Click to verify you are a person: https://www.boxbe.com/verify?tc=5&ue=d\r\n"
    );
    dovecot.client().append_all("INBOX", &[challenge.into_bytes()]);
    let tuesday = utc("2026-12-01T09:00:00Z");
    at(&ws, tuesday, &["mail", "sync", "--once"]);
    let tasks = ws.json(&["--now", &tuesday.to_rfc3339(), "tasks"]);
    assert_eq!(tasks[0]["link"], "https://www.boxbe.com/verify?tc=5&ue=d", "{tasks}");
    assert!(
        tasks[0]["instruction"]
            .as_str()
            .unwrap_or_default()
            .contains("verify yourself"),
        "{tasks}"
    );
    // Reading the mailbox again makes no second task.
    at(&ws, tuesday, &["mail", "sync", "--once"]);
    assert_eq!(
        ws.json(&["--now", &tuesday.to_rfc3339(), "tasks"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    at(&ws, tuesday, &["sequence", "send", "--once"]);
    at(&ws, utc("2026-12-02T09:00:00Z"), &["sequence", "send", "--once"]);
    assert_eq!(
        by_recipient(&smtp)["dana@northwind.example"].len(),
        1,
        "held until the rep verifies"
    );

    let id = tasks[0]["id"].to_string();
    at(&ws, utc("2026-12-02T10:00:00Z"), &["tasks", "done", &id]);
    let dana = ws.json(&["prospect", "show", "dana@northwind.example"]);
    let kinds: Vec<&str> = dana["events"]
        .as_array()
        .map(|all| all.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"email.challenged") && kinds.contains(&"email.verified"),
        "{kinds:?}"
    );
    at(&ws, utc("2026-12-02T11:00:00Z"), &["sequence", "send", "--once"]);
    assert_eq!(
        by_recipient(&smtp)["dana@northwind.example"].len(),
        2,
        "verified: the next step goes"
    );
}

#[test]
fn a_prospect_can_run_a_sequence_again_after_it_finished() {
    let smtp = SmtpSink::start();
    let ws = jane_in_one_email(smtp.port, |config| config);
    at(&ws, enrolled_at(), &["sequence", "send", "--once"]);
    let later = enrolled_at() + Duration::days(30);
    at(&ws, later, &["sequence", "enroll", "one", "jane@acme.io"]);
    at(&ws, later, &["sequence", "send", "--once"]);
    let received = smtp.received();
    assert_eq!(received.len(), 2, "each run of the sequence sends its own step");
    assert_ne!(id_of(&received[0]), id_of(&received[1]));
}
