//! A real Dovecot IMAP server on 127.0.0.1, one per test, run as the
//! unprivileged user the test command creates; and a small raw IMAP client
//! to place messages with APPEND and to look at folders the way a mail
//! client would.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Makes Dovecot's clock run ahead (Debian's libfaketime), see `launch`.
const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
/// How far ahead Dovecot's clock runs.
const CLOCK_AHEAD_DAYS: i64 = 3650;

/// An INTERNALDATE for APPEND that Dovecot (its clock and file times
/// `CLOCK_AHEAD_DAYS` ahead) reports back as `at`.
fn imap_date(at: chrono::DateTime<chrono::FixedOffset>) -> String {
    (at - chrono::Duration::days(CLOCK_AHEAD_DAYS))
        .format("%d-%b-%Y %H:%M:%S %z")
        .to_string()
}

/// The system user Dovecot runs as (created by `scripts/test`).
pub const MAIL_USER: &str = "rapport-mailtest";
pub const LOGIN: &str = "ann";
pub const PASSWORD: &str = "annpass";

pub struct Dovecot {
    pub dir: tempfile::TempDir,
    /// Plain IMAP (and STARTTLS, when started with TLS).
    pub port: u16,
    /// Implicit TLS, when started with TLS.
    pub tls_port: Option<u16>,
    /// Where XOAUTH2 tokens are checked (an OAuth2 introspection endpoint), if anywhere.
    oauth_introspection: Option<String>,
    child: Option<Child>,
}

impl Dovecot {
    /// Starts a fresh server with an empty mailbox for `ann` (INBOX, Sent, Junk, Trash).
    pub fn start() -> Dovecot {
        Dovecot::start_with(false, None)
    }

    /// Also offers STARTTLS and implicit TLS, with a certificate for 127.0.0.1
    /// from a test CA (`ca_file()`).
    pub fn start_with_tls() -> Dovecot {
        Dovecot::start_with(true, None)
    }

    /// Also takes XOAUTH2 logins, checking each token with a GET to `introspection_url`
    /// (`Authorization: Bearer TOKEN`), as an OAuth2 provider's introspection endpoint.
    pub fn start_with_oauth2(introspection_url: &str) -> Dovecot {
        Dovecot::start_with(false, Some(introspection_url.to_string()))
    }

