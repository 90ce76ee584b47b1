//! The digest from a seat at the board: one rep's digest of a day, exactly
//! as it is (or would be) mailed at their digest hour, and sending every
//! digest that is due now (what the daemon's `send-digests` job does).

use super::{AppError, AppResult, Core};
use crate::digest::{digest_moment, prepare, DigestReport, DigestSender};
use crate::domain::digest::{render, Rendered};
use crate::domain::prospect::Rep;
use crate::outbound::Mailer;
use chrono::NaiveDate;

/// The rep's digest of `date` (default: today in their zone) as sent at
/// their digest hour that day; `as_of_now` shows it as of now instead, if
/// that is earlier (a digest of today asked for before the hour).
pub async fn show(core: &Core, rep: &Rep, date: Option<NaiveDate>, as_of_now: bool) -> AppResult<Rendered> {
    let now = core.clock.now();
    let (date, at) = match date {
        Some(date) => {
            let moment = digest_moment(rep, date);
            (date, if as_of_now { now.min(moment) } else { moment })
        }
        None => (now.with_timezone(&rep.zone()).date_naive(), now),
    };
    let input = prepare(core.store.as_ref(), &core.settings, rep, date, at).await?;
    render(input).map_err(AppError::Internal)
}

/// The digest sender of this install, with its mail transport.
pub fn sender(core: &Core) -> AppResult<DigestSender> {
    let mailer = Mailer::from_settings(&core.settings).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(DigestSender::new(
        core.store.clone(),
        core.clock.clone(),
        core.settings.clone(),
        mailer,
    ))
}

/// Sends every digest due now, to every rep.
pub async fn send_due(core: &Core) -> AppResult<DigestReport> {
    Ok(sender(core)?.run_pass().await?)
}
