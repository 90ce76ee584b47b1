//! Who may be enrolled in a sequence, which A/B variant they get, and what
//! each step says for them. Pure: the caller supplies the prospect, the rep,
//! their latest post and whether the address is suppressed.

use super::template::{self, TemplateContext};
use super::{Sequence, StepAction};
use crate::domain::prospect::{Prospect, Rep};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// A prospect's newest post, as templates see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostSummary {
    pub title: String,
    pub url: String,
    pub date: DateTime<Utc>,
}

impl PostSummary {
    /// Mastodon and Bluesky posts have no title: their first words stand in.
    pub fn new(title: &str, text: &str, url: &str, date: DateTime<Utc>) -> PostSummary {
        let title = title.trim();
        let title = match title.is_empty() {
            true => crate::domain::text::excerpt(&text.split_whitespace().collect::<Vec<_>>().join(" "), 80),
            false => title.to_string(),
        };
        PostSummary {
            title,
            url: url.trim().to_string(),
            date,
        }
    }

    /// From a stored post event's data and time.
    pub fn from_event(data: &serde_json::Value, date: DateTime<Utc>) -> PostSummary {
        let text = |key: &str| data.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        PostSummary::new(text("title"), crate::domain::event::post_text(data), text("url"), date)
    }
}

/// One step as it would go out (or be shown as a task) for one prospect.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RenderedStep {
    Email {
        subject: String,
        text: String,
        html: Option<String>,
    },
    Task {
        instruction: String,
        link: Option<String>,
        logs: String,
    },
}

/// The template values for a prospect (empty ones are left out by the renderer).
pub fn context_for(prospect: &Prospect, rep: &Rep, latest_post: Option<&PostSummary>) -> TemplateContext {
    let data = &prospect.data;
    let (first, last) = split_name(&data.name);
    let fields = |pairs: &[(&str, Option<&str>)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
            .collect()
    };
    let (rep_first, _) = split_name(&rep.name);
    TemplateContext {
        prospect: fields(&[
            ("name", Some(&data.name)),
            ("first_name", Some(first)),
            ("last_name", Some(last)),
            ("email", data.email.as_deref()),
            ("company", data.company.as_deref()),
            ("title", data.title.as_deref()),
            ("stage", Some(&data.stage)),
            ("pipeline", Some(&data.pipeline)),
            ("time_zone", data.time_zone.as_deref()),
        ]),
        custom: data.custom_fields.clone(),
        rep: fields(&[
            ("name", Some(&rep.name)),
            ("first_name", Some(rep_first)),
            ("email", Some(&rep.email)),
        ]),
        latest_post: latest_post.map(|post| {
            let date = post.date.format("%Y-%m-%d").to_string();
            fields(&[
                ("title", Some(&post.title)),
                ("url", Some(&post.url)),
                ("date", Some(&date)),
            ])
        }),
    }
}

fn split_name(name: &str) -> (&str, &str) {
    let name = name.trim();
    name.split_once(char::is_whitespace)
        .map_or((name, ""), |(first, rest)| (first, rest.trim()))
}

/// The zone a prospect's mail is timed in: theirs, else their rep's.
pub fn zone_of(prospect: &Prospect, rep: &Rep) -> Tz {
    prospect
        .data
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or_else(|| rep.zone())
}

/// The A/B variant a prospect gets: stable, so preview and send agree.
pub fn variant_for(prospect_id: i64, sequence: &str, variants: usize) -> usize {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{sequence}:{prospect_id}").as_bytes());
    let number = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    (number % variants.max(1) as u64) as usize
}

/// Renders one step; an email subject is kept to one line, so no value can
/// start a new header.
pub fn render_step(
    sequence: &Sequence,
    step: usize,
    variant: usize,
    context: &TemplateContext,
) -> Result<RenderedStep, String> {
    let Some(found) = sequence.steps.get(step) else {
        return Err(format!("sequence '{}' has no step {}", sequence.slug, step + 1));
    };
    let place = |field: &str, e: String| format!("step {} {field}: {e}", step + 1);
    match &found.action {
        StepAction::Email(variants) => {
            let chosen = variants
                .get(variant)
                .or(variants.first())
                .ok_or_else(|| place("email", "no text".into()))?;
            let subject = template::render(&chosen.subject, context, false).map_err(|e| place("subject", e))?;
            Ok(RenderedStep::Email {
                subject: one_line(&subject),
                text: template::render(&chosen.text, context, false).map_err(|e| place("text", e))?,
                html: chosen
                    .html
                    .as_ref()
                    .map(|html| template::render(html, context, true).map_err(|e| place("html", e)))
                    .transpose()?,
            })
        }
        StepAction::Task(task) => Ok(RenderedStep::Task {
            instruction: one_line(
                &template::render(&task.instruction, context, false).map_err(|e| place("instruction", e))?,
            ),
            // A link without its values (no post yet) is left out rather than blocking the task.
            link: task
                .link
                .as_ref()
                .and_then(|link| template::render(link, context, false).ok())
                .map(|l| one_line(&l)),
            logs: task.logs.clone(),
        }),
    }
}

