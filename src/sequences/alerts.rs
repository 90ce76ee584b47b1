//! The alert a rep gets when their mailbox is paused.

use crate::domain::prospect::Rep;

use super::pass::*;

impl SequenceSender {
    /// Pauses every sequence from the rep's mailbox and tells the rep, once.
    pub(super) async fn pause_mailbox(&self, rep: &Rep, reason: &str) -> Result<(), SendError> {
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
        let notice = crate::outbound::notify::Notice {
            subject: "Rapport paused your sequences",
            text: &text,
            html: None,
            message_id: None,
            language: None,
        };
        if let Err(e) = crate::outbound::notify::notify_rep(&self.mailer, rep, &notice, self.clock.now()).await {
            tracing::error!(rep = %rep.email, error = %e, "cannot send the pause alert");
        }
        Ok(())
    }
}
