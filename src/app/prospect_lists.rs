//! Prospects in bulk: the list (with each one's engagement score) and the
//! export, which share one filter, and the CSV import. A stage that does not
//! exist is an error naming the stages, not an empty list.

use super::{invalid, Actor, AppError, AppResult, Core, Progress};
use crate::domain::import::{self, ImportDefaults, RowError};
use crate::domain::prospect::{Prospect, ProspectId, Rep, RepId};
use crate::store::{ImportOutcome, ProspectFilter};
use std::collections::{BTreeSet, HashMap};

/// Which prospects to list or export; each part narrows.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// A stage by slug or name, in `pipeline` when given, else in any pipeline.
    pub stage: Option<String>,
    pub pipeline: Option<String>,
    pub tag: Option<String>,
    /// Text anywhere in the name, email, company or title.
    pub search: Option<String>,
    /// At most this many, the oldest first.
    pub limit: Option<u32>,
    /// One rep's (a manager's filter; within the actor's scope).
    pub rep: Option<RepId>,
    /// After this prospect (the cursor of a paged list).
    pub after: Option<ProspectId>,
}

/// The store's filter for a query, with the stage and pipeline checked.
fn filter_of(core: &Core, query: &Query) -> AppResult<ProspectFilter> {
    let pipelines = &core.settings.pipelines;
    if let Some(p) = &query.pipeline {
        pipelines.get(p).map_err(invalid)?;
    }
    let stage = match &query.stage {
        None => None,
        Some(wanted) => Some(match &query.pipeline {
            Some(p) => pipelines
                .get(p)
                .map_err(invalid)?
                .resolve_stage(wanted)
                .map(|s| s.slug.clone())
                .map_err(invalid)?,
            None => pipelines
                .iter()
                .find_map(|p| p.resolve_stage(wanted).ok().map(|s| s.slug.clone()))
                .ok_or_else(|| {
                    let default = &core.settings.config.pipelines.default;
                    let listed = pipelines
                        .get(default)
                        .map(|p| p.stage_slugs().join(", "))
                        .unwrap_or_default();
                    invalid(format!(
                        "'{wanted}' is not a stage of any pipeline; stages of '{default}': {listed} \
                         (other pipelines: --pipeline NAME)"
                    ))
                })?,
        }),
    };
    if query.limit == Some(0) {
        return Err(invalid("--limit 0 would list nobody; give 1 or more"));
    }
    Ok(ProspectFilter {
        pipeline: query.pipeline.clone(),
        stage,
        tag: query.tag.as_ref().map(|t| t.to_lowercase()),
        search: query.search.clone(),
        limit: query.limit,
        ids: None,
        rep: query.rep,
        after: query.after,
    })
}

/// The prospects a query finds in the actor's scope (what `export` writes).
pub async fn find(core: &Core, actor: &Actor, query: &Query) -> AppResult<Vec<Prospect>> {
    let filter = filter_of(core, query)?;
    Ok(core.store.list_prospects(actor.scope(), &filter).await?)
}

/// A prospect with their engagement score now.
#[derive(Debug, Clone)]
pub struct Listed {
    pub prospect: Prospect,
    pub score: f64,
}

/// The prospects a query finds, each with their engagement score.
pub async fn list(core: &Core, actor: &Actor, query: &Query) -> AppResult<Vec<Listed>> {
    let prospects = find(core, actor, query).await?;
    let scores = engagement_scores(core, actor).await?;
    Ok(prospects
        .into_iter()
        .map(|prospect| Listed {
            score: scores.get(&prospect.id).copied().unwrap_or(0.0),
            prospect,
        })
        .collect())
}

/// Every prospect's engagement score now, in the actor's scope.
async fn engagement_scores(core: &Core, actor: &Actor) -> AppResult<HashMap<ProspectId, f64>> {
    let now = core.clock.now();
    let since = now - chrono::Duration::days(crate::domain::score::WINDOW_DAYS);
    let activity = core.store.activity_since(actor.scope(), since).await?;
    Ok(crate::domain::score::by_prospect(&activity, now))
}

/// A CSV file to import for a rep.
pub struct ImportRequest<'a> {
    pub bytes: &'a [u8],
    /// How the file is named in errors and in the events' actor.
    pub file_name: String,
    pub rep: &'a Rep,
    /// For rows without a pipeline column (default: the configured default).
    pub pipeline: Option<String>,
    /// For rows without a stage column.
    pub stage: Option<String>,
    /// Import nothing if any row is bad.
    pub strict: bool,
}

/// What an import did: the bad rows, stage values kept as a custom field,
/// and (unless a strict import refused) who was imported or already there.
#[derive(Debug)]
pub struct ImportReport {
    pub errors: Vec<RowError>,
    pub foreign_stages: BTreeSet<String>,
    pub outcome: Option<ImportOutcome>,
}

/// Imports a file's good rows (batches commit as they go: a rerun skips the
/// people already in). A strict import with a bad row imports nothing.
pub async fn import(
    core: &Core,
    actor: &Actor,
    request: ImportRequest<'_>,
    progress: &dyn Progress,
) -> AppResult<ImportReport> {
    if !actor.may_act_for(request.rep.id) {
        return Err(invalid(format!(
            "you act for yourself only, not for {}",
            request.rep.email
        )));
    }
    let config = &core.settings.config;
    let defaults = ImportDefaults {
        pipelines: &core.settings.pipelines,
        pipeline: request.pipeline.unwrap_or_else(|| config.pipelines.default.clone()),
        stage: request.stage,
        currency: config.prospects.default_currency.clone(),
    };
    core.settings.pipelines.get(&defaults.pipeline).map_err(invalid)?;
    let file_name = request.file_name;
    let mut parsed = import::parse_csv(request.bytes, &defaults).map_err(|m| invalid(format!("{file_name}: {m}")))?;
    for row in &mut parsed.rows {
        row.prospect.rep_id = request.rep.id;
    }
    if request.strict && !parsed.errors.is_empty() {
        return Ok(ImportReport {
            errors: parsed.errors,
            foreign_stages: parsed.foreign_stages,
            outcome: None,
        });
    }
    progress.start(parsed.rows.len() as u64);
    let recorded_as = crate::domain::event::Actor::Import(file_name);
    let outcome = core
        .store
        .import_prospects(&parsed.rows, &recorded_as, core.clock.now(), &|n| progress.advance(n))
        .await;
    progress.finish();
    Ok(ImportReport {
        errors: parsed.errors,
        foreign_stages: parsed.foreign_stages,
        outcome: Some(outcome.map_err(AppError::Store)?),
    })
}
