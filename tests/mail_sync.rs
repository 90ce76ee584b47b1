//! Mailbox sync against a real Dovecot IMAP server on 127.0.0.1 (started per
//! test by `common::imap`), with messages placed by IMAP APPEND.

mod common;

use common::imap::{Dovecot, PASSWORD};
use common::{stderr, stdout, Workspace};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

/// A workspace with rep Ann, prospects Jane (acme.io) and Raj (globex.com),
/// and Ann's mailbox on `server`.
fn world(server: &Dovecot) -> Workspace {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    ws.ok(&["prospect", "add", "--name", "Raj Patel", "--email", "raj@globex.com"]);
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        format!("{config}\n{}", server.mailbox_config(&password)),
    );
    ws
}

/// A world whose Sent folder holds Ann's first message to Jane; with a client to add more.
fn world_with_sent_mail(server: &Dovecot) -> (Workspace, common::imap::RawImap) {
    let ws = world(server);
    let mut imap = server.client();
    imap.append("Sent", &sent_to_jane());
    (ws, imap)
}

#[derive(Default, Clone)]
struct Mail<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    id: &'a str,
    in_reply_to: Option<&'a str>,
    body: &'a str,
}

fn message(m: &Mail) -> Vec<u8> {
    let mut text = format!(
        "From: {}\nTo: {}\nSubject: {}\nMessage-ID: <{}>\nDate: Tue, 3 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n",
        m.from, m.to, m.subject, m.id
    );
    if let Some(parent) = m.in_reply_to {
        text.push_str(&format!("In-Reply-To: <{parent}>\nReferences: <{parent}>\n"));
    }
    text.push_str(&format!("\n{}\n", m.body));
    text.into_bytes()
}

fn sent_to_jane() -> Vec<u8> {
    message(&Mail {
        from: "Ann Rep <ann@example.com>",
        to: "Jane Doe <jane@acme.io>",
        subject: "Idea for Acme",
        id: "s1@example.com",
        body: "Hi Jane, would a short call next week work?",
        ..Mail::default()
    })
}

fn reply_from_jane(id: &str) -> Vec<u8> {
    message(&Mail {
        from: "Jane Doe <jane@acme.io>",
        to: "Ann Rep <ann@example.com>",
        subject: "Re: Idea for Acme",
        id,
        in_reply_to: Some("s1@example.com"),
        body: "Thursday works for me.\n\nOn Mon, Nov 2, 2026 at 9:00 AM Ann Rep <ann@example.com> wrote:\n> Hi Jane, would a short call next week work?",
    })
}

fn newsletter(n: usize) -> Vec<u8> {
    message(&Mail {
        from: "News <news@shop.example>",
        to: "ann@example.com",
        subject: "This week's deals",
        id: &format!("news{n}@shop.example"),
        body: "Big savings.",
        ..Mail::default()
    })
}

fn sync(ws: &Workspace, env: &[(&str, &str)]) -> Value {
    let out = ws
        .command()
        .args(["--json", "mail", "sync", "--once"])
        .envs(env.iter().copied())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "mail sync failed: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("JSON report")
}

/// (kind, prospect email) → count, for every mail event.
fn mail_events(ws: &Workspace) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for p in ws.json(&["prospect", "list"]).as_array().expect("list") {
        let shown = ws.json(&["prospect", "show", &p["id"].to_string()]);
        for event in shown["events"].as_array().expect("events") {
            let kind = event["kind"].as_str().unwrap_or_default().to_string();
            if kind.starts_with("email.") {
                let email = p["email"].as_str().unwrap_or_default().to_string();
                *counts.entry((kind, email)).or_default() += 1;
            }
        }
    }
    counts
}

fn count(events: &HashMap<(String, String), usize>, kind: &str, email: &str) -> usize {
    events.get(&(kind.to_string(), email.to_string())).copied().unwrap_or(0)
}

