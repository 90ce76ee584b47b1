//! Outgoing webhooks: other systems follow rapport's events. Each pass
//! queues, per receiver (`[[webhooks.out]]`), the new events of the kinds it
//! asked for — from its cursor over the event log, in the same transaction
//! that moves the cursor, so a crash queues nothing twice and loses nothing
//! — then sends what is due through the guarded HTTP client, signed in the
//! Standard Webhooks format, and settles each attempt: delivered (never sent
//! again), retried later on a widening schedule, or given up after 24 hours.
//! Deliveries live in the store, so a restart resumes them.

use crate::config::{OutWebhook, Settings};
use crate::domain::clock::Clock;
use crate::domain::hooks::outgoing::{self, Body, Data, Prospect};
use crate::domain::prospect::ProspectRef;
use crate::net::client::HttpClient;
use crate::store::{Attempt, NewDelivery, RepScope, Store, StoreError, StoreResult};
use chrono::Duration;
use serde::Serialize;
use std::sync::Arc;

/// Events read from the log per statement.
const BATCH: u32 = 500;
/// Deliveries claimed per pass.
const CLAIM: u32 = 100;
/// How long a claimed delivery is a worker's (more than the client's total timeout).
const LEASE_SECS: i64 = 300;

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub queued: u32,
    pub delivered: u32,
    pub retried: u32,
    pub gave_up: u32,
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    http: Result<HttpClient, String>,
}

impl Dispatcher {
    pub fn new(settings: Arc<Settings>, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Dispatcher {
        let http = HttpClient::new(settings.config.fetch.client_settings()).map_err(|e| e.to_string());
        Dispatcher {
            store,
            clock,
            settings,
            http,
        }
    }

    pub async fn run_pass(&self) -> StoreResult<Report> {
        let mut report = Report::default();
        for hook in &self.settings.config.webhooks.out {
            report.queued += self.queue(hook).await?;
        }
        self.deliver_due(&mut report).await?;
        Ok(report)
    }

    /// Queues the receiver's new events; a new receiver starts at the latest one.
    async fn queue(&self, hook: &OutWebhook) -> StoreResult<u32> {
        let endpoint = hook.key();
        let now = self.clock.now();
        let Some(mut cursor) = self.store.webhook_cursor(&endpoint).await? else {
            let latest = self.store.latest_event_id(RepScope::Team).await?;
            self.store.queue_webhooks(&endpoint, &[], latest, now).await?;
            return Ok(0);
        };
        let mut queued = 0;
        loop {
            let events = self.store.events_after(cursor, BATCH).await?;
            let Some(last) = events.last().map(|e| e.id) else { break };
            let mut deliveries = Vec::new();
            for event in events.iter().filter(|e| hook.events.contains(&e.kind)) {
                let prospect = match self
                    .store
                    .find_prospect(RepScope::Team, &ProspectRef::Id(event.prospect_id))
                    .await
                {
                    Ok(prospect) => prospect,
                    // Erased since: nothing of them goes out.
                    Err(StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                };
                let body = Body {
                    kind: &event.kind,
                    timestamp: event.occurred_at,
                    data: Data {
                        event_id: event.id,
                        prospect: Prospect {
                            id: prospect.id,
                            name: &prospect.data.name,
                            email: prospect.data.email.as_deref(),
                            company: prospect.data.company.as_deref(),
                            pipeline: &prospect.data.pipeline,
                            stage: &prospect.data.stage,
                            rep: &prospect.rep_email,
                        },
                        actor_kind: event.actor.kind(),
                        actor: event.actor.name(),
                        details: &event.data,
                    },
                };
                deliveries.push(NewDelivery {
                    event_id: event.id,
                    message_id: outgoing::message_id(&endpoint, event.id),
                    payload: serde_json::to_string(&body).unwrap_or_default(),
                });
            }
            queued += self.store.queue_webhooks(&endpoint, &deliveries, last, now).await?;
            cursor = last;
            if events.len() < BATCH as usize {
                break;
            }
        }
        Ok(queued)
    }

    async fn deliver_due(&self, report: &mut Report) -> StoreResult<()> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_webhooks(
                crate::store::worker_name(),
                now,
                now + Duration::seconds(LEASE_SECS),
                CLAIM,
            )
            .await?;
        for delivery in claimed {
            let hook = self
                .settings
                .config
                .webhooks
                .out
                .iter()
                .find(|h| h.key() == delivery.endpoint);
            let result = match hook {
                None => Err("its receiver is no longer in [[webhooks.out]]".to_string()),
                Some(hook) => self.send(hook, &delivery.message_id, &delivery.payload).await,
            };
            let now = self.clock.now();
            let attempt = match result {
                Ok(()) => Attempt::Delivered,
                Err(error) => match (
                    hook,
                    outgoing::next_attempt(delivery.created_at, delivery.attempts + 1, now),
                ) {
                    (Some(_), Some(at)) => Attempt::Retry { at, error },
                    _ => Attempt::GaveUp { error },
                },
            };
            let (counter, label) = match &attempt {
                Attempt::Delivered => (&mut report.delivered, "delivered"),
                Attempt::Retry { error, .. } => {
                    tracing::warn!(
                        receiver = hook.map(OutWebhook::shown).unwrap_or_default(),
                        message = delivery.message_id,
                        error,
                        "webhook delivery failed; it will be retried"
                    );
                    (&mut report.retried, "failed")
                }
                Attempt::GaveUp { error } => {
                    tracing::error!(
                        receiver = hook.map(OutWebhook::shown).unwrap_or_default(),
                        message = delivery.message_id,
                        error,
                        "webhook delivery given up after 24 hours of retries"
                    );
                    (&mut report.gave_up, "gave_up")
                }
            };
            *counter += 1;
            ::metrics::counter!(crate::metrics::names::WEBHOOKS_OUT, "result" => label).increment(1);
            if !self.store.settle_webhook(delivery.claim(), &attempt, now).await? {
                // Delivered (or tried) past the lease: the worker that took the
                // delivery over settles it; the receiver may see the message id twice.
                tracing::warn!(
                    message = delivery.message_id,
                    "a webhook attempt was not recorded: its lease ran out and another worker took it over"
                );
                ::metrics::counter!(crate::metrics::names::FENCED_WRITES, "work" => "webhook").increment(1);
            }
        }
        Ok(())
    }

    async fn send(&self, hook: &OutWebhook, message_id: &str, payload: &str) -> Result<(), String> {
        let http = self.http.as_ref().map_err(Clone::clone)?;
        let url = url::Url::parse(hook.url.trim()).map_err(|e| format!("webhooks.out url: {e}"))?;
        let secret = hook.secret.as_ref().map(|s| s.expose()).unwrap_or_default();
        let key = outgoing::signing_key(secret)?;
        let timestamp = self.clock.now().timestamp();
        let headers = [
            ("webhook-id", message_id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                outgoing::signature(&key, message_id, timestamp, payload.as_bytes()),
            ),
        ];
        http.post_secret(&url, "application/json", &headers, payload.as_bytes().to_vec())
            .await
    }
}
