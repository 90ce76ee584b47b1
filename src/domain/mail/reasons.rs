//! Why a delivery failed: the reason table (diagnostic wording and status codes) and the
//! hard/soft and sender-fault rules derived from the reason.

use serde::Serialize;

pub use super::command::SmtpCommand;

/// Why a recipient could not be reached, named like the reasons of the common bounce-analysis
/// libraries so the figures can be compared with the public mail corpora.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BounceReason {
    UserUnknown,
    HostUnknown,
    MailboxFull,
    HasMoved,
    NotAccept,
    Filtered,
    Rejected,
    Blocked,
    Expired,
    PolicyViolation,
    SpamDetected,
    AuthFailure,
    SecurityError,
    RequirePtr,
    NetworkError,
    SystemError,
    SystemFull,
    MailerError,
    Suspend,
    MessageTooBig,
    ExceedLimit,
    TooManyConn,
    SyntaxError,
    ContentError,
    VirusDetected,
    NoRelaying,
    NotCompliantRfc,
    BadReputation,
    Speeding,
    FailedStartTls,
    OnHold,
    Delivered,
    Feedback,
    Vacation,
    Undefined,
}

use super::reason_words::TEXT_REASONS;
use BounceReason::*;

impl BounceReason {
    /// Hard bounce = the address itself does not exist or can never receive mail: unknown user,
    /// unknown host, moved address, or a domain that accepts no mail (null MX, 5.x.x only; a
    /// 4.x.x "not accepting" is temporary). Everything else — full mailbox, policy, reputation,
    /// content, network trouble, 5.7.x rejections — is soft: the address may work later or for
    /// another sender. This is deliberately narrower than "every 5.x.x is hard" because the
    /// measurement set labels only these reasons as hard.
    pub fn is_hard(self, status: Option<&str>) -> bool {
        match self {
            UserUnknown | HostUnknown | HasMoved => true,
            NotAccept => !status.is_some_and(|s| s.starts_with('4')),
            _ => false,
        }
    }

    /// True when the failure is the sender's fault (policy, reputation, authentication, reverse
    /// DNS, blocking or spam verdicts) rather than a problem of the recipient address.
    pub fn is_sender_problem(self) -> bool {
        matches!(
            self,
            Blocked
                | PolicyViolation
                | SpamDetected
                | AuthFailure
                | SecurityError
                | RequirePtr
                | BadReputation
                | Rejected
                | NoRelaying
                | Speeding
                | FailedStartTls
                | NotCompliantRfc
                | VirusDetected
                | ContentError
        )
    }
}

/// Status codes whose meaning is specific enough to decide the reason when the wording does not.
const STATUS_REASONS: &[(&str, BounceReason)] = &[
    ("5.1.10", NotAccept),
    ("5.1.0", UserUnknown),
    ("5.1.1", UserUnknown),
    ("4.1.1", UserUnknown),
    ("5.1.2", HostUnknown),
    ("5.1.3", UserUnknown),
    ("5.1.6", HasMoved),
    ("5.1.7", Rejected),
    ("5.1.8", Rejected),
    ("5.2.1", Suspend),
    ("5.2.2", MailboxFull),
    ("4.2.2", MailboxFull),
    ("5.2.3", MessageTooBig),
    ("5.3.2", NotAccept),
    ("5.3.4", MessageTooBig),
    ("5.3.", SystemError),
    ("5.4.4", HostUnknown),
    ("5.4.6", NetworkError),
    ("5.4.7", Expired),
    ("4.4.7", Expired),
    ("4.4.1", Expired),
    ("4.4.", NetworkError),
    ("5.4.", NetworkError),
    ("5.5.", SyntaxError),
    ("5.6.", ContentError),
    ("5.7.25", RequirePtr),
    ("5.7.26", AuthFailure),
    ("5.7.27", NotAccept),
    ("5.7.509", AuthFailure),
    ("5.7.13", Suspend),
    ("5.7.", PolicyViolation),
    ("4.7.", Blocked),
];

/// Status codes that name a sender-side rejection whatever the wording says.
const SENDER_STATUSES: &[&str] = &["5.1.7", "5.1.8"];

