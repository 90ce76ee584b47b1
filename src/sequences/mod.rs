//! Cold email sequences at work: enrolling prospects, the sending pass that
//! takes due enrolments and sends their steps through the outbox, settling
//! sends a crash cut off (asking the rep's Sent folder through [`SentFolder`]),
//! task steps, stopping sequences when the prospect answers, and the alert a
//! rep gets when their mailbox is paused. The decisions are the domain's
//! (`domain::sequence`); this folder applies them to the store and the mail.

mod alerts;
pub mod enrolment;
mod outbox;
mod pass;
mod reconcile;
pub mod stops;
pub mod tasks;

pub use outbox::unsubscribe_key;
pub use pass::{SendError, SendReport, SequenceSender};
pub use reconcile::SentFolder;
