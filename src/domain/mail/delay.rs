//! Delay warnings in free text: the wording that says a mail system is still
//! trying (Exim, Postfix, qmail, Sendmail, Exchange, Gmail, Domino,
//! GroupWise), and the wording that says it has given up. A delay is never a
//! failure: it never stops a sequence. DSNs say it in `Action: delayed`
//! (`bounce.rs`).

use super::notice::OPENING_CHARS;

/// Subject wording of a delay warning, lower-case (Postfix "Delayed Mail (still
/// being retried)", Sendmail "Warning: could not send message for past 4 hours",
/// Exchange and Gmail "Delivery Status Notification (Delay)", Domino "Delivery
/// Delayed", GroupWise "Message status - delayed").
const DELAY_SUBJECTS: &[&str] = &[
    "delayed",
    "(delay)",
    "could not send message for past",
    "could not send mail for past",
    "still being retried",
    "delivery delay",
    "warning: message",
];

/// Notice wording of a delay warning, lower-case: the system is still trying
/// (Exim "has not yet been delivered ... will continue", Postfix and Sendmail
/// "THIS IS A WARNING ONLY", Exchange "Delivery is delayed", Gmail "Delivery
/// incomplete ... will retry", qmail-style "I'll keep trying").
const DELAY_NOTICES: &[&str] = &[
    "warning only",
    "warning message only",
    "do not need to resend",
    "no action is required on your part",
    "has not yet been delivered",
    "hasn't been delivered yet",
    "has not been delivered yet",
    "still being retried",
    "will be retried",
    "will retry",
    "will continue trying",
    "will continue to try",
    "will continue to be attempted",
    "delivery attempts will continue",
    "will keep trying",
    "i'll keep trying",
    "delivery incomplete",
    "delivery is delayed",
    "has been delayed",
    "temporary problem delivering",
    "message still undelivered after",
];

/// Wording that a notice is final even when it mentions earlier retries
/// ("... retry timeout exceeded", "failed permanently", "giving up").
const FINAL_NOTICES: &[&str] = &[
    "permanent error",
    "failed permanently",
    "permanent fatal",
    "giving up",
    "gave up",
    "given up",
    "retry timeout exceeded",
    "in the queue too long",
    "i'm not going to try again",
    "could not be delivered to one or more",
    "delivery has failed",
];

/// A free-text notice is a delay warning when its subject or its opening says
/// the system is still trying and nothing says it has given up. A delay never
/// stops a sequence; only a failure does.
pub fn is_delay_notice(subject: &str, notice: &str) -> bool {
    let opening: String = notice
        .chars()
        .take(OPENING_CHARS * 2)
        .collect::<String>()
        .to_lowercase();
    let says_delay =
        DELAY_SUBJECTS.iter().any(|w| subject.contains(w)) || DELAY_NOTICES.iter().any(|w| opening.contains(w));
    says_delay && !FINAL_NOTICES.iter().any(|w| opening.contains(w))
}
