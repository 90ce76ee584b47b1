//! No credential reaches the logs at any level, `trace` included: canary
//! values for the IMAP password, an OAuth2 token and the SMTP password, in
//! plain and in the encoded forms the protocols send them (SASL PLAIN and
//! XOAUTH2 are base64), through real Dovecot and aiosmtpd; an incoming
//! webhook's signing secret, while its refusals are logged with their
//! reason. (The chat webhook's URL: `digest_send::a_chat_webhook_must_be_https_...`.)

mod common;

use base64::Engine;
use common::imap::{Dovecot, LOGIN, PASSWORD};
use common::smtp::SmtpSink;
use common::{stderr, stdout, Workspace};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every spelling of `secret` a log line could carry.
fn forms(user: &str, secret: &str) -> Vec<String> {
    vec![
        secret.to_string(),
        b64(secret.as_bytes()),
        b64(format!("\0{user}\0{secret}").as_bytes()),
        b64(format!("user={user}\x01auth=Bearer {secret}\x01\x01").as_bytes()),
    ]
}

fn assert_absent(output: &std::process::Output, user: &str, secret: &str) {
    let shown = format!("{}{}", stdout(output), stderr(output));
    assert!(shown.len() > 1000, "trace logging was on: {shown}");
    for form in forms(user, secret) {
        assert!(
            !shown.contains(&form),
            "a credential ({form}) reached the log:\n{shown}"
        );
    }
}

fn mail_world(server: &Dovecot, mailbox_lines: &str) -> Workspace {
    let ws = Workspace::with_rep();
    ws.ok(&["prospect", "add", "--name", "Jane Doe", "--email", "jane@acme.io"]);
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        format!(
            "{config}\n[mailboxes.ann]\nrep = \"ann@example.com\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n\
             username = \"{LOGIN}\"\n{mailbox_lines}",
            server.port
        ),
    );
    server.client().append(
        "INBOX",
        b"From: Jane Doe <jane@acme.io>\r\nTo: ann@example.com\r\nSubject: Hi\r\nMessage-ID: <r1@acme.io>\r\n\
          Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nHello Ann\r\n",
    );
    ws
}

fn traced(ws: &Workspace, args: &[&str]) -> std::process::Output {
    ws.command().args(args).env("RUST_LOG", "trace").output().expect("run")
}

#[test]
fn the_imap_password_never_reaches_the_log() {
    let server = Dovecot::start();
    let ws = mail_world(&server, "password_env = \"CANARY_PASSWORD\"\n");
    let out = ws
        .command()
        .args(["mail", "sync", "--once"])
        // Even asked for by name, the IMAP transcript stays out.
        .env("RUST_LOG", "trace,async_imap::imap_stream=trace")
        .env("CANARY_PASSWORD", PASSWORD)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_absent(&out, LOGIN, PASSWORD);
}

#[test]
fn an_oauth2_token_never_reaches_the_log() {
    const TOKEN: &str = "canary-oauth-token-8c1f";
    let introspection = common::http::introspection(TOKEN);
    let server = Dovecot::start_with_oauth2(&format!("http://127.0.0.1:{}/introspect", introspection.port));
    let ws = mail_world(&server, "oauth2_token_env = \"CANARY_TOKEN\"\n");
    let out = ws
        .command()
        .args(["mail", "sync", "--once"])
        .env("RUST_LOG", "trace")
        .env("CANARY_TOKEN", TOKEN)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_absent(&out, LOGIN, TOKEN);
}

