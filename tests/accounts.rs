//! Reps' accounts: passwords set from a file and kept as Argon2id hashes,
//! roles, disabling, and API tokens shown once and kept as digests; signing
//! in with a password or a token gives the actor with the right scope.

mod common;

use common::app::spawn_app;
use common::{stderr, Workspace};
use rapport::app::{accounts, Actor};

#[tokio::test]
async fn a_password_signs_in_as_the_rep_and_nothing_else_does() {
    let app = spawn_app().await;
    let (admin, _) = app.rep("Ann", "ann@example.com").await;
    let (bob, as_bob) = app.rep("Bob", "bob@example.com").await;
    let operator = Actor::Team { name: "ops".into() };
    let refused = accounts::set_password(&app.core, &operator, Some("bob@example.com"), "too short").await;
    assert!(format!("{}", refused.unwrap_err()).contains("at least 12"));
    accounts::set_password(&app.core, &operator, Some("bob@example.com"), "correct horse battery")
        .await
        .expect("a password");
    let stored = app.store.credentials("bob@example.com").await.unwrap().unwrap();
    let hash = stored.password_hash.expect("a hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains("correct horse"));

    let signed_in = accounts::sign_in(&app.core, "Bob@Example.com", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(signed_in, Some(as_bob.clone()), "a rep acts for their own prospects");
    for (email, password) in [
        ("bob@example.com", "correct horse batterY"),
        ("nobody@example.com", "correct horse battery"),
        ("ann@example.com", "correct horse battery"),
    ] {
        let actor = accounts::sign_in(&app.core, email, password).await.unwrap();
        assert_eq!(actor, None, "{email} / {password}");
    }
    // A rep manages only their own account; the admin anyone's.
    let not_theirs = accounts::set_password(&app.core, &as_bob, Some("ann@example.com"), "another long secret").await;
    assert!(not_theirs.is_err());
    accounts::set_password(&app.core, &operator, Some("ann@example.com"), "admin passphrase here")
        .await
        .unwrap();
    let as_admin = accounts::sign_in(&app.core, "ann@example.com", "admin passphrase here")
        .await
        .unwrap();
    assert_eq!(
        as_admin,
        Some(Actor::Team { name: "Ann".into() }),
        "an admin acts for the team"
    );
    assert_eq!(admin.id + 1, bob.id);

    accounts::disable(&app.core, &operator, Some("bob@example.com"))
        .await
        .unwrap();
    let disabled = accounts::sign_in(&app.core, "bob@example.com", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(disabled, None, "a disabled rep signs in no more");
}

#[tokio::test]
async fn a_token_is_shown_once_kept_as_a_digest_and_stops_when_revoked() {
    let app = spawn_app().await;
    app.rep("Ann", "ann@example.com").await;
    let (_, as_bob) = app.rep("Bob", "bob@example.com").await;
    let (token, text) = accounts::create_token(&app.core, &as_bob, None, "crm sync")
        .await
        .unwrap();
    assert!(text.starts_with("rapport_") && text.len() == 72, "{text}");
    assert_eq!(accounts::bearer(&app.core, &text).await.unwrap(), Some(as_bob.clone()));
    assert_eq!(accounts::bearer(&app.core, "rapport_nonsense").await.unwrap(), None);
    let listed = accounts::tokens(&app.core, &as_bob, None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "its use is noted");
    let not_theirs = accounts::create_token(&app.core, &as_bob, Some("ann@example.com"), "x").await;
    assert!(not_theirs.is_err(), "a rep makes tokens for themselves only");
    let (revoked, changed) = accounts::revoke_token(&app.core, &as_bob, None, "crm sync")
        .await
        .unwrap();
    assert!(changed && revoked.id == token.id);
    assert_eq!(accounts::bearer(&app.core, &text).await.unwrap(), None);
}

#[tokio::test]
async fn a_session_lives_while_used_and_ends_idle_at_logout_or_with_a_new_password() {
    use chrono::Duration;
    let app = spawn_app().await;
    app.rep("Ann", "ann@example.com").await;
    let (_, as_bob) = app.rep("Bob", "bob@example.com").await;
    let operator = Actor::Team { name: "ops".into() };
    accounts::set_password(&app.core, &operator, Some("bob@example.com"), "correct horse battery")
        .await
        .unwrap();
    let wrong = accounts::log_in(&app.core, "bob@example.com", "wrong horse battery")
        .await
        .unwrap();
    assert!(wrong.is_none());
    let started = accounts::log_in(&app.core, "bob@example.com", "correct horse battery")
        .await
        .unwrap()
        .expect("signed in");
    assert_eq!(started.actor, as_bob);
    assert_eq!(started.cookie.len(), 64, "32 random bytes");
    let again = accounts::log_in(&app.core, "bob@example.com", "correct horse battery")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(again.cookie, started.cookie, "a new id at every sign-in");
    let signed = accounts::session(&app.core, &started.cookie)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(
        (signed.actor, signed.csrf_token),
        (as_bob.clone(), started.csrf_token.clone())
    );
    assert!(accounts::session(&app.core, "not-a-session").await.unwrap().is_none());

    // Used within the idle time it lives on; left idle longer, it ends (12 h by default).
    app.clock.advance(Duration::hours(11));
    assert!(accounts::session(&app.core, &started.cookie).await.unwrap().is_some());
    app.clock.advance(Duration::hours(11));
    assert!(accounts::session(&app.core, &started.cookie).await.unwrap().is_some());
    app.clock.advance(Duration::hours(13));
    assert!(
        accounts::session(&app.core, &started.cookie).await.unwrap().is_none(),
        "idle"
    );

    let third = accounts::log_in(&app.core, "bob@example.com", "correct horse battery")
        .await
        .unwrap()
        .unwrap();
    assert!(accounts::log_out(&app.core, &third.cookie).await.unwrap());
    assert!(
        accounts::session(&app.core, &third.cookie).await.unwrap().is_none(),
        "logged out"
    );
    let fourth = accounts::log_in(&app.core, "bob@example.com", "correct horse battery")
        .await
        .unwrap()
        .unwrap();
    accounts::set_password(&app.core, &as_bob, None, "a brand new passphrase")
        .await
        .unwrap();
    assert!(
        accounts::session(&app.core, &fourth.cookie).await.unwrap().is_none(),
        "a new password ends it"
    );
}

#[test]
fn accounts_from_the_command_line() {
    let ws = Workspace::with_rep();
    ws.ok(&["rep", "add", "--name", "Bob Rep", "--email", "bob@example.com"]);
    ws.write("short.txt", "hunter2\n");
    let out = ws.run(&["rep", "passwd", "bob@example.com", "--password-file", "short.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 12"), "{}", stderr(&out));
    let out = ws.run(&["rep", "passwd", "bob@example.com", "--password-file", "missing.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.txt"), "{}", stderr(&out));
    ws.write("good.txt", "correct horse battery\n");
    let out = ws
        .command()
        .env("RUST_LOG", "trace")
        .args(["rep", "passwd", "bob@example.com", "--password-file", "good.txt"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = format!("{}{}", common::stdout(&out), stderr(&out));
    assert!(
        !printed.contains("correct horse"),
        "the password reaches no output, not even trace logs"
    );
    ws.ok(&["rep", "role", "bob@example.com", "manager"]);
    let accounts = ws.json(&["rep", "accounts"]);
    assert_eq!(accounts[0]["role"], "admin", "the first rep: {accounts}");
    assert_eq!(accounts[1]["role"], "manager");
    assert_eq!(accounts[1]["has_password"], true);

    let token = ws.ok(&["rep", "token", "create", "bob@example.com", "--name", "crm sync"]);
    let token = token.trim();
    assert!(token.starts_with("rapport_"), "{token}");
    let listed = ws.json(&["rep", "token", "list"]);
    assert_eq!(listed[0]["name"], "crm sync");
    assert!(!listed.to_string().contains(token), "the token is never shown again");
    let database = std::fs::read(ws.path("data/rapport.db")).unwrap();
    let held = database.windows(token.len()).any(|w| w == token.as_bytes());
    assert!(!held, "only the token's digest is stored");
    assert!(ws
        .ok(&["rep", "token", "revoke", "bob@example.com", "crm sync"])
        .contains("revoked"));
    assert!(ws.ok(&["rep", "disable", "bob@example.com"]).contains("disabled"));
    assert!(ws.json(&["rep", "accounts"])[1]["disabled_at"].is_string());
}

#[test]
fn init_makes_the_first_rep_an_admin_who_can_sign_in() {
    let ws = Workspace::new();
    ws.write("pw.txt", "short\n");
    let init = |file: &str| {
        ws.run(&[
            "init",
            "--rep-name",
            "Ann Rep",
            "--rep-email",
            "ann@example.com",
            "--password-file",
            file,
        ])
    };
    let out = init("pw.txt");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("at least 12"), "{}", stderr(&out));
    assert!(
        !ws.path("config/rapport.toml").exists(),
        "a bad password file changes nothing"
    );
    ws.write("pw.txt", "a long admin passphrase\n");
    let out = init("pw.txt");
    assert!(out.status.success(), "{}", stderr(&out));
    let accounts = ws.json(&["rep", "accounts"]);
    assert_eq!(accounts[0]["role"], "admin", "{accounts}");
    assert_eq!(accounts[0]["has_password"], true);
}

/// Runs rapport on a pseudo-terminal (`script`, from util-linux), answering
/// each prompt only once it is shown, as a person types: the terminal's echo
/// is off by then, so what is typed must not come back.
fn on_a_terminal(ws: &Workspace, command: &str, answers: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(ws.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for (prompt, answer) in answers {
        while !seen.contains(prompt) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match receiver.recv_timeout(left) {
                Ok(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("no prompt {prompt:?} in {seen:?}"),
            }
        }
        // The prompt shows a moment before echo is switched off: wait for that
        // (the terminal's state sends no notice; it is looked at again whenever
        // rapport writes, and at least every 10 ms, until the deadline).
        while !echo_is_off(child.id()) {
            assert!(
                std::time::Instant::now() < deadline,
                "echo never went off after {prompt:?}"
            );
            if let Ok(chunk) = receiver.recv_timeout(std::time::Duration::from_millis(10)) {
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    drop(stdin);
    let status = child.wait().expect("rapport ends");
    while let Ok(chunk) = receiver.recv_timeout(std::time::Duration::from_secs(5)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(status.success(), "{command}: {seen}");
    seen
}

/// Whether the terminal rapport (a descendant of `script`, pid `root`)
/// reads from has echo off, as `stty` reports it.
fn echo_is_off(root: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !cmdline.starts_with(common::BIN.as_bytes()) || !descends_from(pid, root) {
            continue;
        }
        let Ok(tty) = std::fs::read_link(format!("/proc/{pid}/fd/0")) else {
            continue;
        };
        let stty = std::process::Command::new("stty")
            .arg("-F")
            .arg(&tty)
            .arg("-a")
            .output();
        if let Ok(out) = stty {
            return String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .any(|flag| flag == "-echo");
        }
    }
    false
}

fn descends_from(mut pid: u32, root: u32) -> bool {
    for _ in 0..8 {
        if pid == root {
            return true;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The parent pid is the second field after the command's closing parenthesis.
        match stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok())
        {
            Some(parent) => pid = parent,
            None => return false,
        }
    }
    false
}

#[test]
fn init_on_a_terminal_asks_for_the_first_password_twice_and_never_shows_it() {
    let ws = Workspace::new();
    let command = format!("{} init --rep-name Ann --rep-email ann@example.com", common::BIN);
    let said = on_a_terminal(
        &ws,
        &command,
        &[
            (
                "Password for ann@example.com (12 characters or more): ",
                "correct horse battery",
            ),
            ("The same password again: ", "correct horse battery"),
        ],
    );
    assert!(said.contains("password of ann@example.com set"), "{said}");
    assert!(!said.contains("correct horse"), "the password was echoed: {said}");
    let accounts = ws.run(&["rep", "accounts"]);
    assert!(String::from_utf8_lossy(&accounts.stdout).contains("can sign in"));

    let passwd = format!("{} rep passwd ann@example.com", common::BIN);
    let said = on_a_terminal(
        &ws,
        &passwd,
        &[
            (
                "Password for ann@example.com (12 characters or more): ",
                "another long secret",
            ),
            ("The same password again: ", "another long secret"),
        ],
    );
    assert!(
        said.contains("password of ann@example.com set") && !said.contains("another long"),
        "{said}"
    );
    // Not on a terminal and no file: told how to give one.
    let refused = ws.run(&["rep", "passwd", "ann@example.com"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--password-file"), "{}", stderr(&refused));
}
