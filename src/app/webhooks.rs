//! Outgoing webhooks as use cases: the dispatcher the daemon's
//! `deliver-webhooks` job (and `rapport webhooks send`) runs, and the
//! deliveries listed for the operator.

use super::{invalid, Actor, AppResult, Core};
use crate::store::OutDelivery;
use crate::webhooks::Dispatcher;

/// The dispatcher of this install (its HTTP client lives as long as it does).
pub fn dispatcher(core: &Core) -> Dispatcher {
    Dispatcher::new(core.settings.clone(), core.store.clone(), core.clock.clone())
}

/// Deliveries by state, newest first: the team's business (they carry every rep's events).
pub async fn list(core: &Core, actor: &Actor, state: Option<&str>, limit: u32) -> AppResult<Vec<OutDelivery>> {
    if let Actor::Rep { .. } = actor {
        return Err(invalid(
            "outgoing webhooks carry the whole team's events: a manager's or an admin's to read",
        ));
    }
    if let Some(state) = state {
        if !["pending", "delivered", "gave_up"].contains(&state) {
            return Err(invalid(format!(
                "'{state}' is not a state; use pending, delivered or gave_up"
            )));
        }
    }
    Ok(core.store.list_webhooks(state, limit).await?)
}
