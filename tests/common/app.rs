//! The in-process harness, as zero2prod's `spawn_app`: rapport's core on a
//! fresh SQLite store in a folder of its own, a clock the test moves, and
//! the web listener on 127.0.0.1 port 0 — no binary, no sleeps. The real
//! mail and HTTP servers the other tests use sit beside it (`imap`, `smtp`,
//! `http`).

use chrono::{DateTime, Utc};
use rapport::app::{Actor, Core};
use rapport::domain::clock::Clock;
use rapport::domain::prospect::Rep;
use rapport::store::{SqliteStore, Store};
use std::sync::{Arc, Mutex};

/// A clock that stands still until the test moves it.
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running rapport core and its web listener; stopped when dropped.
pub struct TestApp {
    pub core: Core,
    pub store: Arc<dyn Store>,
    pub clock: Arc<TestClock>,
    /// The web listener's port on 127.0.0.1.
    pub port: u16,
    /// The key one-click unsubscribe links are signed with.
    pub secret: Vec<u8>,
    stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

/// The first moment of every harness: Tuesday 1 December 2026, 09:00 UTC.
pub const START: &str = "2026-12-01T09:00:00Z";

/// rapport on built-in settings, an empty store and the clock at [`START`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with("").await
}

/// The same with settings of the test's own (TOML over the built-in ones).
pub async fn spawn_app_with(config: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&url, std::time::Duration::from_secs(5), 2)
            .await
            .expect("open the store"),
    );
    let settings = Arc::new(rapport::config::load_text(Some(config), None).expect("the test's settings"));
    let clock = Arc::new(TestClock(Mutex::new(START.parse().expect("a time"))));
    let core = Core {
        store: store.clone(),
        settings: settings.clone(),
        clock: clock.clone(),
    };
    let secret = rapport::app::unsubscribe::key(&core).await.expect("the signing key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let state = rapport::web::WebState::new(core.clone(), secret.clone());
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        rapport::web::serve(listener, state, &settings.config.http, shutdown)
            .await
            .expect("the listener");
    });
    TestApp {
        core,
        store,
        clock,
        port,
        secret,
        stop,
        _dir: dir,
    }
}

impl TestApp {
    /// Adds a rep (in Europe/Oslo, digest at 07:00) and the actor acting as them.
    pub async fn rep(&self, name: &str, email: &str) -> (Rep, Actor) {
        let manager = Actor::Team { name: "manager".into() };
        let rep = rapport::app::reps::add(&self.core, &manager, name, email, "Europe/Oslo", 7, "en")
            .await
            .expect("a rep");
        let actor = Actor::Rep {
            id: rep.id,
            name: name.to_string(),
        };
        (rep, actor)
    }

    /// Adds a rep who can sign in with `password`, with a role (rep, manager, admin).
    pub async fn account(&self, name: &str, email: &str, password: &str, role: &str) -> (Rep, Actor) {
        let (rep, actor) = self.rep(name, email).await;
        let admin = Actor::Team { name: "admin".into() };
        rapport::app::accounts::set_password(&self.core, &admin, Some(email), password)
            .await
            .expect("a password");
        rapport::app::accounts::set_role(&self.core, &admin, Some(email), role)
            .await
            .expect("a role");
        (rep, actor)
    }

    /// Adds a prospect of the actor's in the first stage, with an address when given.
    pub async fn prospect(&self, actor: &Actor, name: &str, email: Option<&str>) -> i64 {
        rapport::app::prospect_edit::add(
            &self.core,
            actor,
            rapport::app::prospect_edit::AddProspect {
                name: name.into(),
                email: email.map(str::to_string),
                ..Default::default()
            },
        )
        .await
        .expect("a prospect")
        .prospect
        .id
    }

    /// A reminder for the actor about a prospect, due an hour from now.
    pub async fn remind_in_an_hour(&self, actor: &Actor, prospect: i64, note: &str) {
        rapport::app::tasks::remind(
            &self.core,
            actor,
            &rapport::domain::prospect::ProspectRef::Id(prospect),
            rapport::app::tasks::When::In("1h".into()),
            note,
        )
        .await
        .expect("a reminder");
    }

    /// The harness clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Enrols a prospect in the example sequence and leaves its first send
    /// as a crash would: `unknown`, waiting for the rep's decision. Returns
    /// the outbox row.
    pub async fn cut_off_send(&self, prospect: i64, to: &str, subject: &str) -> i64 {
        use rapport::domain::event::Actor as Recorded;
        use rapport::store::{EnrolmentUpdate, NewEnrolment, NewSend, PacingGuard, RepScope, SendStart};
        let now = self.now();
        let found = self
            .store
            .find_prospect(RepScope::Team, &rapport::domain::prospect::ProspectRef::Id(prospect))
            .await
            .expect("the prospect");
        let enrolment = NewEnrolment {
            prospect_id: prospect,
            sequence: "example".into(),
            variant: 0,
            next_due_at: now,
        };
        let enrolment = self
            .store
            .enroll(&enrolment, &Recorded::System("test".into()), now)
            .await
            .expect("enrolled")
            .expect("a new enrolment");
        let send = NewSend {
            enrolment_id: enrolment,
            prospect_id: prospect,
            rep_id: found.data.rep_id,
            sequence: "example".into(),
            step: 0,
            retry: false,
            message_id: format!("cut-{prospect}@example.com"),
            to_email: to.into(),
            subject: subject.into(),
            transport: "smtp",
            fence: None,
            lease_until: now,
            pacing: PacingGuard {
                day: (now - chrono::Duration::hours(9), now + chrono::Duration::hours(15)),
                daily_cap: 10,
                min_gap: chrono::Duration::zero(),
            },
        };
        let SendStart::Started(row) = self.store.begin_send(&send, now).await.expect("a send") else {
            panic!("the send starts")
        };
        let hold = EnrolmentUpdate::ended(0, "paused", "cut off");
        self.store
            .settle_send(row, "unknown", "cut off", &[], Some((enrolment, &hold)), now)
            .await
            .expect("left unknown");
        row
    }

    /// A browser on the listener, signed in to nothing yet.
    pub fn browser(&self) -> super::browser::Browser {
        super::browser::Browser::new(self.port)
    }

    /// One HTTP request to the listener with `body`: (status, the response's header
    /// lines lower-cased, body).
    pub async fn exchange(&self, method: &str, path: &str, body: &str) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, head.to_ascii_lowercase(), body.to_string())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