/// Control characters (CR, LF, tabs...) become single spaces.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a prospect cannot be enrolled, or the variant they get. Every email
/// step is rendered, so a missing field is found now, not at send time.
pub fn check_eligible(
    prospect: &Prospect,
    sequence: &Sequence,
    suppressed: bool,
    context: &TemplateContext,
) -> Result<usize, String> {
    let data = &prospect.data;
    if data.pipeline != sequence.pipeline || !sequence.stages.contains(&data.stage) {
        return Err(format!(
            "is in {}/{}; sequence '{}' runs in {}/{}",
            data.pipeline,
            data.stage,
            sequence.slug,
            sequence.pipeline,
            sequence.stages.join(", ")
        ));
    }
    if data.email.is_none() {
        return Err("has no email address".into());
    }
    if suppressed {
        return Err("is on the suppression list (unsubscribed, bounced or erased): never mailed again".into());
    }
    let variant = variant_for(prospect.id, &sequence.slug, variant_count(sequence));
    for step in 0..sequence.steps.len() {
        if let StepAction::Email(_) = sequence.steps[step].action {
            render_step(sequence, step, variant, context)?;
        }
    }
    Ok(variant)
}

/// The most variants any email step has: the A/B split of the sequence.
pub fn variant_count(sequence: &Sequence) -> usize {
    sequence
        .steps
        .iter()
        .map(|s| match &s.action {
            StepAction::Email(variants) => variants.len(),
            StepAction::Task(_) => 1,
        })
        .max()
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Pipelines;
    use crate::domain::prospect::{Language, ProspectData};

    fn sequence() -> Sequence {
        let text = include_str!("../../../config/sequences/example.toml");
        Sequence::from_toml("example", text, &Pipelines::shipped(), "default").unwrap()
    }

    fn prospect(name: &str, company: Option<&str>) -> Prospect {
        Prospect {
            id: 7,
            rep_email: "ann@us.example".into(),
            data: ProspectData {
                name: name.into(),
                email: Some("jane@acme.io".into()),
                company: company.map(str::to_string),
                pipeline: "default".into(),
                stage: "prospecting".into(),
                ..ProspectData::default()
            },
            away_until: None,
        }
    }

    fn rep() -> Rep {
        Rep {
            id: 1,
            name: "Ann Rep".into(),
            email: "ann@us.example".into(),
            time_zone: "Europe/Oslo".into(),
            digest_hour: 8,
            language: Language::En,
        }
    }

    #[test]
    fn a_prospect_missing_a_used_field_is_refused_by_name() {
        let jane = prospect("Jane Doe", None);
        let err = check_eligible(&jane, &sequence(), false, &context_for(&jane, &rep(), None)).unwrap_err();
        assert!(err.contains("prospect.company"), "{err}");
        let jane = prospect("Jane Doe", Some("Acme"));
        assert!(check_eligible(&jane, &sequence(), false, &context_for(&jane, &rep(), None)).is_ok());
        assert!(
            check_eligible(&jane, &sequence(), true, &context_for(&jane, &rep(), None))
                .unwrap_err()
                .contains("suppression")
        );
    }

    #[test]
    fn only_the_sequences_stages_can_enroll() {
        let mut jane = prospect("Jane Doe", Some("Acme"));
        jane.data.stage = "proposal".into();
        let err = check_eligible(&jane, &sequence(), false, &context_for(&jane, &rep(), None)).unwrap_err();
        assert!(err.contains("default/proposal") && err.contains("prospecting"), "{err}");
    }

    #[test]
    fn the_latest_post_is_used_when_there_is_one() {
        let jane = prospect("Jane Doe", Some("Acme"));
        let post = PostSummary {
            title: "Shipping on Fridays".into(),
            url: "https://jane.example/p/1".into(),
            date: "2026-11-20T10:00:00Z".parse().unwrap(),
        };
        let context = context_for(&jane, &rep(), Some(&post));
        let sequence = sequence();
        let variant = variant_for(jane.id, "example", 2);
        let with_post = render_step(&sequence, 0, 0, &context).unwrap();
        let RenderedStep::Email { text, .. } = with_post else {
            panic!("an email")
        };
        assert!(text.contains("I read \"Shipping on Fridays\""), "{text}");
        assert!(variant < 2);
        let without = render_step(&sequence, 0, 0, &context_for(&jane, &rep(), None)).unwrap();
        let RenderedStep::Email { text, .. } = without else {
            panic!("an email")
        };
        assert!(!text.contains("I read"), "{text}");
        assert!(text.starts_with("\nHi Jane,") || text.starts_with("Hi Jane,"), "{text}");
    }

    #[test]
    fn no_value_can_break_the_subject_into_a_new_header() {
        let jane = prospect("Jane Doe", Some("Acme\r\nBcc: everyone@example.com"));
        let step = render_step(&sequence(), 0, 0, &context_for(&jane, &rep(), None)).unwrap();
        let RenderedStep::Email { subject, .. } = step else {
            panic!("an email")
        };
        assert!(!subject.contains('\r') && !subject.contains('\n'), "{subject:?}");
        assert_eq!(subject, "Acme Bcc: everyone@example.com and faster deploys");
    }

    #[test]
    fn variants_are_stable_and_spread() {
        assert_eq!(variant_for(42, "intro", 2), variant_for(42, "intro", 2));
        let split: usize = (0..1000).map(|id| variant_for(id, "intro", 2)).sum();
        assert!((400..600).contains(&split), "{split} of 1000 got variant B");
    }
}
