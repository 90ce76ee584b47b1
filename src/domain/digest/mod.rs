//! The daily digest: whom to engage today and why, for one rep. Pure: the
//! caller gathers the items; this ranks them, leaves out what is empty, and
//! renders plain text and HTML in the rep's language (English or Norwegian
//! Bokmål) from the templates beside this file.

pub mod timing;
mod words;

use crate::domain::intent::Intent;
use crate::domain::money::Amount;
use crate::domain::prospect::Language;
use crate::domain::text::{is_web_link, printable};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use minijinja::{context, Environment};
use serde::Serialize;
use std::cmp::Ordering;

pub use words::Words;

/// A prospect as the digest names them.
#[derive(Debug, Clone, Serialize)]
pub struct Who {
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
    /// Engagement score: the digest's order within a section.
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub who: Who,
    pub at: DateTime<Utc>,
    /// The fresh text, without quoted history.
    pub text: String,
    /// What it meant, when it was read (not when contested).
    pub intent: Option<Intent>,
}

/// Replies the rep should answer first come first: the ones that want to
/// talk or asked something, then the later-please, the pointers to someone
/// else, the refusals; unread ones last.
fn intent_rank(intent: Option<Intent>) -> usize {
    const ORDER: [Intent; 9] = [
        Intent::Interested,
        Intent::Question,
        Intent::NotNow,
        Intent::Referral,
        Intent::WrongPerson,
        Intent::LeftCompany,
        Intent::NotInterested,
        Intent::Unsubscribe,
        Intent::Other,
    ];
    intent
        .and_then(|i| ORDER.iter().position(|o| *o == i))
        .unwrap_or(ORDER.len())
}

#[derive(Debug, Clone, Serialize)]
pub struct Post {
    pub who: Who,
    pub at: DateTime<Utc>,
    pub title: String,
    pub url: String,
    pub excerpt: String,
    /// Why the prospect matters now: their stage, deal value.
    pub stage: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub who: Who,
    pub what: String,
    pub due_at: DateTime<Utc>,
    pub link: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub id: i64,
    pub who: Who,
    pub from: String,
    pub to: String,
    pub reason: String,
    /// A person to add as a new prospect ("Maria Hansen <maria@…>"), instead of a stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paused {
    pub who: Who,
    pub sequence: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokenSource {
    pub who: Who,
    pub url: String,
    pub error: String,
}

/// A bounce, complaint or out-of-office answer that named a prospect but
/// could not be tied to mail sent to them: it changed nothing, the rep may
/// want to know (a forgery, or mail sent from outside rapport's sight).
#[derive(Debug, Clone, Serialize)]
pub struct Unverified {
    pub who: Who,
    pub at: DateTime<Utc>,
    /// bounce, complaint or out_of_office.
    pub report: String,
    pub from: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PipelineSummary {
    pub currency: String,
    pub weighted: Amount,
    /// At the last digest, if there was one.
    pub previous: Option<Amount>,
}

/// Everything one rep's digest may hold.
#[derive(Debug, Clone)]
pub struct DigestInput {
    pub rep_name: String,
    pub language: Language,
    pub zone: Tz,
    pub date: NaiveDate,
    /// When it is sent (or would be): the greeting fits its local hour.
    pub sent_at: DateTime<Utc>,
    pub replies: Vec<Reply>,
    pub posts: Vec<Post>,
    pub tasks: Vec<Task>,
    pub suggestions: Vec<Suggestion>,
    pub paused: Vec<Paused>,
    pub broken_sources: Vec<BrokenSource>,
    pub needs_look: Vec<Unverified>,
    /// Problems in rapport's own setup that stop part of it (a broken rules
    /// or sequence file, mail that cannot go out), with the file and key.
    pub setup: Vec<String>,
    pub pipeline: Option<PipelineSummary>,
}

/// A rendered digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Nothing needed attention.
    pub empty: bool,
}

/// At most this many items a section shows (the most deserving first), so a
/// busy day stays readable; the rest are counted.
pub const POSTS_SHOWN: usize = 10;
pub const ITEMS_SHOWN: usize = 25;

const TEXT_TEMPLATE: &str = include_str!("digest.txt.j2");
const HTML_TEMPLATE: &str = include_str!("digest.html.j2");

/// Orders each section by what most deserves attention: replies by what
/// they meant, the most engaged prospects first, the soonest due tasks first.
pub fn rank(mut input: DigestInput) -> DigestInput {
    let by_score = |a: &Who, b: &Who| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal);
    input.replies.sort_by(|a, b| {
        intent_rank(a.intent)
            .cmp(&intent_rank(b.intent))
            .then(by_score(&a.who, &b.who))
            .then(b.at.cmp(&a.at))
    });
    input
        .posts
        .sort_by(|a, b| by_score(&a.who, &b.who).then(b.at.cmp(&a.at)));
    input
        .tasks
        .sort_by(|a, b| a.due_at.cmp(&b.due_at).then(by_score(&a.who, &b.who)));
    input
        .suggestions
        .sort_by(|a, b| by_score(&a.who, &b.who).then(a.id.cmp(&b.id)));
    input
}

