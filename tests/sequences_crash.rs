//! The crash test: the daemon is SIGKILLed at random moments, 20 times,
//! while it sends a 500-message batch, and restarted each time. The SMTP
//! server (aiosmtpd) files a copy of what it accepts in the rep's Sent folder
//! on Dovecot, as Gmail and Microsoft 365 do, so a send cut off after the
//! server took it is settled by finding its Message-ID there.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::imap::{Dovecot, MAIL_USER, PASSWORD};
use common::smtp::{header, SmtpOptions, SmtpSink};
use common::Workspace;
use std::collections::BTreeSet;
use std::time::Instant;

/// 250 prospects in a two-email sequence: a 500-message batch.
const PROSPECTS: usize = 250;
const MESSAGES: usize = 2 * PROSPECTS;
const KILLS: usize = 20;

#[test]
fn sigkilled_twenty_times_no_message_id_twice_and_every_step_accounted_for() {
    let dovecot = Dovecot::start();
    // Logging in makes Dovecot create the Sent folder the SMTP server files copies in.
    dovecot.client().state("Sent");
    let smtp = SmtpSink::start_with(SmtpOptions {
        copy_to: Some((dovecot.maildir("Sent"), MAIL_USER.to_string())),
        // A short pause before the final reply widens the window a kill can land in.
        delay_ms: 20,
        ..SmtpOptions::default()
    });
    let ws = Workspace::with_rep();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let jobs = common::jobs_off_except(&["send-sequences"]);
    ws.write(
        "config/rapport.toml",
        format!(
            "[database]\nurl = \"sqlite://data/rapport.db\"\n[sequences]\ndir = \"sequences\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 1\n\
             [http]\nenabled = false\npublic_url = \"https://rapport.example.com\"\n\
             [sending]\npostal_address = \"Ann Rep, Storgata 1, 0155 Oslo\"\nmin_gap_secs = 0\n\
             max_jitter_secs = 0\ndaily_cap = 10000\nlease_secs = 2\nbatch = 50\n\
             [daemon]\nshutdown_grace_secs = 2\n\
             [jobs.send-sequences]\nschedule = \"* * * * * *\"\n{jobs}{}",
            smtp.port,
            dovecot.mailbox_config(&password)
        ),
    );
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello {{ prospect.first_name }}\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Again, {{ prospect.first_name }}\"\ntext = \"Hi again\"\n",
    );
    let mut csv = String::from("First Name,Last Name,Email\n");
    for n in 0..PROSPECTS {
        csv.push_str(&format!("K{n},Test,k{n}@crash{n}.example\n"));
    }
    ws.write("prospects.csv", csv);
    // Wednesday 2 December 2026, 10:00 UTC: inside the window, with hours to
    // spare. What the daemons work on is made at that moment too, whatever
    // the machine's date.
    let base: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().expect("time");
    ws.at(&base.to_rfc3339(), &["prospect", "import", "prospects.csv"]);
    ws.ok(&[
        "--now",
        &base.to_rfc3339(),
        "sequence",
        "enroll",
        "two",
        "--stage",
        "prospecting",
    ]);

    let mut random = common::Random::seeded();
    let started = Instant::now();
    // Each daemon's clock starts where the last one's would be now, so time never runs backwards.
    let clock = |started: Instant| base + Duration::milliseconds(started.elapsed().as_millis() as i64);
    let mut kills_during_batch = 0;
    for run in 0..KILLS {
        let mut daemon = ws.spawn_daemon(clock(started), run);
        std::thread::sleep(std::time::Duration::from_millis(random.next_in(300, 1500)));
        let before = smtp.received().len();
        daemon.kill().expect("SIGKILL");
        daemon.wait().expect("reap");
        if before < MESSAGES {
            kills_during_batch += 1;
        }
    }
    let mut daemon = ws.spawn_daemon(clock(started), KILLS);
    let deadline = Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let status = ws.json(&["sequence", "status"]);
        let open = status
            .as_array()
            .expect("list")
            .iter()
            .filter(|e| e["state"] == "active")
            .count();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} enrolments still active after 3 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    daemon.kill().expect("stop");
    daemon.wait().expect("reap");

    let received = smtp.received();
    let ids: Vec<String> = received
        .iter()
        .map(|m| header(m, "Message-ID").expect("Message-ID"))
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a Message-ID reached the server twice");
    let steps: Vec<(String, String)> = received
        .iter()
        .map(|m| {
            (
                header(m, "X-RcptTo").unwrap_or_default(),
                header(m, "Subject").unwrap_or_default(),
            )
        })
        .collect();
    let unique_steps: BTreeSet<&(String, String)> = steps.iter().collect();
    assert_eq!(unique_steps.len(), steps.len(), "a prospect got the same step twice");

    let outbox = ws.json(&["sequence", "outbox"]);
    let rows = outbox.as_array().expect("list");
    let in_state = |state: &str| rows.iter().filter(|r| r["state"] == state).count();
    let status = ws.json(&["sequence", "status"]);
    let enrolments = status.as_array().expect("list");
    let finished = enrolments.iter().filter(|e| e["state"] == "finished").count();
    let paused = enrolments.iter().filter(|e| e["state"] == "paused").count();
    let transactions = smtp.transactions();
    println!(
        "kills {KILLS} ({kills_during_batch} during the batch), received {}, sent {}, unknown {}, \
         refused {}, server transactions {:?}",
        received.len(),
        in_state("sent"),
        in_state("unknown"),
        in_state("refused"),
        transactions
    );
    assert!(kills_during_batch >= KILLS / 2, "most kills landed during the batch");
    assert_eq!(in_state("sending"), 0, "no send left unsettled");
    assert_eq!(finished + paused, PROSPECTS, "every step ends sent or accounted for");
    assert_eq!(
        paused,
        in_state("unknown"),
        "each paused enrolment waits on an unknown send"
    );
    for enrolment in enrolments.iter().filter(|e| e["state"] == "finished") {
        let email = enrolment["prospect_email"].as_str().unwrap_or_default();
        let got = steps.iter().filter(|(to, _)| to == email).count();
        assert_eq!(got, 2, "{email} finished with {got} emails");
    }
    assert_eq!(
        in_state("sent"),
        received.len(),
        "every message the server took is recorded as sent"
    );
    assert!(
        in_state("unknown") <= transactions.aborted,
        "unknown sends ({}) exceed the kills that landed inside an SMTP transaction ({})",
        in_state("unknown"),
        transactions.aborted
    );
}
