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

use super::compose::{compose, Envelope};
use super::{Delivery, Mailer, Session};
use crate::automation::sequence_tasks::{self, next_after, TaskStep};
use crate::automation::stops;
use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::domain::event::kinds::{EMAIL_BOUNCED, EMAIL_SENT};
use crate::domain::event::{Actor, NewEvent};
use crate::domain::mail::{read_refusal, MailEffect, Refusal};
use crate::domain::prospect::{Prospect, ProspectRef, Rep, RepId};
use crate::domain::sequence::enrolment::{context_for, render_step, zone_of, RenderedStep};
use crate::domain::sequence::pacing::Pacing;
use crate::domain::sequence::plan::{local_day, send_time, Load, SendTime};
use crate::domain::sequence::stop::Decision;
use crate::domain::sequence::timing::SendingWindow;
use crate::domain::sequence::{unsubscribe, Sequence, StepAction};
use crate::store::{
    Enrolment, EnrolmentUpdate, NewSend, OutboxEntry, PacingGuard, RepScope, SendStart, Store, StoreError,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::domain::event::kinds::SEQUENCE_SNOOZED;

/// How long a paused mailbox's enrolments wait before they are looked at again.
const PAUSED_RECHECK: Duration = Duration::hours(1);
/// After a temporary refusal (4xx) or a connection failure.
const RETRY_LATER: Duration = Duration::minutes(15);

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
struct Plan {
    sequences: BTreeMap<String, Sequence>,
    window: SendingWindow,
    pacing: Pacing,
    postal_address: Option<String>,
    public_url: Option<String>,
    secret: Vec<u8>,
    reps: Vec<Rep>,
}

pub struct SequenceSender {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    mailer: Mailer,
    /// The last pass's claims (enrolment, lease end). A pass cut off by the
    /// database (a full disk) leaves some leased for `sending.lease_secs`;
    /// the next pass gives back those still untouched first, so sending
    /// goes on within seconds of the database taking writes again.
    last_claims: std::sync::Mutex<Vec<(i64, DateTime<Utc>)>>,
}

/// How long a `.eml` outbox row may stay `sending` before it is settled.
const FILE_SEND_LEASE_SECS: i64 = 10;

/// What happened to one enrolment's step.
enum Handled {
    Done,
    MailboxPaused,
}

/// Sending failed before any message was begun: the rest of the rep's wait.
struct ConnectionFailed(String);

impl SequenceSender {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Arc<Settings>,
        mailer: Mailer,
    ) -> SequenceSender {
        SequenceSender {
            store,
            clock,
            settings,
            mailer,
            last_claims: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, Vec<(i64, DateTime<Utc>)>> {
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
        let claimed = self.store.claim_due_enrolments(now, now + lease, sending.batch).await?;
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
        for (rep_id, enrolments) in by_rep {
            let Some(rep) = plan.reps.iter().find(|r| r.id == rep_id) else {
                continue;
            };
            self.send_for_rep(&plan, rep, enrolments, paused.contains(&rep_id), &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn plan(&self) -> Result<Plan, SendError> {
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

    async fn send_for_rep(
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
    async fn handle(
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
    async fn decide(
        &self,
        sequence: &Sequence,
        enrolment: &Enrolment,
        prospect: &Prospect,
        window: &SendingWindow,
        zone: chrono_tz::Tz,
    ) -> Result<Decision, SendError> {
        Ok(stops::decision(self.store.as_ref(), sequence, enrolment, prospect, window, zone).await?)
    }

    async fn send_email(
        &self,
        plan: &Plan,
        email: &EmailStep<'_>,
        load: &mut Load,
        session: &mut Option<Session>,
        report: &mut SendReport,
    ) -> Result<Result<Handled, ConnectionFailed>, SendError> {
        let enrolment = email.enrolment;
        let message = match self.compose(plan, email).await? {
            Ok(message) => message,
            Err(reason) => {
                self.stop(enrolment, &reason, report).await?;
                return Ok(Ok(Handled::Done));
            }
        };
        // Connected and logged in before the row is written: a failure here is
        // known to have sent nothing.
        let usable = match session.as_mut() {
            Some(open) => open.is_ready().await,
            None => false,
        };
        if !usable {
            match self.mailer.open().await {
                Ok(opened) => *session = Some(opened),
                Err(e) => return Ok(Err(ConnectionFailed(e.to_string()))),
            }
        }
        let Some(open) = session.as_mut() else {
            return Ok(Err(ConnectionFailed("no session".into())));
        };
        let now = self.clock.now();
        let smtp_timeout = Duration::seconds(self.settings.config.smtp.timeout_secs as i64);
        let send = NewSend {
            enrolment_id: enrolment.id,
            prospect_id: email.prospect.id,
            rep_id: email.rep.id,
            sequence: email.sequence.slug.clone(),
            step: email.step as u32,
            retry: email.retry,
            message_id: message.id.clone(),
            to_email: message.to.clone(),
            subject: message.subject.clone(),
            transport: self.mailer.transport(),
            // Connection, transaction and the final reply each get the timeout;
            // a file is written at once.
            lease_until: match self.mailer {
                Mailer::Smtp(_) => now + smtp_timeout * 3,
                Mailer::Outbox { .. } => now + Duration::seconds(FILE_SEND_LEASE_SECS),
            },
            pacing: PacingGuard {
                day: local_day(
                    now.with_timezone(&email.mailbox_zone()).date_naive(),
                    email.mailbox_zone(),
                ),
                daily_cap: plan
                    .pacing
                    .cap_on(now.with_timezone(&email.mailbox_zone()).date_naive()),
                min_gap: plan.pacing.min_gap,
            },
        };
        let outbox_id = match self.store.begin_send(&send, now).await? {
            SendStart::Started(id) => id,
            SendStart::Suppressed => {
                self.stop(enrolment, "the address is on the suppression list", report)
                    .await?;
                return Ok(Ok(Handled::Done));
            }
            SendStart::NotRunning => return Ok(Ok(Handled::Done)),
            SendStart::Paced(not_before) => {
                let at = plan.window.next_open(not_before, email.zone).unwrap_or(not_before);
                self.defer(enrolment, at, report).await?;
                return Ok(Ok(Handled::Done));
            }
            SendStart::AlreadyRecorded(state) => {
                report.errors.push(format!(
                    "enrolment {} step {} already has an outbox row ({state}); it waits until that is settled",
                    enrolment.id,
                    email.step + 1
                ));
                self.defer(enrolment, now + PAUSED_RECHECK, report).await?;
                return Ok(Ok(Handled::Done));
            }
        };
        let delivery = open.send(&message.message).await;
        let at = self.clock.now();
        match delivery {
            Delivery::Accepted => {
                load.sent_today += 1;
                load.last_sent = Some(now);
                let effect = sent_effect(email.prospect.id, &send, at);
                let next =
                    next_after(email.sequence, email.step, at, &plan.window, email.zone).expecting(enrolment.step);
                if !self.store.finish_send(outbox_id, at, &effect, &next).await? {
                    // Another worker settled the row meanwhile; its record stands.
                    tracing::warn!(outbox = outbox_id, "a sent email's row was settled by another worker");
                    return Ok(Ok(Handled::Done));
                }
                report.sent += 1;
                if next.state == "finished" {
                    report.finished += 1;
                }
                Ok(Ok(Handled::Done))
            }
            Delivery::NotSent(reason) => {
                report.refused += 1;
                let stop = EnrolmentUpdate::ended(enrolment.step, "stopped", format!("cannot be sent: {reason}"))
                    .expecting(enrolment.step);
                let event = only_event(self.stop_event(enrolment, &format!("cannot be sent: {reason}")));
                self.store
                    .settle_send(outbox_id, "refused", &reason, &[event], Some((enrolment.id, &stop)), at)
                    .await?;
                report.stopped += 1;
                Ok(Ok(Handled::Done))
            }
            Delivery::Refused { code, text } => {
                report.refused += 1;
                let refusal = read_refusal(code, &text);
                self.refused(email, outbox_id, &send, &refusal, &text, report).await
            }
            Delivery::Interrupted(error) => {
                *session = None;
                let entry = OutboxEntry {
                    id: outbox_id,
                    enrolment_id: enrolment.id,
                    prospect_id: email.prospect.id,
                    rep_id: email.rep.id,
                    sequence: send.sequence.clone(),
                    step: send.step,
                    attempt: 0,
                    message_id: send.message_id.clone(),
                    to_email: send.to_email.clone(),
                    subject: send.subject.clone(),
                    transport: send.transport.to_string(),
                    state: "sending".into(),
                    started_at: now,
                    sent_at: None,
                    error: Some(error.clone()),
                };
                self.reconcile(plan, &entry, report).await?;
                report.errors.push(format!("sending to {}: {error}", send.to_email));
                Ok(Ok(Handled::Done))
            }
        }
    }

    /// The server said no: a hard refusal suppresses the address and stops
    /// the sequence, a policy refusal pauses the mailbox, a soft one is
    /// retried (and counts as a soft bounce), a temporary one waits.
    async fn refused(
        &self,
        email: &EmailStep<'_>,
        outbox_id: i64,
        send: &NewSend,
        refusal: &Refusal,
        text: &str,
        report: &mut SendReport,
    ) -> Result<Result<Handled, ConnectionFailed>, SendError> {
        let now = self.clock.now();
        let enrolment = email.enrolment;
        let current = enrolment.step;
        if !refusal.permanent {
            let retry = EnrolmentUpdate::due(current, now + RETRY_LATER).expecting(current);
            self.store
                .settle_send(outbox_id, "refused", text, &[], Some((enrolment.id, &retry)), now)
                .await?;
            report.deferred += 1;
            return Ok(Ok(Handled::Done));
        }
        let bounce = bounce_effect(email.prospect.id, outbox_id, send, refusal, text, now);
        if refusal.hard {
            let reason = format!("hard bounce ({})", crate::domain::mail::name_of(&refusal.reason));
            let stop = EnrolmentUpdate::ended(current, "stopped", &reason).expecting(current);
            let stopped = only_event(self.stop_event(enrolment, &reason));
            self.store
                .settle_send(
                    outbox_id,
                    "refused",
                    text,
                    &[bounce, stopped],
                    Some((enrolment.id, &stop)),
                    now,
                )
                .await?;
            report.stopped += 1;
            return Ok(Ok(Handled::Done));
        }
        let wait = match refusal.sender_problem {
            true => PAUSED_RECHECK,
            false => RETRY_LATER,
        };
        let update = EnrolmentUpdate::due(current, now + wait).expecting(current);
        self.store
            .settle_send(
                outbox_id,
                "refused",
                text,
                &[bounce],
                Some((enrolment.id, &update)),
                now,
            )
            .await?;
        if refusal.sender_problem {
            let status = refusal.status.as_deref().unwrap_or("5.7.x");
            self.pause_mailbox(
                email.rep,
                &format!("the receiving server refused the sender ({status}): {text}"),
            )
            .await?;
            return Ok(Ok(Handled::MailboxPaused));
        }
        Ok(Ok(Handled::Done))
    }

    /// The message for a step, or why it cannot be written (a missing field,
    /// a bad address): the sequence stops rather than send a blank.
    async fn compose(&self, plan: &Plan, email: &EmailStep<'_>) -> Result<Result<Composed, String>, SendError> {
        let postal_address = plan.postal_address.as_deref().ok_or(SendError::NotConfigured {
            key: "sending.postal_address",
            why: "every email carries the sender's postal address (CAN-SPAM); sequence mail waits until it is set",
        })?;
        let public_url = plan.public_url.as_deref().ok_or(SendError::NotConfigured {
            key: "http.public_url",
            why: "unsubscribe links point at the daemon's listener; set the HTTPS address it is reached at",
        })?;
        let prospect = email.prospect;
        let Some(to) = prospect.data.email.clone() else {
            return Ok(Err("the prospect has no email address".into()));
        };
        let post = self.store.latest_post(prospect.id).await?;
        let context = context_for(prospect, email.rep, post.as_ref());
        let variant = email.enrolment.variant as usize;
        let (subject, text, html) = match render_step(email.sequence, email.step, variant, &context) {
            Ok(RenderedStep::Email { subject, text, html }) => (subject, text, html),
            Ok(RenderedStep::Task { .. }) => return Ok(Err("the step is not an email".into())),
            Err(e) => return Ok(Err(format!("step {} cannot be written: {e}", email.step + 1))),
        };
        let domain = email.rep.email.rsplit_once('@').map_or("rapport.invalid", |(_, d)| d);
        let id = format!(
            "rapport.{}.{}.{:016x}@{domain}",
            email.enrolment.id,
            email.step,
            rand::random::<u64>()
        );
        let first = match email.sequence.thread && email.step > 0 {
            true => self.store.first_message_id(email.enrolment.id).await?,
            false => None,
        };
        let unsubscribe_url = format!(
            "{}/u/{}",
            public_url,
            unsubscribe::token(&plan.secret, email.enrolment.id)
        );
        let message_id = format!("<{id}>");
        let thread_under = first.map(|f| format!("<{f}>"));
        let envelope = Envelope {
            from_name: &email.rep.name,
            from_email: &email.rep.email,
            to_name: &prospect.data.name,
            to_email: &to,
            message_id: &message_id,
            thread_under: thread_under.as_deref(),
            unsubscribe_url: &unsubscribe_url,
            unsubscribe_mailto: &email.rep.email,
            postal_address,
            date: self.clock.now().into(),
        };
        Ok(
            compose(&envelope, &subject, &text, html.as_deref()).map(|message| Composed {
                message,
                id,
                to,
                subject,
            }),
        )
    }

    /// Settles a send that was cut off (see the module's rule).
    async fn reconcile(&self, plan: &Plan, entry: &OutboxEntry, report: &mut SendReport) -> Result<(), SendError> {
        let now = self.clock.now();
        match self.delivered(plan, entry).await? {
            Some(true) => {
                let update = self.after_reconciled(plan, entry).await?;
                let effect = sent_effect(entry.prospect_id, &resend_of(entry, now), entry.started_at);
                self.store
                    .finish_send(entry.id, entry.started_at, &effect, &update)
                    .await?;
                report.reconciled += 1;
            }
            Some(false) => {
                let again = EnrolmentUpdate::due(entry.step, now);
                self.store
                    .settle_send(
                        entry.id,
                        "refused",
                        "cut off before the message was written; sent again",
                        &[],
                        Some((entry.enrolment_id, &again)),
                        now,
                    )
                    .await?;
                report.reconciled += 1;
            }
            None => {
                let reason = format!(
                    "unknown whether step {} was sent (outbox #{}, cut off mid-send); \
                     run `rapport sequence resolve {} --sent` or `--not-sent`",
                    entry.step + 1,
                    entry.id,
                    entry.id
                );
                let hold = EnrolmentUpdate::ended(entry.step, "paused", &reason);
                let error = entry.error.as_deref().unwrap_or("interrupted mid-send");
                self.store
                    .settle_send(entry.id, "unknown", error, &[], Some((entry.enrolment_id, &hold)), now)
                    .await?;
                report.unknown += 1;
            }
        }
        Ok(())
    }

    /// The rep's decision about a send left `unknown`: it went out (the
    /// sequence goes on from it) or it did not (the step is sent again).
    pub async fn resolve(&self, entry: &OutboxEntry, sent: bool) -> Result<(), SendError> {
        let plan = self.plan().await?;
        let now = self.clock.now();
        if sent {
            let update = self.after_reconciled(&plan, entry).await?;
            let effect = sent_effect(entry.prospect_id, &resend_of(entry, now), entry.started_at);
            self.store
                .finish_send(entry.id, entry.started_at, &effect, &update)
                .await?;
        } else {
            let again = EnrolmentUpdate::due(entry.step, now);
            self.store
                .settle_send(
                    entry.id,
                    "refused",
                    "not sent (the rep's decision)",
                    &[],
                    Some((entry.enrolment_id, &again)),
                    now,
                )
                .await?;
        }
        Ok(())
    }

    /// Whether an interrupted send went out: `None` when it cannot be told.
    async fn delivered(&self, plan: &Plan, entry: &OutboxEntry) -> Result<Option<bool>, SendError> {
        let events = self.store.list_events(entry.prospect_id).await?;
        if events
            .iter()
            .any(|e| e.kind == EMAIL_SENT && e.data["message_id"] == entry.message_id.as_str())
        {
            return Ok(Some(true));
        }
        if entry.transport == super::FILE_TRANSPORT {
            let dir = &self.settings.config.mail.outbox_dir;
            return Ok(Some(super::outbox_holds(dir, &entry.message_id)));
        }
        let Some(rep) = plan.reps.iter().find(|r| r.id == entry.rep_id) else {
            return Ok(None);
        };
        let settings = &self.settings.config;
        let timeout = std::time::Duration::from_secs(settings.mail.imap_timeout_secs);
        for (name, mailbox) in settings
            .mailboxes
            .iter()
            .filter(|(_, m)| m.rep.eq_ignore_ascii_case(&rep.email))
        {
            let ids = [entry.message_id.clone()];
            match crate::sources::mail::sent::find_sent(name, mailbox, timeout, &ids).await {
                Ok(found) if !found.is_empty() => return Ok(Some(true)),
                Ok(_) => {}
                Err(e) => tracing::warn!(mailbox = %name, error = %e, "cannot search the Sent folder"),
            }
        }
        Ok(None)
    }

    /// Where an enrolment goes once an interrupted step is known to be sent.
    async fn after_reconciled(&self, plan: &Plan, entry: &OutboxEntry) -> Result<EnrolmentUpdate, SendError> {
        let reps = &plan.reps;
        let prospect = self
            .store
            .find_prospect(RepScope::Team, &ProspectRef::Id(entry.prospect_id))
            .await?;
        let zone = match reps.iter().find(|r| r.id == entry.rep_id) {
            Some(rep) => zone_of(&prospect, rep),
            None => chrono_tz::UTC,
        };
        Ok(match plan.sequences.get(&entry.sequence) {
            Some(sequence) => next_after(sequence, entry.step as usize, entry.started_at, &plan.window, zone),
            None => EnrolmentUpdate::due(entry.step + 1, self.clock.now()),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_task(
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
        match sequence_tasks::add_task_step(store, sequence, enrolment, prospect, rep, step, &plan.window, now).await? {
            TaskStep::Added(true) => report.tasks += 1,
            TaskStep::Added(false) => {}
            TaskStep::Unwritable(reason) => self.stop(enrolment, &reason, report).await?,
        }
        Ok(())
    }

    async fn defer(
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

    async fn snooze(
        &self,
        enrolment: &Enrolment,
        until: DateTime<Utc>,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let update = EnrolmentUpdate {
            snoozed_until: Some(until),
            ..EnrolmentUpdate::due(enrolment.step, until)
        };
        let key = format!("snooze:{}:{until}", enrolment.id);
        let event = self.sequence_event(enrolment, SEQUENCE_SNOOZED, key, json!({ "until": until }));
        report.deferred += 1;
        self.record(enrolment, &update.expecting(enrolment.step), Some(&event))
            .await
    }

    async fn stop(&self, enrolment: &Enrolment, reason: &str, report: &mut SendReport) -> Result<(), SendError> {
        let (update, event) = stops::stop(enrolment, reason, self.clock.now());
        report.stopped += 1;
        self.record(enrolment, &update, Some(&event)).await
    }

    fn stop_event(&self, enrolment: &Enrolment, reason: &str) -> NewEvent {
        stops::stop(enrolment, reason, self.clock.now()).1
    }

    async fn finish(&self, enrolment: &Enrolment, report: &mut SendReport) -> Result<(), SendError> {
        report.finished += 1;
        let update = EnrolmentUpdate::ended(enrolment.step, "finished", "every step done").expecting(enrolment.step);
        self.record(enrolment, &update, None).await
    }

    async fn record(
        &self,
        enrolment: &Enrolment,
        update: &EnrolmentUpdate,
        event: Option<&NewEvent>,
    ) -> Result<(), SendError> {
        self.store
            .update_enrolment(enrolment.id, update, event, self.clock.now())
            .await?;
        Ok(())
    }

    fn sequence_event(&self, enrolment: &Enrolment, kind: &str, key: String, extra: serde_json::Value) -> NewEvent {
        stops::sequence_event(enrolment, kind, key, extra, self.clock.now())
    }

    /// Pauses every sequence from the rep's mailbox and tells the rep, once.
    async fn pause_mailbox(&self, rep: &Rep, reason: &str) -> Result<(), SendError> {
        if !self.store.pause_sending(rep.id, reason, self.clock.now()).await? {
            return Ok(());
        }
        tracing::warn!(rep = %rep.email, %reason, "sending paused");
        let text = format!(
            "Rapport paused every sequence sending from {}:\n\n{reason}\n\n\
             Nothing more goes out from this mailbox until you resume it with\n\
             `rapport sequence resume --rep {}`.\n",
            rep.email, rep.email
        );
        let notice = super::notify::Notice {
            subject: "Rapport paused your sequences",
            text: &text,
            html: None,
            message_id: None,
            language: None,
        };
        if let Err(e) = super::notify::notify_rep(&self.mailer, rep, &notice, self.clock.now()).await {
            tracing::error!(rep = %rep.email, error = %e, "cannot send the pause alert");
        }
        Ok(())
    }
}

/// One email step about to be sent.
struct EmailStep<'a> {
    sequence: &'a Sequence,
    enrolment: &'a Enrolment,
    prospect: &'a Prospect,
    rep: &'a Rep,
    step: usize,
    retry: bool,
    zone: chrono_tz::Tz,
}

impl EmailStep<'_> {
    /// The zone of the sending mailbox's day (the rep's), for the cap.
    fn mailbox_zone(&self) -> chrono_tz::Tz {
        self.rep.zone()
    }
}

struct Composed {
    message: lettre::Message,
    /// Without angle brackets.
    id: String,
    to: String,
    subject: String,
}

/// An event with no other effect, stored with an outbox row's settlement.
fn only_event(event: NewEvent) -> MailEffect {
    MailEffect {
        event,
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
    }
}

/// An outbox row as the send it records.
fn resend_of(entry: &OutboxEntry, now: DateTime<Utc>) -> NewSend {
    NewSend {
        enrolment_id: entry.enrolment_id,
        prospect_id: entry.prospect_id,
        rep_id: entry.rep_id,
        sequence: entry.sequence.clone(),
        step: entry.step,
        retry: false,
        message_id: entry.message_id.clone(),
        to_email: entry.to_email.clone(),
        subject: entry.subject.clone(),
        transport: if entry.transport == super::FILE_TRANSPORT {
            super::FILE_TRANSPORT
        } else {
            super::SMTP_TRANSPORT
        },
        lease_until: now,
        pacing: PacingGuard {
            day: (now, now),
            daily_cap: 0,
            min_gap: Duration::zero(),
        },
    }
}

/// The `email.sent` event, keyed as mail sync keys the same message in the
/// Sent folder, so reading it there later adds nothing.
fn sent_effect(prospect: i64, send: &NewSend, at: DateTime<Utc>) -> MailEffect {
    MailEffect {
        event: NewEvent {
            prospect_id: prospect,
            kind: EMAIL_SENT.into(),
            occurred_at: at,
            source_key: format!("mail:{prospect}:{}", send.message_id),
            actor: Actor::System(format!("sequence {}", send.sequence)),
            data: json!({
                "message_id": send.message_id,
                "subject": send.subject,
                "to": [send.to_email],
                "sequence": send.sequence,
                "step": send.step + 1,
                "enrolment": send.enrolment_id,
            }),
        },
        sent_id: Some((send.message_id.clone(), prospect)),
        suppress: Vec::new(),
        away_until: None,
    }
}

fn bounce_effect(
    prospect: i64,
    outbox_id: i64,
    send: &NewSend,
    refusal: &Refusal,
    text: &str,
    at: DateTime<Utc>,
) -> MailEffect {
    let suppress = match refusal.hard {
        true => vec![(
            send.to_email.to_lowercase(),
            format!("hard bounce ({})", crate::domain::mail::name_of(&refusal.reason)),
        )],
        false => Vec::new(),
    };
    MailEffect {
        event: NewEvent {
            prospect_id: prospect,
            kind: EMAIL_BOUNCED.into(),
            occurred_at: at,
            source_key: format!("refusal:{outbox_id}"),
            actor: Actor::System(format!("sequence {}", send.sequence)),
            data: json!({
                "message_id": send.message_id,
                "recipient": send.to_email,
                "status": refusal.status,
                "hard": refusal.hard,
                "reason": refusal.reason,
                "sender_problem": refusal.sender_problem,
                "smtp_reply": text,
                "during": "sending",
            }),
        },
        sent_id: None,
        suppress,
        away_until: None,
    }
}

/// The key unsubscribe links are signed with: made at first use and kept in
/// the database, so links stay valid across restarts and workers.
pub async fn unsubscribe_key(store: &dyn Store) -> Result<Vec<u8>, StoreError> {
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    let key = store.local_key("unsubscribe", &fresh).await?;
    // Made here as 32 random bytes in hex: anything else was not made by rapport.
    if key.len() != 64 || hex::decode(&key).is_err() {
        return Err(StoreError::Corrupt(
            "the stored key 'unsubscribe' (table local_keys) is not 32 bytes of hex; restore it from a backup, \
             or delete the row to make a new one (links already mailed stop working)"
                .into(),
        ));
    }
    Ok(key.into_bytes())
}
