//! Settling sends a crash cut off (the rule is in `pass.rs`), and the
//! rep's own decision about a send that cannot be told.

use super::tasks::next_after;
use crate::domain::event::kinds::EMAIL_SENT;
use crate::domain::event::payload::Sent;
use crate::domain::prospect::{ProspectRef, Rep};
use crate::domain::sequence::enrolment::zone_of;
use crate::store::{EnrolmentUpdate, OutboxEntry, RepScope};

use super::outbox::*;
use super::pass::*;

/// A rep's Sent folder, asked whether it holds a message: how a send cut
/// off mid-transaction is settled when the SMTP server files what it
/// accepts there. The IMAP implementation is `sources::mail::sent`.
#[async_trait::async_trait]
pub trait SentFolder: Send + Sync {
    /// Whether any of the rep's mailboxes' Sent folders holds the message
    /// (Message-ID without angle brackets); `None` when it cannot be told
    /// (no mailbox configured, or none answered).
    async fn holds(&self, rep: &Rep, message_id: &str) -> Option<bool>;
}

impl SequenceSender {
    /// Settles a send that was cut off (see the module's rule in `pass.rs`).
    pub(super) async fn reconcile(
        &self,
        plan: &Plan,
        entry: &OutboxEntry,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
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
    pub(super) async fn delivered(&self, plan: &Plan, entry: &OutboxEntry) -> Result<Option<bool>, SendError> {
        let events = self.store.list_events(RepScope::Team, entry.prospect_id).await?;
        if events
            .iter()
            .any(|e| e.kind == EMAIL_SENT && e.read::<Sent>().message_id == entry.message_id)
        {
            return Ok(Some(true));
        }
        if entry.transport == crate::outbound::FILE_TRANSPORT {
            let dir = &self.settings.config.mail.outbox_dir;
            return Ok(Some(crate::outbound::outbox_holds(dir, &entry.message_id)));
        }
        let Some(rep) = plan.reps.iter().find(|r| r.id == entry.rep_id) else {
            return Ok(None);
        };
        Ok(self.sent_folder.holds(rep, &entry.message_id).await)
    }

    /// Where an enrolment goes once an interrupted step is known to be sent.
    pub(super) async fn after_reconciled(
        &self,
        plan: &Plan,
        entry: &OutboxEntry,
    ) -> Result<EnrolmentUpdate, SendError> {
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
}
