//! Header access and the small text scanners the classifier shares: addresses, message ids and
//! header blocks found inside bodies (DSN fields, returned headers, quoted originals).

use mail_parser::Address;

/// Joins folded header lines into one line and trims it.
pub fn unfold(value: &str) -> String {
    let mut unfolded = String::with_capacity(value.len());
    for part in value.split(['\r', '\n']).map(str::trim).filter(|part| !part.is_empty()) {
        if !unfolded.is_empty() {
            unfolded.push(' ');
        }
        unfolded.push_str(part);
    }
    unfolded
}

/// The first mailbox address of an address list, lower-cased.
pub fn first_address(list: Option<&Address<'_>>) -> Option<String> {
    list?
        .iter()
        .find_map(|mailbox| mailbox.address().map(str::to_lowercase))
        .filter(|a| a.contains('@'))
}

/// Every `<...>` message id in `text`, without the angle brackets.
pub fn message_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let id = after[..end].trim();
        if !id.is_empty() && !id.contains(char::is_whitespace) {
            ids.push(id.to_string());
        }
        rest = &after[end + 1..];
    }
    if ids.is_empty() {
        // Some systems write bare ids; accept a single token that looks like one.
        let bare = text.trim();
        if bare.contains('@') && !bare.contains(char::is_whitespace) {
            ids.push(bare.to_string());
        }
    }
    ids
}

fn is_address_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-=!#$&'*/?^`{|}~".contains(c)
}

/// Every e-mail address written in `text`, lower-cased, in order, without duplicates.
pub fn addresses_in(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (at, _) in text.match_indices('@') {
        let local_start = text[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_address_char(c))
            .last();
        let Some((start, _)) = local_start else { continue };
        let domain_len: usize = text[at + 1..]
            .chars()
            .take_while(|&c| c.is_alphanumeric() || c == '.' || c == '-')
            .map(char::len_utf8)
            .sum();
        let local = text[start..at].trim_start_matches(['\'', '`', '=', '/', '?', '{', '|']);
        let domain = text[at + 1..at + 1 + domain_len].trim_end_matches(['.', '-']);
        if local.is_empty() || !domain.contains('.') {
            continue;
        }
        let address = format!("{local}@{domain}").to_lowercase();
        if !found.contains(&address) {
            found.push(address);
        }
    }
    found
}

/// The first address in `text`, if any.
pub fn first_address_in(text: &str) -> Option<String> {
    addresses_in(text).into_iter().next()
}

/// Parses `Name: value` lines (with folded continuations) into pairs; the name is lower-cased.
/// Lines that are not fields are skipped, so this works on DSN blocks and on quoted headers.
pub fn header_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut continues = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if continues && line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        continues = false;
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let is_field_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if is_field_name {
            fields.push((name.to_ascii_lowercase(), value.trim().to_string()));
            continues = true;
        }
    }
    fields
}

/// The value of the first field called `name` (lower-case) in parsed fields.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(field_name, _)| field_name == name)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses_in_brackets_and_prose() {
        let text = "<Jane.Doe@Example.COM>: host mx.example.com said: 550 no such user (ümlaut@x)";
        assert_eq!(addresses_in(text), vec!["jane.doe@example.com".to_string()]);
    }

    #[test]
    fn parses_folded_fields() {
        let fields = header_fields("Final-Recipient: rfc822;\n a@b.example\nAction: failed\n");
        assert_eq!(field(&fields, "final-recipient"), Some("rfc822; a@b.example"));
        assert_eq!(field(&fields, "action"), Some("failed"));
    }

    #[test]
    fn extracts_message_ids() {
        assert_eq!(message_ids("<a@b> <c@d>"), vec!["a@b".to_string(), "c@d".to_string()]);
    }
}
