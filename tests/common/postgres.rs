//! A private PostgreSQL cluster for tests: Debian's `postgresql-15`
//! binaries, `initdb` into a scratch folder owned by the unprivileged
//! `postgres` user, `pg_ctl start` on a free loopback port (durability
//! settings off: these are not durability tests), stopped when dropped.
//! `scripts/install-test-servers` installs the package.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// The server's options (`pg_ctl -o`), for a restart.
    options: String,
    /// The `postgres` user's password, when connections over TCP need one.
    password: Option<String>,
}

/// The newest installed PostgreSQL's binaries.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/install-test-servers installs postgresql-15)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL binary as the `postgres` user (initdb refuses root).
fn as_postgres(bin: &Path, program: &str) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
        .arg(bin.join(program));
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Postgres {
    pub fn start() -> Postgres {
        Postgres::start_with("")
    }

    /// With extra server settings (e.g. `-c max_connections=8`).
    pub fn start_with(extra: &str) -> Postgres {
        Postgres::start_inner(extra, None, false)
    }

    /// Connections over TCP authenticated by password (SCRAM), the
    /// `postgres` user's being `password`.
    pub fn start_with_password(password: &str) -> Postgres {
        Postgres::start_inner("", Some(password), false)
    }

    /// Connections over TCP only with TLS (`hostssl`; a plain one is
    /// rejected), the server's certificate for 127.0.0.1 signed by a CA of
    /// the test's own (`ca_file`), made with the `openssl` command.
    pub fn start_tls_only() -> Postgres {
        Postgres::start_inner("", None, true)
    }

    /// The CA that signed a TLS-only server's certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn start_inner(extra: &str, password: Option<&str>, tls: bool) -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("a scratch folder");
        let owner = nix_ids("postgres");
        std::os::unix::fs::chown(dir.path(), Some(owner.0), Some(owner.1)).expect("give the folder to postgres");
        let data = dir.path().join("data");
        let mut init = as_postgres(&bin, "initdb");
        init.args(["-D"]).arg(&data).args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        ]);
        match password {
            Some(password) => {
                let file = dir.path().join("pwfile");
                std::fs::write(&file, password).expect("write the password file");
                std::os::unix::fs::chown(&file, Some(owner.0), Some(owner.1)).expect("give it to postgres");
                init.arg("--auth-host=scram-sha-256")
                    .arg(format!("--pwfile={}", file.display()));
            }
            None => {
                init.arg("--auth-host=trust");
            }
        }
        let init = init.output().expect("run initdb");
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let extra = match tls {
            true => format!("{} {extra}", tls_only(dir.path(), &data, owner)),
            false => extra.to_string(),
        };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off {extra}",
            dir.path().display()
        );
        let started = as_postgres(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("server.log"))
            .args(["-w", "-o", &options, "start"])
            .output()
            .expect("run pg_ctl");
        assert!(
            started.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&started.stdout),
            std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
        );
        Postgres {
            port,
            bin,
            dir,
            options,
            password: password.map(str::to_string),
        }
    }

    /// `pg_ctl stop -m fast`: the server is down when this returns.
    pub fn stop(&self) {
        self.ctl(&["-m", "fast", "stop"]);
    }

    /// Starts a stopped server again, on the same port.
    pub fn start_again(&self) {
        self.ctl(&["-o", &self.options, "start"]);
    }

    fn ctl(&self, args: &[&str]) {
        let done = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .arg("-w")
            .args(args)
            .output()
            .expect("run pg_ctl");
        assert!(
            done.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server is back
    /// on the same port when this returns.
    pub fn restart(&self) {
        let restarted = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-m", "fast", "-o", &self.options, "restart"])
            .output()
            .expect("run pg_ctl");
        assert!(
            restarted.status.success(),
            "pg_ctl restart: {}",
            String::from_utf8_lossy(&restarted.stderr)
        );
    }

    /// Makes a database and gives its URL.
    pub fn database(&self, name: &str) -> String {
        let made = Command::new(self.bin.join("psql"))
            .env("PGPASSWORD", self.password.as_deref().unwrap_or_default())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output()
            .expect("run psql");
        assert!(
            made.status.success(),
            "CREATE DATABASE: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A CA and a server certificate for 127.0.0.1 in `dir`, TCP connections
/// allowed only over TLS; the server options that turn TLS on.
fn tls_only(dir: &Path, data: &Path, owner: (u32, u32)) -> String {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("the openssl command (scripts/install-test-servers installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec[..],
            &[
                "-days",
                "2",
                "-subj",
                "/CN=rapport test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ][..],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec[..],
            &["-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"][..],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the extensions");
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
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    for file in ["server.key", "server.crt"] {
        let path = dir.join(file);
        std::os::unix::fs::chown(&path, Some(owner.0), Some(owner.1)).expect("give it to postgres");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("key mode");
    }
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    )
    .expect("write pg_hba.conf");
    format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        dir.join("server.crt").display(),
        dir.join("server.key").display()
    )
}

/// A user's uid and gid, from `id`.
fn nix_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, user]).output().expect("run id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .expect("a numeric id")
    };
    (id("-u"), id("-g"))
}
