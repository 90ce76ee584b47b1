//! The worlds the several-daemon tests run in: a rep sending a batch, a
//! stand-in GitHub with many prospects' feeds, and a row count read from the
//! team's database.

use super::common;
use super::common::imap::{Dovecot, MAIL_USER, PASSWORD};
use super::common::smtp::{header, SmtpOptions, SmtpSink};
use super::common::Workspace;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::Instant;

/// 150 prospects in a two-email sequence: a 300-message batch.
pub const PROSPECTS: usize = 150;
pub const MESSAGES: usize = 2 * PROSPECTS;
pub const DAEMONS: usize = 3;
pub const KILLS: usize = 20;

/// The moment the daemons' clocks start at (a Wednesday morning, in the
/// reps' sending hours). Every command that makes what they work on runs
/// at it too: a source imported at the machine's time after that moment
/// would not be due for them yet, and the tests waited for polls that never
/// came (once the machine's date passed it).
pub fn base() -> DateTime<Utc> {
    "2026-12-02T10:00:00Z".parse().expect("time")
}

/// A rep, Ann, with 150 prospects enrolled in a two-email sequence, sending
/// through the SMTP sink (which files copies in her Sent folder on Dovecot),
/// her data on `url`; `jobs` are the daemon jobs left on, `more` extra config.
pub struct Team {
    pub ws: Workspace,
    pub smtp: SmtpSink,
    pub dovecot: Dovecot,
    pub base: DateTime<Utc>,
    /// Prospects enrolled: the batch is twice as many messages.
    pub prospects: usize,
}

pub fn sending_team(url: String, jobs: &[&str], more: &str) -> Team {
    sending_team_of(url, jobs, more, PROSPECTS, &|_| None)
}

/// As `sending_team`, with `prospects` enrolled, each with the profile
/// URL `profile` gives it, if any.
pub fn sending_team_of(
    url: String,
    jobs: &[&str],
    more: &str,
    prospects: usize,
    profile: &dyn Fn(usize) -> Option<String>,
) -> Team {
    let dovecot = Dovecot::start();
    dovecot.client().state("Sent");
    let smtp = SmtpSink::start_with(SmtpOptions {
        copy_to: Some((dovecot.maildir("Sent"), MAIL_USER.to_string())),
        delay_ms: 20,
        ..SmtpOptions::default()
    });
    let ws = Workspace::on_database(Some(url));
    ws.init_ann();
    let password = ws.write("secrets/imap-password", format!("{PASSWORD}\n"));
    let off = common::jobs_off_except(jobs);
    ws.write(
        "config/rapport.toml",
        format!(
            "[sequences]\ndir = \"sequences\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_secs = 1\n\
             [http]\nenabled = false\npublic_url = \"https://rapport.example.com\"\n\
             [sending]\npostal_address = \"Ann Rep, Storgata 1, 0155 Oslo\"\nmin_gap_secs = 0\n\
             max_jitter_secs = 0\ndaily_cap = 10000\nlease_secs = 2\nbatch = 20\n\
             [daemon]\nshutdown_grace_secs = 2\n\
             [jobs.send-sequences]\nschedule = \"* * * * * *\"\n{more}{off}{}",
            smtp.port,
            dovecot.mailbox_config(&password)
        ),
    );
    ws.write(
        "config/sequences/two.toml",
        "name = \"Two\"\n[[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Hello {{ prospect.first_name }}\"\ntext = \"Hi\"\n\
         [[steps]]\ntype = \"email\"\nafter = \"0\"\nsubject = \"Again, {{ prospect.first_name }}\"\ntext = \"Hi again\"\n",
    );
    let mut csv = String::from("First Name,Last Name,Email,Profile URL\n");
    for n in 0..prospects {
        csv.push_str(&format!(
            "K{n},Test,k{n}@team{n}.example,{}\n",
            profile(n).unwrap_or_default()
        ));
    }
    ws.write("prospects.csv", csv);
    let base = base();
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
    Team {
        ws,
        smtp,
        dovecot,
        base,
        prospects,
    }
}

