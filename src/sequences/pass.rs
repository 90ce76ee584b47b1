//! One sending pass over the sequences: settle sends a crash cut off, take
//! the enrolments that are due, and for each decide (stop, snooze, retry,
//! pause), then send its email inside the window and the mailbox's pacing,
//! or add its task.
//!
//! Every email gets an outbox row, with its Message-ID, committed before its
//! SMTP transaction begins (the connection and login come first). A row left
//! `sending` by a crash is settled by this rule:
//! 1. an `email.sent` event for its Message-ID exists (mail sync read it in
//!    the Sent folder): sent;
//! 2. the file outbox holds the message: sent; it does not: nothing went out,
//!    the step is sent again with a new Message-ID;
//! 3. the rep's mailbox is configured: its Sent folder is searched for the
//!    Message-ID; found: sent;
//! 4. otherwise `unknown`: the enrolment pauses, and the rep decides with
//!    `rapport sequence resolve ID --sent|--not-sent`. Never re-sent blindly.

use super::stops;
use super::tasks::{self, TaskStep};
use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::event::NewEvent;
use crate::domain::prospect::{Prospect, ProspectRef, Rep, RepId};
use crate::domain::sequence::enrolment::zone_of;
use crate::domain::sequence::pacing::Pacing;
use crate::domain::sequence::plan::{local_day, send_time, Load, SendTime};
use crate::domain::sequence::stop::Decision;
use crate::domain::sequence::timing::SendingWindow;
use crate::domain::sequence::{Sequence, StepAction};
use crate::outbound::{Mailer, Session};
use crate::store::{Enrolment, EnrolmentUpdate, RepScope, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::outbox::*;

/// How long a paused mailbox's enrolments wait before they are looked at again.
pub(super) const PAUSED_RECHECK: Duration = Duration::hours(1);
/// After a temporary refusal (4xx) or a connection failure.
pub(super) const RETRY_LATER: Duration = Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{key} is not set: {why}")]
    NotConfigured { key: &'static str, why: &'static str },
    #[error("[sending]: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendReport {
    pub sent: u32,
    pub tasks: u32,
    pub stopped: u32,
    pub finished: u32,
    /// Waiting for the window, the pacing, a snooze or a paused mailbox.
    pub deferred: u32,
    pub refused: u32,
    /// Interrupted sends settled as sent or not sent.
    pub reconciled: u32,
    pub unknown: u32,
    pub errors: Vec<String>,
}

/// The settings a pass needs, read once.
pub(super) struct Plan {
    pub(super) sequences: BTreeMap<String, Sequence>,
    pub(super) window: SendingWindow,
    pub(super) pacing: Pacing,
    pub(super) postal_address: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) secret: Vec<u8>,
    pub(super) reps: Vec<Rep>,
}

pub struct SequenceSender {
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: Arc<Settings>,
    pub(super) mailer: Mailer,
    pub(super) sent_folder: Arc<dyn super::SentFolder>,
    /// The last pass's claims (enrolment, lease end). A pass cut off by the
    /// database (a full disk) leaves some leased for `sending.lease_secs`;
    /// the next pass gives back those still untouched first, so sending
    /// goes on within seconds of the database taking writes again.
    pub(super) last_claims: std::sync::Mutex<Vec<(i64, DateTime<Utc>)>>,
}

/// How long a `.eml` outbox row may stay `sending` before it is settled.
pub(super) const FILE_SEND_LEASE_SECS: i64 = 10;

/// What happened to one enrolment's step.
pub(super) enum Handled {
    Done,
    MailboxPaused,
}

/// Sending failed before any message was begun: the rest of the rep's wait.
pub(super) struct ConnectionFailed(pub(super) String);

