//! What sending sequence mail keeps: the outbox (each email recorded with its
//! Message-ID before the SMTP transaction), enrolments moving on, paused
//! sending mailboxes, the rep's manual tasks and one-click unsubscribes.

use super::StoreResult;
use crate::domain::event::NewEvent;
use crate::domain::mail::MailEffect;
use crate::domain::prospect::{ProspectId, RepId};
pub use crate::domain::records::{OutboxEntry, SendingPause};
use crate::store::RepScope;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// An email about to go out, as the outbox records it.
#[derive(Debug, Clone)]
pub struct NewSend {
    pub enrolment_id: i64,
    pub prospect_id: ProspectId,
    pub rep_id: RepId,
    pub sequence: String,
    pub step: u32,
    /// A soft-bounce retry: the step's earlier email was sent and bounced.
    pub retry: bool,
    /// Without angle brackets, as mail sync stores Message-IDs.
    pub message_id: String,
    pub to_email: String,
    pub subject: String,
    /// `smtp` or `file`: how an interrupted send can be settled.
    pub transport: &'static str,
    /// The fencing number of the worker's claim on the enrolment: the send
    /// is refused if another worker has claimed it since (None: not claimed
    /// work, e.g. settling an interrupted send).
    pub fence: Option<i64>,
    /// The worker may be talking to the server until then.
    pub lease_until: DateTime<Utc>,
    /// The rep's pacing, checked again as the row is written, so several
    /// workers sending for one rep keep to it together.
    pub pacing: PacingGuard,
}

/// The sending mailbox's limits for the send being recorded.
#[derive(Debug, Clone, Copy)]
pub struct PacingGuard {
    /// The rep's local day.
    pub day: (DateTime<Utc>, DateTime<Utc>),
    pub daily_cap: u32,
    pub min_gap: chrono::Duration,
}

/// Whether an outbox row was written, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendStart {
    Started(i64),
    /// The address went on the suppression list meanwhile.
    Suppressed,
    /// The enrolment stopped meanwhile (an unsubscribe, a reply).
    NotRunning,
    /// This step's latest attempt is recorded already, in this state.
    AlreadyRecorded(String),
    /// Another worker sent for this rep meanwhile: not before then.
    Paced(DateTime<Utc>),
    /// Another worker claimed the enrolment since (this one's lease ran out).
    Fenced,
}

/// Where an enrolment goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentUpdate {
    /// Written only if the enrolment is still at this step (what the worker
    /// saw when it took it), so a stale worker cannot move it back.
    pub expect_step: Option<u32>,
    /// Written only if no other worker has claimed the enrolment since this
    /// fencing number: the sending pass's decisions about a claimed
    /// enrolment (wait, snooze, stop, finish). An email's outcome (sent,
    /// refused) is a fact about its outbox row and moves the enrolment past
    /// its step whoever holds the claim now; a stop by a reply or a rep's
    /// action is not claimed work. Both leave it unset.
    pub expect_fence: Option<i64>,
    pub step: u32,
    /// active, stopped, finished, paused
    pub state: &'static str,
    pub next_due_at: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
    pub snoozed_until: Option<DateTime<Utc>>,
}

impl EnrolmentUpdate {
    pub fn due(step: u32, at: DateTime<Utc>) -> EnrolmentUpdate {
        EnrolmentUpdate {
            expect_step: None,
            expect_fence: None,
            step,
            state: "active",
            next_due_at: Some(at),
            stop_reason: None,
            snoozed_until: None,
        }
    }

    pub fn ended(step: u32, state: &'static str, reason: impl Into<String>) -> EnrolmentUpdate {
        EnrolmentUpdate {
            expect_step: None,
            expect_fence: None,
            step,
            state,
            next_due_at: None,
            stop_reason: Some(reason.into()),
            snoozed_until: None,
        }
    }

    /// Only if the enrolment is still at `step`.
    pub fn expecting(self, step: u32) -> EnrolmentUpdate {
        EnrolmentUpdate {
            expect_step: Some(step),
            ..self
        }
    }

