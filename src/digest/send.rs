//! Mailing each rep their digest once a day at their digest hour (and
//! posting it to the team chat when configured), exactly once per rep and
//! date: the digest row is claimed before the mail goes out.

use super::gather::*;
use crate::config::Settings;
use crate::domain::prospect::Rep;
use crate::store::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};

/// What one pass of the digest job did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DigestReport {
    pub sent: u32,
    pub skipped: u32,
    pub errors: Vec<String>,
}

/// Sends every digest that is due: each rep's, at their local hour, once per
/// local date. The day is claimed in the store before anything is sent, so a
/// restart or a second worker never sends it twice; a send that fails is
/// recorded and not retried (the next day's digest carries on).
pub struct DigestSender {
    store: std::sync::Arc<dyn Store>,
    clock: std::sync::Arc<dyn crate::domain::clock::Clock>,
    settings: std::sync::Arc<Settings>,
    mailer: crate::outbound::Mailer,
    /// The one guarded client, for the chat webhook.
    http: Result<crate::net::client::HttpClient, String>,
}

impl DigestSender {
    pub fn new(
        store: std::sync::Arc<dyn Store>,
        clock: std::sync::Arc<dyn crate::domain::clock::Clock>,
        settings: std::sync::Arc<Settings>,
        mailer: crate::outbound::Mailer,
    ) -> DigestSender {
        let http =
            crate::net::client::HttpClient::new(settings.config.fetch.client_settings()).map_err(|e| e.to_string());
        DigestSender {
            store,
            clock,
            settings,
            mailer,
            http,
        }
    }

    pub async fn run_pass(&self) -> Result<DigestReport, StoreError> {
        let mut report = DigestReport::default();
        for rep in self.store.list_reps().await? {
            let now = self.clock.now();
            let Some(date) = crate::domain::digest::timing::due_date(now, rep.digest_hour, rep.zone()) else {
                continue;
            };
            let message_id = format!(
                "rapport.digest.{}.{date}.{:016x}@{}",
                rep.id,
                rand::random::<u64>(),
                domain_of(&rep)
            );
            if !self.store.claim_digest(rep.id, date, &message_id, now).await? {
                continue;
            }
            match self.send(&rep, date, &message_id).await {
                Ok(Ok(true)) => report.sent += 1,
                Ok(Ok(false)) => report.skipped += 1,
                Ok(Err(error)) => report.errors.push(format!("digest for {}: {error}", rep.email)),
                // The day is claimed: note why it failed rather than leave it `sending`.
                Err(e) => {
                    let error = e.to_string();
                    let _ = self
                        .store
                        .finish_digest(rep.id, date, "failed", None, Some(&error), self.clock.now())
                        .await;
                    report.errors.push(format!("digest for {}: {error}", rep.email));
                }
            }
        }
        Ok(report)
    }

    /// Ok(true) sent, Ok(false) a quiet day left out, Err why it failed.
    async fn send(&self, rep: &Rep, date: NaiveDate, message_id: &str) -> Result<Result<bool, String>, StoreError> {
        let currency = self.settings.config.prospects.default_currency.clone();
        let now = self.clock.now();
        let input = prepare(self.store.as_ref(), &self.settings, rep, date, now).await?;
        let weighted = input.pipeline.as_ref().map(|p| p.weighted);
        let shown = weighted.map(|w| (w, currency.as_str()));
        let digest = match crate::domain::digest::render(input) {
            Ok(digest) => digest,
            Err(e) => return self.failed(rep, date, e).await,
        };
        if digest.empty && !self.settings.config.digest.send_empty {
            self.store
                .finish_digest(rep.id, date, "skipped", shown, None, now)
                .await?;
            return Ok(Ok(false));
        }
        let message = match compose(rep, message_id, &digest, now) {
            Ok(message) => message,
            Err(e) => return self.failed(rep, date, e).await,
        };
        if let Err(e) = self.mailer.send(message).await {
            return self.failed(rep, date, e.to_string()).await;
        }
        let chat = self.post_to_chat(&digest.text).await.err();
        self.store
            .finish_digest(rep.id, date, "sent", shown, chat.as_deref(), self.clock.now())
            .await?;
        Ok(match chat {
            None => Ok(true),
            Some(e) => Err(format!("sent by mail, but the chat webhook failed: {e}")),
        })
    }

    async fn failed(&self, rep: &Rep, date: NaiveDate, error: String) -> Result<Result<bool, String>, StoreError> {
        self.store
            .finish_digest(rep.id, date, "failed", None, Some(&error), self.clock.now())
            .await?;
        Ok(Err(error))
    }

    /// The digest's text to a Slack-compatible incoming webhook, if one is
    /// set, through the guarded client. The text is escaped as Slack's
    /// format requires, so `<!channel>` or `<https://x|Click>` in a feed's
    /// title arrives as text. Errors never show the webhook's URL (its path
    /// is its secret).
    async fn post_to_chat(&self, text: &str) -> Result<(), String> {
        let Some(secret) = &self.settings.config.digest.slack_webhook_url else {
            return Ok(());
        };
        let url = url::Url::parse(secret.expose())
            .map_err(|_| "digest.slack_webhook_url is not a URL; paste the webhook's https address".to_string())?;
        let http = self
            .http
            .as_ref()
            .map_err(|e| format!("digest.slack_webhook_url: {e}"))?;
        let body = serde_json::json!({ "text": slack_escape(text) }).to_string();
        http.post_secret(&url, "application/json", &[], body.into_bytes())
            .await
            .map_err(|e| format!("digest.slack_webhook_url: {e}"))
    }
}

/// Slack's message format reads `&`, `<` and `>` as control characters: text
/// from feeds and replies must arrive as written.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn domain_of(rep: &Rep) -> &str {
    rep.email.rsplit_once('@').map_or("rapport.invalid", |(_, d)| d)
}

/// The digest as an email to the rep, marked as machine-made (RFC 3834).
fn compose(
    rep: &Rep,
    message_id: &str,
    digest: &crate::domain::digest::Rendered,
    now: DateTime<Utc>,
) -> Result<lettre::Message, String> {
    let language = crate::domain::digest::Words::for_language(rep.language).lang;
    let notice = crate::outbound::notify::Notice {
        subject: &digest.subject,
        text: &digest.text,
        html: Some(&digest.html),
        message_id: Some(message_id),
        language: Some(language),
    };
    crate::outbound::notify::to_rep(rep, &notice, now)
}

#[cfg(test)]
mod tests {
    #[test]
    fn slack_control_characters_arrive_as_text() {
        assert_eq!(
            super::slack_escape("<!channel> R&D <https://evil.example|Click>"),
            "&lt;!channel&gt; R&amp;D &lt;https://evil.example|Click&gt;"
        );
    }
}
