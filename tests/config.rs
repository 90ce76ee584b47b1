//! Configuration: secrets from files and environment never show in Debug
//! output or logs; the built-in outbox writes .eml files.

mod common;

use common::{stderr, stdout, Workspace};
use rapport::config;
use rapport::outbound::Mailer;

#[test]
fn a_secret_from_a_file_is_usable_but_never_printed() {
    let ws = Workspace::new();
    ws.write("smtp-password", "s3cr3t-from-file\n");
    let file = ws.write(
        "rapport.toml",
        format!(
            "[smtp]\nhost = \"smtp.example.com\"\nusername = \"ann\"\npassword_file = \"{}\"\n",
            ws.path("smtp-password").display()
        ),
    );
    let settings = config::load(Some(&file)).unwrap();
    let password = settings.config.smtp.password.as_ref().expect("password loaded");
    assert_eq!(password.expose(), "s3cr3t-from-file");
    let debug = format!("{settings:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("[redacted]"));
}

#[test]
fn a_secret_and_its_file_together_are_refused() {
    let ws = Workspace::new();
    let file = ws.write(
        "rapport.toml",
        "[smtp]\npassword = \"a\"\npassword_file = \"/dev/null\"\n",
    );
    let err = config::load(Some(&file)).unwrap_err().to_string();
    assert!(err.contains("smtp.password") && err.contains("not both"), "{err}");
}

#[test]
fn a_secret_from_the_environment_stays_out_of_logs() {
    let ws = Workspace::new();
    let out = ws
        .command()
        .args(["--json", "config", "check"])
        .env("RUST_LOG", "trace")
        .env("RAPPORT__SMTP__HOST", "127.0.0.1")
        .env("RAPPORT__SMTP__TLS", "none")
        .env("RAPPORT__SMTP__USERNAME", "ann")
        .env("RAPPORT__SMTP__PASSWORD", "[env-secret-007]")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("SMTP via 127.0.0.1:587"));
    assert!(!stdout(&out).contains("env-secret") && !stderr(&out).contains("env-secret"));
}

#[test]
fn a_webhook_secret_from_the_environment_is_taken_as_written_and_never_shown() {
    let ws = Workspace::new();
    let out = ws
        .command()
        .args(["config", "check"])
        .env("RUST_LOG", "trace")
        // Read raw: figment would take `007` for a number and `[x]` for a list.
        .env("RAPPORT__HOOKS__CALENDLY__SECRET", "[whsec-env-007]")
        .env("RAPPORT__HOOKS__CALENDLY__PREVIOUS_SECRET", "007")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("webhook:   /hooks/calendly (signed, the previous secret too while rotating)"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("whsec-env") && !stderr(&out).contains("whsec-env"));
    let file = ws.write(
        "rapport.toml",
        "[hooks.calendly]
tolerance_secs = 60
",
    );
    let err = config::load(Some(&file)).unwrap_err().to_string();
    assert!(
        err.contains("hooks.calendly.secret") && err.contains("secret_file"),
        "a section without its secret is refused: {err}"
    );
    ws.write("calendly-secret", "whsec-from-file\n");
    let file = ws.write(
        "rapport.toml",
        format!(
            "[hooks.calendly]\nsecret_file = \"{}\"\n",
            ws.path("calendly-secret").display()
        ),
    );
    let settings = config::load(Some(&file)).unwrap();
    let hook = settings.config.hooks.calendly.as_ref().unwrap();
    assert_eq!(hook.secret.as_ref().unwrap().expose(), "whsec-from-file");
    assert_eq!(
        hook.tolerance_secs, 180,
        "Calendly's tolerance is 3 minutes unless told"
    );
}

#[test]
fn an_outgoing_webhook_without_a_secret_an_https_url_or_kinds_is_refused_with_every_problem() {
    let ws = Workspace::new();
    let file = ws.write(
        "rapport.toml",
        "[[webhooks.out]]\nurl = \"http://crm.example.com/hooks/s3cr3t-path\"\nevents = []\n\
         [[webhooks.out]]\nurl = \"https://crm.example.com/hooks\"\nsecret = \"short\"\nevents = [\"Stage Changed\"]\n",
    );
    let err = config::load(Some(&file)).unwrap_err();
    let text = err.to_string();
    for expected in [
        "webhooks.out[0].secret",
        "webhooks.out[0].url",
        "plain http",
        "webhooks.out[0].events",
        "webhooks.out[1].secret",
        "shorter than 16",
        "'Stage Changed' is not an event kind",
    ] {
        assert!(text.contains(expected), "{expected} in: {text}");
    }
    assert!(!text.contains("s3cr3t-path"), "the URL's path may be a secret: {text}");
    let file = ws.write(
        "rapport.toml",
        "[[webhooks.out]]\nurl = \"https://crm.example.com/hooks\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         events = [\"stage.changed\"]\n",
    );
    let settings = config::load(Some(&file)).unwrap();
    assert_eq!(settings.config.webhooks.out[0].events, ["stage.changed"]);
}

