//! Why a delivery failed: the reason table (diagnostic wording and status codes) and the
//! hard/soft and sender-fault rules derived from the reason.

use serde::Serialize;

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

/// Diagnostic wording (lower-case substrings) per reason, tried in this order: the more specific
/// reasons come first because their messages often also contain generic words.
const TEXT_REASONS: &[(BounceReason, &[&str])] = &[
    (
        Rejected,
        &["permission to post messages to the group", "not a member of this"],
    ),
    (
        MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox quota",
            "quota exceeded",
            "over quota",
            "overquota",
            "exceeded storage allocation",
            "exceed quota",
            "disk quota",
            "account is full",
            "full mailbox",
            "mailfolder is full",
            "mailbox has exceeded",
            "mailbox size limit",
            "exceeded the storage",
            "quota has been exceeded",
            "is over quota",
            "exceeds its quota",
            "insufficient storage space",
            "not enough storage",
            "speichervolumen",
            "mailbox exceeds allowed size",
            "user over quota",
            "quota violation",
            "too much mail data",
            "boite du destinataire pleine",
            "mailbox is over",
            "exceeds the size limit of the mailbox",
            "mailbox size exceeded",
        ],
    ),
    (
        MessageTooBig,
        &[
            "message too large",
            "message size exceeds",
            "message is too big",
            "message too big",
            "exceeds size limit",
            "message file too big",
            "message length exceeds",
            "email is too large",
            "size exceeds the maximum",
            "exceeds maximum message size",
            "message is larger than",
            "message size limit",
            "maximum message size",
        ],
    ),
    (
        ExceedLimit,
        &["exceeded the limit", "message exceeds the limit", "limit exceeded"],
    ),
    (
        Suspend,
        &[
            "account disabled",
            "account has been disabled",
            "account is disabled",
            "has been suspended",
            "account suspended",
            "mailbox disabled",
            "mailbox has been disabled",
            "recipient suspended",
            "user suspended",
            "mailbox is frozen",
            "account is inactive",
            "inactive account",
            "is inactive",
            "currently suspended",
            "account expired",
            "is disabled",
            "mailbox is inactive",
            "archived recipient",
            "this account has been",
            "account is locked",
            "boite du destinataire archivee",
            "deactivated",
            "temporarily disabled",
        ],
    ),
    (HasMoved, &["address has been replaced by", "has moved", "user moved"]),
    (
        NoRelaying,
        &[
            "relay access denied",
            "relaying denied",
            "relay not permitted",
            "relaying not allowed",
            "not allowed to relay",
            "we do not relay",
            "unable to relay",
            "relay denied",
            "no relaying",
            "not permitted to relay",
            "list of allowed rcpthosts",
            "relaying mail to",
            "relay prohibited",
            "relay not allowed",
        ],
    ),
    (
        AuthFailure,
        &[
            "spf",
            "dkim",
            "dmarc",
            "sender policy framework",
            "domain authentication",
            "not authorized to send",
            "is not allowed to send mail",
        ],
    ),
    (
        UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "no such mailbox",
            "no such recipient",
            "no such address",
            "no such person",
            "address does not exist",
            "address unknown",
            "recipient unknown",
            "unknown recipient",
            "recipient not found",
            "recipient does not exist",
            "recipient not exist",
            "mailbox does not exist",
            "mailbox not found",
            "mailbox unavailable",
            "mailbox is unavailable",
            "invalid mailbox",
            "invalid recipient",
            "mailbox invalid",
            "user not found",
            "user does not exist",
            "user not exist",
            "user doesn't exist",
            "user not known",
            "not a valid mailbox",
            "not a valid recipient",
            "not a valid user",
            "is not a known user",
            "bad destination mailbox",
            "bad recipient",
            "bad address",
            "bad mailbox",
            "no mailbox",
            "unknown mailbox",
            "recipient address rejected",
            "address rejected",
            "no account by that name",
            "email account that you tried to reach does not exist",
            "does not exist",
            "doesn't exist",
            "does not have an account",
            "doesn't have a",
            "not listed in",
            "is not a local",
            "utilisateur inconnu",
            "no existe",
            "nicht gefunden",
            "unknown address",
            "invalid address",
            "undeliverable address",
            "no longer valid",
            "no longer accepts mail",
            "badrcptto",
            "validrcptto",
            "unknown local part",
            "recipient not ok",
            "recipient rejected",
            "rejected recipient",
            "recipnotfound",
            "recipient notfound",
            "recipient is not local",
            "no mail box",
            "mailbox not present",
            "no user",
            "unknown or illegal alias",
            "unknown virtual user",
            "invalid user",
            "user invalid",
            "addressee unknown",
            "isn't in my list",
            "not our customer",
            "user reject",
            "no valid recipients",
            "destination addresses were unknown",
            "email address could not be found",
            "not exist",
            "user account is unavailable",
            "account does not exist",
            "no such local user",
            "is not a valid",
            "was not found",
            "nessun utente",
        ],
    ),
    (
        Filtered,
        &[
            "filtered",
            "is not accepting mail from",
            "not accepting any mail",
            "refused due to recipient",
            "recipient preferences",
            "user refuses",
            "due to the receiver's policy",
            "only accepting mail from",
            "notauthorized",
            "blocked by the recipient",
            "rejected due to user rules",
            "has restricted",
        ],
    ),
    (
        RequirePtr,
        &[
            "no ptr record",
            "reverse dns",
            "reverse lookup",
            "cannot find your hostname",
            "ptr record",
            "cannot resolve your address",
            "rdns",
            "reverse-dns",
            "cannot find your reverse hostname",
            "ip name lookup failed",
            "no reverse",
            "reverse hostname",
            "dns ptr",
            "not have ptr",
            "name lookup failed",
            "unresolvable",
            "ptr lookup",
        ],
    ),
    (
        NotCompliantRfc,
        &[
            "rfc 5322",
            "rfc5322",
            "rfc 2822",
            "rfc2822",
            "not rfc compliant",
            "duplicate header",
            "multiple addresses in",
        ],
    ),
    (
        BadReputation,
        &[
            "reputation",
            "temporarily deferred due to user complaints",
            "unusual rate of unsolicited",
        ],
    ),
    (
        Rejected,
        &[
            "sender rejected",
            "sender address rejected",
            "domain of sender",
            "sender verify failed",
            "mail from rejected",
            "sender not allowed",
            "envelope sender",
            "invalid sender",
            "sender domain",
            "rejected by sender",
            "bogus mail from",
            "badmailfrom",
            "sender is in my",
            "sender denied",
            "your sender",
            "not a member",
            "are not member",
            "not allowed to post",
            "sender address",
            "unroutable sender",
            "unverified sender",
            "sender verification",
            "mailfrom",
        ],
    ),
    (
        HostUnknown,
        &[
            "host unknown",
            "unknown host",
            "host not found",
            "domain does not exist",
            "no such domain",
            "domain not found",
            "domain must exist",
            "name or service not known",
            "unrouteable address",
            "unroutable address",
            "nxdomain",
            "illegal host/domain",
            "host or domain name not found",
            "domain is not reachable",
            "unknown domain",
            "domain name not found",
            "no such host",
            "domain isn't in my list",
            "host name lookup failure",
            "domain could not be found",
            "domain was not found",
            "invalid domain",
            "bad domain",
            "hostname lookup",
            "no mx",
        ],
    ),
    (
        SpamDetected,
        &[
            "spam",
            "unsolicited",
            "bulk e-mail",
            "bulk email",
            "junk mail",
            "message content rejected",
            "content is not accepted",
            "suspicious",
            "looks like",
        ],
    ),
    (
        Speeding,
        &["rate limit", "rate-limit", "sending too fast", "too fast", "ratelimit"],
    ),
    (
        TooManyConn,
        &[
            "too many connections",
            "too many simultaneous",
            "too many concurrent",
            "connection limit",
            "too many sessions",
            "too many smtp sessions",
            "connection rate",
        ],
    ),
    (
        Blocked,
        &[
            "blacklist",
            "blocklist",
            "block list",
            "black list",
            "dnsbl",
            "rbl",
            "spamhaus",
            "spamcop",
            "sorbs",
            "blocked",
            "banned",
            "access denied",
            "client host rejected",
            "your ip",
            "your host",
            "refused to talk to me",
            "not allowed to connect",
            "connection rejected",
            "ip address has been",
            "rejected because the sending",
            "denied by",
            "listed",
            "is not allowed",
            "helo",
        ],
    ),
    (
        SystemFull,
        &[
            "insufficient system storage",
            "disk full",
            "system full",
            "out of disk space",
        ],
    ),
    (VirusDetected, &["virus", "malware", "infected"]),
    (FailedStartTls, &["starttls", "tls is required", "tls required"]),
    (
        SecurityError,
        &["authentication", "encryption required", "insecure", "security"],
    ),
    (
        NotAccept,
        &[
            "does not accept mail",
            "null mx",
            "accepts no mail",
            "doesn't accept mail",
            "not accept mail",
            "does not accept e-mail",
            "not accepting mail",
        ],
    ),
    (
        Expired,
        &[
            "retry time",
            "message expired",
            "delivery time expired",
            "could not be delivered for",
            "retry timeout",
            "queue too long",
            "queued too long",
            "too long in queue",
            "gave up",
            "cannot send message for",
            "delivery expired",
            "not delivered within",
            "time limit",
            "timeout exceeded",
            "has not been delivered",
            "delayed",
            "expired",
        ],
    ),
    (
        NetworkError,
        &[
            "host not reachable",
            "connection timed out",
            "timed out",
            "connection refused",
            "no route to host",
            "network is unreachable",
            "could not connect",
            "unable to connect",
            "name server",
            "mail loop",
            "loops back to myself",
            "hop count",
            "too many hops",
            "routing loop",
            "lost connection",
            "connection reset",
            "dns",
            "loop detected",
            "maximum hop",
        ],
    ),
    (
        MailerError,
        &[
            "command failed",
            "mailer error",
            "pipe to",
            "exit code",
            "x-unix",
            "unknown mailer",
            "command died",
            "procmail",
        ],
    ),
    (
        SystemError,
        &[
            "system error",
            "internal error",
            "server error",
            "configuration error",
            "temporary local problem",
            "system config",
            "local error",
            "server configuration",
            "try again later",
        ],
    ),
    (
        ContentError,
        &[
            "8-bit",
            "8bit",
            "header error",
            "content error",
            "invalid content",
            "mime",
            "bare lf",
            "improper",
        ],
    ),
    (
        PolicyViolation,
        &[
            "policy",
            "prohibited",
            "attachment",
            "executable",
            "not permitted",
            "not allowed",
            "rejected",
        ],
    ),
    (
        SyntaxError,
        &[
            "syntax error",
            "command unrecognized",
            "unrecognized command",
            "bad sequence of commands",
        ],
    ),
];

