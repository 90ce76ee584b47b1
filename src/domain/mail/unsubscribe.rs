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

/// Words in a link that say it is the one to verify with, lower-case.
const VERIFY_LINK_WORDS: &[&str] = &[
    "verif",
    "confirm",
    "challenge",
    "approve",
    "captcha",
    "release",
    "whitelist",
    "human",
    "boxbe",
    "spamarrest",
];

/// Links a challenge carries that are never the verification (footer links).
const FOOTER_LINK_WORDS: &[&str] = &["unsubscribe", "privacy", "terms", "optout", "opt-out", "help", "faq"];

/// The link a challenge asks the sender to open to prove they are a person:
/// the first one that says so (`verify`, `confirm`, `captcha`, ...), else the
/// first that is not a footer link. Shown to the rep as a task; rapport never
/// follows it (opening it may count as a "yes" the rep did not give).
pub fn verification_link(body: &str, html: Option<&str>) -> Option<String> {
    let links: Vec<url::Url> = [body, html.unwrap_or_default()]
        .iter()
        .flat_map(|text| links_in(text))
        .filter(|link| {
            let text = link.as_str().to_lowercase();
            !FOOTER_LINK_WORDS.iter().any(|w| text.contains(w))
        })
        .collect();
    let says_verify = |link: &&url::Url| {
        let text = link.as_str().to_lowercase();
        VERIFY_LINK_WORDS.iter().any(|w| text.contains(w))
    };
    links
        .iter()
        .find(says_verify)
        .or(links.first())
        .map(|link| link.as_str().chars().take(2000).collect())
}

/// The http(s) links written in a text (plain or HTML), in order.
fn links_in(text: &str) -> Vec<url::Url> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']'))
            .unwrap_or(candidate.len());
        let written = candidate[..end].trim_end_matches(['.', ',', ';']).replace("&amp;", "&");
        if let Ok(link) = url::Url::parse(&written) {
            if matches!(link.scheme(), "http" | "https") && link.host_str().is_some() {
                links.push(link);
            }
        }
        rest = &candidate[end.max(4)..];
    }
    links
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

    #[test]
    fn the_verification_link_is_the_one_that_says_so_not_a_footer() {
        let body = "Hi, I use Boxbe to protect my inbox. Please visit https://www.boxbe.com/privacy first?\n\
                    Click to be added to my Guest List: https://www.boxbe.com/anno?tc=1234&amp;ue=x.\n\
                    Unsubscribe: https://www.boxbe.com/unsubscribe?x=1";
        assert_eq!(
            verification_link(body, None).as_deref(),
            Some("https://www.boxbe.com/anno?tc=1234&ue=x")
        );
        let html = "<a href=\"https://filter.example/verify?id=9\">I am a person</a>";
        assert_eq!(
            verification_link("", Some(html)).as_deref(),
            Some("https://filter.example/verify?id=9")
        );
        assert_eq!(verification_link("no links, javascript:alert(1) httpx://x", None), None);
    }
}