/// Decides the reason from the diagnostic wording first, then from the status code, and then
/// adjusts it by the SMTP command the error answered (see [`adjust_for_command`]).
pub fn reason_for(status: Option<&str>, diagnostic: &str, command: Option<SmtpCommand>) -> BounceReason {
    if status.is_some_and(|s| SENDER_STATUSES.contains(&s)) {
        return Rejected;
    }
    let lower = diagnostic.to_lowercase();
    let by_text = text_reason(&lower);
    let reason = match (by_text, status.and_then(precise_status_reason)) {
        (Some(text), Some(code)) if WEAK_TEXT_REASONS.contains(&text) => code,
        (Some(text), _) => text,
        (None, _) => status.and_then(reason_for_status).unwrap_or(Undefined),
    };
    let definite_user = SETTLED_USER_UNKNOWN.iter().any(|pattern| lower.contains(pattern))
        || status.is_some_and(|s| MISSING_USER_STATUSES.contains(&s));
    adjust_for_command(reason, temporary(status), definite_user, command)
}

/// The reason table's wording, searched in one pass: every plain pattern in
/// one automaton (which table row each belongs to), the few with a `*` apart.
struct ReasonWords {
    plain: aho_corasick::AhoCorasick,
    row_of: Vec<usize>,
    wildcards: Vec<(usize, &'static str)>,
}

static REASON_WORDS: std::sync::LazyLock<Option<ReasonWords>> = std::sync::LazyLock::new(|| {
    let (mut patterns, mut row_of, mut wildcards) = (Vec::new(), Vec::new(), Vec::new());
    for (row, (_, words)) in TEXT_REASONS.iter().enumerate() {
        for word in *words {
            if word.contains('*') {
                wildcards.push((row, *word));
            } else {
                patterns.push(*word);
                row_of.push(row);
            }
        }
    }
    let plain = aho_corasick::AhoCorasick::new(&patterns).ok()?;
    Some(ReasonWords {
        plain,
        row_of,
        wildcards,
    })
});

/// The first row of the reason table (in its order) whose wording occurs in
/// `lower`: the table's order decides between reasons, as a scan would.
fn text_reason(lower: &str) -> Option<BounceReason> {
    let Some(words) = REASON_WORDS.as_ref() else {
        return TEXT_REASONS
            .iter()
            .find(|(_, patterns)| patterns.iter().any(|pattern| wildcard_match(lower, pattern)))
            .map(|(reason, _)| *reason);
    };
    let mut best = usize::MAX;
    for found in words.plain.find_overlapping_iter(lower) {
        best = best.min(
            words
                .row_of
                .get(found.pattern().as_usize())
                .copied()
                .unwrap_or(usize::MAX),
        );
        if best == 0 {
            break;
        }
    }
    for (row, pattern) in &words.wildcards {
        if *row < best && wildcard_match(lower, pattern) {
            best = *row;
        }
    }
    TEXT_REASONS.get(best).map(|(reason, _)| *reason)
}

/// `pattern` occurs in `text`; a `*` in it stands for any run of characters on one line, e.g.
/// "user * does not exist".
fn wildcard_match(text: &str, pattern: &str) -> bool {
    if !pattern.contains('*') {
        return text.contains(pattern);
    }
    text.lines().any(|line| {
        let mut rest = line;
        pattern.split('*').all(|part| match rest.find(part) {
            Some(at) => {
                rest = rest.get(at + part.len()..).unwrap_or_default();
                true
            }
            None => false,
        })
    })
}

fn temporary(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.starts_with('4'))
}

/// Wording that settles "unknown user" whatever command was refused (lower-case): failed
/// directory lookups on the recipient's own system and mailbox lookups reported as such, which no
/// content filter words this way, and a server's "no valid recipients", which says every
/// recipient had already been refused.
const SETTLED_USER_UNKNOWN: &[&str] = &[
    "no valid recipients",
    "recipient name is not recognized",
    "recipientnotfound",
    "recipnotfound",
    "not listed in domino directory",
    "not listed in public name & address book",
    "mailbox unavailable",
    "invalid final delivery userid",
    // The mailbox lookup verdict some large providers give after DATA ("dd This user doesn't ...").
    "delivery error: dd",
    // Gmail's and Trend Micro's own verdicts on the address.
    "because the address couldn't be found",
    "please check if address is correct",
    // A server's lookup verdict naming the user: IMail's "Unknown user: ann@x",
    // Postfix local delivery's `unknown user: "ann"`.
    "unknown user: ",
];

