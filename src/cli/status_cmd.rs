//! `rapport status`: is everything working? The setup's problems (a broken
//! rules or sequence file, a missing secret, mail that cannot go out), each
//! daemon job's last run, paused mailboxes, sends waiting for a decision,
//! and broken feeds — what an operator or a rep checks first.

use super::{output, App};

pub async fn run(app: &App) -> anyhow::Result<()> {
    let overview = crate::app::status::overview(&app.core(), &app.actor()).await?;
    let (problems, blockers, runs) = (&overview.problems, &overview.sequence_mail_waits_for, &overview.jobs);
    let (unknown, broken) = (overview.outbox_unknown, overview.broken_sources);
    let zone = app.zone(None).await?;
    if app.json {
        return output::json(&serde_json::json!({
            "problems": problems,
            "sequence_mail_waits_for": blockers,
            "jobs": runs,
            "paused_mailboxes": overview.paused.iter().map(|(p, rep)| serde_json::json!({
                "rep": rep, "since": p.paused_at, "reason": p.reason,
            })).collect::<Vec<_>>(),
            "outbox_unknown": unknown,
            "broken_sources": broken,
        }));
    }
    if problems.is_empty() && blockers.is_empty() {
        println!("setup: ok");
    }
    for problem in problems {
        println!("PROBLEM ({}): {problem}", problem.area);
    }
    for blocker in blockers {
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
    for (pause, rep) in &overview.paused {
        println!(
            "PAUSED: sending from {rep} since {}: {} (`rapport sequence resume --rep {rep}`)",
            output::at(pause.paused_at, zone),
            pause.reason,
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
