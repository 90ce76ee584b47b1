//! A sequence stops the moment its reason is recorded: a reply (synced or
//! logged by hand), a booked meeting, an unsubscribe, a move out of its
//! stages. Whatever records such an event calls [`stop_ended`], so `sequence
//! status`, `tasks` and the digest show it at once rather than at the next
//! due step. The sending pass asks the same question ([`decision`]) before
//! every step, so nothing is sent in between either way.

use crate::config::Settings;
use crate::domain::event::kinds::EMAIL_BOUNCED;
use crate::domain::event::payload::{Bounced, SequenceStep, Snoozed, Stopped};
use crate::domain::event::{keys, Actor, Event, NewEvent};
use crate::domain::prospect::{Prospect, ProspectId, ProspectRef};
use crate::domain::sequence::enrolment::zone_of;
use crate::domain::sequence::stop::{company_domain, decide, Decision, Situation};
use crate::domain::sequence::timing::SendingWindow;
use crate::domain::sequence::Sequence;
use crate::store::{Enrolment, EnrolmentUpdate, RepScope, Store, StoreError};
use chrono::{DateTime, Utc};

/// What the prospect's situation says about the enrolment's next step.
pub async fn decision(
    store: &dyn Store,
    sequence: &Sequence,
    enrolment: &Enrolment,
    prospect: &Prospect,
    window: &SendingWindow,
    zone: chrono_tz::Tz,
) -> Result<Decision, StoreError> {
    let mut events = store.list_events(RepScope::Team, prospect.id).await?;
    if let Some(resumed) = store.sending_resumed_at(enrolment.rep_id).await? {
        events.retain(|e| !(is_sender_problem(e) && e.occurred_at < resumed));
    }
    let email = prospect.data.email.as_deref();
    let suppressed = match email {
        Some(email) => store.is_suppressed(email).await?,
        None => false,
    };
    let domain = email.and_then(company_domain);
    let colleague_replied = match (sequence.stop_on_colleague_reply, domain) {
        (true, Some(domain)) => {
            store
                .colleague_replied(prospect.id, &domain, enrolment.enrolled_at)
                .await?
        }
        _ => false,
    };
    let situation = Situation {
        sequence,
        enrolled_at: enrolment.enrolled_at,
        pipeline: &prospect.data.pipeline,
        stage: &prospect.data.stage,
        suppressed,
        colleague_replied,
        events: &events,
    };
    Ok(decide(&situation, window, zone))
}

/// Stops the running sequences of these prospects whose stop reason is now
/// recorded; how many stopped. Only stops: waiting, retrying and pausing
/// stay the sending pass's to decide when the step is due.
pub async fn stop_ended(
    store: &dyn Store,
    settings: &Settings,
    prospects: &[ProspectId],
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let Ok(window) = settings.config.sending.window() else {
        return Ok(0);
    };
    let mut sequences = None;
    let mut reps = None;
    let mut stopped = 0;
    let mut unique: Vec<ProspectId> = prospects.to_vec();
    unique.sort_unstable();
    unique.dedup();
    // One statement finds who is in a sequence at all (a mail batch names many
    // prospects, most in none); only those are looked at one by one.
    let running = store.running_sequences_of(&unique).await?;
    for prospect_id in unique.into_iter().filter(|id| running.contains_key(id)) {
        let enrolments = store.running_enrolments_of(prospect_id).await?;
        if enrolments.is_empty() {
            continue;
        }
        let prospect = match store.find_prospect(RepScope::Team, &ProspectRef::Id(prospect_id)).await {
            Ok(prospect) => prospect,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let sequences = sequences.get_or_insert_with(|| settings.load_sequences().0);
        if reps.is_none() {
            reps = Some(store.list_reps().await?);
        }
        let Some(rep) = reps.iter().flatten().find(|r| r.id == prospect.data.rep_id) else {
            continue;
        };
        let zone = zone_of(&prospect, rep);
        for enrolment in &enrolments {
            let Some(sequence) = sequences.iter().find(|s| s.slug == enrolment.sequence) else {
                continue;
            };
            if let Decision::Stop(reason) = decision(store, sequence, enrolment, &prospect, &window, zone).await? {
                let (update, event) = stop(enrolment, &reason, now);
                store.update_enrolment(enrolment.id, &update, Some(&event), now).await?;
                stopped += 1;
            }
        }
    }
    Ok(stopped)
}

/// The enrolment's end and its `sequence.stopped` event (one per enrolment,
/// whoever stops it first).
pub fn stop(enrolment: &Enrolment, reason: &str, now: DateTime<Utc>) -> (EnrolmentUpdate, NewEvent) {
    let update = EnrolmentUpdate::ended(enrolment.step, "stopped", reason).expecting(enrolment.step);
    let stopped = Stopped {
        at: step_of(enrolment),
        reason: reason.into(),
    };
    let event = NewEvent::with(
        enrolment.prospect_id,
        now,
        keys::sequence_stopped(enrolment.id),
        from_sequence(enrolment),
        &stopped,
    );
    (update, event)
}

/// The `sequence.snoozed` event of an enrolment held until `until`.
pub fn snoozed(enrolment: &Enrolment, until: DateTime<Utc>, now: DateTime<Utc>) -> NewEvent {
    let snoozed = Snoozed {
        at: step_of(enrolment),
        until: Some(until),
    };
    NewEvent::with(
        enrolment.prospect_id,
        now,
        keys::sequence_snoozed(enrolment.id, until),
        from_sequence(enrolment),
        &snoozed,
    )
}

/// The enrolment's place: its sequence, its next step (1-based), its id.
fn step_of(enrolment: &Enrolment) -> SequenceStep {
    SequenceStep {
        sequence: enrolment.sequence.clone(),
        step: enrolment.step + 1,
        enrolment: enrolment.id,
    }
}

/// Events about an enrolment are the sequence's doing.
fn from_sequence(enrolment: &Enrolment) -> Actor {
    Actor::System(format!("sequence {}", enrolment.sequence))
}

fn is_sender_problem(event: &Event) -> bool {
    event.kind == EMAIL_BOUNCED && event.read::<Bounced>().sender_problem
}