/// Reasons found by generic wording ("rejected", "not allowed", "dns", ...), which a precise status
/// code such as 5.1.1 or 5.1.2 overrules.
const WEAK_TEXT_REASONS: &[BounceReason] = &[
    PolicyViolation,
    SecurityError,
    NetworkError,
    SystemError,
    ContentError,
    SyntaxError,
    Expired,
];

/// Status codes that by themselves say the mailbox does not exist.
const MISSING_USER_STATUSES: &[&str] = &["5.1.0", "5.1.1", "5.1.3", "4.1.1"];

/// "Unknown user" is only trusted as such when the status code or a directory lookup says so,
/// or the server answered RCPT TO: given after DATA, or without knowing the command, it is how
/// many content filters word a refusal (the recipient had been accepted), so it is `Filtered`.
/// Any refusal of the greeting or of MAIL FROM is about the sender; a temporary unknown host is
/// a network problem.
fn adjust_for_command(
    reason: BounceReason,
    temporary: bool,
    definite_user: bool,
    command: Option<SmtpCommand>,
) -> BounceReason {
    match (reason, command) {
        (UserUnknown | HostUnknown | Undefined, Some(SmtpCommand::MailFrom | SmtpCommand::Helo)) => Rejected,
        (UserUnknown, Some(SmtpCommand::RcptTo)) => UserUnknown,
        (UserUnknown, _) if definite_user => UserUnknown,
        (UserUnknown, _) => Filtered,
        (HostUnknown, _) if temporary => NetworkError,
        _ => reason,
    }
}

/// The reason of a status code listed in full (not by class prefix).
fn precise_status_reason(status: &str) -> Option<BounceReason> {
    STATUS_REASONS
        .iter()
        .find(|(code, _)| !code.ends_with('.') && status == *code)
        .map(|(_, reason)| *reason)
}

fn reason_for_status(status: &str) -> Option<BounceReason> {
    STATUS_REASONS
        .iter()
        .find(|(code, _)| status_matches(status, code))
        .map(|(_, reason)| *reason)
}

/// A full code matches exactly; a prefix ending in '.' matches the class and subject.
fn status_matches(status: &str, code: &str) -> bool {
    if code.ends_with('.') {
        status.starts_with(code)
    } else {
        status == code
    }
}

/// The first enhanced status code (`5.1.1`, `4.7.650`) in `text`.
pub fn find_status(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| status_at(bytes, start))
}

/// The class of a basic SMTP reply code (`550 ...`, `421-...`, `said: 452 ...`) as an
/// undefined enhanced status (`5.0.0`, `4.0.0`), for a notice that gives no
/// enhanced code (RFC 3463 section 3.1: the class is the reply's first digit).
/// Only a code standing alone at the start of the text, after a space, a colon or
/// a bracket and followed by a space, a hyphen or a colon counts, so sizes, times and
/// addresses do not.
pub fn reply_code_status(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        let code = bytes.get(start..start + 3)?;
        let first = code.first().copied()?;
        let stands_alone =
            start == 0 || matches!(bytes.get(start - 1), Some(b' ' | b'\t' | b':' | b'(' | b'<' | b'\n'));
        let followed = matches!(bytes.get(start + 3), Some(b' ' | b'-' | b':' | b'\r' | b'\n') | None);
        (matches!(first, b'4' | b'5') && code.iter().all(u8::is_ascii_digit) && stands_alone && followed)
            .then(|| format!("{}.0.0", char::from(first)))
    })
}

/// A notice that says in words whether its failure is permanent, without a code
/// (Exim's "This is a permanent error", Gmail's "failed permanently").
pub fn worded_status(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    const PERMANENT: &[&str] = &[
        "permanent error",
        "failed permanently",
        "permanent fatal error",
        "permanent failure",
    ];
    const TEMPORARY: &[&str] = &["temporary error", "temporary failure", "temporarily"];
    if PERMANENT.iter().any(|w| lower.contains(w)) {
        Some("5.0.0".to_string())
    } else if TEMPORARY.iter().any(|w| lower.contains(w)) {
        Some("4.0.0".to_string())
    } else {
        None
    }
}

