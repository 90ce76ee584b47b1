//! `rapport status`: is everything working? The setup's problems (a broken
//! rules or sequence file, a missing secret, mail that cannot go out), each
//! daemon job's last run, paused mailboxes, sends waiting for a decision,
//! and broken feeds — what an operator or a rep checks first.

use super::{output, App};
use crate::store::RepScope;

pub async fn run(app: &App) -> anyhow::Result<()> {
    let settings = &app.settings;
    let problems = settings.problems();
    let has_sequences = !settings.load_sequences().0.is_empty();
    let blockers = match has_sequences {
        true => settings.sending_blockers(),
        false => Vec::new(),
    };
    let runs = app.store.latest_job_runs().await?;
    let reps = app.store.list_reps().await?;
    let pauses = app.store.sending_pauses().await?;
    let unknown = app.store.list_outbox(RepScope::Team, Some("unknown")).await?.len();
    let broken = app.store.list_sources(RepScope::Team, true).await?.len();
    let zone = app.zone(None).await?;
    let rep_email = |id| {
        reps.iter()
            .find(|r| r.id == id)
            .map_or_else(|| format!("rep #{id}"), |r| r.email.clone())
    };
    if app.json {
        return output::json(&serde_json::json!({
            "problems": problems,
            "sequence_mail_waits_for": blockers,
            "jobs": runs,
            "paused_mailboxes": pauses.iter().map(|p| serde_json::json!({
                "rep": rep_email(p.rep_id), "since": p.paused_at, "reason": p.reason,
            })).collect::<Vec<_>>(),
            "outbox_unknown": unknown,
            "broken_sources": broken,
        }));
    }
    if problems.is_empty() && blockers.is_empty() {
        println!("setup: ok");
    }
    for problem in &problems {
        println!("PROBLEM ({}): {problem}", problem.area);
    }
    for blocker in &blockers {
        println!("WAITING: sequence mail cannot go out: {blocker}");
    }
    if runs.is_empty() {
        println!("daemon: no job has run yet (start it with `rapport daemon`)");
    } else {
        let rows: Vec<Vec<String>> = runs
            .iter()
            .map(|run| {
                let outcome = match (&run.error, run.outcome.as_str()) {
                    (Some(error), _) => format!("failed: {error}"),
                    (None, outcome) => outcome.to_string(),
                };
                vec![run.name.clone(), output::at(run.started_at, zone), outcome]
            })
            .collect();
        output::table(&["JOB", "LAST RUN", "OUTCOME"], &rows);
    }
    for pause in &pauses {
        println!(
            "PAUSED: sending from {} since {}: {} (`rapport sequence resume --rep {}`)",
            rep_email(pause.rep_id),
            output::at(pause.paused_at, zone),
            pause.reason,
            rep_email(pause.rep_id)
        );
    }
    if unknown > 0 {
        println!("{unknown} send(s) cut off by a crash wait for you: `rapport sequence outbox --state unknown`");
    }
    if broken > 0 {
        println!("{broken} feed(s) keep failing: `rapport sources --broken`");
    }
    Ok(())
}
