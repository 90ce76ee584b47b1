//! Mailbox sync benchmark: `cargo bench --bench mail [-- --messages N --every K]`.
//!
//! A real Dovecot on 127.0.0.1 holds N messages in INBOX, one in K from a
//! prospect. Reported: (a) the first sync of the whole mailbox and (b) an
//! incremental sync after 10 new messages, each next to a baseline measured
//! in the same run against the same server: a bare IMAP session (connect,
//! log in, EXAMINE, fetch the same header fields for the same messages) with
//! no matching, classification or store.

mod common;
#[path = "../tests/common/imap.rs"]
#[allow(dead_code)]
mod imap;

use futures::TryStreamExt;
use rapport::clock::SystemClock;
use rapport::config::{self, Settings};
use rapport::domain::clock::Clock;
use rapport::domain::event::Actor;
use rapport::domain::mail::envelope::ENVELOPE_FIELDS;
use rapport::domain::money::Amount;
use rapport::domain::prospect::{Language, NewRep, ProspectData};
use rapport::sources::mail::sync::MailSync;
use rapport::store::{ProspectStore, RepStore, SqliteStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROSPECTS: usize = 100;

fn message(n: usize, from_prospect: bool) -> Vec<u8> {
    let from = if from_prospect {
        format!("Prospect {p} <p{p}@client.example>", p = n % PROSPECTS)
    } else {
        "News <news@shop.example>".to_string()
    };
    format!(
        "From: {from}\r\nTo: ann@example.com\r\nSubject: Message {n}\r\nMessage-ID: <m{n}@bench.example>\r\n\
         Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nHello, this is message {n}.\r\n"
    )
    .into_bytes()
}

fn settings(dir: &tempfile::TempDir, server: &imap::Dovecot) -> Settings {
    let password = dir.path().join("password");
    std::fs::write(&password, imap::PASSWORD).expect("password");
    let text = format!(
        "[database]\nurl = \"sqlite://{}\"\n{}",
        dir.path().join("bench.db").display(),
        server.mailbox_config(&password)
    );
    let path = dir.path().join("bench.toml");
    std::fs::write(&path, text).expect("config");
    config::load(Some(&path)).expect("load config")
}

async fn seed(store: &SqliteStore) {
    let now = chrono::Utc::now();
    let rep = NewRep {
        name: "Ann".into(),
        email: "ann@example.com".into(),
        time_zone: "UTC".into(),
        digest_hour: 8,
        language: Language::En,
    };
    let rep = store.create_rep(&rep, now).await.expect("rep");
    for p in 0..PROSPECTS {
        let prospect = ProspectData {
            rep_id: rep.id,
            name: format!("Prospect {p}"),
            email: Some(format!("p{p}@client.example")),
            company: None,
            title: None,
            time_zone: None,
            pipeline: "default".into(),
            stage: "prospecting".into(),
            value: Amount::default(),
            currency: "USD".into(),
            probability_override: None,
            expected_close: None,
            tags: Vec::new(),
            notes: None,
            custom_fields: Default::default(),
            profiles: Vec::new(),
        };
        store
            .create_prospect(&prospect, &Actor::User("bench".into()), now)
            .await
            .expect("prospect");
    }
}

/// The least any header-based sync does: one session fetching the header fields of UIDs above `after`.
async fn bare_fetch(port: u16, after: u32) -> (usize, Duration) {
    let started = Instant::now();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.expect("greeting");
    let mut session = client
        .login(imap::LOGIN, imap::PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .expect("login");
    session.examine("INBOX").await.expect("examine");
    let query = format!("(UID BODY.PEEK[HEADER.FIELDS ({ENVELOPE_FIELDS})])");
    let fetched: Vec<_> = session
        .uid_fetch(format!("{}:*", after + 1), &query)
        .await
        .expect("fetch")
        .try_collect()
        .await
        .expect("fetch all");
    session.logout().await.expect("logout");
    (fetched.len(), started.elapsed())
}

async fn timed_sync(sync: &MailSync) -> (u64, Duration) {
    let started = Instant::now();
    let report = sync.sync_all().await;
    assert!(report.errors.is_empty(), "sync failed: {:?}", report.errors);
    (report.headers_fetched, started.elapsed())
}

#[tokio::main]
async fn main() {
    let messages = common::number_arg("--messages", 10_000);
    let every = common::number_arg("--every", 100).max(1);
    let server = imap::Dovecot::start();
    let mut client = server.client();
    let all: Vec<Vec<u8>> = (0..messages).map(|n| message(n, n % every == 0)).collect();
    for chunk in all.chunks(1000) {
        client.append_all("INBOX", chunk);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = Arc::new(settings(&dir, &server));
    let store = SqliteStore::open(&settings.config.database.url, Duration::from_secs(10), 4)
        .await
        .expect("store");
    seed(&store).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sync = MailSync::new(Arc::new(store), clock, settings);

    // The baseline first also warms the server's index and page cache for both.
    let _ = bare_fetch(server.port, 0).await;
    let (base_count, base_first) = bare_fetch(server.port, 0).await;
    let (synced, first) = timed_sync(&sync).await;
    assert_eq!((synced as usize, base_count), (messages, messages));

    let fresh: Vec<Vec<u8>> = (messages..messages + 10).map(|n| message(n, true)).collect();
    client.append_all("INBOX", &fresh);
    let (base_new, base_incremental) = bare_fetch(server.port, messages as u32).await;
    let (synced_new, incremental) = timed_sync(&sync).await;
    assert_eq!(
        (synced_new, base_new),
        (10, 10),
        "the incremental sync fetches only the new UIDs"
    );

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{messages} messages, one in {every} from a prospect:");
    println!(
        "(a) first sync: {:.0} ms ({:.0} messages/s); bare header fetch {:.0} ms; ratio {:.2}x",
        ms(first),
        messages as f64 / first.as_secs_f64(),
        ms(base_first),
        first.as_secs_f64() / base_first.as_secs_f64()
    );
    println!(
        "(b) incremental sync after 10 new: {:.1} ms (10 headers fetched); bare header fetch {:.1} ms; ratio {:.2}x",
        ms(incremental),
        ms(base_incremental),
        incremental.as_secs_f64() / base_incremental.as_secs_f64()
    );
}
