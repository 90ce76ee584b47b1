//! Running the stage rules against the event log: every new event (in the
//! order stored, from where the last pass stopped) and, for idle rules, every
//! prospect in the stages they watch. What fires is carried out with the
//! firing's key, so a pass cut off and run again does nothing twice; events
//! the rules themselves made do not trigger rules, so nothing loops.

use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::event::{stage_change, Actor, Event};
use crate::domain::pipeline::Pipeline;
use crate::domain::prospect::{Prospect, ProspectEdit, ProspectRef};
use crate::domain::rules::{on_event, on_idle, Fired, Outcome, RuleSet, Trigger};
use crate::sequences::enrolment::enrol;
use crate::store::{NewSuggestion, NewTask, ProspectFilter, RepScope, Store, StoreError, SuggestedPerson};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Events read per batch.
const BATCH: u32 = 500;
/// Passes a firing's action may fail in before it is given up.
const MAX_ATTEMPTS: u32 = 3;
/// A reminder for a day a reply named is due at this local time of the rep's.
const FOLLOW_UP_TIME: chrono::NaiveTime = match chrono::NaiveTime::from_hms_opt(9, 0, 0) {
    Some(time) => time,
    None => chrono::NaiveTime::MIN,
};
/// The event kind `rapport tasks done` logs for a reminder.
use crate::domain::event::kinds::FOLLOW_UP;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("the rules have problems: {}; run `rapport rules check`", .0.join("; "))]
    Rules(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RulesReport {
    pub events: u32,
    pub advanced: u32,
    pub suggested: u32,
    pub reminded: u32,
    pub tagged: u32,
    pub enrolled: u32,
    pub stopped: u32,
    /// Firings that could not be carried out, and why.
    pub skipped: Vec<String>,
}

impl RulesReport {
    /// Everything the pass did so far, to tell whether an event made a rule act.
    fn acted(&self) -> [usize; 7] {
        [
            self.advanced as usize,
            self.suggested as usize,
            self.reminded as usize,
            self.tagged as usize,
            self.enrolled as usize,
            self.stopped as usize,
            self.skipped.len(),
        ]
    }
}

pub struct RuleRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
}