#[test]
fn sync_is_incremental_and_matches_sent_mail_and_replies() {
    let server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    imap.append("INBOX", &reply_from_jane("r1@acme.io"));
    imap.append("INBOX", &newsletter(1));

    let first = sync(&ws, &[]);
    assert_eq!(first["new_events"], 2, "{first}");
    let events = mail_events(&ws);
    assert_eq!(count(&events, "email.sent", "jane@acme.io"), 1);
    assert_eq!(count(&events, "email.replied", "jane@acme.io"), 1);
    assert_eq!(events.len(), 2, "the newsletter is not stored: {events:?}");
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    let reply = jane["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "email.replied")
        .unwrap()
        .clone();
    assert_eq!(reply["data"]["text"], "Thursday works for me.", "{reply}");

    imap.append("INBOX", &reply_from_jane("r2@acme.io"));
    let second = sync(&ws, &[]);
    assert_eq!(second["headers_fetched"], 1, "only the new UID is fetched: {second}");
    assert_eq!(second["new_events"], 1, "{second}");

    let folders = ws.json(&["mail", "status"])["folders"].clone();
    let inbox = folders
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["folder"] == "INBOX")
        .cloned()
        .unwrap_or_default();
    assert_eq!(inbox["last_uid"], 3, "{folders}");
    assert!(
        inbox["last_error"].is_null() && inbox["lease_until"].is_null(),
        "{folders}"
    );
    assert!(
        folders.as_array().unwrap().iter().any(|f| f["folder"] == "Sent"),
        "{folders}"
    );

    let third = sync(&ws, &[]);
    assert_eq!(third["headers_fetched"], 0, "{third}");
    assert_eq!(count(&mail_events(&ws), "email.replied", "jane@acme.io"), 2);
}

#[test]
fn a_uidvalidity_change_reads_the_folder_again_without_duplicates() {
    let mut server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    imap.append("INBOX", &reply_from_jane("r1@acme.io"));
    sync(&ws, &[]);
    let before = mail_events(&ws);

    server.renumber("INBOX");
    let report = sync(&ws, &[]);
    assert_eq!(report["resynced_folders"], 1, "{report}");
    assert_eq!(report["headers_fetched"], 1, "the folder is read again: {report}");
    assert_eq!(report["new_events"], 0, "{report}");
    assert_eq!(mail_events(&ws), before);
}

#[test]
fn nothing_rapport_does_changes_the_mailbox() {
    let server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    imap.append("INBOX", &reply_from_jane("r1@acme.io"));
    imap.append("INBOX", &newsletter(1));
    let folders = ["INBOX", "Sent", "Junk", "Trash"];
    let before: Vec<_> = folders.iter().map(|f| imap.state(f)).collect();
    assert!(before[0].1.iter().all(|l| !l.contains("\\Seen")), "{before:?}");

    sync(&ws, &[]);
    sync(&ws, &[]);
    let after: Vec<_> = folders.iter().map(|f| server.client().state(f)).collect();
    assert_eq!(before, after, "flags and message counts are unchanged");
    assert_eq!(after[0].0, 2);
}

#[test]
fn a_malformed_message_is_skipped_and_the_sync_goes_on() {
    let server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    let mut messages = vec![
        // Headers that say it is Jane's answer, then a body of binary garbage.
        b"From: jane@acme.io\nIn-Reply-To: <s1@example.com>\nMessage-ID: <bad1@acme.io>\nContent-Type: multipart/mixed; boundary=\"\"\n\n\x00\xff\xfe--\n--\n".to_vec(),
    ];
    match common::corpora("mail/parsing/mail-parser/eml/malformed") {
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .expect("read")
                .flatten()
                .map(|e| e.path())
                .collect();
            files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
            files.sort();
            // Each made to answer Ann's mail, so that it is read whole and classified.
            messages.extend(files.iter().map(|p| {
                let mut message = b"In-Reply-To: <s1@example.com>\r\n".to_vec();
                message.extend(std::fs::read(p).expect("read eml"));
                message
            }));
        }
        None => eprintln!("public mail corpora absent: only the project's own malformed message is used"),
    }
    messages.push(reply_from_jane("r-after@acme.io"));
    imap.append_all("INBOX", &messages);

    let report = sync(&ws, &[]);
    assert_eq!(
        report["headers_fetched"].as_u64(),
        Some(messages.len() as u64 + 1),
        "{report}"
    );
    let read_whole = report["messages_fetched"].as_u64().unwrap_or(0) + report["unreadable"].as_u64().unwrap_or(0);
    assert!(
        read_whole >= messages.len() as u64,
        "every bad message was read: {report}"
    );
    let events = mail_events(&ws);
    assert!(
        count(&events, "email.replied", "jane@acme.io") >= 1,
        "the reply after the bad messages is read: {events:?}"
    );
}

