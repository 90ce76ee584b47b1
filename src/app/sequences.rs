//! Sequences from a seat at the board: enrolling prospects (or checking who
//! could be), where each enrolment stands, the outbox, a rep's decision about
//! a send that cannot be told, resuming a paused mailbox, and one sending
//! pass on demand. The checks and the pass are `crate::sequences`'; here
//! they get the actor's scope.

use super::{invalid, Actor, AppError, AppResult, Core, Progress};
use crate::domain::prospect::{Prospect, ProspectId, ProspectRef, Rep};
use crate::domain::sequence::timing::SendingWindow;
use crate::domain::sequence::{Sequence, StepAction};
use crate::outbound::Mailer;
use crate::sequences::{enrolment, SendError, SendReport, SequenceSender};
use crate::store::{Enrolment, OutboxEntry, ProspectFilter, SendingPause};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

/// A sequence by its slug (its file name without `.toml`), if it is there and sound.
pub fn find(core: &Core, slug: &str) -> AppResult<Sequence> {
    let (sequences, broken) = core.settings.load_sequences();
    if let Some(sequence) = sequences.into_iter().find(|s| s.slug == slug) {
        return Ok(sequence);
    }
    if let Some(file) = broken.iter().find(|f| f.file.trim_end_matches(".toml") == slug) {
        return Err(invalid(format!(
            "sequence '{slug}' has problems ({}); run `rapport sequence check`",
            file.problems.join("; ")
        )));
    }
    Err(invalid(format!(
        "there is no sequence '{slug}' in {}; see `rapport sequence check` for the ones there are",
        core.settings.sequences_dir().display()
    )))
}

/// The slugs of the sequences that load (broken ones are left out: `sequence check` names them).
pub fn available(core: &Core) -> Vec<String> {
    all(core).into_iter().map(|s| s.slug).collect()
}

/// The sequences that load.
pub fn all(core: &Core) -> Vec<Sequence> {
    core.settings.load_sequences().0
}

/// The sending window of `[sending]`, or what is wrong with it.
pub fn window(core: &Core) -> AppResult<SendingWindow> {
    core.settings
        .config
        .sending
        .window()
        .map_err(|(key, message)| invalid(format!("{key}: {message}")))
}

/// Why this sequence's email would not go out yet, naming the keys to set.
pub fn email_blockers(core: &Core, sequence: &Sequence) -> Vec<String> {
    let sends_email = sequence.steps.iter().any(|s| matches!(s.action, StepAction::Email(_)));
    match sends_email {
        true => core.settings.sending_blockers(),
        false => Vec::new(),
    }
}

/// Whom to enrol.
#[derive(Debug, Clone)]
pub enum Whom {
    /// Everyone of the sequence's pipeline in this stage.
    Stage(String),
    /// Everyone of the sequence's pipeline with this tag.
    Tag(String),
    /// These prospects.
    Listed(Vec<ProspectRef>),
}

/// One prospect enrolled (or, in a dry run, who would be).
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    /// `None` in a dry run.
    pub enrolment: Option<i64>,
    pub prospect: ProspectId,
    pub name: String,
    pub variant: usize,
    pub next_due_at: DateTime<Utc>,
}

/// One prospect not enrolled, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotEnrolled {
    pub prospect: ProspectId,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct EnrolReport {
    pub sequence: Sequence,
    pub enrolled: Vec<Enrolled>,
    pub refused: Vec<NotEnrolled>,
    /// Why no email of the sequence goes out yet (keys to set), if any.
    pub email_waits_for: Vec<String>,
}