    /// Only if the enrolment is still at the step it had when this worker
    /// claimed it, and no other worker has claimed it since.
    pub fn claimed(self, enrolment: &crate::store::Enrolment) -> EnrolmentUpdate {
        EnrolmentUpdate {
            expect_step: Some(enrolment.step),
            expect_fence: Some(enrolment.fence),
            ..self
        }
    }
}

/// A rep's sending so far on one local day, for pacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendingLoad {
    pub sent_in_range: u32,
    pub last_started: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait SendingStore: Send + Sync {
    /// Records an email about to go out, in one transaction that checks the
    /// address is not suppressed, the enrolment still runs, the step's latest
    /// attempt allows another (none yet, refused, or sent and bounced for a
    /// retry) and the rep's pacing.
    async fn begin_send(&self, send: &NewSend, now: DateTime<Utc>) -> StoreResult<SendStart>;
    /// The server took the message: the row becomes `sent`, with the
    /// `email.sent` event (and the Message-ID replies are matched by), and the
    /// enrolment moves on, in one transaction. Also how a rep settles an
    /// `unknown` row as sent. False if the row was neither `sending` nor `unknown`.
    async fn finish_send(
        &self,
        outbox_id: i64,
        sent_at: DateTime<Utc>,
        effect: &MailEffect,
        next: &EnrolmentUpdate,
    ) -> StoreResult<bool>;
    /// A `sending` or `unknown` row ends in `state` (refused or unknown) with the error; the
    /// effects (a bounce, a suppression) and the enrolment's update go with it.
    async fn settle_send(
        &self,
        outbox_id: i64,
        state: &str,
        error: &str,
        effects: &[MailEffect],
        enrolment: Option<(i64, &EnrolmentUpdate)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Rows left `sending` whose worker's time ran out (a crash, a cut connection).
    async fn stale_sends(&self, now: DateTime<Utc>) -> StoreResult<Vec<OutboxEntry>>;
    async fn list_outbox(&self, scope: RepScope, state: Option<&str>) -> StoreResult<Vec<OutboxEntry>>;
    /// How many emails a rep started in [from, to), and when the last one started.
    async fn sending_load(&self, rep: RepId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<SendingLoad>;
    /// The step and state of an enrolment's latest outbox row: which email a
    /// soft-bounce retry repeats.
    async fn last_attempt(&self, enrolment: i64) -> StoreResult<Option<(u32, String)>>;
    /// The Message-ID of an enrolment's first sent email, for threading.
    async fn first_message_id(&self, enrolment: i64) -> StoreResult<Option<String>>;
    /// Moves an enrolment on, with an event when there is one (a stop, a snooze).
    /// Writes the update (and its event) unless the update's fence no longer
    /// holds: then nothing is written and the answer is false.
    async fn update_enrolment(
        &self,
        enrolment: i64,
        update: &EnrolmentUpdate,
        event: Option<&NewEvent>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Whether someone else at this email domain, among the rep's prospects, replied since.
    /// A prospect's enrolments still running (active or paused).
    async fn running_enrolments_of(&self, prospect: ProspectId) -> StoreResult<Vec<crate::store::Enrolment>>;
    async fn colleague_replied(&self, prospect: ProspectId, domain: &str, since: DateTime<Utc>) -> StoreResult<bool>;

    /// Pauses a rep's sending; false when it already was.
    async fn pause_sending(&self, rep: RepId, reason: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn resume_sending(&self, rep: RepId, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn sending_pauses(&self) -> StoreResult<Vec<SendingPause>>;
    /// When the rep last resumed sending; policy refusals before it are settled.
    async fn sending_resumed_at(&self, rep: RepId) -> StoreResult<Option<DateTime<Utc>>>;

    /// One-click unsubscribe: the address is suppressed, the enrolment stops
    /// and its open tasks go, with an `email.unsubscribed` event. Returns the
    /// prospect's name, or `None` for an enrolment that does not exist.
    async fn unsubscribe_enrolment(&self, enrolment: i64, now: DateTime<Utc>) -> StoreResult<Option<String>>;
    /// A key of rapport's own, made at first use.
    async fn local_key(&self, name: &str, fresh: &str) -> StoreResult<String>;
}