#[test]
fn the_smtp_password_never_reaches_the_log() {
    const PASSWORD: &str = "canary-smtp-secret-41d2";
    let certificates = tempfile::tempdir().expect("temp dir");
    common::imap::make_certificates(certificates.path());
    let smtp = SmtpSink::start_with(common::smtp::SmtpOptions {
        auth: Some(("ann".into(), PASSWORD.into())),
        starttls: Some((
            certificates.path().join("server.pem"),
            certificates.path().join("server.key"),
        )),
        ..Default::default()
    });
    let ws = Workspace::with_rep();
    common::write_sending_config(&ws, smtp.port, common::imap::free_port(), "", "");
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        config.replace(
            "tls = \"none\"\n",
            &format!(
                "tls = \"starttls\"\nusername = \"ann\"\npassword = \"{PASSWORD}\"\nca_file = \"{}\"\n",
                certificates.path().join("ca.pem").display()
            ),
        ),
    );
    ws.write("config/sequences/one.toml", common::ONE_EMAIL_SEQUENCE);
    ws.ok(&["prospect", "add", "--name", "Jane", "--email", "jane@acme.io"]);
    let monday = "2026-11-30T09:00:00Z";
    ws.at(monday, &["sequence", "enroll", "one", "--stage", "prospecting"]);
    let out = traced(&ws, &["--now", monday, "sequence", "send", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(smtp.received().len(), 1, "sent after logging in");
    assert_absent(&out, "ann", PASSWORD);
}

/// A mailbox whose secret is missing breaks only that mailbox: the other
/// mailboxes sync, every other command works, and the error names the
/// variable where the secret is used.
#[test]
fn a_missing_secret_breaks_only_its_own_mailbox() {
    let server = Dovecot::start();
    let ws = mail_world(&server, "password_env = \"CANARY_PASSWORD\"\n");
    ws.ok(&["rep", "add", "--name", "Bo Rep", "--email", "bo@example.com"]);
    let config = std::fs::read_to_string(ws.path("config/rapport.toml")).expect("config");
    ws.write(
        "config/rapport.toml",
        format!(
            "{config}\n[mailboxes.bo]\nrep = \"bo@example.com\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n\
             username = \"bo\"\npassword_env = \"RAPPORT_TEST_UNSET_BO_PASSWORD\"\n",
            server.port
        ),
    );
    let with_ann = |args: &[&str]| {
        ws.command()
            .args(args)
            .env("CANARY_PASSWORD", PASSWORD)
            .env_remove("RAPPORT_TEST_UNSET_BO_PASSWORD")
            .output()
            .expect("run")
    };
    for args in [&["sequence", "status"][..], &["prospect", "list"], &["mail", "status"]] {
        let out = with_ann(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let sync = with_ann(&["mail", "sync", "--once"]);
    assert_eq!(sync.status.code(), Some(1), "{}", stderr(&sync));
    assert!(
        stderr(&sync).contains("RAPPORT_TEST_UNSET_BO_PASSWORD"),
        "{}",
        stderr(&sync)
    );
    let jane = ws.json(&["prospect", "show", "jane@acme.io"]);
    assert!(
        jane["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "email.replied"),
        "Ann's mailbox was read all the same: {jane}"
    );
    let check = with_ann(&["config", "check"]);
    assert_eq!(check.status.code(), Some(2));
    assert!(
        stderr(&check).contains("mailboxes.bo.password_env"),
        "{}",
        stderr(&check)
    );
}

#[test]
fn a_refused_webhook_is_logged_with_its_reason_and_never_with_the_secret() {
    use hmac::{Hmac, Mac};
    use std::io::{BufRead, Read, Write};
    const CANARY: &str = "calendly-canary-4b1d9e";
    let ws = Workspace::with_rep();
    let mut daemon = ws
        .command()
        .arg("daemon")
        .env("RUST_LOG", "trace")
        .env("RAPPORT__HOOKS__CALENDLY__SECRET", CANARY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (ready, address) = std::sync::mpsc::channel();
    let lines = daemon.stderr.take().unwrap();
    let kept = log.clone();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(lines).lines().map_while(Result::ok) {
            if line.contains("HTTP listener ready") {
                let at = line
                    .split("address=")
                    .nth(1)
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                let _ = ready.send(at.to_string());
            }
            kept.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let address = address
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the listener's ready line");
    let deliver = |secret: &str| {
        let body = r#"{"event":"invitee.created","payload":{"email":"nobody@lead.example","uri":"https://api.calendly.com/x/IN1"}}"#;
        let t = chrono::Utc::now().timestamp();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        let v1 = hex::encode(mac.finalize().into_bytes());
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "POST /hooks/calendly HTTP/1.1\r\nHost: rapport\r\nContent-Type: application/json\r\n\
             Calendly-Webhook-Signature: t={t},v1={v1}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(
        deliver("not-the-secret").starts_with("HTTP/1.1 401"),
        "a wrong signature is refused"
    );
    assert!(deliver(CANARY).starts_with("HTTP/1.1 200"), "the right one is taken");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
    reader.join().unwrap();
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("webhook delivery refused") && log.contains("does not match"),
        "the refusal and its reason are logged:\n{log}"
    );
    assert!(log.contains("webhook delivery recorded"));
    assert!(
        !log.contains(CANARY) && !log.contains(&b64(CANARY.as_bytes())),
        "the secret reached the log:\n{log}"
    );
}
