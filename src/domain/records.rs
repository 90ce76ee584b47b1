//! The records rapport shows and serves: a prospect's enrolment, an outbox
//! row, a feed source, a task, a stage suggestion, a job run, a mail folder's
//! state, a paused mailbox, an import's outcome. Each store maps its rows
//! into these, so what the command line prints and the API will serve is
//! this shape, not a table's.

use super::polling::Validators;
use super::prospect::{ProspectId, RepId};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    /// (line, new prospect id)
    pub imported: Vec<(u64, ProspectId)>,
    /// (line, id of the prospect already holding that person)
    pub already_present: Vec<(u64, ProspectId)>,
}

/// A worker's claim on a row of work (a source, an enrolment, a webhook
/// delivery): each claim adds one to the row's fencing number, and a write
/// that completes the work is refused unless the number is still the one
/// the claim got, so a worker paused past its lease (SIGSTOP, a long GC, a
/// cut network) cannot write over the worker that took over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim {
    pub id: i64,
    pub fence: i64,
}

impl Source {
    pub fn claim(&self) -> Claim {
        Claim {
            id: self.id,
            fence: self.fence,
        }
    }
}

impl Enrolment {
    pub fn claim(&self) -> Claim {
        Claim {
            id: self.id,
            fence: self.fence,
        }
    }
}

/// A feed of a prospect's public activity, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub id: i64,
    /// The fencing number of the latest claim on it (see [`Claim`]).
    #[serde(skip)]
    pub fence: i64,
    pub prospect_id: ProspectId,
    pub prospect_name: String,
    pub platform: String,
    pub page_url: String,
    pub feed_url: Option<String>,
    #[serde(skip)]
    pub validators: Validators,
    pub interval_secs: i64,
    pub consecutive_failures: u32,
    pub broken: bool,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub next_poll_at: DateTime<Utc>,
    pub first_poll_done: bool,
}

/// A watched folder's sync state, for `rapport mail status`.
#[derive(Debug, Clone, Serialize)]
pub struct MailFolderState {
    pub mailbox: String,
    pub folder: String,
    pub uid_validity: Option<u32>,
    pub last_uid: u32,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Set while a worker reads the folder.
    pub lease_until: Option<DateTime<Utc>>,
}

/// A prospect's place in a sequence.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub id: i64,
    /// The fencing number of the latest claim on it (see [`Claim`]).
    #[serde(skip)]
    pub fence: i64,
    pub prospect_id: ProspectId,
    pub rep_id: RepId,
    pub prospect_name: String,
    pub prospect_email: Option<String>,
    pub sequence: String,
    pub variant: u32,
    /// Index of the next step (0-based).
    pub step: u32,
    pub state: String,
    pub next_due_at: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
    /// Out of office: nothing goes out before then.
    pub snoozed_until: Option<DateTime<Utc>>,
    pub enrolled_at: DateTime<Utc>,
}

/// An outbox row, for reconciliation and `rapport sequence outbox`.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub enrolment_id: i64,
    pub prospect_id: ProspectId,
    pub rep_id: RepId,
    pub sequence: String,
    pub step: u32,
    pub attempt: u32,
    pub message_id: String,
    pub to_email: String,
    pub subject: String,
    pub transport: String,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// Why a sending mailbox is paused.
#[derive(Debug, Clone, Serialize)]
pub struct SendingPause {
    pub rep_id: RepId,
    pub reason: String,
    pub paused_at: DateTime<Utc>,
}

/// A manual step for the rep.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: i64,
    pub prospect_id: ProspectId,
    pub prospect_name: String,
    pub rep_id: RepId,
    pub sequence: Option<String>,
    pub instruction: String,
    pub link: Option<String>,
    pub logs: String,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// Why a rule raised it.
    pub reason: Option<String>,
    /// Raised each time it changes (snoozed); with when it last changed.
    #[serde(skip)]
    pub revision: u32,
    #[serde(skip)]
    pub modified_at: Option<DateTime<Utc>>,
}

/// What a rule proposes for the rep to approve: a stage for the prospect,
/// or (`person`) a new prospect the prospect's reply pointed to.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub id: i64,
    /// The prospect it is about (for a person: who referred them).
    pub prospect_id: ProspectId,
    pub prospect_name: String,
    pub rule: String,
    pub from_stage: String,
    /// Empty for a person.
    pub to_stage: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub decision: Option<String>,
    /// A new prospect to add, prefilled from the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<SuggestedPerson>,
    /// The prospect approving it added (or found already held): the link
    /// between the one who referred and the one referred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_prospect_id: Option<ProspectId>,
}

