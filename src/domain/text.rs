//! Small text helpers shared by the pure core and the edges.

/// At most `limit` characters, cut at a word boundary with an ellipsis.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|i| *i > limit / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}
