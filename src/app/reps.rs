//! Which rep a request is for: named by id, email or name, or the only rep
//! there is; a rep acting for themselves is always their own rep.

use super::{invalid, Actor, AppResult, Core};
use crate::domain::prospect::{NewRep, Rep};

/// The rep `wanted` names, else the only rep. A rep actor may name only themselves.
pub async fn resolve(core: &Core, actor: &Actor, wanted: Option<&str>) -> AppResult<Rep> {
    let reps = core.store.list_reps().await?;
    let listing = || {
        reps.iter()
            .map(|r| format!("{} (#{})", r.email, r.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match wanted.map(str::trim) {
        Some(wanted) => reps
            .iter()
            .find(|r| {
                r.id.to_string() == wanted
                    || r.email.eq_ignore_ascii_case(wanted)
                    || r.name.eq_ignore_ascii_case(wanted)
            })
            .cloned()
            .ok_or_else(|| invalid(format!("no rep '{wanted}'; reps: {}", listing())))?,
        None => match (actor, reps.as_slice()) {
            (Actor::Rep { id, .. }, _) => reps
                .iter()
                .find(|r| r.id == *id)
                .cloned()
                .ok_or_else(|| invalid("your rep account no longer exists"))?,
            (_, [only]) => only.clone(),
            (_, []) => {
                return Err(invalid(
                    "there is no rep yet; create one with `rapport init --rep-name NAME --rep-email EMAIL`",
                ))
            }
            _ => {
                return Err(invalid(format!(
                    "there are several reps; say which with --rep ({})",
                    listing()
                )))
            }
        },
    };
    match actor {
        Actor::Rep { id, .. } if *id != found.id => {
            Err(invalid(format!("you act for yourself only, not for {}", found.email)))
        }
        _ => Ok(found),
    }
}

/// A rep's time zone (UTC for a rep not found).
pub async fn zone_of(core: &Core, rep: crate::domain::prospect::RepId) -> AppResult<chrono_tz::Tz> {
    Ok(core.store.rep_zone(rep).await?)
}

/// The team's reps.
pub async fn list(core: &Core) -> AppResult<Vec<Rep>> {
    Ok(core.store.list_reps().await?)
}

/// Adds a rep (name, address, zone, digest hour, language: each checked).
/// A rep acting for themselves cannot add others.
pub async fn add(
    core: &Core,
    actor: &Actor,
    name: &str,
    email: &str,
    time_zone: &str,
    digest_hour: u8,
    language: &str,
) -> AppResult<Rep> {
    if let Actor::Rep { .. } = actor {
        return Err(invalid("only a manager or an admin adds reps"));
    }
    let rep = NewRep::validate(name, email, time_zone, digest_hour, language).map_err(invalid)?;
    Ok(core.store.create_rep(&rep, core.clock.now()).await?)
}

/// A rep's own settings, each checked: zone (IANA), digest hour (0-23),
/// language (en or nb). A rep changes only their own.
pub async fn set_preferences(
    core: &Core,
    actor: &Actor,
    rep: Option<&str>,
    time_zone: &str,
    digest_hour: u8,
    language: &str,
) -> AppResult<Rep> {
    let rep = resolve(core, actor, rep).await?;
    let checked = NewRep::validate(&rep.name, &rep.email, time_zone, digest_hour, language).map_err(invalid)?;
    Ok(core
        .store
        .set_rep_preferences(rep.id, &checked.time_zone, checked.digest_hour, checked.language)
        .await?)
}