/// Enrols the prospects named (within the actor's scope), or with `dry_run`
/// only says who would be enrolled and who not, changing nothing.
pub async fn enroll(
    core: &Core,
    actor: &Actor,
    slug: &str,
    whom: &Whom,
    dry_run: bool,
    progress: &dyn Progress,
) -> AppResult<EnrolReport> {
    let sequence = find(core, slug)?;
    let window = window(core)?;
    let reps = core.store.list_reps().await?;
    let scope = actor.scope();
    // Everyone of the sequence's pipeline in a stage or with a tag, or those named.
    let of_pipeline = |stage: Option<&String>, tag: Option<&String>| ProspectFilter {
        pipeline: Some(sequence.pipeline.clone()),
        stage: stage.cloned(),
        tag: tag.cloned(),
        ..ProspectFilter::default()
    };
    let candidates: Vec<Prospect> = match whom {
        Whom::Stage(stage) => {
            core.store
                .list_prospects(scope, &of_pipeline(Some(stage), None))
                .await?
        }
        Whom::Tag(tag) => core.store.list_prospects(scope, &of_pipeline(None, Some(tag))).await?,
        Whom::Listed(references) => {
            let mut found = Vec::with_capacity(references.len());
            for reference in references {
                found.push(core.store.find_prospect(scope, reference).await?);
            }
            found
        }
    };
    progress.start(candidates.len() as u64);
    let outcomes = enrolment::enrol_many(
        core.store.as_ref(),
        &window,
        &sequence,
        &candidates,
        &reps,
        &actor.recorded_as(),
        core.clock.now(),
        dry_run,
        &|n| progress.advance(n),
    )
    .await?;
    progress.finish();
    let (mut enrolled, mut refused) = (Vec::new(), Vec::new());
    for (prospect, (_, outcome)) in candidates.iter().zip(outcomes) {
        match outcome {
            Ok(done) => enrolled.push(Enrolled {
                enrolment: done.id,
                prospect: prospect.id,
                name: prospect.data.name.clone(),
                variant: done.variant,
                next_due_at: done.next_due_at,
            }),
            Err(reason) => refused.push(NotEnrolled {
                prospect: prospect.id,
                name: prospect.data.name.clone(),
                reason,
            }),
        }
    }
    let email_waits_for = email_blockers(core, &sequence);
    Ok(EnrolReport {
        sequence,
        enrolled,
        refused,
        email_waits_for,
    })
}

/// What `preview` needs to show one prospect's sequence: the prospect, their
/// rep, their latest post, and whether they can be enrolled (why not).
pub struct PreviewSubject {
    pub sequence: Sequence,
    pub prospect: Prospect,
    pub rep: Rep,
    pub post: Option<crate::domain::sequence::enrolment::PostSummary>,
    pub cannot_enroll: Option<String>,
    pub email_waits_for: Vec<String>,
}

/// The prospect a preview is for, with everything its steps are written from.
pub async fn preview_subject(core: &Core, actor: &Actor, slug: &str, who: &ProspectRef) -> AppResult<PreviewSubject> {
    let sequence = find(core, slug)?;
    let prospect = core.store.find_prospect(actor.scope(), who).await?;
    let reps = core.store.list_reps().await?;
    let rep = reps
        .into_iter()
        .find(|r| r.id == prospect.data.rep_id)
        .ok_or_else(|| AppError::Invalid(format!("prospect #{} has no rep in the database", prospect.id)))?;
    let post = core.store.latest_post(actor.scope(), prospect.id).await?;
    let window = window(core)?;
    let eligible = enrolment::check(
        core.store.as_ref(),
        &window,
        &sequence,
        &prospect,
        &rep,
        core.clock.now(),
    )
    .await?;
    let email_waits_for = email_blockers(core, &sequence);
    Ok(PreviewSubject {
        sequence,
        prospect,
        rep,
        post,
        cannot_enroll: eligible.err(),
        email_waits_for,
    })
}

/// The paused mailboxes the actor may see, each with its rep's address.
pub async fn paused_mailboxes(core: &Core, actor: &Actor) -> AppResult<Vec<(SendingPause, String)>> {
    let reps = core.store.list_reps().await?;
    Ok(core
        .store
        .sending_pauses()
        .await?
        .into_iter()
        .filter(|p| actor.may_act_for(p.rep_id))
        .map(|pause| {
            let email = reps
                .iter()
                .find(|r| r.id == pause.rep_id)
                .map_or_else(|| format!("rep #{}", pause.rep_id), |r| r.email.clone());
            (pause, email)
        })
        .collect())
}

