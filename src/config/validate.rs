//! Checking the config's own values: every problem found, each naming the
//! file (or environment variable) and key it came from, not just the first.

use super::*;

/// Every problem in the config's values, not just the first.
pub(super) fn validate(config: &Config, file: &str) -> Result<(), ConfigError> {
    let bad = |key: &str, message: String| ConfigError::new(source_of(key, file), key, message);
    let mut problems = Vec::new();
    note(
        &mut problems,
        log_filter(&config.log.level).map_err(|e| {
            bad(
                "log.level",
                format!(
                    "'{}' is not a log filter ({e}); use e.g. info, debug or rapport=debug,sqlx=warn",
                    config.log.level
                ),
            )
        }),
    );
    note(
        &mut problems,
        parse_currency(&config.prospects.default_currency).map_err(|m| bad("prospects.default_currency", m)),
    );
    if !crate::store::is_database_url(&config.database.url) {
        problems.push(bad(
            "database.url",
            format!(
                "'{}' is not a database URL; write sqlite://PATH or postgres://USER@HOST/DATABASE",
                crate::store::migrations::redacted(&config.database.url)
            ),
        ));
    }
    if config.database.password_file.is_some() && config.database.url.starts_with("sqlite:") {
        problems.push(bad(
            "database.password_file",
            "a password is for PostgreSQL; remove it for a sqlite:// database".into(),
        ));
    }
    for kind in &config.events.kinds {
        if let Err(message) = crate::domain::event::validate_logged_kind(kind) {
            problems.push(bad("events.kinds", message));
        }
    }
    for (name, job) in &config.jobs {
        if !JOB_NAMES.contains(&name.as_str()) {
            problems.push(bad(
                &format!("jobs.{name}"),
                format!("there is no job '{name}'; known jobs: {}", JOB_NAMES.join(", ")),
            ));
        }
        if job.time_zone.parse::<chrono_tz::Tz>().is_err() {
            problems.push(bad(
                &format!("jobs.{name}.time_zone"),
                format!(
                    "'{}' is not a time zone; use an IANA name such as Europe/Oslo or UTC",
                    job.time_zone
                ),
            ));
        }
        note(
            &mut problems,
            CronSchedule::parse(&job.schedule, &job.time_zone).map_err(|m| bad(&format!("jobs.{name}.schedule"), m)),
        );
    }
    for (host, budget) in &config.fetch.hosts {
        let key = format!("fetch.hosts.{host}");
        if host.is_empty() || host.contains(['/', ':', '@', ' ']) {
            problems.push(bad(
                &key,
                format!("'{host}' is not a bare host name; write it like [fetch.hosts.\"github.com\"]"),
            ));
        }
        if budget.concurrency == 0 {
            problems.push(bad(
                &format!("{key}.concurrency"),
                "0 would never ask the host; give at least 1".into(),
            ));
        }
    }
    for (host, base) in &config.fetch.base_urls {
        let key = format!("fetch.base_urls.{host}");
        if host.is_empty() || host.contains(['/', ':', '@']) {
            problems.push(bad(
                &key,
                format!("'{host}' is not a bare host name; write it like \"github.com\""),
            ));
        }
        let parsed = match url::Url::parse(base) {
            Ok(parsed) => parsed,
            Err(e) => {
                problems.push(bad(
                    &key,
                    format!("'{base}' is not a URL ({e}); write it like http://127.0.0.1:8080"),
                ));
                continue;
            }
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            problems.push(bad(&key, format!("'{base}' is not an http or https URL")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            problems.push(bad(&key, "a base URL must not carry a user name or password".into()));
        }
    }
    let in_range = |key: &str, value: u64, low: u64, high: u64, unit: &str| {
        if (low..=high).contains(&value) {
            Ok(())
        } else {
            Err(bad(key, format!("{value} is not between {low} and {high} {unit}")))
        }
    };
    note(
        &mut problems,
        in_range(
            "feeds.max_interval_hours",
            config.feeds.max_interval_hours,
            1,
            24,
            "hours",
        ),
    );
    note(
        &mut problems,
        in_range(
            "feeds.interval_mins",
            config.feeds.interval_mins,
            1,
            config.feeds.max_interval_hours * 60,
            "minutes (feeds.max_interval_hours)",
        ),
    );
    note(
        &mut problems,
        in_range(
            "feeds.first_poll_window_days",
            config.feeds.first_poll_window_days,
            0,
            3650,
            "days",
        ),
    );
    note(
        &mut problems,
        in_range(
            "feeds.broken_after_failures",
            config.feeds.broken_after_failures.into(),
            1,
            1000,
            "failures",
        ),
    );
    note(
        &mut problems,
        in_range("feeds.claim_batch", config.feeds.claim_batch.into(), 1, 5000, "feeds"),
    );
    note(
        &mut problems,
        in_range("feeds.lease_secs", config.feeds.lease_secs, 2, 3600, "seconds"),
    );
    note(
        &mut problems,
        in_range(
            "feeds.broken_retry_hours",
            config.feeds.broken_retry_hours,
            1,
            24,
            "hours",
        ),
    );
    note(
        &mut problems,
        in_range(
            "daemon.keep_job_runs_days",
            config.daemon.keep_job_runs_days.into(),
            1,
            36500,
            "days",
        ),
    );
    note(
        &mut problems,
        in_range(
            "daemon.shutdown_grace_secs",
            config.daemon.shutdown_grace_secs,
            0,
            3600,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "daemon.job_timeout_secs",
            config.daemon.job_timeout_secs,
            1,
            86_400,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "fetch.total_timeout_secs",
            config.fetch.total_timeout_secs,
            1,
            3600,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "fetch.connect_timeout_secs",
            config.fetch.connect_timeout_secs,
            1,
            600,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "fetch.max_concurrent",
            config.fetch.max_concurrent as u64,
            1,
            1024,
            "requests",
        ),
    );
    if config.fetch.contact_url.chars().any(|c| c.is_control() || c == ' ')
        || url::Url::parse(&config.fetch.contact_url).is_err()
    {
        problems.push(bad(
            "fetch.contact_url",
            format!(
                "'{}' is not a URL; it goes into the User-Agent",
                config.fetch.contact_url
            ),
        ));
    }
    note(
        &mut problems,
        in_range(
            "mail.imap_timeout_secs",
            config.mail.imap_timeout_secs,
            1,
            3600,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range("mail.idle_renew_mins", config.mail.idle_renew_mins, 1, 29, "minutes"),
    );
    note(
        &mut problems,
        in_range("mail.watch_lease_secs", config.mail.watch_lease_secs, 3, 600, "seconds"),
    );
    note(
        &mut problems,
        in_range(
            "mail.reconnect_max_secs",
            config.mail.reconnect_max_secs,
            1,
            86_400,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "mail.sync_lease_secs",
            config.mail.sync_lease_secs,
            5,
            86_400,
            "seconds",
        ),
    );
    note(
        &mut problems,
        in_range(
            "mail.fetch_batch",
            config.mail.fetch_batch.into(),
            1,
            10_000,
            "messages",
        ),
    );
    note(
        &mut problems,
        in_range(
            "mail.max_message_bytes",
            config.mail.max_message_bytes.into(),
            16 * 1024,
            100 * 1024 * 1024,
            "bytes",
        ),
    );
    for (name, mailbox) in &config.mailboxes {
        mailbox::validate_mailbox(name, mailbox, &bad, &mut problems);
    }
    note(
        &mut problems,
        config
            .sending
            .window()
            .map(drop)
            .map_err(|(key, message)| bad(&key, message)),
    );
    note(
        &mut problems,
        config
            .sending
            .pacing()
            .map(drop)
            .map_err(|(key, message)| bad(&key, message)),
    );
    note(
        &mut problems,
        in_range("smtp.timeout_secs", config.smtp.timeout_secs, 1, 600, "seconds"),
    );
    note(
        &mut problems,
        in_range("sending.lease_secs", config.sending.lease_secs, 1, 86_400, "seconds"),
    );
    note(
        &mut problems,
        in_range("sending.batch", config.sending.batch.into(), 1, 100_000, "enrolments"),
    );
    if config.http.enabled && config.http.listen.parse::<std::net::SocketAddr>().is_err() {
        problems.push(bad(
            "http.listen",
            format!(
                "'{}' is not an address and port like 127.0.0.1:8025",
                config.http.listen
            ),
        ));
    }
    if let Some(url) = &config.http.public_url {
        note(
            &mut problems,
            public_url(url).map(drop).map_err(|m| bad("http.public_url", m)),
        );
    }
    if config.smtp.username.is_some() != config.smtp.password.is_some() {
        problems.push(bad(
            "smtp.username",
            "set both smtp.username and a password (smtp.password or smtp.password_file), or neither".into(),
        ));
    }
    if config.smtp.tls == TlsMode::None {
        if let Some(host) = &config.smtp.host {
            if !is_loopback_host(host) {
                problems.push(bad(
                    "smtp.tls",
                    format!("plain SMTP is only allowed to a loopback address, not '{host}'; use starttls or implicit"),
                ));
            }
        }
    }
    ConfigError::all(problems)
}

/// Keeps a failed check's problem and goes on to the next check.
fn note<T>(problems: &mut Vec<ConfigError>, result: Result<T, ConfigError>) {
    if let Err(problem) = result {
        problems.push(problem);
    }
}