impl RuleRunner {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Arc<Settings>) -> RuleRunner {
        RuleRunner { store, clock, settings }
    }

    /// One pass: new events, then idle time. What the daemon's `apply-rules` job runs.
    pub async fn run_pass(&self) -> Result<RulesReport, RulesError> {
        self.run_pass_with(&|_| {}).await
    }

    /// `run_pass`, telling `progress` how many events it has been through.
    pub async fn run_pass_with(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<RulesReport, RulesError> {
        let (rules, _) = self.settings.load_rules(None).map_err(RulesError::Rules)?;
        let mut report = RulesReport::default();
        let mut cursor = self.store.rule_cursor().await?;
        loop {
            let batch = self.store.events_after(cursor, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.id) else { break };
            self.on_new_events(&rules, &batch, &mut report).await?;
            progress(batch.len() as u64);
            cursor = last;
            self.store.set_rule_cursor(cursor).await?;
        }
        self.idle(&rules, &mut report).await?;
        Ok(report)
    }

    /// One batch of new events: the prospects and histories they need are
    /// read in a few statements; a prospect a rule acted on is read again
    /// before its next event, so each event sees what the ones before it did.
    async fn on_new_events(
        &self,
        rules: &RuleSet,
        batch: &[Event],
        report: &mut RulesReport,
    ) -> Result<(), RulesError> {
        let new: Vec<&Event> = batch.iter().filter(|e| !matches!(e.actor, Actor::Rule(_))).collect();
        let mut ids: Vec<i64> = new.iter().map(|e| e.prospect_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let filter = ProspectFilter {
            ids: Some(ids.clone()),
            ..ProspectFilter::default()
        };
        let mut prospects: HashMap<i64, Prospect> = self
            .store
            .list_prospects(RepScope::Team, &filter)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut histories = self.store.events_of(&ids).await?;
        let mut changed = HashSet::new();
        for event in new {
            report.events += 1;
            let id = event.prospect_id;
            if changed.remove(&id) {
                match self.prospect(id).await? {
                    Some((prospect, _)) => prospects.insert(id, prospect),
                    None => prospects.remove(&id),
                };
                histories.insert(id, self.store.list_events(RepScope::Team, id).await?);
            }
            let Some(prospect) = prospects.get(&id) else { continue };
            let Ok(pipeline) = self.settings.pipelines.get(&prospect.data.pipeline) else {
                continue;
            };
            // What came before it: in time order, ids breaking ties.
            let history: Vec<Event> = histories
                .get(&id)
                .into_iter()
                .flatten()
                .filter(|e| (e.occurred_at, e.id) < (event.occurred_at, event.id))
                .cloned()
                .collect();
            let before = report.acted();
            for fired in on_event(rules, pipeline, &prospect.data.stage, &history, event) {
                self.carry_out(prospect, pipeline, &fired, report).await?;
            }
            if report.acted() != before {
                changed.insert(id);
            }
        }
        Ok(())
    }

    /// Idle rules over the prospects in the stages they watch.
    async fn idle(&self, rules: &RuleSet, report: &mut RulesReport) -> Result<(), RulesError> {
        let idle: Vec<_> = rules
            .rules
            .iter()
            .filter(|r| matches!(r.trigger, Trigger::Idle(..)))
            .collect();
        // A rule without stages watches everyone.
        let mut stages: Vec<Option<&str>> = match idle.iter().any(|r| r.stages.is_empty()) {
            true => vec![None],
            false => idle
                .iter()
                .flat_map(|r| r.stages.iter().map(|s| Some(s.as_str())))
                .collect(),
        };
        stages.sort_unstable();
        stages.dedup();
        let now = self.clock.now();
        for stage in stages {
            let filter = ProspectFilter {
                stage: stage.map(str::to_string),
                ..ProspectFilter::default()
            };
            let watched = self.store.list_prospects(RepScope::Team, &filter).await?;
            // Histories read a batch of prospects at a time.
            for chunk in watched.chunks(BATCH as usize) {
                let ids: Vec<i64> = chunk.iter().map(|p| p.id).collect();
                let histories = self.store.events_of(&ids).await?;
                for prospect in chunk {
                    let Ok(pipeline) = self.settings.pipelines.get(&prospect.data.pipeline) else {
                        continue;
                    };
                    let history = histories.get(&prospect.id).map_or(&[][..], Vec::as_slice);
                    for fired in on_idle(rules, pipeline, &prospect.data.stage, history, now) {
                        self.carry_out(prospect, pipeline, &fired, report).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn prospect(&self, id: i64) -> Result<Option<(Prospect, &Pipeline)>, RulesError> {
        match self.store.find_prospect(RepScope::Team, &ProspectRef::Id(id)).await {
            Ok(prospect) => Ok(self
                .settings
                .pipelines
                .get(&prospect.data.pipeline)
                .ok()
                .map(|pipeline| (prospect, pipeline))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn carry_out(
        &self,
        prospect: &Prospect,
        pipeline: &Pipeline,
        fired: &Fired,
        report: &mut RulesReport,
    ) -> Result<(), RulesError> {
        let now = self.clock.now();
        // Recorded first and pending until the action has committed: an
        // action lost to the database (locked, full) is carried out when the
        // rule fires again on the next pass. Every action is keyed by the
        // firing (the stage change's source key, the suggestion's and the
        // task's key) or changes nothing the second time, so none is done twice.
        let Some(attempt) = self
            .store
            .record_firing(&fired.key, &fired.rule, prospect.id, &fired.reason, now)
            .await?
        else {
            return Ok(());
        };
        if attempt > MAX_ATTEMPTS {
            // Failing every pass: given up and reported, so the rest go on.
            self.store.finish_firing(&fired.key, now).await?;
            report.skipped.push(format!(
                "{}: #{} given up after {MAX_ATTEMPTS} failed attempts",
                fired.rule, prospect.id
            ));
            return Ok(());
        }
        self.act(prospect, pipeline, fired, report).await?;
        self.store.finish_firing(&fired.key, self.clock.now()).await?;
        Ok(())
    }

    async fn act(
        &self,
        prospect: &Prospect,
        pipeline: &Pipeline,
        fired: &Fired,
        report: &mut RulesReport,
    ) -> Result<(), RulesError> {
        let now = self.clock.now();
        let actor = Actor::Rule(fired.rule.clone());
        match &fired.outcome {
            Outcome::Advance { from, to } => {
                let mut event = stage_change(prospect.id, Some(from), to, now, actor, Some(&fired.reason));
                event.source_key = fired.key.clone();
                match self
                    .store
                    .move_prospect(RepScope::Team, prospect.id, from, &pipeline.slug, to, event, now)
                    .await
                {
                    Ok(()) => {
                        report.advanced += 1;
                        report.stopped += crate::sequences::stops::stop_ended(
                            self.store.as_ref(),
                            &self.settings,
                            &[prospect.id],
                            now,
                        )
                        .await?;
                    }
                    Err(StoreError::Conflict(why)) => report.skipped.push(format!("{}: {why}", fired.rule)),
                    Err(e) => return Err(e.into()),
                }
            }
            Outcome::Suggest { from, to } => {
                let suggestion = NewSuggestion {
                    prospect_id: prospect.id,
                    rule: fired.rule.clone(),
                    from_stage: from.clone(),
                    to_stage: to.clone(),
                    reason: fired.reason.clone(),
                    key: fired.key.clone(),
                    person: None,
                };
                if self.store.add_suggestion(&suggestion, now).await? {
                    report.suggested += 1;
                }
            }
            Outcome::SuggestProspect { name, email } => {
                // At the referring prospect's account, unless the rep says otherwise.
                let suggestion = NewSuggestion {
                    prospect_id: prospect.id,
                    rule: fired.rule.clone(),
                    from_stage: prospect.data.stage.clone(),
                    to_stage: String::new(),
                    reason: fired.reason.clone(),
                    key: fired.key.clone(),
                    person: Some(SuggestedPerson {
                        name: name.clone(),
                        email: email.clone(),
                        company: prospect.data.company.clone(),
                    }),
                };
                if self.store.add_suggestion(&suggestion, now).await? {
                    report.suggested += 1;
                }
            }
            Outcome::Remind { note, on } => {
                // A day named ("in March") is due at the start of the rep's working day.
                let due_at = match on {
                    Some(day) => {
                        let zone = self.store.rep_zone(prospect.data.rep_id).await?;
                        crate::domain::sequence::timing::resolve(day.and_time(FOLLOW_UP_TIME), zone)
                    }
                    None => now,
                };
                let task = NewTask {
                    prospect_id: prospect.id,
                    rep_id: prospect.data.rep_id,
                    enrolment_id: None,
                    step: None,
                    instruction: note.clone(),
                    link: None,
                    logs: FOLLOW_UP.into(),
                    due_at,
                    key: Some(fired.key.clone()),
                    reason: Some(fired.reason.clone()),
                };
                if self.store.add_task(&task).await? {
                    report.reminded += 1;
                }
            }
            Outcome::Tag { tag } if !prospect.data.tags.contains(tag) => {
                let edit = ProspectEdit {
                    add_tags: vec![tag.clone()],
                    ..ProspectEdit::default()
                };
                self.store
                    .edit_prospect(RepScope::Team, prospect.id, &edit, now)
                    .await?;
                report.tagged += 1;
            }
            Outcome::Tag { .. } => {}
            Outcome::Enroll { sequence } => self.enrol(prospect, sequence, fired, report).await?,
            Outcome::StopSequences => {
                if self
                    .store
                    .stop_sequences_of(RepScope::Team, prospect.id, &fired.reason, now)
                    .await?
                {
                    report.stopped += 1;
                }
            }
        }
        Ok(())
    }

    async fn enrol(
        &self,
        prospect: &Prospect,
        slug: &str,
        fired: &Fired,
        report: &mut RulesReport,
    ) -> Result<(), RulesError> {
        let (sequences, _) = self.settings.load_sequences();
        let Some(sequence) = sequences.iter().find(|s| s.slug == slug) else {
            report.skipped.push(format!(
                "{}: there is no valid sequence '{slug}'; run `rapport sequence check`",
                fired.rule
            ));
            return Ok(());
        };
        let Ok(window) = self.settings.config.sending.window() else {
            return Ok(());
        };
        let reps = self.store.list_reps().await?;
        let Some(rep) = reps.iter().find(|r| r.id == prospect.data.rep_id) else {
            return Ok(());
        };
        let actor = Actor::Rule(fired.rule.clone());
        match enrol(
            self.store.as_ref(),
            &window,
            sequence,
            prospect,
            rep,
            &actor,
            self.clock.now(),
        )
        .await?
        {
            Ok(_) => report.enrolled += 1,
            Err(why) => report.skipped.push(format!("{}: #{} {why}", fired.rule, prospect.id)),
        }
        Ok(())
    }
}
