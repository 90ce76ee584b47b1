//! The config file's sections as types: every key, its default, and
//! `deny_unknown_fields` so a typo is an error naming the key. Loading,
//! environment overrides and checks are in `mod.rs`, `validate.rs` and
//! `check.rs`.

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub pipelines: PipelinesConfig,
    pub prospects: ProspectsConfig,
    pub daemon: DaemonConfig,
    pub jobs: BTreeMap<String, JobConfig>,
    pub mail: MailConfig,
    pub smtp: SmtpConfig,
    /// Reps' mailboxes, by a name of the user's choosing.
    pub mailboxes: BTreeMap<String, MailboxConfig>,
    pub sequences: SequencesConfig,
    pub rules: RulesConfig,
    pub events: EventsConfig,
    pub digest: DigestConfig,
    pub sending: SendingConfig,
    pub http: HttpConfig,
    /// Incoming webhooks' secrets, by provider.
    pub hooks: HooksConfig,
    /// Outgoing webhooks: `[[webhooks.out]]`.
    pub webhooks: WebhooksConfig,
    pub metrics: MetricsConfig,
    pub fetch: FetchConfig,
    pub feeds: FeedsConfig,
    pub log: LogConfig,
}

/// `/metrics` for Prometheus, on a listener of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// Loopback unless changed: the counts are the operator's, not the world's.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: "127.0.0.1:9108".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (the embedded default) or `postgres://USER@HOST/DATABASE`
    /// (`?sslmode=require` or `verify-full` for TLS).
    pub url: String,
    /// SQLite: how long a writer waits for another's write. PostgreSQL: how
    /// long a query waits for a free connection of the pool.
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
    /// PostgreSQL's password from a file (mode 600), instead of in the URL.
    pub password_file: Option<PathBuf>,
    /// Read from `password_file` at load.
    #[serde(skip)]
    pub password: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelinesConfig {
    /// Folder of `SLUG.toml` files, beside the config file; unset = the shipped ones.
    pub dir: Option<PathBuf>,
    pub default: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProspectsConfig {
    pub default_currency: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    pub shutdown_grace_secs: u64,
    pub job_timeout_secs: u64,
    pub keep_job_runs_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    pub schedule: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    pub timeout_secs: Option<u64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Where outgoing mail is written as `.eml` files when no SMTP host is set.
    pub outbox_dir: PathBuf,
    /// Every IMAP command (and the connection) gets this long.
    pub imap_timeout_secs: u64,
    /// An IDLE is re-issued this often (servers drop idle clients after 30 minutes).
    pub idle_renew_mins: u64,
    /// Reconnection backoff doubles up to this.
    pub reconnect_max_secs: u64,
    /// A worker syncing a folder holds it this long, renewed as it goes.
    pub sync_lease_secs: u64,
    /// The daemon watching a mailbox (its one IDLE connection across
    /// daemons) holds the watch this long, renewed every third of it.
    pub watch_lease_secs: u64,
    /// Messages fetched per IMAP command.
    pub fetch_batch: u32,
    /// At most this much of one message is read (enough to classify it).
    pub max_message_bytes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SequencesConfig {
    /// Folder of sequence files (`SLUG.toml`), beside the config file.
    pub dir: PathBuf,
}

/// Engagement kinds of the team's own, beside the built-in ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Kinds `rapport log` accepts beside the built-in ones (e.g. "webinar.attended").
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// The rules file, beside the config file; without it the shipped rules apply.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// On a day with nothing to say: a one-line digest (true) or none.
    pub send_empty: bool,
    /// A Slack-compatible incoming webhook that gets each digest's text too.
    pub slack_webhook_url: Option<Secret>,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            send_empty: true,
            slack_webhook_url: None,
        }
    }
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            file: PathBuf::from("rules.toml"),
        }
    }
}