#[test]
fn plain_smtp_is_only_allowed_to_loopback() {
    let ws = Workspace::new();
    let out = ws
        .command()
        .args(["config", "check"])
        .env("RAPPORT__SMTP__HOST", "smtp.example.com")
        .env("RAPPORT__SMTP__TLS", "none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("smtp.tls") && stderr(&out).contains("loopback"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn without_smtp_mail_is_written_to_the_outbox_folder() {
    let ws = Workspace::new();
    let file = ws.write(
        "rapport.toml",
        format!("[mail]\noutbox_dir = \"{}\"\n", ws.path("outbox").display()),
    );
    let settings = config::load(Some(&file)).unwrap();
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = lettre::Message::builder()
        .from("Ann Rep <ann@example.com>".parse().unwrap())
        .to("jane@acme.example".parse().unwrap())
        .subject("Hello")
        .body("Hi Jane".to_string())
        .unwrap();
    mailer.send(message).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(ws.path("outbox")).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path().extension().and_then(|e| e.to_str()), Some("eml"));
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(text.contains("Subject: Hello") && text.contains("Hi Jane"));
}

#[tokio::test]
async fn mail_reaches_a_real_smtp_server_on_loopback_with_its_message_id() {
    let sink = common::smtp::SmtpSink::start();
    let ws = Workspace::new();
    let file = ws.write(
        "rapport.toml",
        format!("[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n", sink.port),
    );
    let mailer = Mailer::from_settings(&config::load(Some(&file)).unwrap()).unwrap();
    assert_eq!(mailer.describe(), "SMTP via 127.0.0.1");
    let message = lettre::Message::builder()
        .from("Ann Rep <ann@example.com>".parse().unwrap())
        .to("jane@acme.example".parse().unwrap())
        .subject("Hello")
        .message_id(Some("<step-1.42@rapport.example>".into()))
        .body("Hi Jane".to_string())
        .unwrap();
    mailer.send(message).await.unwrap();
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].contains("Message-ID: <step-1.42@rapport.example>"),
        "{}",
        received[0]
    );
    assert!(received[0].contains("X-RcptTo: jane@acme.example"), "{}", received[0]);
}

#[test]
fn the_shipped_config_file_is_the_built_in_defaults() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rapport.toml");
    let from_file = config::load(Some(&shipped)).unwrap();
    let builtin = config::load(None).unwrap();
    assert_eq!(
        format!("{:?}", from_file.config),
        format!("{:?}", builtin.config).replace("dir: None", "dir: Some(\"pipelines\")")
    );
    assert_eq!(from_file.pipelines.slugs(), builtin.pipelines.slugs());
}

#[test]
fn mailbox_settings_are_checked_and_name_the_key() {
    let ws = Workspace::new();
    ws.write("imap-password", "pw\n");
    let password = ws.path("imap-password").display().to_string();
    let mailbox = |extra: &str| {
        format!("[mailboxes.work]\nrep = \"ann@example.com\"\nhost = \"imap.example.com\"\nusername = \"ann\"\n{extra}")
    };
    let cases = [
        (
            mailbox(&format!("tls = \"plain\"\npassword_file = \"{password}\"\n")),
            "mailboxes.work.tls",
        ),
        (mailbox(""), "mailboxes.work.password_env"),
        (
            mailbox("password_file = \"/nonexistent/imap\"\n"),
            "mailboxes.work.password_file",
        ),
        (
            mailbox(&format!(
                "password_file = \"{password}\"\nfolders = [\"INBOX\", \"Junk\"]\n"
            )),
            "mailboxes.work.folders",
        ),
        (
            mailbox("password_env = \"RAPPORT_TEST_UNSET_IMAP_PASSWORD\"\n"),
            "mailboxes.work.password_env",
        ),
        (
            mailbox(&format!("password_file = \"{password}\"\npassword = \"inline\"\n")),
            "password",
        ),
    ];
    for (text, key) in cases {
        let file = ws.write("rapport.toml", &text);
        let out = ws.run(&["--config", file.to_str().unwrap(), "config", "check"]);
        assert_eq!(out.status.code(), Some(2), "{text}\n{}", stderr(&out));
        assert!(stderr(&out).contains(key), "{key} not named: {}", stderr(&out));
    }
    let good = ws.write("rapport.toml", mailbox(&format!("password_file = \"{password}\"\n")));
    let settings = config::load(Some(&good)).expect("valid mailbox config");
    let work = &settings.config.mailboxes["work"];
    assert_eq!(work.port(), 993, "implicit TLS by default");
    assert!(work.idle);
    assert!(!format!("{settings:?}").contains("pw\n"));
}

/// Found by fuzzing the config loader: a log filter with non-ASCII text made
/// tracing-subscriber's parser panic. Now it is a clear error, in the file or
/// in RUST_LOG alike.
#[test]
fn a_log_filter_that_is_not_ascii_is_refused_not_a_panic() {
    let ws = Workspace::new();
    let file = ws.write("rapport.toml", "[log]\nlevel = \" a\u{753}[pport conf\"\n");
    let out = ws.run(&["--config", file.to_str().unwrap(), "config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("log.level") && !stderr(&out).contains("panicked"),
        "{}",
        stderr(&out)
    );
    let out = ws
        .command()
        .args(["config", "check"])
        .env("RUST_LOG", " a\u{753}[x")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
