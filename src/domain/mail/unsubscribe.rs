//! Requests to stop receiving mail, and challenge/response anti-spam systems.

/// Unsubscribe wording (lower-case) accepted anywhere in the subject or the first body lines.
const UNSUBSCRIBE_PHRASES: &[&str] = &[
    "unsubscribe",
    "remove me",
    "remove us",
    "take me off",
    "take us off",
    "opt out",
    "opt-out",
    "avmeld",
    "meld meg av",
    "abmelden",
    "austragen",
    "désabonner",
    "desabonner",
    "désinscrire",
    "desinscrire",
    "do not contact me",
    "don't contact me",
    "do not contact us",
    "don't contact us",
    "stop emailing",
    "stop sending",
];

/// Words that only count as a request when they are the whole subject or the whole first line.
const BARE_WORDS: &[&str] = &["stop", "remove", "stopp", "nei takk"];

/// How many of the first non-empty body lines may hold the request.
const LEADING_LINES: usize = 3;

/// Why the message is an unsubscribe request, if it is one.
pub fn unsubscribe_signal(subject: &str, fresh_body: &str) -> Option<String> {
    let subject_lower = clean(subject);
    if let Some(phrase) = UNSUBSCRIBE_PHRASES.iter().find(|p| subject_lower.contains(*p)) {
        return Some(format!("subject contains \"{phrase}\""));
    }
    if BARE_WORDS.contains(&subject_lower.as_str()) {
        return Some(format!("subject is \"{subject_lower}\""));
    }
    let mut lines = fresh_body.lines().map(clean).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    if BARE_WORDS.contains(&first.as_str()) {
        return Some(format!("first line is \"{first}\""));
    }
    std::iter::once(first)
        .chain(lines.take(LEADING_LINES - 1))
        .find_map(|line| {
            let short = line.chars().count() <= 120;
            UNSUBSCRIBE_PHRASES
                .iter()
                .find(|p| short && line.contains(*p))
                .map(|p| format!("body opens with \"{p}\""))
        })
}

/// Lower-case, without reply prefixes and trailing punctuation.
fn clean(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let mut rest = lower.as_str();
    while let Some((prefix, tail)) = rest.split_once(':') {
        if prefix.len() > 4 || prefix.contains(' ') {
            break;
        }
        rest = tail.trim_start();
    }
    rest.trim_end_matches(['.', '!', ' ']).to_string()
}

/// Wording of challenge/response systems, lower-case.
const CHALLENGE_PHRASES: &[&str] = &[
    "please confirm you are a human",
    "confirm that you are a human",
    "prove you are human",
    "awaiting verification",
    "verify that you are a real person",
    "boxbe",
    "spamarrest",
    "spam arrest",
    "challenge-response",
    "sender verification request",
    "please verify your email address to have your message delivered",
    "is protected by",
    "click the link below to verify",
    "verify you are not a robot",
    "approved senders list",
    "add you to my approved",
    "whitelist request",
    "requires verification",
];

/// Why the message is a challenge from an anti-spam system, if it is one.
pub fn challenge_signal(subject: &str, body: &str, from: &str) -> Option<String> {
    let haystack = format!(
        "{}\n{}\n{}",
        subject.to_lowercase(),
        from,
        body.chars().take(3000).collect::<String>()
    )
    .to_lowercase();
    CHALLENGE_PHRASES
        .iter()
        .find(|p| haystack.contains(*p))
        .map(|p| format!("challenge wording \"{p}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_stop_only_as_whole_line() {
        assert!(unsubscribe_signal("Re: offer", "STOP\n\nthanks").is_some());
        assert!(unsubscribe_signal("Re: offer", "Please don't stop the project").is_none());
        assert!(unsubscribe_signal("UnSuBScRiBe", "").is_some());
    }
}
