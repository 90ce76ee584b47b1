//! Today: what the rep's digest would say now (replies with their fresh
//! text, posts worth engaging, suggestions, paused sequences, broken
//! sources), with the tasks due now as tasks the rep can mark done or put
//! off. Always the signed-in rep's own, whatever their role — except the
//! webhook deliveries that matched no prospect: a rep reviews the ones they
//! organised, a manager or an admin the team's.

use super::tasks::{self, DueTask};
use super::{Actor, AppResult, Core};
use crate::digest::prepare;
use crate::domain::digest::{rank, DigestInput};
use crate::domain::prospect::Rep;

pub struct Today {
    /// Ranked as the digest ranks it; its `tasks` are left to `due`.
    pub digest: DigestInput,
    /// Tasks due now, with their ids.
    pub due: Vec<DueTask>,
    /// Webhook deliveries that matched no prospect, for the actor to review.
    pub unmatched: Vec<crate::store::UnmatchedDelivery>,
}

pub async fn today(core: &Core, actor: &Actor, rep: &Rep) -> AppResult<Today> {
    let now = core.clock.now();
    let date = now.with_timezone(&rep.zone()).date_naive();
    let digest = rank(prepare(core.store.as_ref(), &core.settings, rep, date, now).await?);
    let own = Actor::Rep {
        id: rep.id,
        name: rep.name.clone(),
    };
    let due = tasks::list(core, &own, false).await?;
    let unmatched = super::hooks::unmatched(core, actor).await?;
    Ok(Today { digest, due, unmatched })
}