/// Keeps the first `shown` items; how many were left out.
fn cut<T>(items: &mut Vec<T>, shown: usize) -> usize {
    let more = items.len().saturating_sub(shown);
    items.truncate(shown);
    more
}

/// Text from feeds and mail, made safe to print: no control characters or
/// terminal escape sequences in any field.
fn clean(mut input: DigestInput) -> DigestInput {
    let clean_who = |who: &mut Who| {
        who.name = printable(&who.name);
        who.company = who.company.as_deref().map(printable);
    };
    for r in &mut input.replies {
        clean_who(&mut r.who);
        r.text = printable(&r.text);
    }
    for p in &mut input.posts {
        clean_who(&mut p.who);
        for field in [&mut p.title, &mut p.url, &mut p.excerpt, &mut p.stage] {
            *field = printable(field);
        }
    }
    for t in &mut input.tasks {
        clean_who(&mut t.who);
        t.what = printable(&t.what);
        t.link = t.link.as_deref().map(printable);
        t.reason = t.reason.as_deref().map(printable);
    }
    for s in &mut input.suggestions {
        clean_who(&mut s.who);
        s.reason = printable(&s.reason);
    }
    for p in &mut input.paused {
        clean_who(&mut p.who);
        p.why = printable(&p.why);
    }
    for b in &mut input.broken_sources {
        clean_who(&mut b.who);
        b.url = printable(&b.url);
        b.error = printable(&b.error);
    }
    for problem in &mut input.setup {
        *problem = printable(problem);
    }
    for u in &mut input.needs_look {
        clean_who(&mut u.who);
        u.from = printable(&u.from);
        u.why = printable(&u.why);
    }
    input
}

/// A link to show as a link: only http and https; anything else is text.
fn href(url: &str) -> Option<&str> {
    is_web_link(url).then_some(url)
}

/// Renders the digest. Sections with nothing in them are left out.
pub fn render(input: DigestInput) -> Result<Rendered, String> {
    let mut input = rank(clean(input));
    let more = context! {
        replies => cut(&mut input.replies, ITEMS_SHOWN),
        posts => cut(&mut input.posts, POSTS_SHOWN),
        tasks => cut(&mut input.tasks, ITEMS_SHOWN),
        suggestions => cut(&mut input.suggestions, ITEMS_SHOWN),
        paused => cut(&mut input.paused, ITEMS_SHOWN),
        broken => cut(&mut input.broken_sources, ITEMS_SHOWN),
        needs_look => cut(&mut input.needs_look, ITEMS_SHOWN),
    };
    let words = Words::for_language(input.language);
    let empty = input.replies.is_empty()
        && input.posts.is_empty()
        && input.tasks.is_empty()
        && input.suggestions.is_empty()
        && input.paused.is_empty()
        && input.broken_sources.is_empty()
        && input.needs_look.is_empty()
        && input.setup.is_empty();
    let zone = input.zone;
    let local = |at: &DateTime<Utc>| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let pipeline = input.pipeline.as_ref().map(|p| {
        let change = p.previous.map(|before| Amount(p.weighted.0 - before.0));
        context! {
            weighted => format!("{} {}", p.weighted, p.currency),
            change => change.map(|c| format!("{}{} {}", if c.0 >= 0 { "+" } else { "" }, c, p.currency)),
        }
    });
    let date = words.date(input.date);
    let greeting = words.greeting(chrono::Timelike::hour(&input.sent_at.with_timezone(&zone)));
    let data = context! {
        t => &words,
        greeting => greeting,
        zone => zone.name(),
        setup => &input.setup,
        rep => &input.rep_name,
        date => &date,
        empty => empty,
        replies => input.replies.iter().map(|r| context! { who => &r.who, at => local(&r.at), text => &r.text, intent => r.intent.map(|i| words.intent(i)) }).collect::<Vec<_>>(),
        posts => input.posts.iter().map(|p| context! { href => href(&p.url), ..minijinja::Value::from_serialize(p) }).collect::<Vec<_>>(),
        tasks => input.tasks.iter().map(|t| context! { who => &t.who, what => &t.what, due => local(&t.due_at), link => &t.link, href => t.link.as_deref().and_then(href), reason => &t.reason }).collect::<Vec<_>>(),
        suggestions => &input.suggestions,
        paused => &input.paused,
        broken => &input.broken_sources,
        needs_look => input.needs_look.iter().map(|u| context! { at => local(&u.at), report => words.report(&u.report), ..minijinja::Value::from_serialize(u) }).collect::<Vec<_>>(),
        pipeline => pipeline,
        more => more,
    };
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_template("digest.txt", TEXT_TEMPLATE)
        .and_then(|_| env.add_template("digest.html", HTML_TEMPLATE))
        .map_err(|e| format!("digest template: {e}"))?;
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&data))
            .map_err(|e| format!("digest template {name}: {e}"))
    };
    Ok(Rendered {
        subject: words.subject(&date, empty),
        text: render("digest.txt")?,
        html: render("digest.html")?,
        empty,
    })
}

#[cfg(test)]
mod tests;