/// Many messages, a fraction from prospects; returns how many are.
fn fill_mailbox(imap: &mut common::imap::RawImap, total: usize, every: usize) -> usize {
    let mut messages = Vec::with_capacity(total);
    let mut from_prospects = 0;
    for n in 0..total {
        if n % every == 0 {
            from_prospects += 1;
            messages.push(message(&Mail {
                from: "Raj Patel <raj@globex.com>",
                to: "ann@example.com",
                subject: "Question",
                id: &format!("raj{n}@globex.com"),
                body: "Could you send the pricing?",
                ..Mail::default()
            }));
        } else {
            messages.push(newsletter(n));
        }
    }
    for chunk in messages.chunks(1000) {
        imap.append_all("INBOX", chunk);
    }
    from_prospects
}

#[test]
fn a_ten_thousand_message_mailbox_then_ten_new_ones() {
    let server = Dovecot::start();
    let ws = world(&server);
    let mut imap = server.client();
    let from_raj = fill_mailbox(&mut imap, 10_000, 100);

    let first = sync(&ws, &[]);
    assert_eq!(first["headers_fetched"], 10_000, "{first}");
    assert_eq!(
        first["messages_fetched"].as_u64(),
        Some(from_raj as u64),
        "only prospects' mail is read whole: {first}"
    );
    assert_eq!(first["new_events"].as_u64(), Some(from_raj as u64), "{first}");

    let fresh: Vec<Vec<u8>> = (0..10).map(|n| reply_from_jane(&format!("new{n}@acme.io"))).collect();
    imap.append_all("INBOX", &fresh);
    let log_before = server.log().len();
    let second = sync(&ws, &[]);
    assert_eq!(
        second["headers_fetched"], 10,
        "only the 10 new UIDs are fetched: {second}"
    );
    assert_eq!(second["messages_fetched"], 10, "{second}");
    assert_eq!(second["new_events"], 10, "{second}");
    // The server's own count of what was fetched in that session.
    let log = server.log()[log_before..].to_string();
    assert!(
        log.contains("fetch_hdr_count=10 fetch_body_count=10"),
        "Dovecot counts 10 header and 10 body fetches in that session: {log}"
    );
}