    fn start_with(tls: bool, oauth_introspection: Option<String>) -> Dovecot {
        assert!(
            Path::new("/usr/sbin/dovecot").exists() && Path::new(FAKETIME_LIB).exists(),
            "Dovecot or libfaketime is not installed: run the test command (scripts/test), which installs and starts the test servers"
        );
        let dir = tempfile::Builder::new()
            .prefix("rapport-imap")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let tls_port = tls.then(free_port);
        let mut server = Dovecot {
            dir,
            port,
            tls_port,
            oauth_introspection,
            child: None,
        };
        if tls {
            make_certificates(server.dir.path());
        }
        server.write_config();
        chown(server.dir.path());
        server.launch();
        server
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    fn write_config(&self) {
        let d = self.dir.path().display();
        let ssl = match self.tls_port {
            Some(_) => format!("ssl = yes\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n"),
            None => "ssl = no\n".to_string(),
        };
        let oauth2 = match &self.oauth_introspection {
            Some(url) => {
                let settings = format!(
                    "introspection_mode = auth\nintrospection_url = {url}\nusername_attribute = username\n\
                     active_attribute = active\nactive_value = true\n"
                );
                std::fs::write(self.dir.path().join("oauth2.conf.ext"), settings).expect("oauth2 settings");
                format!("passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {d}/oauth2.conf.ext\n}}\n")
            }
            None => String::new(),
        };
        let config = format!(
            r#"protocols = imap
listen = 127.0.0.1
import_environment = TZ LD_PRELOAD FAKETIME FAKETIME_SHARED
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
{oauth2}auth_failure_delay = 0
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
default_internal_user = {MAIL_USER}
default_internal_group = {MAIL_USER}
default_login_user = {MAIL_USER}
mail_uid = {MAIL_USER}
mail_gid = {MAIL_USER}
first_valid_uid = 0
mail_location = maildir:{d}/mail/%u/Maildir
# Test mail need not survive a power cut; fsync per APPEND would make large mailboxes slow to fill.
mail_fsync = never
imap_logout_format = in=%i out=%o fetch_hdr_count=%{{fetch_hdr_count}} fetch_body_count=%{{fetch_body_count}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={MAIL_USER} gid={MAIL_USER} home={d}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \Sent
    auto = create
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = create
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
    user = {MAIL_USER}
  }}
  unix_listener stats-writer {{
    mode = 0666
    user = {MAIL_USER}
  }}
}}
"#,
            port = self.port,
            tls_port = self.tls_port.unwrap_or(0),
        );
        std::fs::write(self.conf(), config).expect("write dovecot.conf");
        std::fs::write(
            self.dir.path().join("users"),
            format!("{LOGIN}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .expect("users");
    }

    fn launch(&mut self) {
        // The tests simulate days after today with `--now`, and place mail as
        // received then (APPEND with an INTERNALDATE). Dovecot refuses
        // INTERNALDATEs more than two hours ahead of its clock, so its clock
        // runs ten years ahead (libfaketime, installed by the test command).
        // It sees file times (a Maildir message's INTERNALDATE) as far ahead,
        // so every APPEND here names its date that far back (`imap_date`).
        let child = Command::new("setpriv")
            .args([
                &format!("--reuid={MAIL_USER}"),
                &format!("--regid={MAIL_USER}"),
                "--init-groups",
                // Preloaded only once the user is Dovecot's, so every Dovecot
                // process can share libfaketime's state.
                "/usr/bin/env",
                &format!("LD_PRELOAD={FAKETIME_LIB}"),
                &format!("FAKETIME=+{CLOCK_AHEAD_DAYS}d"),
                "/usr/sbin/dovecot",
                "-F",
                "-c",
            ])
            .arg(self.conf())
            .spawn()
            .expect("start dovecot");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "Dovecot did not start:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (its mail stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Makes the server forget a folder's UIDs, as after an index rebuild: the
    /// same messages come back under a new UIDVALIDITY.
    pub fn renumber(&mut self, folder: &str) {
        self.stop();
        let maildir = self.maildir(folder);
        for entry in std::fs::read_dir(&maildir).expect("maildir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
            if name.starts_with("dovecot-uidlist") || name.starts_with("dovecot.index") {
                std::fs::remove_file(&path).expect("remove index");
            }
        }
        // UIDVALIDITY is derived from the time; make sure it differs.
        std::thread::sleep(Duration::from_millis(1100));
        self.launch();
    }

    /// The Maildir folder behind an IMAP folder.
    pub fn maildir(&self, folder: &str) -> PathBuf {
        let root = self.dir.path().join(format!("mail/{LOGIN}/Maildir"));
        if folder == "INBOX" {
            root
        } else {
            root.join(format!(".{folder}"))
        }
    }

    pub fn client(&self) -> RawImap {
        RawImap::login(self.port)
    }

    /// The `[mailboxes.ann]` config section for this server.
    pub fn mailbox_config(&self, password_file: &Path) -> String {
        format!(
            "[mailboxes.ann]\nrep = \"ann@example.com\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n\
             username = \"{LOGIN}\"\npassword_file = \"{}\"\n",
            self.port,
            password_file.display()
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A test CA and a server certificate for 127.0.0.1 signed by it.
pub fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca = [
        "-x509",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=rapport test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ];
    openssl(&[&["req"][..], &new_key, &ca].concat());
    let request = ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"];
    openssl(&[&["req"][..], &new_key, &request].concat());
    let extensions =
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    std::fs::write(dir.join("server.ext"), extensions).expect("write extensions");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

fn chown(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", &format!("{MAIL_USER}:{MAIL_USER}")])
        .arg(path)
        .status()
        .expect("chown");
    assert!(
        status.success(),
        "cannot give {} to {MAIL_USER}; run the test command (scripts/test), which creates that user",
        path.display()
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Just enough IMAP to APPEND and to look at folders.
pub struct RawImap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl RawImap {
    pub fn login(port: u16) -> RawImap {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to Dovecot");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let writer = stream.try_clone().expect("clone");
        let mut client = RawImap {
            reader: BufReader::new(stream),
            writer,
            tag: 0,
        };
        client.read_line();
        client.command(&format!("LOGIN {LOGIN} {PASSWORD}"));
        client
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read from Dovecot");
        line
    }

    /// Sends a command and returns the untagged lines; panics unless it ends OK.
    pub fn command(&mut self, command: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.writer, "{tag} {command}\r\n").expect("write");
        self.until_done(&tag)
    }

    fn until_done(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line();
            assert!(!line.is_empty(), "Dovecot closed the connection");
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                assert!(status.starts_with("OK"), "IMAP command failed: {status}");
                return lines;
            }
            lines.push(line);
        }
    }

    /// Appends messages (given CRLF line ends) with one MULTIAPPEND command
    /// (RFC 3502) and non-synchronising literals (LITERAL+): one transaction
    /// on the server, so filling a large mailbox takes seconds.
    pub fn append_all(&mut self, folder: &str, messages: &[Vec<u8>]) {
        if messages.is_empty() {
            return;
        }
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let mut out = format!("{tag} APPEND \"{folder}\"").into_bytes();
        for message in messages {
            let message = crlf(message);
            // The server received it when its Date says (a test's simulated
            // time; else now), as rapport dates mail by when it arrived.
            write!(out, " \"{}\"", internal_date(&message)).expect("buffer");
            write!(out, " {{{}+}}\r\n", message.len()).expect("buffer");
            out.extend_from_slice(&message);
        }
        out.extend_from_slice(b"\r\n");
        let mut writer = self.writer.try_clone().expect("clone");
        let sender = std::thread::spawn(move || writer.write_all(&out));
        self.until_done(&tag);
        sender.join().expect("sender").expect("write appends");
    }

    /// Appends one message as received by the server at `received` (its
    /// INTERNALDATE), whatever its Date header says.
    pub fn append_received(&mut self, folder: &str, message: &[u8], received: chrono::DateTime<chrono::Utc>) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let message = crlf(message);
        let mut out = format!(
            "{tag} APPEND \"{folder}\" \"{}\" {{{}+}}\r\n",
            imap_date(received.fixed_offset()),
            message.len()
        )
        .into_bytes();
        out.extend_from_slice(&message);
        out.extend_from_slice(b"\r\n");
        let mut writer = self.writer.try_clone().expect("clone");
        let sender = std::thread::spawn(move || writer.write_all(&out));
        self.until_done(&tag);
        sender.join().expect("sender").expect("write append");
    }

    pub fn append(&mut self, folder: &str, message: &[u8]) {
        self.append_all(folder, &[message.to_vec()]);
    }

    /// Message count and every message's flags, read without changing anything.
    pub fn state(&mut self, folder: &str) -> (u32, Vec<String>) {
        let lines = self.command(&format!("EXAMINE \"{folder}\""));
        let exists = lines
            .iter()
            .find_map(|l| {
                l.strip_prefix("* ")
                    .and_then(|r| r.strip_suffix(" EXISTS\r\n"))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0);
        let flags = if exists == 0 {
            Vec::new()
        } else {
            self.command("FETCH 1:* (UID FLAGS)")
        };
        (exists, flags)
    }
}

/// IMAP wants CRLF line ends.
pub fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 40);
    let mut previous = 0u8;
    for &byte in message {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    out
}

/// The APPEND date-time of a message's Date header, or of now when it has none.
fn internal_date(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let headers = text.split("\r\n\r\n").next().unwrap_or_default();
    headers
        .split("\r\n")
        .find_map(|line| line.strip_prefix("Date:").or_else(|| line.strip_prefix("date:")))
        .and_then(|value| chrono::DateTime::parse_from_rfc2822(value.trim()).ok())
        .map_or_else(|| imap_date(chrono::Utc::now().fixed_offset()), imap_date)
}
