//! No credential reaches the logs at any level, `trace` included: canary
//! values for the IMAP password, an OAuth2 token and the SMTP password, in
//! plain and in the encoded forms the protocols send them (SASL PLAIN and
//! XOAUTH2 are base64), through real Dovecot and aiosmtpd. (The chat
//! webhook's URL: `digest_send::a_chat_webhook_must_be_https_...`.)

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
