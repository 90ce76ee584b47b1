//! Which SMTP command a remote server's error answered. The same "unknown user" wording means
//! the address does not exist when it answers RCPT TO, but a content filter speaking when it
//! answers DATA (the recipient had already been accepted), so the reason depends on it.

/// The SMTP commands whose refusal changes the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpCommand {
    Helo,
    MailFrom,
    RcptTo,
    Data,
}

use SmtpCommand::*;

/// How notices name the refused command in prose (lower-case, whitespace collapsed).
const PHRASE_MARKERS: &[(&str, SmtpCommand)] = &[
    ("after mail from", MailFrom),
    ("in reply to mail from", MailFrom),
    ("after rcpt", RcptTo),
    ("in reply to rcpt to", RcptTo),
    ("rcpt to response", RcptTo),
    ("did not like our rcpt to", RcptTo),
    ("did not like our mail from", MailFrom),
    // qmail: "Connected to 192.0.2.1 but my name was rejected" / "... but sender was rejected".
    ("but my name was rejected", Helo),
    ("but sender was rejected", MailFrom),
    ("[rcpt_to]", RcptTo),
    ("smtp:rcpt", RcptTo),
    ("after end of data", Data),
    ("after data", Data),
    ("in reply to end of data", Data),
    ("in reply to data", Data),
    // A "server message" block followed by an "SMTP command" block naming the command.
    ("smtp command data", Data),
];

/// Client lines of an SMTP transcript (`>>> RCPT To:<...>`), lower-case, after the `>>>`.
const TRANSCRIPT_COMMANDS: &[(&str, SmtpCommand)] = &[
    ("ehlo", Helo),
    ("helo", Helo),
    ("mail from", MailFrom),
    ("rcpt to", RcptTo),
    ("data", Data),
    // The lone dot that ends the message text.
    (".", Data),
];

/// The command that the error about `address` answered: from a transcript reply naming the
/// address, else from the diagnostic's wording, else from the notice paragraphs about the
/// address, else from the first error reply of a transcript.
pub fn failed_command(address: &str, diagnostic: &str, notice: &str) -> Option<SmtpCommand> {
    let notice = notice.to_lowercase().replace("\r\n", "\n");
    let address = address.to_lowercase();
    transcript_command(&notice, &address)
        .or_else(|| phrase_command(&diagnostic.to_lowercase()))
        .or_else(|| paragraphs_about(&notice, &address).find_map(phrase_command))
        .or_else(|| names_rejected_address(&diagnostic.to_lowercase(), &address).then_some(RcptTo))
}

/// A reply code followed by the rejected address, `550 <a@example.com>: ...`, is how servers
/// word a refusal at RCPT TO (after DATA there is no single address to name).
fn names_rejected_address(lower: &str, address: &str) -> bool {
    lower.match_indices(&format!("<{address}>:")).any(|(at, _)| {
        let before = lower.get(..at).unwrap_or_default().trim_end().trim_end_matches(':');
        let code: Vec<char> = before.chars().rev().take(4).collect();
        let is_digit = |i: usize| code.get(i).is_some_and(char::is_ascii_digit);
        is_digit(0) && is_digit(1) && code.get(2).is_some_and(|c| matches!(c, '4' | '5')) && !is_digit(3)
    })
}

/// The last command named in prose: the one the error answered.
fn phrase_command(lower: &str) -> Option<SmtpCommand> {
    // Every marker names one of these words: most text names none, and needs no collapsing.
    if !["rcpt", "mail", "data", "rejected"]
        .iter()
        .any(|word| lower.contains(word))
    {
        return None;
    }
    let collapsed = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let Some(markers) = MARKERS.as_ref() else {
        return PHRASE_MARKERS
            .iter()
            .filter_map(|(marker, command)| collapsed.rfind(marker).map(|at| (at, *command)))
            .max_by_key(|(at, _)| *at)
            .map(|(_, command)| command);
    };
    // The marker that starts last names the command the error answered.
    markers
        .find_overlapping_iter(&collapsed)
        .max_by_key(|found| (found.start(), found.end()))
        .and_then(|found| PHRASE_MARKERS.get(found.pattern().as_usize()))
        .map(|(_, command)| *command)
}

/// Every phrase marker in one automaton, searched in one pass.
static MARKERS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| aho_corasick::AhoCorasick::new(PHRASE_MARKERS.iter().map(|(marker, _)| marker)).ok());