/// Status codes whose meaning is specific enough to decide the reason when the wording does not.
const STATUS_REASONS: &[(&str, BounceReason)] = &[
    ("5.1.10", NotAccept),
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
/// adjusts it by the SMTP command that failed: an "unknown user" answer to DATA is a content
/// filter speaking, and any refusal of MAIL FROM is about the sender.
pub fn reason_for(status: Option<&str>, diagnostic: &str) -> BounceReason {
    if status.is_some_and(|s| SENDER_STATUSES.contains(&s)) {
        return Rejected;
    }
    let lower = diagnostic.to_lowercase();
    let by_text = TEXT_REASONS
        .iter()
        .find(|(_, patterns)| patterns.iter().any(|pattern| lower.contains(pattern)))
        .map(|(reason, _)| *reason);
    let reason = by_text
        .or_else(|| status.and_then(reason_for_status))
        .unwrap_or(Undefined);
    let temporary = status.is_some_and(|s| s.starts_with('4'));
    match (reason, failed_command(&lower)) {
        (UserUnknown, Some(SmtpCommand::Data)) => Filtered,
        (UserUnknown | HostUnknown | Undefined, Some(SmtpCommand::MailFrom)) => Rejected,
        (HostUnknown, _) if temporary => NetworkError,
        _ => reason,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SmtpCommand {
    MailFrom,
    RcptTo,
    Data,
}

/// How reports name the command the remote server refused, lower-case.
const COMMAND_MARKERS: &[(&str, SmtpCommand)] = &[
    ("after mail from", SmtpCommand::MailFrom),
    (">>> mail from", SmtpCommand::MailFrom),
    ("in reply to mail from", SmtpCommand::MailFrom),
    ("after rcpt to", SmtpCommand::RcptTo),
    (">>> rcpt to", SmtpCommand::RcptTo),
    ("in reply to rcpt to", SmtpCommand::RcptTo),
    ("after end of data", SmtpCommand::Data),
    ("after data", SmtpCommand::Data),
    (">>> data", SmtpCommand::Data),
    ("in reply to end of data", SmtpCommand::Data),
    ("in reply to data", SmtpCommand::Data),
];

/// The last SMTP command named in the text: the one the error answered.
fn failed_command(lower: &str) -> Option<SmtpCommand> {
    COMMAND_MARKERS
        .iter()
        .filter_map(|(marker, command)| lower.rfind(marker).map(|at| (at, *command)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, command)| command)
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
        assert_eq!(reason_for(Some("5.1.1"), "Mailbox is full"), MailboxFull);
        assert_eq!(reason_for(Some("5.1.1"), ""), UserUnknown);
        assert!(UserUnknown.is_hard(Some("5.1.1")));
        assert!(!NotAccept.is_hard(Some("4.0.0")));
        assert!(PolicyViolation.is_sender_problem());
    }
}
