//! A real SMTP server on 127.0.0.1 that keeps what it receives: aiosmtpd
//! (Debian's `python3-aiosmtpd`, installed by the test command) run from
//! `tests/support/smtp_server.py`, one per test on a free port. Each stored
//! message carries the envelope as `X-MailFrom` / `X-RcptTo` headers. It can
//! require AUTH, offer STARTTLS, refuse chosen recipients, file a copy of each
//! message in a Dovecot Sent folder, and log its transactions.

use super::imap::free_port;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

#[derive(Default)]
pub struct SmtpOptions {
    /// USER, PASSWORD
    pub auth: Option<(String, String)>,
    /// Certificate and key (PEM) for STARTTLS.
    pub starttls: Option<(PathBuf, PathBuf)>,
    /// With `starttls`: TLS from the first byte instead (port 465 style).
    pub implicit_tls: bool,
    /// ADDRESS, REPLY (e.g. "550 5.1.1 User unknown").
    pub refuse: Vec<(String, String)>,
    /// A Maildir folder to file a copy of each accepted message in, and its owner.
    pub copy_to: Option<(PathBuf, String)>,
    /// A pause (ms) after storing a message, before the final reply.
    pub delay_ms: u64,
}

/// What the server saw of its transactions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Transactions {
    pub started: usize,
    pub accepted: usize,
    /// The client vanished between MAIL FROM and the end of DATA.
    pub aborted: usize,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(SmtpOptions::default())
    }

    pub fn start_with(options: SmtpOptions) -> SmtpSink {
        let dir = tempfile::Builder::new()
            .prefix("rapport-smtp")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        // Debian's module lives under /usr/bin/python3, which another python3 on PATH may not see.
        let mut command = Command::new("/usr/bin/python3");
        command
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--maildir")
            .arg(dir.path().join("maildir"))
            .arg("--log")
            .arg(dir.path().join("transactions.jsonl"));
        if let Some((user, password)) = &options.auth {
            command.args(["--auth", &format!("{user}:{password}")]);
        }
        if let Some((cert, key)) = &options.starttls {
            command.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
            if options.implicit_tls {
                command.arg("--implicit-tls");
            }
        }
        for (address, reply) in &options.refuse {
            command.args(["--refuse", &format!("{address}={reply}")]);
        }
        if options.delay_ms > 0 {
            command.args(["--delay-ms", &options.delay_ms.to_string()]);
        }
        if let Some((folder, owner)) = &options.copy_to {
            command.arg("--copy-to").arg(folder).args(["--copy-owner", owner]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd: run the test command (scripts/test), which installs python3-aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { dir, port, child }
    }

    /// Every message received so far, as text, oldest first.
    /// How many messages the server has taken, without reading them.
    pub fn received_count(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("maildir/new")).map_or(0, |entries| entries.count())
    }

    pub fn received(&self) -> Vec<String> {
        let new = self.dir.path().join("maildir/new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(new)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect()
    }

    pub fn transactions(&self) -> Transactions {
        let log = std::fs::read_to_string(self.dir.path().join("transactions.jsonl")).unwrap_or_default();
        let mut seen = Transactions::default();
        for line in log.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            match entry["event"].as_str() {
                Some("mail") => seen.started += 1,
                Some("accepted") => seen.accepted += 1,
                Some("aborted") => seen.aborted += 1,
                _ => {}
            }
        }
        seen
    }
}

/// A header's value in a received message (first occurrence, unfolded).
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_lowercase());
    unfolded
        .split("\r\n")
        .find(|line| line.to_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim().to_string())
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