/// Blank-line separated paragraphs of `notice` that mention `address`.
fn paragraphs_about<'a>(notice: &'a str, address: &'a str) -> impl Iterator<Item = &'a str> {
    notice.split("\n\n").filter(move |p| p.contains(address))
}

/// In a transcript (`>>> command` / `<<< reply`), the client command before the first error reply
/// (4xx/5xx) about `address` (named in the reply or in the command). Later replies are often the
/// server's complaints about the aborted session ("503 need RCPT").
fn transcript_command(lower: &str, address: &str) -> Option<SmtpCommand> {
    let mut last: Option<(SmtpCommand, &str)> = None;
    for line in lower.lines().map(str::trim) {
        if let Some(sent) = line.strip_prefix(">>>") {
            last = transcript_line_command(sent.trim())
                .map(|command| (command, sent))
                .or(last);
        } else if let Some(reply) = line.strip_prefix("<<<") {
            let Some((command, sent)) = last else { continue };
            let is_error = reply.trim_start().starts_with(['4', '5']);
            if is_error && (reply.contains(address) || sent.contains(address)) {
                return Some(command);
            }
        }
    }
    None
}

fn transcript_line_command(sent: &str) -> Option<SmtpCommand> {
    TRANSCRIPT_COMMANDS
        .iter()
        .find(|(prefix, _)| match *prefix {
            "." => sent == ".",
            _ => sent.starts_with(prefix),
        })
        .map(|(_, command)| *command)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per recipient, the command that preceded the reply naming it, not the last one.
    #[test]
    fn transcript_reply_names_the_recipient() {
        let notice = "... while talking to mx.example.org.:\n>>> RCPT To:<a@example.org>\n\
                      <<< 550 5.1.1 <a@example.org>... User unknown\n>>> DATA\n\
                      <<< 550 5.2.1 <b@example.org>... User unknown\n";
        assert_eq!(failed_command("a@example.org", "", notice), Some(RcptTo));
        assert_eq!(failed_command("b@example.org", "", notice), Some(Data));
    }

    /// The first error reply decides; a later "503 need RCPT" is about the aborted session.
    #[test]
    fn later_session_complaints_do_not_count() {
        let notice = ">>> DATA\n<<< 550 Unknown user c@example.net\n>>> RCPT To:<c@example.net>\n\
                      <<< 503 5.0.0 Need RCPT (c@example.net)\n";
        assert_eq!(failed_command("c@example.net", "", notice), Some(Data));
    }

    /// Postfix wraps "(in reply to end of DATA command)" over two lines.
    #[test]
    fn wrapped_phrase_in_the_recipient_paragraph() {
        let notice = "<d@example.net>: host mx.example.net said: 550 Unknown user (in reply to end of\n    \
                      DATA command)\n\n<e@example.net>: host mx said: 550 No such user (in reply to RCPT TO\n    \
                      command)\n";
        assert_eq!(failed_command("d@example.net", "550 Unknown user", notice), Some(Data));
        assert_eq!(
            failed_command("e@example.net", "550 No such user", notice),
            Some(RcptTo)
        );
    }

    #[test]
    fn command_block_after_server_message() {
        let notice = "x@example.com\n-------server message\n550 unknown user\n-------SMTP command\nDATA\n";
        assert_eq!(failed_command("x@example.com", "", notice), Some(Data));
        assert_eq!(failed_command("x@example.com", "550 unknown user", ""), None);
    }

    #[test]
    fn reply_code_before_the_address_means_rcpt() {
        assert_eq!(
            failed_command("f@example.org", "550 <f@example.org>: User unknown", ""),
            Some(RcptTo)
        );
        assert_eq!(
            failed_command("f@example.org", "<f@example.org>: 550 unknown user", ""),
            None
        );
    }

    #[test]
    fn prose_naming_the_refused_command() {
        let helo = "Connected to 192.0.2.1 but my name was rejected.\nRemote host said: 501 Invalid domain";
        assert_eq!(failed_command("g@example.net", helo, ""), Some(Helo));
        let rcpt = "mx.example.net [192.0.2.2] did not like our RCPT TO:\n550 5.7.1 rejected";
        assert_eq!(failed_command("g@example.net", rcpt, ""), Some(RcptTo));
    }
}
