//! Adding a prospect and changing their details: the values as people type
//! them (a deal value with its currency, profile URLs, `NAME=VALUE` custom
//! fields) checked once here for every door.

use super::{invalid, reps, Actor, AppResult, Core};
use crate::domain::money::{parse_currency, parse_money, value_and_currency, Amount};
use crate::domain::profile::normalize_profile_url;
use crate::domain::prospect::{
    normalize_email, normalize_field_name, normalize_tag, optional_text, parse_date, required_text,
    validate_probability, validate_time_zone, Prospect, ProspectData, ProspectEdit, ProspectRef,
};
use std::collections::BTreeMap;

/// A new prospect, as typed.
#[derive(Debug, Clone, Default)]
pub struct AddProspect {
    /// Whose prospect (default: the acting rep, or the only rep).
    pub rep: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub stage: Option<String>,
    pub pipeline: Option<String>,
    /// As people write it: `$100,000`, `120k`, `NOK 1 000 000`.
    pub value: Option<String>,
    pub currency: Option<String>,
    pub profiles: Vec<String>,
    pub time_zone: Option<String>,
    pub probability: Option<i64>,
    pub expected_close: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// `NAME=VALUE` each.
    pub fields: Vec<String>,
}

/// The prospect as stored, and whether their address may never be mailed.
#[derive(Debug, Clone)]
pub struct Added {
    pub prospect: Prospect,
    pub suppressed: bool,
}

pub async fn add(core: &Core, actor: &Actor, input: AddProspect) -> AppResult<Added> {
    let rep = reps::resolve(core, actor, input.rep.as_deref()).await?;
    let cfg = &core.settings.config;
    let pipeline = core
        .settings
        .pipelines
        .get(input.pipeline.as_deref().unwrap_or(&cfg.pipelines.default))
        .map_err(invalid)?;
    let stage = match &input.stage {
        Some(s) => pipeline.resolve_stage(s).map_err(invalid)?,
        None => pipeline.first_stage(),
    };
    // A value may name its currency (`$100,000`, `NOK 1 000 000`); it must agree with the currency given.
    let (value, currency) = match input.value.as_deref() {
        Some(text) => {
            value_and_currency(text, input.currency.as_deref(), &cfg.prospects.default_currency).map_err(invalid)?
        }
        None => (
            Amount::default(),
            parse_currency(input.currency.as_deref().unwrap_or(&cfg.prospects.default_currency)).map_err(invalid)?,
        ),
    };
    let data = ProspectData {
        rep_id: rep.id,
        name: required_text("name", &input.name).map_err(invalid)?,
        email: input
            .email
            .as_deref()
            .map(normalize_email)
            .transpose()
            .map_err(invalid)?,
        company: optional_text("company", input.company.as_deref()).map_err(invalid)?,
        title: optional_text("title", input.title.as_deref()).map_err(invalid)?,
        time_zone: input
            .time_zone
            .as_deref()
            .map(validate_time_zone)
            .transpose()
            .map_err(invalid)?,
        pipeline: pipeline.slug.clone(),
        stage: stage.slug.clone(),
        value,
        currency,
        probability_override: input
            .probability
            .map(validate_probability)
            .transpose()
            .map_err(invalid)?,
        expected_close: input
            .expected_close
            .as_deref()
            .map(parse_date)
            .transpose()
            .map_err(invalid)?,
        tags: all(&input.tags, normalize_tag)?,
        notes: input.notes.filter(|n| !n.trim().is_empty()),
        custom_fields: parse_fields(&input.fields)?,
        profiles: all(&input.profiles, normalize_profile_url)?,
    };
    let now = core.clock.now();
    let id = core.store.create_prospect(&data, &actor.recorded_as(), now).await?;
    let suppressed = match &data.email {
        Some(email) => core.store.is_suppressed(email).await?,
        None => false,
    };
    let prospect = core.store.find_prospect(actor.scope(), &ProspectRef::Id(id)).await?;
    Ok(Added { prospect, suppressed })
}

/// A field `edit` can empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearable {
    Email,
    Company,
    Title,
    TimeZone,
    Probability,
    ExpectedClose,
    Notes,
}

/// Changes to a prospect's details, as typed; `None` and empty lists change nothing.
#[derive(Debug, Clone, Default)]
pub struct EditProspect {
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub time_zone: Option<String>,
    /// As people write it; a currency written in it changes the deal's currency too.
    pub value: Option<String>,
    pub currency: Option<String>,
    pub probability: Option<i64>,
    pub expected_close: Option<String>,
    pub notes: Option<String>,
    /// Hand the prospect to this rep (team actors only).
    pub owner: Option<String>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// `NAME=VALUE` each.
    pub set_fields: Vec<String>,
    pub unset_fields: Vec<String>,
    pub add_profiles: Vec<String>,
    pub remove_profiles: Vec<String>,
    pub clear: Vec<Clearable>,
}