impl SequenceSender {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Arc<Settings>,
        mailer: Mailer,
        sent_folder: Arc<dyn super::SentFolder>,
    ) -> SequenceSender {
        SequenceSender {
            store,
            clock,
            settings,
            mailer,
            sent_folder,
            last_claims: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(super) fn claims(&self) -> std::sync::MutexGuard<'_, Vec<(i64, DateTime<Utc>)>> {
        self.last_claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One pass: exactly what the daemon's `send-sequences` job runs.
    pub async fn run_pass(&self) -> Result<SendReport, SendError> {
        let mut report = SendReport::default();
        let now = self.clock.now();
        let previous = std::mem::take(&mut *self.claims());
        if !previous.is_empty() {
            if let Err(e) = self.store.release_enrolments(&previous, now).await {
                *self.claims() = previous;
                return Err(e.into());
            }
        }
        // Interrupted sends are settled first, so the enrolments they move on
        // are claimed below as they now stand.
        let stale = self.store.stale_sends(now).await?;
        if !stale.is_empty() {
            let plan = self.plan().await?;
            for entry in stale {
                self.reconcile(&plan, &entry, &mut report).await?;
            }
        }
        let sending = &self.settings.config.sending;
        let lease = Duration::seconds(sending.lease_secs as i64);
        let claimed = self
            .store
            .claim_due_enrolments(crate::store::worker_name(), now, now + lease, sending.batch)
            .await?;
        *self.claims() = claimed.iter().map(|e| (e.id, now + lease)).collect();
        if claimed.is_empty() {
            return Ok(report);
        }
        let plan = self.plan().await?;
        let paused: HashSet<RepId> = self.store.sending_pauses().await?.iter().map(|p| p.rep_id).collect();
        let mut by_rep: BTreeMap<RepId, Vec<Enrolment>> = BTreeMap::new();
        for enrolment in claimed {
            by_rep.entry(enrolment.rep_id).or_default().push(enrolment);
        }
        let work = async {
            for (rep_id, enrolments) in by_rep {
                let Some(rep) = plan.reps.iter().find(|r| r.id == rep_id) else {
                    continue;
                };
                self.send_for_rep(&plan, rep, enrolments, paused.contains(&rep_id), &mut report)
                    .await?;
            }
            Ok(report)
        };
        // A pass slower than the lease (a rep's gap between emails, a slow
        // server) keeps the enrolments it has not reached yet.
        tokio::select! {
            done = work => done,
            never = self.heartbeat(lease) => match never {},
        }
    }

    /// Renews the claims not yet dealt with every third of the lease; runs until dropped.
    async fn heartbeat(&self, lease: Duration) -> std::convert::Infallible {
        let every = (lease / 3)
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_millis(250));
        loop {
            tokio::time::sleep(every).await;
            let held = self.claims().clone();
            if held.is_empty() {
                continue;
            }
            let until = self.clock.now() + lease;
            match self.store.renew_enrolment_claims(&held, until).await {
                Ok(renewed) => {
                    let renewed: HashSet<i64> = renewed.into_iter().collect();
                    for claim in self.claims().iter_mut().filter(|c| renewed.contains(&c.0)) {
                        claim.1 = until;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not renew the claims of the sending pass"),
            }
        }
    }

    pub(super) async fn plan(&self) -> Result<Plan, SendError> {
        let settings = &self.settings.config;
        let (sequences, _broken) = self.settings.load_sequences();
        Ok(Plan {
            sequences: sequences.into_iter().map(|s| (s.slug.clone(), s)).collect(),
            window: settings
                .sending
                .window()
                .map_err(|(k, m)| SendError::Config(format!("{k}: {m}")))?,
            pacing: settings
                .sending
                .pacing()
                .map_err(|(k, m)| SendError::Config(format!("{k}: {m}")))?,
            postal_address: settings.sending.postal_address.clone().filter(|a| !a.trim().is_empty()),
            public_url: settings
                .http
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            secret: unsubscribe_key(self.store.as_ref()).await?,
            reps: self.store.list_reps().await?,
        })
    }

    pub(super) async fn send_for_rep(
        &self,
        plan: &Plan,
        rep: &Rep,
        enrolments: Vec<Enrolment>,
        mut paused: bool,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let mailbox_zone = rep.zone();
        let today = self.clock.now().with_timezone(&mailbox_zone).date_naive();
        let (start, end) = local_day(today, mailbox_zone);
        let stored = self.store.sending_load(rep.id, start, end).await?;
        let mut load = Load {
            sent_today: stored.sent_in_range,
            last_sent: stored.last_started,
        };
        let mut session: Option<Session> = None;
        let mut remaining = enrolments.into_iter();
        for enrolment in remaining.by_ref() {
            let now = self.clock.now();
            if paused {
                self.defer(&enrolment, now + PAUSED_RECHECK, report).await?;
                continue;
            }
            match self
                .handle(plan, rep, &enrolment, &mut load, &mut session, report)
                .await?
            {
                Ok(Handled::MailboxPaused) => paused = true,
                Ok(Handled::Done) => {}
                Err(ConnectionFailed(error)) => {
                    report.errors.push(format!("sending for {}: {error}", rep.email));
                    self.defer(&enrolment, now + RETRY_LATER, report).await?;
                    break;
                }
            }
        }
        for enrolment in remaining {
            self.defer(&enrolment, self.clock.now() + RETRY_LATER, report).await?;
        }
        if let Some(session) = session {
            session.close().await;
        }
        Ok(())
    }

    /// Decides about one due enrolment and carries it out.
    pub(super) async fn handle(
        &self,
        plan: &Plan,
        rep: &Rep,
        enrolment: &Enrolment,
        load: &mut Load,
        session: &mut Option<Session>,
        report: &mut SendReport,
    ) -> Result<Result<Handled, ConnectionFailed>, SendError> {
        let now = self.clock.now();
        let Some(sequence) = plan.sequences.get(&enrolment.sequence) else {
            report.errors.push(format!(
                "enrolment {}: sequence '{}' is missing or has problems; run `rapport sequence check`",
                enrolment.id, enrolment.sequence
            ));
            self.defer(enrolment, now + PAUSED_RECHECK, report).await?;
            return Ok(Ok(Handled::Done));
        };
        let prospect = match self
            .store
            .find_prospect(RepScope::Rep(rep.id), &ProspectRef::Id(enrolment.prospect_id))
            .await
        {
            Ok(prospect) => prospect,
            Err(StoreError::NotFound(_)) => return Ok(Ok(Handled::Done)),
            Err(e) => return Err(e.into()),
        };
        let zone = zone_of(&prospect, rep);
        let decision = self.decide(sequence, enrolment, &prospect, &plan.window, zone).await?;
        let (step, retry) = match decision {
            Decision::Stop(reason) => {
                self.stop(enrolment, &reason, report).await?;
                return Ok(Ok(Handled::Done));
            }
            Decision::PauseMailbox(reason) => {
                self.pause_mailbox(rep, &reason).await?;
                self.defer(enrolment, now + PAUSED_RECHECK, report).await?;
                return Ok(Ok(Handled::MailboxPaused));
            }
            Decision::WaitForRep(_) => {
                self.defer(enrolment, now + PAUSED_RECHECK, report).await?;
                return Ok(Ok(Handled::Done));
            }
            Decision::SnoozeUntil(until) if until > now => {
                self.snooze(enrolment, until, report).await?;
                return Ok(Ok(Handled::Done));
            }
            Decision::RetryStep(_) => match self.store.last_attempt(enrolment.id).await? {
                Some((step, _)) => (step as usize, true),
                None => (enrolment.step as usize, false),
            },
            Decision::SnoozeUntil(_) | Decision::Continue => (enrolment.step as usize, false),
        };
        let Some(found) = sequence.steps.get(step) else {
            self.finish(enrolment, report).await?;
            return Ok(Ok(Handled::Done));
        };
        match &found.action {
            StepAction::Task(_) => {
                self.add_task(plan, sequence, enrolment, &prospect, rep, step, report)
                    .await?;
                Ok(Ok(Handled::Done))
            }
            StepAction::Email(_) => {
                let jitter = rand::random::<f64>();
                let mailbox_zone = rep.zone();
                match send_time(now, &plan.window, zone, &plan.pacing, *load, mailbox_zone, jitter) {
                    SendTime::Later(at) => {
                        self.defer(enrolment, at, report).await?;
                        Ok(Ok(Handled::Done))
                    }
                    SendTime::Never => {
                        self.stop(enrolment, "the sending window never opens within a year", report)
                            .await?;
                        Ok(Ok(Handled::Done))
                    }
                    SendTime::Now => {
                        let email = EmailStep {
                            sequence,
                            enrolment,
                            prospect: &prospect,
                            rep,
                            step,
                            retry,
                            zone,
                        };
                        self.send_email(plan, &email, load, session, report).await
                    }
                }
            }
        }
    }

    /// The stop rules, over the prospect's events. A policy refusal from
    /// before the rep last resumed sending has been dealt with.
    pub(super) async fn decide(
        &self,
        sequence: &Sequence,
        enrolment: &Enrolment,
        prospect: &Prospect,
        window: &SendingWindow,
        zone: chrono_tz::Tz,
    ) -> Result<Decision, SendError> {
        Ok(stops::decision(self.store.as_ref(), sequence, enrolment, prospect, window, zone).await?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn add_task(
        &self,
        plan: &Plan,
        sequence: &Sequence,
        enrolment: &Enrolment,
        prospect: &Prospect,
        rep: &Rep,
        step: usize,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let now = self.clock.now();
        let store = self.store.as_ref();
        match tasks::add_task_step(store, sequence, enrolment, prospect, rep, step, &plan.window, now).await? {
            TaskStep::Added(true) => report.tasks += 1,
            TaskStep::Added(false) => {}
            TaskStep::Unwritable(reason) => self.stop(enrolment, &reason, report).await?,
        }
        Ok(())
    }

    pub(super) async fn defer(
        &self,
        enrolment: &Enrolment,
        until: DateTime<Utc>,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let update = EnrolmentUpdate {
            snoozed_until: enrolment.snoozed_until.filter(|s| *s > until),
            ..EnrolmentUpdate::due(enrolment.step, until)
        };
        report.deferred += 1;
        self.record(enrolment, &update.expecting(enrolment.step), None).await
    }

    pub(super) async fn snooze(
        &self,
        enrolment: &Enrolment,
        until: DateTime<Utc>,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let update = EnrolmentUpdate {
            snoozed_until: Some(until),
            ..EnrolmentUpdate::due(enrolment.step, until)
        };
        let event = stops::snoozed(enrolment, until, self.clock.now());
        report.deferred += 1;
        self.record(enrolment, &update.expecting(enrolment.step), Some(&event))
            .await
    }

    pub(super) async fn stop(
        &self,
        enrolment: &Enrolment,
        reason: &str,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let (update, event) = stops::stop(enrolment, reason, self.clock.now());
        report.stopped += 1;
        self.record(enrolment, &update, Some(&event)).await
    }

    pub(super) fn stop_event(&self, enrolment: &Enrolment, reason: &str) -> NewEvent {
        stops::stop(enrolment, reason, self.clock.now()).1
    }

    pub(super) async fn finish(&self, enrolment: &Enrolment, report: &mut SendReport) -> Result<(), SendError> {
        report.finished += 1;
        let update = EnrolmentUpdate::ended(enrolment.step, "finished", "every step done").expecting(enrolment.step);
        self.record(enrolment, &update, None).await
    }

    /// Writes a claimed enrolment's update under this pass's claim: refused
    /// (and counted) if another worker has claimed it since.
    pub(super) async fn record(
        &self,
        enrolment: &Enrolment,
        update: &EnrolmentUpdate,
        event: Option<&NewEvent>,
    ) -> Result<(), SendError> {
        let update = EnrolmentUpdate {
            expect_fence: Some(enrolment.fence),
            ..update.clone()
        };
        if !self
            .store
            .update_enrolment(enrolment.id, &update, event, self.clock.now())
            .await?
        {
            fenced(enrolment.id, "enrolment update");
        }
        Ok(())
    }
}

/// A write of claimed work refused because another worker took it over.
pub(super) fn fenced(enrolment: i64, what: &'static str) {
    tracing::warn!(
        enrolment,
        what,
        "not written: the enrolment's lease ran out and another worker took it over"
    );
    ::metrics::counter!(crate::metrics::names::FENCED_WRITES, "work" => "send").increment(1);
}