impl Default for SequencesConfig {
    fn default() -> Self {
        SequencesConfig {
            dir: PathBuf::from("sequences"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (SMTP 465, IMAP 993).
    Implicit,
    /// Plain, upgraded with STARTTLS (SMTP 587, IMAP 143).
    Starttls,
    /// No TLS: only to a loopback address.
    #[serde(alias = "plain")]
    None,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Implicit => "implicit TLS",
            TlsMode::Starttls => "STARTTLS",
            TlsMode::None => "plain, no TLS",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Unset: mail goes to `mail.outbox_dir` instead.
    pub host: Option<String>,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    /// Connecting and every command get this long.
    pub timeout_secs: u64,
    /// PEM file of a private CA that signs the server's certificate.
    pub ca_file: Option<PathBuf>,
}

/// The daemon's HTTP listener: one-click unsubscribe links land here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port the daemon listens on.
    pub listen: String,
    /// The HTTPS address the listener is reached at from outside (behind a
    /// proxy), used in unsubscribe links. Sequence mail waits until it is set.
    pub public_url: Option<String>,
    pub enabled: bool,
    /// Connections served at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// A client must send a request's whole header within this time.
    pub header_timeout_secs: u64,
    /// A request must be answered within this time.
    pub request_timeout_secs: u64,
    /// No connection is kept longer, however busy (slow clients are closed).
    pub connection_max_secs: u64,
    /// Largest request body read.
    pub max_body_bytes: usize,
    /// Largest CSV file the board's import page takes.
    pub max_import_bytes: usize,
    /// Unsubscribe links that do not verify one client address may send per minute.
    pub unsubscribe_per_minute: u32,
    /// Pages and API answers made at once; more wait their turn, so a burst
    /// of requests costs time, not memory (the event stream, static files
    /// and unsubscribe links are not counted).
    pub max_concurrent_pages: usize,
    /// A signed-in session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// ...and this long after signing in, however busy.
    pub session_max_hours: u64,
    /// Failed sign-ins to one account within `login_lockout_minutes` before
    /// it is locked for that long (each further lock twice as long, up to a day).
    pub login_failures_per_account: u32,
    /// The same for one client address (per /64 for IPv6), across accounts.
    pub login_failures_per_client: u32,
    pub login_lockout_minutes: u32,
    /// Reverse proxies in front of the listener (IP addresses): for a request
    /// from one of them, the client is the last `X-Forwarded-For` address
    /// that is not itself a trusted proxy. Empty: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8025".into(),
            public_url: None,
            enabled: true,
            max_connections: 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            connection_max_secs: 120,
            max_body_bytes: 16 * 1024,
            max_import_bytes: 20 * 1024 * 1024,
            unsubscribe_per_minute: 30,
            max_concurrent_pages: 8,
            session_idle_minutes: 12 * 60,
            session_max_hours: 7 * 24,
            login_failures_per_account: 5,
            login_failures_per_client: 20,
            login_lockout_minutes: 15,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Where site owners can read what rapport is; sent in the User-Agent.
    pub contact_url: String,
    /// Lets requests reach loopback and private addresses (tests, intranets).
    pub allow_private_networks: bool,
    pub connect_timeout_secs: u64,
    /// For the whole request, body included.
    pub total_timeout_secs: u64,
    /// Counted after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Minimum time between two requests to one host.
    pub per_host_interval_ms: u64,
    pub max_concurrent: usize,
    /// Host → base URL to send its requests to instead (e.g. a platform's
    /// mirror, or a test server). These destinations are trusted.
    pub base_urls: BTreeMap<String, String>,
    /// Per-host budgets (`[fetch.hosts."github.com"]`), over the shipped
    /// ones; a host's subdomains share its budget.
    pub hosts: BTreeMap<String, HostBudget>,
}

pub use super::host_budgets::SHIPPED_HOST_BUDGETS;
pub use crate::net::client::HostBudget;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsConfig {
    /// How often a feed is polled, in minutes (adapted to how often it changes).
    pub interval_mins: u64,
    /// No feed waits longer than this between polls (at most 24 hours).
    pub max_interval_hours: u64,
    /// The first poll of a new source takes items this recent only.
    pub first_poll_window_days: u64,
    /// After this many failures in a row a source is marked broken...
    pub broken_after_failures: u32,
    /// ...and is then retried this rarely.
    pub broken_retry_hours: u64,
    /// Sources a poll claims at a time: smaller batches spread a burst of
    /// due feeds over several daemons.
    pub claim_batch: u32,
    /// How long a claimed feed is held for its poll; renewed every third of
    /// it while the poll runs, and taken over by another daemon after it.
    pub lease_secs: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            contact_url: "https://example.com/set-fetch-contact-url".into(),
            allow_private_networks: false,
            connect_timeout_secs: 10,
            total_timeout_secs: 30,
            max_body_bytes: 15 * 1024 * 1024,
            max_redirects: 5,
            per_host_interval_ms: 1000,
            max_concurrent: 16,
            base_urls: BTreeMap::new(),
            hosts: BTreeMap::new(),
        }
    }
}

impl Default for FeedsConfig {
    fn default() -> Self {
        FeedsConfig {
            interval_mins: 60,
            max_interval_hours: 24,
            first_poll_window_days: 30,
            broken_after_failures: 5,
            broken_retry_hours: 24,
            claim_batch: 500,
            lease_secs: 900,
        }
    }
}

impl FetchConfig {
    /// The HTTP client's settings; base URLs were checked by `validate`.
    pub fn client_settings(&self) -> crate::net::client::FetchSettings {
        crate::net::client::FetchSettings {
            contact_url: self.contact_url.clone(),
            allow_private_networks: self.allow_private_networks,
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout_secs),
            total_timeout: std::time::Duration::from_secs(self.total_timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            per_host_interval: std::time::Duration::from_millis(self.per_host_interval_ms),
            max_concurrent: self.max_concurrent,
            base_urls: self
                .base_urls
                .iter()
                .filter_map(|(host, base)| url::Url::parse(base).ok().map(|u| (host.to_ascii_lowercase(), u)))
                .collect(),
            host_budgets: self.host_budgets(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `rapport=debug`; `RUST_LOG` wins.
    pub level: String,
    pub format: LogFormat,
}

pub(super) fn utc() -> String {
    "UTC".into()
}

pub(super) fn yes() -> bool {
    true
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/rapport.db".into(),
            busy_timeout_ms: 10_000,
            max_connections: 4,
            password_file: None,
            password: None,
        }
    }
}

impl Default for PipelinesConfig {
    fn default() -> Self {
        PipelinesConfig {
            dir: None,
            default: "default".into(),
        }
    }
}

impl Default for ProspectsConfig {
    fn default() -> Self {
        ProspectsConfig {
            default_currency: "USD".into(),
        }
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            shutdown_grace_secs: 10,
            job_timeout_secs: 300,
            keep_job_runs_days: 30,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            outbox_dir: PathBuf::from("data/outbox"),
            imap_timeout_secs: 60,
            idle_renew_mins: 25,
            reconnect_max_secs: 300,
            sync_lease_secs: 120,
            watch_lease_secs: 60,
            fetch_batch: 250,
            max_message_bytes: 1024 * 1024,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            tls: TlsMode::Starttls,
            username: None,
            password: None,
            password_file: None,
            timeout_secs: 60,
            ca_file: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}