/// Where the enrolments stand, and which mailboxes are paused (with the rep's address).
pub struct Standing {
    pub enrolments: Vec<Enrolment>,
    pub pauses: Vec<(SendingPause, String)>,
    /// Each sequence's number of steps, by slug.
    pub steps: Vec<(String, usize)>,
}

pub async fn standing(core: &Core, actor: &Actor, sequence: Option<&str>) -> AppResult<Standing> {
    let enrolments = core.store.list_enrolments(actor.scope(), sequence).await?;
    let pauses = paused_mailboxes(core, actor).await?;
    let (sequences, _) = core.settings.load_sequences();
    let steps = sequences.iter().map(|s| (s.slug.clone(), s.steps.len())).collect();
    Ok(Standing {
        enrolments,
        pauses,
        steps,
    })
}

/// The outbox rows in the actor's scope, in one state or all.
pub async fn outbox(core: &Core, actor: &Actor, state: Option<&str>) -> AppResult<Vec<OutboxEntry>> {
    Ok(core.store.list_outbox(actor.scope(), state).await?)
}

/// The sending pass with this install's mail transport and Sent folders.
pub fn sender(core: &Core) -> AppResult<SequenceSender> {
    let mailer = Mailer::from_settings(&core.settings).map_err(|e| AppError::Internal(e.to_string()))?;
    let sent = Arc::new(crate::sources::mail::sent::ImapSentFolder::new(core.settings.clone()));
    Ok(SequenceSender::new(
        core.store.clone(),
        core.clock.clone(),
        core.settings.clone(),
        mailer,
        sent,
    ))
}

/// One sending pass now (what the daemon's `send-sequences` job runs).
pub async fn send_pass(sender: &SequenceSender) -> AppResult<SendReport> {
    sender.run_pass().await.map_err(|e| match e {
        SendError::NotConfigured { .. } | SendError::Config(_) => AppError::Invalid(e.to_string()),
        SendError::Store(e) => AppError::Store(e),
    })
}

/// The rep's decision about a send left `unknown`: it went out, or it did not.
pub async fn resolve(core: &Core, actor: &Actor, outbox_id: i64, sent: bool) -> AppResult<OutboxEntry> {
    let unknown = core.store.list_outbox(actor.scope(), Some("unknown")).await?;
    let Some(entry) = unknown.into_iter().find(|e| e.id == outbox_id) else {
        // Decided already, never there, or another rep's: not found either way.
        return Err(AppError::Store(crate::store::StoreError::NotFound(format!(
            "outbox #{outbox_id} is not waiting for a decision; `rapport sequence outbox --state unknown` lists the ones that are"
        ))));
    };
    sender(core)?.resolve(&entry, sent).await.map_err(|e| match e {
        SendError::Store(e) => AppError::Store(e),
        other => AppError::Invalid(other.to_string()),
    })?;
    Ok(entry)
}

/// Resumes sending from a rep's mailbox; false when it was not paused.
pub async fn resume(core: &Core, actor: &Actor, rep: &Rep) -> AppResult<bool> {
    if !actor.may_act_for(rep.id) {
        return Err(AppError::Store(crate::store::StoreError::NotFound(format!(
            "no rep {}",
            rep.email
        ))));
    }
    Ok(core.store.resume_sending(rep.id, core.clock.now()).await?)
}

/// Each step's numbers per variant (sent, replied, bounced, unsubscribed),
/// over the enrolments and outbox in the actor's scope.
pub async fn step_stats(core: &Core, actor: &Actor) -> AppResult<Vec<crate::domain::sequence::stats::StepStat>> {
    let enrolments = core.store.list_enrolments(actor.scope(), None).await?;
    let sent = core.store.list_outbox(actor.scope(), Some("sent")).await?;
    Ok(crate::domain::sequence::stats::step_stats(&enrolments, &sent))
}