impl Team {
    /// Waits until no enrolment is active (the batch is over).
    pub fn wait_for_the_batch(&self) {
        common::wait_until(
            "every enrolment to end",
            std::time::Duration::from_secs(180 + self.prospects as u64 / 10),
            || format!("{}", self.ws.json(&["sequence", "status"])),
            || {
                self.ws
                    .json(&["sequence", "status"])
                    .as_array()
                    .expect("list")
                    .iter()
                    .all(|e| e["state"] != "active")
            },
        );
    }

    /// The batch's end state, for daemons' logs 1..=runs: each step sent
    /// once, every send settled, nothing panicked. Returns what it saw.
    pub fn check_each_step_once(&self, runs: usize) -> String {
        let ws = &self.ws;
        let received = self.smtp.received();
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
        let logs: String = (1..=runs)
            .map(|run| std::fs::read_to_string(ws.path(&format!("daemon-{run}.log"))).unwrap_or_default())
            .collect();
        let fenced = logs.matches("another worker took it over").count();
        assert_eq!(in_state("sending"), 0, "no send left unsettled");
        assert_eq!(
            finished + paused,
            self.prospects,
            "every step ends sent or accounted for"
        );
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
            !logs.contains("panicked"),
            "no daemon panicked:\n{}",
            logs.lines()
                .filter(|l| l.contains("panicked"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        format!(
            "received {}, sent {}, unknown {}, refused {}, late writes refused by a fence {fenced}, \
             server transactions {:?}",
            received.len(),
            in_state("sent"),
            in_state("unknown"),
            in_state("refused"),
            self.smtp.transactions()
        )
    }
}

/// One row of numbers from the team's database.
pub fn count(rt: &tokio::runtime::Runtime, pool: &sqlx::PgPool, sql: &str) -> i64 {
    rt.block_on(sqlx::query_scalar(sql).fetch_one(pool)).expect(sql)
}

/// A stand-in for github.com on loopback: `/USER.atom` answers after
/// `delay` (a slow host keeps a poll running) with `entries` entries, and
/// each request's arrival is noted in `arrivals`.
pub fn github_feeds(delay: std::time::Duration, entries: usize, arrivals: Arrivals) -> common::http::Server {
    common::http::Server::start(move |req| {
        arrivals.lock().expect("arrivals").push(Instant::now());
        let user = req.path.trim_start_matches('/').trim_end_matches(".atom").to_string();
        let items: String = (0..entries)
            .map(|n| {
                format!(
                    "<entry><id>tag:github.com,2008:{user}/{n}</id><updated>2026-12-01T0{n}:00:00Z</updated>\
                     <link href=\"https://github.com/{user}/commit/{n}\"/><title>{user} pushed {n}</title></entry>"
                )
            })
            .collect();
        let body = format!(
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{user}</title>{items}</feed>"
        );
        // A slow host: the body's second half comes `delay` after the first.
        let half = body.len() / 2 + 1;
        let mut response = common::http::Response::new(200, body).header("Content-Type", "application/atom+xml");
        if !delay.is_zero() {
            response.drip = Some((half, delay));
        }
        response
    })
}

/// When each request reached a test server.
pub type Arrivals = std::sync::Arc<std::sync::Mutex<Vec<Instant>>>;

/// `n` prospects, each with a GitHub profile (so a feed to poll), imported at `at`.
pub fn import_github_prospects(ws: &Workspace, file: &str, n: usize, at: DateTime<Utc>) {
    let mut csv = String::from("Name,Email,Profile URL\n");
    for i in 0..n {
        csv.push_str(&format!("User {i},u{i}@dev{i}.example,https://github.com/user{i}\n"));
    }
    ws.write(file, csv);
    ws.at(&at.to_rfc3339(), &["prospect", "import", file]);
}
