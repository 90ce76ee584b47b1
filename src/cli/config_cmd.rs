//! `rapport config check`: everything the daemon will load, checked at once,
//! with every problem named by file and key (exit 2 when there is one).

use super::{input_error, output, App};

pub fn check(app: &App) -> anyhow::Result<()> {
    let s = &app.settings;
    let problems = s.problems();
    let blockers = s.sending_blockers();
    let (sequences, _) = s.load_sequences();
    let rules = s.load_rules(None).ok();
    if app.json {
        output::json(&serde_json::json!({
            "config_file": s.path.as_ref().map(|p| p.display().to_string()),
            "database": crate::store::migrations::redacted(&s.config.database.url),
            "pipelines": s.pipelines.slugs(),
            "default_pipeline": s.config.pipelines.default,
            "rules": rules.as_ref().map(|(r, origin)| serde_json::json!({ "file": origin, "count": r.rules.len() })),
            "sequences": sequences.iter().map(|q| q.slug.as_str()).collect::<Vec<_>>(),
            "jobs": s.config.jobs.iter().map(|(name, job)| serde_json::json!({
                "name": name, "schedule": job.schedule, "time_zone": job.time_zone, "enabled": job.enabled
            })).collect::<Vec<_>>(),
            "mail": mail_route(app),
            "sequence_mail_waits_for": blockers,
            "mailboxes": s.config.mailboxes.iter().map(|(name, m)| serde_json::json!({
                "name": name, "rep": m.rep, "server": format!("{}:{}", m.host, m.port()),
                "tls": m.tls.as_str(), "username": m.username, "idle": m.idle,
            })).collect::<Vec<_>>(),
            "hooks": hooks(app),
            "problems": problems,
        }))?;
    } else {
        let file = s
            .path
            .as_ref()
            .map_or("built-in defaults".into(), |p| p.display().to_string());
        println!("config:    {file}");
        println!(
            "database:  {}",
            crate::store::migrations::redacted(&s.config.database.url)
        );
        println!(
            "pipelines: {} (default {})",
            s.pipelines.slugs().join(", "),
            s.config.pipelines.default
        );
        if let Some((rules, origin)) = &rules {
            println!("rules:     {} from {origin}", rules.rules.len());
        }
        println!(
            "sequences: {} in {}",
            match sequences.is_empty() {
                true => "none".to_string(),
                false => sequences.iter().map(|q| q.slug.as_str()).collect::<Vec<_>>().join(", "),
            },
            s.sequences_dir().display()
        );
        for (name, job) in &s.config.jobs {
            let state = if job.enabled { "" } else { " (disabled)" };
            println!("job:       {name} \"{}\" {}{state}", job.schedule, job.time_zone);
        }
        println!("mail:      {}", mail_route(app));
        for blocker in &blockers {
            println!("waiting:   sequence mail cannot go out: {blocker}");
        }
        for (name, m) in &s.config.mailboxes {
            println!(
                "mailbox:   {name} for {}: {}@{}:{} ({})",
                m.rep,
                m.username,
                m.host,
                m.port(),
                m.tls.as_str()
            );
        }
        for hook in hooks(app) {
            println!("webhook:   {hook}");
        }
        for problem in &problems {
            eprintln!("problem:   {problem}");
        }
        if problems.is_empty() {
            println!("ok");
        }
    }
    match problems.len() {
        0 => Ok(()),
        n => Err(input_error(format!(
            "{n} problem(s) in the configuration (listed above); fix them and run `rapport config check` again"
        ))),
    }
}

/// The webhook providers whose deliveries are taken (never their secrets).
fn hooks(app: &App) -> Vec<String> {
    let config = &app.settings.config.hooks;
    crate::domain::hooks::Provider::ALL
        .into_iter()
        .filter_map(|provider| {
            let hook = config.get(provider)?;
            let rotating = match hook.previous_secret.is_some() {
                true => ", the previous secret too while rotating",
                false => "",
            };
            Some(format!("/hooks/{} (signed{rotating})", provider.name()))
        })
        .collect()
}

fn mail_route(app: &App) -> String {
    let s = &app.settings.config;
    match &s.smtp.host {
        Some(host) => format!("SMTP via {host}:{}", s.smtp.port),
        None => format!(".eml files in {}", s.mail.outbox_dir.display()),
    }
}
