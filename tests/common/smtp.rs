//! A real SMTP server on 127.0.0.1 that keeps what it receives: aiosmtpd's
//! Maildir sink (Debian's `python3-aiosmtpd`, installed by the test command),
//! one per test on a free port. Each stored message carries the envelope as
//! `X-MailFrom` / `X-RcptTo` headers.

use super::imap::free_port;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let dir = tempfile::Builder::new()
            .prefix("rapport-smtp")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        // Debian's module lives under /usr/bin/python3, which another python3 on PATH may not see.
        let child = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd: run the test command (scripts/test), which installs python3-aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { dir, port, child }
    }

    /// Every message received so far, as text.
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
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
