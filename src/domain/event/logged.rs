//! The kinds a person may log by hand (or a webhook may record): the
//! built-in list, the ones the config declares, and the checks that refuse
//! a malformed kind, one rapport records itself, or a typo (with the closest
//! known kind).

use super::kinds;

/// Prefixes of the kinds rapport itself records; a hand-logged kind may not use these.
const RESERVED_PREFIXES: [&str; 4] = ["prospect.", "stage.", "email.", "sequence."];

/// Engagement a rep may log by hand (or a webhook may record), beside the
/// kinds declared in the config (`[events] kinds`), in the rules' `on` lists
/// and in sequence tasks' `logs`.
pub const LOGGABLE_KINDS: &[&str] = &[
    "call",
    "call.voicemail",
    kinds::MEETING_BOOKED,
    "meeting.held",
    "meeting.canceled",
    "meeting.no_show",
    "proposal.sent",
    kinds::PROPOSAL_SIGNED,
    // A reply seen outside rapport's mailbox sync: stops sequences like a synced one.
    kinds::EMAIL_REPLIED,
    "linkedin.comment",
    "linkedin.like",
    "linkedin.message",
    "linkedin.connect",
    "linkedin.accepted",
    "linkedin.declined",
    "linkedin.share",
    "x.reply",
    "x.like",
    "x.message",
    "x.repost",
    "social.comment",
    "social.like",
    "social.message",
    "social.share",
    kinds::POST,
    "event.attended",
    "referral",
    "note",
    kinds::FOLLOW_UP,
];

/// A hand-logged kind that rapport records itself but lets a person record
/// too (marked hand-logged): a reply read outside the synced mailbox, a
/// challenge/response filter the rep verified with outside its task.
pub fn is_hand_loggable_reserved(kind: &str) -> bool {
    kind == kinds::EMAIL_REPLIED || kind == kinds::EMAIL_VERIFIED
}

/// Checks the form of a kind such as `linkedin.comment`, `call` or `meeting.booked`.
pub fn validate_logged_kind(kind: &str) -> Result<String, String> {
    let kind = kind.trim().to_ascii_lowercase();
    let well_formed = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !well_formed {
        return Err(format!(
            "'{kind}' is not an engagement kind; use lower-case words joined by '.', e.g. linkedin.comment, call, meeting.booked"
        ));
    }
    if RESERVED_PREFIXES.iter().any(|p| kind.starts_with(p)) && !is_hand_loggable_reserved(&kind) {
        return Err(format!(
            "'{kind}' is recorded by rapport itself; log what you did instead (e.g. linkedin.like, call), and use `rapport prospect move` for stages"
        ));
    }
    Ok(kind)
}

/// A kind a person may log now: well formed, and built in or declared
/// (`known`); a typo is refused with the closest known kind.
pub fn known_logged_kind(kind: &str, known: &[String]) -> Result<String, String> {
    let kind = validate_logged_kind(kind)?;
    if LOGGABLE_KINDS.contains(&kind.as_str()) || known.contains(&kind) {
        return Ok(kind);
    }
    let mut all: Vec<&str> = LOGGABLE_KINDS
        .iter()
        .copied()
        .chain(known.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    all.dedup();
    let closest = all
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&kind, k), *k))
        .min()
        .filter(|(distance, k)| *distance <= 3.max(k.len() / 3));
    let hint = match closest {
        Some((_, k)) => format!("did you mean {k}? "),
        None => String::new(),
    };
    Err(format!(
        "'{kind}' is not a kind rapport knows; {hint}known kinds: {}. \
         To log a kind of your own, add it to `kinds` under [events] in the config",
        all.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_in_a_logged_kind_gets_the_closest_known_kind() {
        let declared = vec!["whitepaper.downloaded".to_string()];
        assert_eq!(known_logged_kind("Call", &declared).unwrap(), "call");
        assert_eq!(
            known_logged_kind("whitepaper.downloaded", &declared).unwrap(),
            "whitepaper.downloaded"
        );
        assert_eq!(known_logged_kind("email.replied", &[]).unwrap(), "email.replied");
        let error = known_logged_kind("linkedin.coment", &declared).unwrap_err();
        assert!(error.contains("did you mean linkedin.comment?"), "{error}");
        assert!(error.contains("[events]"), "{error}");
        let error = known_logged_kind("meeting.bookd", &[]).unwrap_err();
        assert!(error.contains("did you mean meeting.booked?"), "{error}");
        let error = known_logged_kind("zzzzzzzzzzzz", &[]).unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
        assert!(known_logged_kind("email.bounced", &[]).is_err());
    }

    #[test]
    fn logged_kinds() {
        assert_eq!(validate_logged_kind("LinkedIn.Comment").unwrap(), "linkedin.comment");
        assert!(validate_logged_kind("stage.changed").is_err());
        assert!(validate_logged_kind("two words").is_err());
    }
}