/// Someone a reply names ("talk to Maria, maria@acme.example"), as far as it
/// names them; the company is the referring prospect's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SuggestedPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

impl SuggestedPerson {
    /// The name to file them under: the one given, else one made from the
    /// address (`maria.hansen@…` → "Maria Hansen"), else none.
    pub fn name_to_file(&self) -> Option<String> {
        if let Some(name) = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            return Some(name.to_string());
        }
        let local = self.email.as_deref()?.split('@').next()?;
        let words: Vec<String> = local
            .split(['.', '_', '-', '+'])
            .filter(|w| !w.is_empty() && w.chars().all(char::is_alphabetic))
            .map(|w| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
                    .unwrap_or_default()
            })
            .collect();
        (!words.is_empty())
            .then(|| words.join(" "))
            .or_else(|| Some(local.to_string()).filter(|l| !l.is_empty()))
    }

    /// "Maria Hansen <maria@acme.example>", as much as is known.
    pub fn label(&self) -> String {
        match (self.name_to_file(), &self.email) {
            (Some(name), Some(email)) if self.name.is_some() => format!("{name} <{email}>"),
            (_, Some(email)) => email.clone(),
            (Some(name), None) => name,
            (None, None) => String::new(),
        }
    }
}

/// One run of a job: when it was due, when it ran, how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub name: String,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub error: Option<String>,
}

/// What the board shows of a prospect's history: since when they are in
/// their stage, and their latest activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recency {
    /// The last stage change (or their creation).
    pub in_stage_since: Option<DateTime<Utc>>,
    /// The latest event of the kinds asked for, and when it happened.
    pub latest: Option<(String, DateTime<Utc>)>,
    /// What their latest reply meant, when it was read.
    pub reply: Option<ReplyReading>,
}

/// A reply's intent as a card shows it: contested readings say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReplyReading {
    pub intent: super::intent::Intent,
    pub contested: bool,
}

impl ReplyReading {
    /// From a stored reply's `intent.intent` and `intent.contested_by`; none
    /// for a reply read before intents existed (or by a newer rapport).
    pub fn from_stored(intent: Option<&str>, contested_by: Option<&str>) -> Option<ReplyReading> {
        Some(ReplyReading {
            intent: super::intent::Intent::parse(intent?)?,
            contested: contested_by.is_some(),
        })
    }
}

/// What an API request's idempotency key says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentClaim {
    /// The first with this key: answer it, then keep the answer.
    Claimed,
    /// The first with this key is still being answered.
    InProgress,
    /// Answered before: the same request gets the same answer.
    Answered { status: u16, body: String },
    /// The key was used for another request.
    OtherRequest,
}

/// A board column's deals summed: per stage, currency and own probability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageSum {
    pub stage: String,
    pub currency: String,
    /// The deals' own win probability, when they have one.
    pub probability_override: Option<u8>,
    pub count: u64,
    pub value: crate::domain::money::Amount,
}

/// What a prospect's page shows besides the timeline: their open tasks,
/// their enrolments, and the stage changes suggested for them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProspectWork {
    pub tasks: Vec<Task>,
    pub enrolments: Vec<Enrolment>,
    pub suggestions: Vec<Suggestion>,
}

#[cfg(test)]
mod tests {
    use super::SuggestedPerson;

    fn person(name: Option<&str>, email: Option<&str>) -> SuggestedPerson {
        SuggestedPerson {
            name: name.map(Into::into),
            email: email.map(Into::into),
            company: None,
        }
    }

    #[test]
    fn a_suggested_person_is_filed_under_their_name_else_one_made_from_their_address() {
        let both = person(Some("Maria Berg"), Some("maria@acme.example"));
        assert_eq!(both.name_to_file().as_deref(), Some("Maria Berg"));
        assert_eq!(both.label(), "Maria Berg <maria@acme.example>");
        let address = person(None, Some("maria.berg@acme.example"));
        assert_eq!(address.name_to_file().as_deref(), Some("Maria Berg"));
        assert_eq!(address.label(), "maria.berg@acme.example");
        assert_eq!(
            person(None, Some("jdoe42@acme.example")).name_to_file().as_deref(),
            Some("jdoe42")
        );
        assert_eq!(person(Some("Maria"), None).label(), "Maria");
        assert_eq!(person(Some("  "), None).name_to_file(), None, "a blank name is no name");
        assert_eq!(person(None, None).name_to_file(), None);
    }
}