fn start_sync(ws: &Workspace, env: &[(&str, &str)]) -> Child {
    ws.command()
        .args(["--json", "mail", "sync", "--once"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start sync")
}

fn replied_count(ws: &Workspace) -> usize {
    count(&mail_events(ws), "email.replied", "raj@globex.com")
}

/// Small batches and a short lease, so a test can stop a sync part-way.
const SLOW_SYNC: [(&str, &str); 2] = [
    ("RAPPORT__MAIL__FETCH_BATCH", "20"),
    ("RAPPORT__MAIL__SYNC_LEASE_SECS", "5"),
];

/// Waits until a running sync has stored its first batches.
fn wait_until_under_way(ws: &Workspace) {
    assert!(
        wait_for(Duration::from_secs(20), || replied_count(ws) > 0),
        "the sync never got going"
    );
}

#[test]
fn restarting_the_imap_server_mid_sync_loses_and_duplicates_nothing() {
    let mut server = Dovecot::start();
    let ws = world(&server);
    let from_raj = fill_mailbox(&mut server.client(), 3000, 10);

    let child = start_sync(&ws, &SLOW_SYNC);
    wait_until_under_way(&ws);
    server.restart();
    let out = child.wait_with_output().expect("sync");
    assert!(
        out.status.success(),
        "the sync reconnects and finishes: {}",
        stderr(&out)
    );
    assert_eq!(replied_count(&ws), from_raj);
    sync(&ws, &[]);
    assert_eq!(replied_count(&ws), from_raj);
}

#[test]
fn killing_the_daemon_mid_sync_loses_and_duplicates_nothing() {
    let server = Dovecot::start();
    let ws = world(&server);
    let from_raj = fill_mailbox(&mut server.client(), 3000, 10);

    let mut daemon = start_daemon(&ws, &SLOW_SYNC);
    wait_until_under_way(&ws);
    daemon.kill().expect("SIGKILL");
    let _ = daemon.wait();
    let part = replied_count(&ws);
    assert!(part < from_raj, "the sync was stopped part-way ({part} of {from_raj})");

    // The killed daemon's lease on the folder runs out, then the new one resumes.
    let mut daemon = start_daemon(&ws, &SLOW_SYNC);
    let done = wait_for(Duration::from_secs(60), || replied_count(&ws) >= from_raj);
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(done, "the restarted daemon finished the sync");
    assert_eq!(replied_count(&ws), from_raj, "no event twice");
}

/// The daemon, whose IDLE watcher syncs at once; the scheduled sync would run next year.
fn start_daemon(ws: &Workspace, env: &[(&str, &str)]) -> Child {
    ws.command()
        .arg("daemon")
        .env("RAPPORT__JOBS__SYNC-MAIL__SCHEDULE", "0 0 1 1 *")
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the daemon")
}

#[test]
fn with_idle_a_reply_becomes_an_event_within_seconds() {
    let server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    let mut daemon = start_daemon(&ws, &[]);
    wait_for(Duration::from_secs(15), || {
        count(&mail_events(&ws), "email.sent", "jane@acme.io") == 1
    });

    imap.append("INBOX", &reply_from_jane("r1@acme.io"));
    let appended = Instant::now();
    let arrived = wait_for(Duration::from_secs(10), || {
        count(&mail_events(&ws), "email.replied", "jane@acme.io") == 1
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(arrived, "no email.replied event within 10 s of delivery");
    eprintln!(
        "reply became an event {:.1} s after delivery",
        appended.elapsed().as_secs_f64()
    );
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    done()
}

#[test]
fn bounces_unsubscribes_and_out_of_office_replies_have_their_effects() {
    let server = Dovecot::start();
    let ws = world(&server);
    for (name, email) in [
        ("Dana Whitfield", "dana.whitfield@northwind.example"),
        ("Lee Chen", "lee.chen@bluepeak.example"),
        ("Old Contact", "old.contact@gone.example"),
    ] {
        ws.ok(&["prospect", "add", "--name", name, "--email", email]);
    }
    // Ann wrote to Dana and to the old contact (the Message-IDs the reports quote).
    let sent = |to: &str, id: &str| {
        message(&Mail {
            from: "Ann Rep <ann@example.com>",
            to,
            subject: "Hello",
            id,
            body: "Hi",
            ..Mail::default()
        })
    };
    server.client().append_all(
        "Sent",
        &[
            sent("dana.whitfield@northwind.example", "outreach-42@ourcompany.example"),
            sent("old.contact@gone.example", "outreach-200@ourcompany.example"),
        ],
    );
    let fixtures = [
        "ooo_en.eml",
        "unsubscribe_body.eml",
        "bounce_hard_5_1_1.eml",
        "dsn_delayed.eml",
    ];
    let messages: Vec<Vec<u8>> = fixtures
        .iter()
        .map(|f| std::fs::read(common::fixture(&format!("mail/{f}"))).expect("fixture"))
        .collect();
    server.client().append_all("INBOX", &messages);

    sync(&ws, &[]);
    let events = mail_events(&ws);
    assert_eq!(
        count(&events, "email.auto_replied", "dana.whitfield@northwind.example"),
        1,
        "{events:?}"
    );
    assert_eq!(
        count(&events, "email.unsubscribed", "lee.chen@bluepeak.example"),
        1,
        "{events:?}"
    );
    assert_eq!(
        count(&events, "email.bounced", "old.contact@gone.example"),
        1,
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|((kind, _), _)| kind != "email.sent")
            .map(|(_, n)| n)
            .sum::<usize>(),
        3,
        "a delay warning is not a bounce: {events:?}"
    );

    let dana = ws.json(&["prospect", "show", "dana.whitfield@northwind.example"]);
    assert_eq!(dana["prospect"]["away_until"], "2026-12-03", "{dana}");
    assert_eq!(dana["suppressed"], false);
    let lee = ws.json(&["prospect", "show", "lee.chen@bluepeak.example"]);
    assert_eq!(lee["suppressed"], true, "an unsubscribe suppresses the address");
    let old = ws.json(&["prospect", "show", "old.contact@gone.example"]);
    assert_eq!(old["suppressed"], true, "a hard bounce suppresses the address");
    let bounce = old["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "email.bounced")
        .unwrap()
        .clone();
    assert_eq!(bounce["data"]["hard"], true, "{bounce}");
    assert_eq!(bounce["data"]["status"], "5.1.1", "{bounce}");
    assert_eq!(bounce["data"]["reason"], "user_unknown", "{bounce}");
}

/// A whole export: files, a Maildir and an mbox at once, one JSON line per
/// message with its file (and its position in the mbox); a message that is
/// not mail gets an error line in its place, the rest still come, and the
/// exit status says how many could not be read.
#[test]
fn classify_reads_files_a_maildir_and_an_mbox_one_json_line_each() {
    let ws = Workspace::new();
    let bounce = common::fixture("mail/bounce_hard_5_1_1.eml");
    let reply = std::fs::read(common::fixture("mail/reply_outlook.eml")).expect("fixture");
    let maildir = ws.path("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
    }
    std::fs::write(maildir.join("cur/1700000000.1.host:2,S"), &reply).expect("write");
    std::fs::write(
        maildir.join("new/1700000001.2.host"),
        std::fs::read(&bounce).expect("fixture"),
    )
    .expect("write");
    let mut mbox = b"From ann@us.example Tue Dec  1 09:00:00 2026\n".to_vec();
    mbox.extend(&reply);
    mbox.extend(b"\nFrom x Tue Dec  1 09:00:00 2026\nthis is not a message\n");
    ws.write("export.mbox", &mbox);
    let output = ws.run(&[
        "mail",
        "classify",
        bounce.to_str().unwrap(),
        maildir.to_str().unwrap(),
        "export.mbox",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let classes: Vec<&str> = lines.iter().map(|l| l["class"].as_str().unwrap_or("-")).collect();
    assert_eq!(
        classes,
        vec!["bounce", "human_reply", "bounce", "human_reply", "-"],
        "{stdout}"
    );
    assert!(lines[1]["file"].as_str().unwrap().ends_with(":2,S"), "{stdout}");
    assert_eq!(lines[3]["position"], 1);
    assert_eq!(lines[4]["position"], 2);
    assert!(
        lines[4]["error"].as_str().unwrap().contains("no mail header fields"),
        "{stdout}"
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 of 5 messages could not be classified"), "{stderr}");
}

#[test]
fn classify_prints_the_class_and_its_reasons() {
    let ws = Workspace::new();
    let file = common::fixture("mail/bounce_hard_5_1_1.eml");
    let json = ws.json(&["mail", "classify", file.to_str().unwrap()]);
    assert_eq!(json["class"], "bounce");
    assert_eq!(json["recipient"], "old.contact@gone.example");
    assert_eq!(json["status"], "5.1.1");
    assert_eq!(json["hard"], true);
    assert!(!json["reasons"].as_array().unwrap().is_empty());
    let ooo = ws.json(&["mail", "classify", common::fixture("mail/ooo_nb.eml").to_str().unwrap()]);
    assert_eq!(ooo["class"], "auto_reply");
    assert!(ooo["return_date"].is_string(), "{ooo}");
    let reply = ws.json(&[
        "mail",
        "classify",
        common::fixture("mail/reply_outlook.eml").to_str().unwrap(),
    ]);
    assert_eq!(reply["class"], "human_reply");
    assert!(reply["text"].is_string(), "{reply}");
    // What the reply means, and the words that say so.
    assert_eq!(reply["intent"]["intent"], "interested", "{reply}");
    assert_eq!(reply["intent"]["evidence"][0]["words"], "We are interested", "{reply}");
    let later = ws.json(&[
        "mail",
        "classify",
        common::fixture("mail/reply_apple.eml").to_str().unwrap(),
    ]);
    assert_eq!(later["intent"]["intent"], "not_now", "{later}");
    assert_eq!(later["intent"]["follow_up"]["said"], "in March", "{later}");
    // Days a reply names count from its day for the rep: 20:00 in New York
    // on the 1st is already the 2nd in Oslo.
    ws.write(
        "late.eml",
        "From: Kim <kim@prospect.example>\r\nTo: rep@us.example\r\nSubject: Re: a question\r\n\
         Date: Tue, 1 Dec 2026 20:00:00 -0500\r\nMessage-ID: <late@prospect.example>\r\n\
         In-Reply-To: <ours@us.example>\r\n\r\nNot right now, let's talk again in 2 weeks.\r\n",
    );
    let as_written = ws.json(&["mail", "classify", "late.eml"]);
    assert_eq!(as_written["intent"]["follow_up"]["on"], "2026-12-15", "{as_written}");
    let in_oslo = ws.json(&["mail", "classify", "--zone", "Europe/Oslo", "late.eml"]);
    assert_eq!(in_oslo["intent"]["intent"], "not_now", "{in_oslo}");
    assert_eq!(in_oslo["intent"]["follow_up"]["on"], "2026-12-16", "{in_oslo}");
    let bad_zone = ws.run(&["mail", "classify", "--zone", "Oslo", "late.eml"]);
    assert_eq!(bad_zone.status.code(), Some(2));
    assert!(stderr(&bad_zone).contains("--zone 'Oslo'"), "{}", stderr(&bad_zone));
    assert!(!ws.path("data").exists(), "classifying touches no database");

    let missing = ws.run(&["mail", "classify", "nowhere.eml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nowhere.eml"), "{}", stderr(&missing));
    ws.write("empty.eml", "");
    let empty = ws.run(&["mail", "classify", "empty.eml"]);
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
}

#[test]
fn implicit_tls_and_starttls_verify_the_server() {
    let server = Dovecot::start_with_tls();
    let ws = world(&server);
    let mut imap = server.client();
    imap.append("INBOX", &reply_from_jane("r1@acme.io"));
    let config = ws.path("config/rapport.toml");
    let base = std::fs::read_to_string(&config).expect("config");
    let tls_port = server.tls_port.expect("TLS port").to_string();
    let ca = format!("\"{}\"", server.ca_file().display());
    let with = |tls: &str, port: &str, ca_file: Option<&str>| {
        let mut text = base
            .replace("tls = \"plain\"", &format!("tls = \"{tls}\""))
            .replace(&format!("port = {}\n", server.port), &format!("port = {port}\n"));
        if let Some(ca_file) = ca_file {
            text.push_str(&format!("ca_file = {ca_file}\n"));
        }
        std::fs::write(&config, text).expect("write config");
    };

    with("implicit", &tls_port, None);
    let out = ws.run(&["mail", "sync", "--once"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown issuer is refused: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("mailbox ann") && stderr(&out).contains("TLS"),
        "{}",
        stderr(&out)
    );
    assert!(mail_events(&ws).is_empty());

    with("implicit", &tls_port, Some(&ca));
    assert_eq!(sync(&ws, &[])["new_events"], 1);
    imap.append("INBOX", &reply_from_jane("r2@acme.io"));
    with("starttls", &server.port.to_string(), Some(&ca));
    assert_eq!(sync(&ws, &[])["new_events"], 1);
    assert_eq!(count(&mail_events(&ws), "email.replied", "jane@acme.io"), 2);
}

#[test]
fn a_colleague_unsubscribing_on_the_thread_suppresses_the_prospect_too() {
    let server = Dovecot::start();
    let (ws, mut imap) = world_with_sent_mail(&server);
    imap.append(
        "INBOX",
        &message(&Mail {
            from: "Kim Lee <kim@acme.io>",
            to: "ann@example.com",
            subject: "Re: Idea for Acme",
            id: "u1@acme.io",
            in_reply_to: Some("s1@example.com"),
            body: "Please remove us from your list.",
        }),
    );
    sync(&ws, &[]);
    assert_eq!(count(&mail_events(&ws), "email.unsubscribed", "jane@acme.io"), 1);
    assert_eq!(ws.json(&["prospect", "show", "jane@acme.io"])["suppressed"], true);
}

#[test]
fn an_oauth2_token_logs_in_with_xoauth2_and_is_read_anew_each_time() {
    // The provider's introspection endpoint: only the current token is active.
    let introspection = common::http::introspection("token-2");
    let server = Dovecot::start_with_oauth2(&format!("http://127.0.0.1:{}/introspect", introspection.port));
    let ws = world(&server);
    let config = ws.path("config/rapport.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let token_file = ws.write("secrets/token", "token-1\n");
    let password_line = text
        .lines()
        .find(|l| l.starts_with("password_file"))
        .unwrap()
        .to_string();
    std::fs::write(
        &config,
        text.replace(
            &password_line,
            &format!("oauth2_token_file = \"{}\"", token_file.display()),
        ),
    )
    .unwrap();
    server.client().append("INBOX", &reply_from_jane("r1@acme.io"));

    let refused = ws.run(&["mail", "sync", "--once"]);
    assert_eq!(refused.status.code(), Some(1), "an expired token is refused");
    assert!(
        stderr(&refused).contains("login as ann was refused"),
        "{}",
        stderr(&refused)
    );

    // A token refresher rewrites the file; the next connection uses the new token.
    ws.write("secrets/token", "token-2\n");
    assert_eq!(sync(&ws, &[])["new_events"], 1);
}