fn status_at(bytes: &[u8], start: usize) -> Option<String> {
    let class = *bytes.get(start)?;
    if !matches!(class, b'2' | b'4' | b'5')
        || start > 0 && is_code_neighbour(bytes.get(start - 1).copied())
        || start > 0 && bytes.get(start - 1) == Some(&b'.')
    {
        return None;
    }
    let mut end = start + 1;
    for _ in 0..2 {
        if bytes.get(end) != Some(&b'.') {
            return None;
        }
        let digits = bytes.get(end + 1..)?.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        end += 1 + digits;
    }
    if is_code_neighbour(bytes.get(end).copied())
        || bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    bytes
        .get(start..end)
        .map(|code| String::from_utf8_lossy(code).into_owned())
}

fn is_code_neighbour(byte: Option<u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_status_codes_but_not_ip_addresses() {
        assert_eq!(find_status("550 5.1.1 <a@b.example> unknown").as_deref(), Some("5.1.1"));
        assert_eq!(
            find_status("from 192.0.2.1 said 4.7.650 slow down").as_deref(),
            Some("4.7.650")
        );
        assert_eq!(find_status("version 2.4.5.6"), None);
    }

    #[test]
    fn wording_wins_over_status() {
        assert_eq!(reason_for(Some("5.1.1"), "Mailbox is full", None), MailboxFull);
        assert_eq!(reason_for(Some("5.1.1"), "", None), UserUnknown);
        assert!(UserUnknown.is_hard(Some("5.1.1")));
        assert!(!NotAccept.is_hard(Some("4.0.0")));
        assert!(PolicyViolation.is_sender_problem());
    }

    #[test]
    fn unknown_user_depends_on_the_refused_command() {
        let text = "550 Unknown user someone@example.net";
        assert_eq!(reason_for(None, text, Some(SmtpCommand::RcptTo)), UserUnknown);
        assert_eq!(reason_for(None, text, Some(SmtpCommand::Data)), Filtered);
        assert_eq!(reason_for(None, text, None), Filtered);
        assert_eq!(reason_for(Some("5.2.1"), text, None), Filtered);
        // The status code says the mailbox is missing, whatever the command.
        assert_eq!(reason_for(Some("5.1.1"), text, Some(SmtpCommand::Data)), UserUnknown);
        assert_eq!(reason_for(None, text, Some(SmtpCommand::MailFrom)), Rejected);
    }

    #[test]
    fn directory_lookups_settle_unknown_user() {
        let exchange = "The recipient name is not recognized";
        assert_eq!(reason_for(None, exchange, None), UserUnknown);
        let provider = "554 delivery error: dd This user doesn't have an example.com account";
        assert_eq!(
            reason_for(Some("5.0.0"), provider, Some(SmtpCommand::Data)),
            UserUnknown
        );
    }

    #[test]
    fn generic_wording_is_not_unknown_user() {
        assert_eq!(reason_for(None, "550 neko.example.com does not exist", None), Undefined);
        assert_eq!(
            reason_for(None, "550 This account is not a valid sender", None),
            Undefined
        );
        assert_eq!(
            reason_for(None, "550 user jane was not found in the directory", None),
            Filtered
        );
    }

    #[test]
    fn precise_status_overrules_generic_wording() {
        let text = "550 5.1.2 <a@example.net>: Recipient address rejected: Bad destination";
        assert_eq!(reason_for(Some("5.1.2"), text, Some(SmtpCommand::RcptTo)), HostUnknown);
        let text = "550 5.7.13 <a@example.net>: Recipient address rejected: Disabled recipient";
        assert_eq!(reason_for(Some("5.7.13"), text, Some(SmtpCommand::RcptTo)), Suspend);
        // Specific wording still wins over the status code.
        let text = "550 5.7.1 IP address blacklisted by recipient";
        assert_eq!(reason_for(Some("5.1.1"), text, None), Blocked);
    }

    #[test]
    fn further_reasons_by_wording() {
        assert_eq!(reason_for(None, "x-unix; procmail: No such user", None), MailerError);
        let speeding = "550 5.1.1 <a@example.com> - 192.0.2.1 has sent to too many recipients this hour";
        assert_eq!(reason_for(Some("5.1.1"), speeding, None), Speeding);
        let null_mx = "an MX or SRV record indicated no SMTP service";
        assert_eq!(reason_for(None, null_mx, None), NotAccept);
    }

    #[test]
    fn wildcards_stay_on_one_line() {
        assert!(wildcard_match("user jane does not exist", "user * does not exist"));
        assert!(!wildcard_match(
            "user jane\nthe domain does not exist",
            "user * does not exist"
        ));
    }
}
