//! The digest's words in each language rapport ships.

use crate::domain::intent::Intent;
use crate::domain::prospect::Language;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Words {
    /// The BCP 47 tag, for the HTML `lang` attribute.
    pub lang: &'static str,
    /// Morning (05–12), afternoon (12–18) and evening greetings, by the local hour it is sent at.
    greetings: [&'static str; 3],
    /// "times in": before the zone the digest's times are in.
    pub times_in: &'static str,
    pub setup: &'static str,
    pub intro: &'static str,
    pub nothing: &'static str,
    pub replies: &'static str,
    pub posts: &'static str,
    pub tasks: &'static str,
    pub suggestions: &'static str,
    pub suggest_person: &'static str,
    pub paused: &'static str,
    pub broken: &'static str,
    pub needs_look: &'static str,
    pub pipeline: &'static str,
    pub weighted: &'static str,
    pub since_last: &'static str,
    pub engagement: &'static str,
    pub deal: &'static str,
    pub in_stage: &'static str,
    pub due: &'static str,
    pub why: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub footer: &'static str,
    /// "… and 12 more"
    pub and: &'static str,
    pub more: &'static str,
    #[serde(skip)]
    language: Language,
}

const ENGLISH: Words = Words {
    lang: "en",
    greetings: ["Good morning", "Good afternoon", "Good evening"],
    times_in: "times in",
    setup: "rapport's setup needs fixing",
    intro: "Here is whom to engage today, and why.",
    nothing: "Nothing needs you today.",
    replies: "Replies to answer",
    posts: "New posts to engage with",
    tasks: "Tasks and reminders due",
    suggestions: "Suggestions to approve",
    suggest_person: "add as a new prospect:",
    paused: "Sequences paused",
    broken: "Broken sources",
    needs_look: "Needs a look: mail that changed nothing",
    pipeline: "Pipeline",
    weighted: "weighted value",
    since_last: "since the last digest",
    engagement: "engagement",
    deal: "deal",
    in_stage: "in",
    due: "due",
    why: "why",
    approve: "approve",
    reject: "reject",
    footer: "Sent by rapport.",
    and: "and",
    more: "more",
    language: Language::En,
};

const NORWEGIAN: Words = Words {
    lang: "nb",
    greetings: ["God morgen", "God ettermiddag", "God kveld"],
    times_in: "tider i",
    setup: "Oppsettet av rapport må rettes",
    intro: "Her er hvem du bør kontakte i dag, og hvorfor.",
    nothing: "Ingenting trenger deg i dag.",
    replies: "Svar å besvare",
    posts: "Nye innlegg å engasjere seg i",
    tasks: "Oppgaver og påminnelser som forfaller",
    suggestions: "Forslag som venter på godkjenning",
    suggest_person: "legg til som nytt prospekt:",
    paused: "Sekvenser på pause",
    broken: "Kilder som feiler",
    needs_look: "Bør sjekkes: e-post som ikke endret noe",
    pipeline: "Salgstrakt",
    weighted: "vektet verdi",
    since_last: "siden forrige oppsummering",
    engagement: "engasjement",
    deal: "avtale",
    in_stage: "i",
    due: "frist",
    why: "hvorfor",
    approve: "godkjenn",
    reject: "avvis",
    footer: "Sendt av rapport.",
    and: "og",
    more: "til",
    language: Language::Nb,
};

const NORWEGIAN_MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
const NORWEGIAN_DAYS: [&str; 7] = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"];

impl Words {
    pub fn for_language(language: Language) -> Words {
        match language {
            Language::En => ENGLISH,
            Language::Nb => NORWEGIAN,
        }
    }

    /// The date as people write it: "Tuesday 1 December 2026", "tirsdag 1. desember 2026".
    pub fn date(&self, date: NaiveDate) -> String {
        match self.language {
            Language::En => date.format("%A %-d %B %Y").to_string(),
            Language::Nb => format!(
                "{} {}. {} {}",
                NORWEGIAN_DAYS[date.weekday().num_days_from_monday() as usize],
                date.day(),
                NORWEGIAN_MONTHS[date.month0() as usize],
                date.year()
            ),
        }
    }

    /// The greeting for a digest sent at this local hour.
    pub fn greeting(&self, hour: u32) -> &'static str {
        match hour {
            5..=11 => self.greetings[0],
            12..=17 => self.greetings[1],
            _ => self.greetings[2],
        }
    }

    /// A reply's intent as the rep reads it.
    pub fn intent(&self, intent: Intent) -> &'static str {
        let en = match intent {
            Intent::Interested => "wants to talk",
            Intent::NotNow => "later",
            Intent::NotInterested => "declined",
            Intent::Unsubscribe => "asked to be removed",
            Intent::Referral => "points to someone else",
            Intent::WrongPerson => "wrong person",
            Intent::LeftCompany => "has left",
            Intent::Question => "asks a question",
            Intent::Other => "other",
        };
        let nb = match intent {
            Intent::Interested => "vil snakke",
            Intent::NotNow => "senere",
            Intent::NotInterested => "takket nei",
            Intent::Unsubscribe => "vil fjernes",
            Intent::Referral => "viser til en annen",
            Intent::WrongPerson => "feil person",
            Intent::LeftCompany => "har sluttet",
            Intent::Question => "stiller et spørsmål",
            Intent::Other => "annet",
        };
        match self.language {
            Language::En => en,
            Language::Nb => nb,
        }
    }

    /// What kind of report an unverified one was.
    pub fn report(&self, report: &str) -> &'static str {
        match (self.language, report) {
            (Language::En, "bounce") => "a bounce",
            (Language::En, "complaint") => "a spam complaint",
            (Language::En, _) => "an out-of-office answer",
            (Language::Nb, "bounce") => "en returmelding",
            (Language::Nb, "complaint") => "en spamklage",
            (Language::Nb, _) => "et fraværssvar",
        }
    }

    pub fn subject(&self, date: &str, empty: bool) -> String {
        match (self.language, empty) {
            (Language::En, false) => format!("Whom to engage today — {date}"),
            (Language::En, true) => format!("Nothing needs you today — {date}"),
            (Language::Nb, false) => format!("Hvem du bør kontakte i dag — {date}"),
            (Language::Nb, true) => format!("Ingenting trenger deg i dag — {date}"),
        }
    }
}
