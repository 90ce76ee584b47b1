//! The stage rules from a seat at the board: which rules a file holds, what
//! they would have done over the stored history (a dry run that changes
//! nothing), and one pass over the events not seen yet (what the daemon's
//! `apply-rules` job runs). Evaluation is `domain::rules`; applying it is
//! `crate::rules`.

use super::{Actor, AppError, AppResult, Core, Progress};
use crate::domain::prospect::ProspectId;
use crate::domain::rules::{replay, Fired, RuleSet};
use crate::rules::{RuleRunner, RulesError, RulesReport};
use crate::store::ProspectFilter;
use std::path::Path;

/// The rules of `file` (default: the configured one) and where they came from.
pub fn load(core: &Core, file: Option<&Path>) -> AppResult<(RuleSet, String)> {
    core.settings.load_rules(file).map_err(|problems| AppError::Problems {
        what: "the rules".into(),
        problems,
    })
}

/// What a rule would have done to a prospect, and when.
#[derive(Debug, Clone)]
pub struct WouldFire {
    pub prospect: ProspectId,
    pub name: String,
    pub fired: Fired,
}

/// Replays every prospect's stored history (in the actor's scope) through the rules.
pub async fn dry_run(core: &Core, actor: &Actor, file: Option<&Path>) -> AppResult<(String, Vec<WouldFire>)> {
    let (rules, origin) = load(core, file)?;
    let mut report = Vec::new();
    let scope = actor.scope();
    for prospect in core.store.list_prospects(scope, &ProspectFilter::default()).await? {
        let Ok(pipeline) = core.settings.pipelines.get(&prospect.data.pipeline) else {
            continue;
        };
        let events = core.store.list_events(scope, prospect.id).await?;
        let first = pipeline.first_stage().slug.clone();
        for fired in replay(&rules, pipeline, &first, &events) {
            report.push(WouldFire {
                prospect: prospect.id,
                name: prospect.data.name.clone(),
                fired,
            });
        }
    }
    Ok((origin, report))
}

/// The rules' runner for this install.
pub fn runner(core: &Core) -> RuleRunner {
    RuleRunner::new(core.store.clone(), core.clock.clone(), core.settings.clone())
}

/// One pass of the rules over the events not seen yet and the idle prospects.
pub async fn run_pass(runner: &RuleRunner, progress: &dyn Progress) -> AppResult<RulesReport> {
    let report = runner.run_pass_with(&|n| progress.advance(n)).await;
    progress.finish();
    report.map_err(|e| match e {
        RulesError::Rules(problems) => AppError::Problems {
            what: "the rules file".into(),
            problems,
        },
        RulesError::Store(e) => AppError::Store(e),
    })
}
