//! Sending one email step through the outbox: compose it (headers,
//! unsubscribe link, Message-ID), commit its outbox row, then hand it to the
//! SMTP session or the `.eml` folder, and record what came of it.

use super::tasks::next_after;
use crate::domain::event::payload::{Bounced, Sent, SequenceStep};
use crate::domain::event::{keys, Actor, NewEvent};
use crate::domain::mail::{read_refusal, MailEffect, Refusal};
use crate::domain::prospect::{Prospect, Rep};
use crate::domain::sequence::enrolment::{context_for, render_step, RenderedStep};
use crate::domain::sequence::plan::{local_day, Load};
use crate::domain::sequence::{unsubscribe, Sequence};
use crate::outbound::compose::{compose, Envelope};
use crate::outbound::{Delivery, Mailer, Session};
use crate::store::{Enrolment, EnrolmentUpdate, NewSend, OutboxEntry, PacingGuard, SendStart, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

use super::pass::*;

impl SequenceSender {
    pub(super) async fn send_email(
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
            fence: Some(enrolment.fence),
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
            SendStart::Fenced => {
                fenced(enrolment.id, "send");
                return Ok(Ok(Handled::Done));
            }
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
    pub(super) async fn refused(
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
            let retry = EnrolmentUpdate::due(current, now + RETRY_LATER).expecting(enrolment.step);
            self.store
                .settle_send(outbox_id, "refused", text, &[], Some((enrolment.id, &retry)), now)
                .await?;
            report.deferred += 1;
            return Ok(Ok(Handled::Done));
        }
        let bounce = bounce_effect(email.prospect.id, outbox_id, send, refusal, text, now);
        if refusal.hard {
            let reason = format!("hard bounce ({})", crate::domain::mail::name_of(&refusal.reason));
            let stop = EnrolmentUpdate::ended(current, "stopped", &reason).expecting(enrolment.step);
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
        let update = EnrolmentUpdate::due(current, now + wait).expecting(enrolment.step);
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
    pub(super) async fn compose(
        &self,
        plan: &Plan,
        email: &EmailStep<'_>,
    ) -> Result<Result<Composed, String>, SendError> {
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
        let post = self
            .store
            .latest_post(crate::store::RepScope::Team, prospect.id)
            .await?;
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
}

/// One email step about to be sent.
pub(super) struct EmailStep<'a> {
    pub(super) sequence: &'a Sequence,
    pub(super) enrolment: &'a Enrolment,
    pub(super) prospect: &'a Prospect,
    pub(super) rep: &'a Rep,
    pub(super) step: usize,
    pub(super) retry: bool,
    pub(super) zone: chrono_tz::Tz,
}

impl EmailStep<'_> {
    /// The zone of the sending mailbox's day (the rep's), for the cap.
    pub(super) fn mailbox_zone(&self) -> chrono_tz::Tz {
        self.rep.zone()
    }
}

pub(super) struct Composed {
    pub(super) message: lettre::Message,
    /// Without angle brackets.
    pub(super) id: String,
    pub(super) to: String,
    pub(super) subject: String,
}

/// An event with no other effect, stored with an outbox row's settlement.
pub(super) fn only_event(event: NewEvent) -> MailEffect {
    MailEffect {
        event,
        sent_id: None,
        suppress: Vec::new(),
        away_until: None,
        task: None,
    }
}

/// An outbox row as the send it records.
pub(super) fn resend_of(entry: &OutboxEntry, now: DateTime<Utc>) -> NewSend {
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
        transport: if entry.transport == crate::outbound::FILE_TRANSPORT {
            crate::outbound::FILE_TRANSPORT
        } else {
            crate::outbound::SMTP_TRANSPORT
        },
        fence: None,
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
pub(super) fn sent_effect(prospect: i64, send: &NewSend, at: DateTime<Utc>) -> MailEffect {
    MailEffect {
        event: NewEvent::with(
            prospect,
            at,
            keys::mail(prospect, &send.message_id),
            Actor::System(format!("sequence {}", send.sequence)),
            &Sent {
                message_id: send.message_id.clone(),
                subject: send.subject.clone(),
                to: vec![send.to_email.clone()],
                sequence: Some(SequenceStep {
                    sequence: send.sequence.clone(),
                    step: send.step + 1,
                    enrolment: send.enrolment_id,
                }),
            },
        ),
        sent_id: Some((send.message_id.clone(), prospect)),
        suppress: Vec::new(),
        away_until: None,
        task: None,
    }
}

pub(super) fn bounce_effect(
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
        event: NewEvent::with(
            prospect,
            at,
            keys::refusal(outbox_id),
            Actor::System(format!("sequence {}", send.sequence)),
            &Bounced {
                message_id: send.message_id.clone(),
                recipient: Some(send.to_email.clone()),
                status: refusal.status.clone(),
                hard: refusal.hard,
                reason: Some(crate::domain::mail::name_of(&refusal.reason)),
                sender_problem: refusal.sender_problem,
                smtp_reply: Some(text.to_string()),
                during: Some("sending".into()),
                ..Bounced::default()
            },
        ),
        sent_id: None,
        suppress,
        away_until: None,
        task: None,
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