pub async fn edit(core: &Core, actor: &Actor, prospect: &ProspectRef, input: EditProspect) -> AppResult<Prospect> {
    let scope = actor.scope();
    let found = core.store.find_prospect(scope, prospect).await?;
    let clears = |f: Clearable| input.clear.contains(&f);
    let clearable = |field: Clearable, value: Option<String>| -> Option<Option<String>> {
        if clears(field) {
            Some(None)
        } else {
            value.map(Some)
        }
    };
    // A value that names its currency changes the deal's currency too, and must agree with the currency given.
    let edited_value = match input.value.as_deref() {
        Some(text) => {
            let (value, written) = parse_money(text).map_err(invalid)?;
            if let Some(written) = &written {
                value_and_currency(text, input.currency.as_deref(), written).map_err(invalid)?;
            }
            Some((value, written))
        }
        None => None,
    };
    let owner = match &input.owner {
        Some(owner) if matches!(actor, Actor::Rep { .. }) => {
            return Err(invalid(format!(
                "handing a prospect to {owner} is for a manager; ask yours"
            )))
        }
        Some(owner) => Some(reps::resolve(core, actor, Some(owner)).await?.id),
        None => None,
    };
    let edit = ProspectEdit {
        name: input
            .name
            .as_deref()
            .map(|n| required_text("name", n))
            .transpose()
            .map_err(invalid)?,
        email: clearable(
            Clearable::Email,
            input
                .email
                .as_deref()
                .map(normalize_email)
                .transpose()
                .map_err(invalid)?,
        ),
        company: clearable(
            Clearable::Company,
            optional_text("company", input.company.as_deref()).map_err(invalid)?,
        ),
        title: clearable(
            Clearable::Title,
            optional_text("title", input.title.as_deref()).map_err(invalid)?,
        ),
        time_zone: clearable(
            Clearable::TimeZone,
            input
                .time_zone
                .as_deref()
                .map(validate_time_zone)
                .transpose()
                .map_err(invalid)?,
        ),
        value: edited_value.as_ref().map(|(value, _)| *value),
        currency: match &edited_value {
            Some((_, Some(written))) => Some(written.clone()),
            _ => input
                .currency
                .as_deref()
                .map(parse_currency)
                .transpose()
                .map_err(invalid)?,
        },
        probability_override: if clears(Clearable::Probability) {
            Some(None)
        } else {
            input
                .probability
                .map(validate_probability)
                .transpose()
                .map_err(invalid)?
                .map(Some)
        },
        expected_close: if clears(Clearable::ExpectedClose) {
            Some(None)
        } else {
            input
                .expected_close
                .as_deref()
                .map(parse_date)
                .transpose()
                .map_err(invalid)?
                .map(Some)
        },
        notes: clearable(Clearable::Notes, input.notes.clone()),
        rep_id: owner,
        add_tags: all(&input.add_tags, normalize_tag)?,
        remove_tags: input.remove_tags.iter().map(|t| t.trim().to_lowercase()).collect(),
        set_fields: parse_fields(&input.set_fields)?,
        unset_fields: all(&input.unset_fields, normalize_field_name)?,
        add_profiles: all(&input.add_profiles, normalize_profile_url)?,
        remove_profiles: all(&input.remove_profiles, |p| normalize_profile_url(p).map(|p| p.url))?,
    };
    let now = core.clock.now();
    core.store.edit_prospect(scope, found.id, &edit, now).await?;
    // A prospect handed to another rep is out of a rep actor's scope; the team's scope reads it back.
    Ok(core
        .store
        .find_prospect(crate::store::RepScope::Team, &ProspectRef::Id(found.id))
        .await?)
}

/// Each value checked by `check`, or the first problem.
fn all<T>(values: &[String], check: impl Fn(&str) -> Result<T, String>) -> AppResult<Vec<T>> {
    values
        .iter()
        .map(|v| check(v))
        .collect::<Result<_, _>>()
        .map_err(invalid)
}

/// `NAME=VALUE` custom fields.
fn parse_fields(fields: &[String]) -> AppResult<BTreeMap<String, String>> {
    fields
        .iter()
        .map(|f| {
            let (name, value) = f
                .split_once('=')
                .ok_or_else(|| invalid(format!("--field '{f}' needs the form NAME=VALUE")))?;
            Ok((normalize_field_name(name).map_err(invalid)?, value.trim().to_string()))
        })
        .collect()
}
