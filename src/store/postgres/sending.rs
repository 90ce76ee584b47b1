//! The PostgreSQL side of sending: outbox, enrolment updates, pauses, tasks,
//! one-click unsubscribes and rapport's own keys.

use super::mail::apply_side_effects;
use super::{append_event_on, db, parse_ts, scope_clause, ts};
use crate::domain::event::kinds::EMAIL_REPLIED;
use crate::domain::event::payload::OneClickUnsubscribe;
use crate::domain::event::{keys, Actor, NewEvent};
use crate::domain::mail::MailEffect;
use crate::domain::prospect::{ProspectId, RepId};
use crate::store::{email_hash, Claim, PgStore, RepScope, StoreError, StoreResult};
use crate::store::{EnrolmentUpdate, NewSend, OutboxEntry, SendStart, SendingLoad, SendingPause, SendingStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

const OUTBOX_SELECT: &str = "SELECT o.id, o.enrolment_id, o.prospect_id, o.rep_id, o.sequence, o.step, o.attempt, \
     o.message_id, o.to_email, o.subject, o.transport, o.state, o.started_at, o.sent_at, o.error FROM outbox o \
     JOIN prospects p ON p.id = o.prospect_id";

#[async_trait]
impl SendingStore for PgStore {
    async fn begin_send(&self, send: &NewSend, now: DateTime<Utc>) -> StoreResult<SendStart> {
        let mut tx = self.claim_tx().await?;
        let suppressed: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM suppressions WHERE email_sha256 = $1")
            .bind(email_hash(&send.to_email))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("check the suppression list"))?;
        if suppressed.is_some() {
            return Ok(SendStart::Suppressed);
        }
        // Locked until commit: two daemons starting the same step wait for
        // each other here, and the second sees the first's outbox row.
        let found: Option<(String, i64)> =
            sqlx::query_as("SELECT state, fence FROM enrolments WHERE id = $1 FOR UPDATE")
                .bind(send.enrolment_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("check an enrolment"))?;
        let Some((state, fence)) = found else {
            return Ok(SendStart::NotRunning);
        };
        if send.fence.is_some_and(|claimed| claimed != fence) {
            return Ok(SendStart::Fenced);
        }
        if state != "active" {
            return Ok(SendStart::NotRunning);
        }
        let earlier: Vec<String> =
            sqlx::query_scalar("SELECT state FROM outbox WHERE enrolment_id = $1 AND step = $2 ORDER BY attempt")
                .bind(send.enrolment_id)
                .bind(i64::from(send.step))
                .fetch_all(&mut *tx)
                .await
                .map_err(db("check the outbox"))?;
        // Another attempt may follow none, a refused one (nothing was
        // delivered), or, for a retry, a sent one that bounced.
        match earlier.last().map(String::as_str) {
            None | Some("refused") => {}
            Some("sent") if send.retry => {}
            Some(state) => return Ok(SendStart::AlreadyRecorded(state.to_string())),
        }
        // The rep's row is locked while the send is recorded, so sends for one
        // rep from several daemons are counted one after another against the
        // daily cap and the gap.
        sqlx::query("SELECT id FROM reps WHERE id = $1 FOR UPDATE")
            .bind(send.rep_id)
            .execute(&mut *tx)
            .await
            .map_err(db("lock the rep's sending"))?;
        let guard = send.pacing;
        let load = load_on(&mut tx, send.rep_id, guard.day.0, guard.day.1).await?;
        if load.sent_in_range >= guard.daily_cap {
            return Ok(SendStart::Paced(guard.day.1));
        }
        if let Some(next) = load
            .last_started
            .map(|last| last + guard.min_gap)
            .filter(|next| *next > now)
        {
            return Ok(SendStart::Paced(next));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (enrolment_id, prospect_id, rep_id, sequence, step, attempt, message_id, to_email, \
             subject, transport, state, lease_until, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'sending', $11, $12) RETURNING id",
        )
        .bind(send.enrolment_id)
        .bind(send.prospect_id)
        .bind(send.rep_id)
        .bind(&send.sequence)
        .bind(i64::from(send.step))
        .bind(earlier.len() as i64)
        .bind(&send.message_id)
        .bind(&send.to_email)
        .bind(&send.subject)
        .bind(send.transport)
        .bind(ts(send.lease_until))
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db("record an email in the outbox"))?;
        tx.commit().await.map_err(db("record an email in the outbox"))?;
        Ok(SendStart::Started(id))
    }

    async fn finish_send(
        &self,
        outbox_id: i64,
        sent_at: DateTime<Utc>,
        effect: &MailEffect,
        next: &EnrolmentUpdate,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let enrolment: Option<i64> = sqlx::query_scalar(
            "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, error = NULL \
             WHERE id = $2 AND state IN ('sending', 'unknown') RETURNING enrolment_id",
        )
        .bind(ts(sent_at))
        .bind(outbox_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("mark an email sent"))?;
        let Some(enrolment) = enrolment else {
            return Ok(false);
        };
        append_event_on(&mut tx, &effect.event, sent_at).await?;
        let rep = rep_of_outbox(&mut tx, outbox_id).await?;
        apply_side_effects(&mut tx, rep, effect, sent_at).await?;
        write_enrolment(&mut tx, enrolment, next, sent_at).await?;
        tx.commit().await.map_err(db("mark an email sent"))?;
        Ok(true)
    }

    async fn settle_send(
        &self,
        outbox_id: i64,
        state: &str,
        error: &str,
        effects: &[MailEffect],
        enrolment: Option<(i64, &EnrolmentUpdate)>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query(
            "UPDATE outbox SET state = $1, error = $2, lease_until = NULL WHERE id = $3 AND state IN ('sending', 'unknown')",
        )
        .bind(state)
        .bind(error)
        .bind(outbox_id)
        .execute(&mut *tx)
        .await
        .map_err(db("settle an outbox row"))?
        .rows_affected();
        if changed == 0 {
            return Ok(());
        }
        let rep = rep_of_outbox(&mut tx, outbox_id).await?;
        for effect in effects {
            append_event_on(&mut tx, &effect.event, now).await?;
            apply_side_effects(&mut tx, rep, effect, now).await?;
        }
        if let Some((id, update)) = enrolment {
            write_enrolment(&mut tx, id, update, now).await?;
        }
        tx.commit().await.map_err(db("settle an outbox row"))
    }

    async fn stale_sends(&self, now: DateTime<Utc>) -> StoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(&format!(
            "{OUTBOX_SELECT} WHERE o.state = 'sending' AND o.lease_until < $1 ORDER BY o.id"
        ))
        .bind(ts(now))
        .fetch_all(self.pool())
        .await
        .map_err(db("find interrupted sends"))?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn list_outbox(&self, scope: RepScope, state: Option<&str>) -> StoreResult<Vec<OutboxEntry>> {
        let mut query = QueryBuilder::<Postgres>::new(format!("{OUTBOX_SELECT} WHERE 1 = 1"));
        scope_clause(&mut query, scope);
        if let Some(state) = state {
            query.push(" AND o.state = ").push_bind(state);
        }
        query.push(" ORDER BY o.id");
        let rows = query
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(db("list the outbox"))?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn sending_load(&self, rep: RepId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<SendingLoad> {
        let mut conn = self.pool().acquire().await.map_err(db("count a rep's sends"))?;
        load_on(&mut conn, rep, from, to).await
    }

    async fn last_attempt(&self, enrolment: i64) -> StoreResult<Option<(u32, String)>> {
        let row = sqlx::query("SELECT step, state FROM outbox WHERE enrolment_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(enrolment)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read an enrolment's last email"))?;
        row.map(|row| Ok((count(&row, "step")?, row.get("state")))).transpose()
    }

    async fn first_message_id(&self, enrolment: i64) -> StoreResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT message_id FROM outbox WHERE enrolment_id = $1 AND state = 'sent' ORDER BY id LIMIT 1",
        )
        .bind(enrolment)
        .fetch_optional(self.pool())
        .await
        .map_err(db("find a sequence's first email"))
    }

    async fn update_enrolment(
        &self,
        enrolment: i64,
        update: &EnrolmentUpdate,
        event: Option<&NewEvent>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        if let Some(fence) = update.expect_fence {
            let claim = Claim { id: enrolment, fence };
            if super::holding(&mut tx, "enrolments", &[claim]).await?.is_empty() {
                return Ok(false);
            }
        }
        write_enrolment(&mut tx, enrolment, update, now).await?;
        if let Some(event) = event {
            append_event_on(&mut tx, event, now).await?;
        }
        tx.commit().await.map_err(db("update an enrolment"))?;
        Ok(true)
    }

    async fn running_enrolments_of(&self, prospect: ProspectId) -> StoreResult<Vec<crate::store::Enrolment>> {
        self.running_enrolments(prospect).await
    }

    async fn colleague_replied(&self, prospect: ProspectId, domain: &str, since: DateTime<Utc>) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1::BIGINT FROM events e JOIN prospects other ON other.id = e.prospect_id \
             JOIN prospects me ON me.id = $1 AND me.rep_id = other.rep_id \
             WHERE e.kind = $4 AND e.occurred_at >= $2 AND other.id != $1 \
             AND lower(split_part(other.email, '@', 2)) = $3 LIMIT 1",
        )
        .bind(prospect)
        .bind(ts(since))
        .bind(domain)
        .bind(EMAIL_REPLIED)
        .fetch_optional(self.pool())
        .await
        .map_err(db("look for a colleague's reply"))?;
        Ok(found.is_some())
    }

    async fn pause_sending(&self, rep: RepId, reason: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO sending_pauses (rep_id, reason, paused_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(rep)
        .bind(reason)
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(db("pause a sending mailbox"))?
        .rows_affected();
        Ok(inserted > 0)
    }

    async fn resume_sending(&self, rep: RepId, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query("DELETE FROM sending_pauses WHERE rep_id = $1")
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("resume a sending mailbox"))?
            .rows_affected();
        sqlx::query("UPDATE reps SET sending_resumed_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(rep)
            .execute(&mut *tx)
            .await
            .map_err(db("resume a sending mailbox"))?;
        tx.commit().await.map_err(db("resume a sending mailbox"))?;
        Ok(removed > 0)
    }

    async fn sending_pauses(&self) -> StoreResult<Vec<SendingPause>> {
        let rows = sqlx::query("SELECT rep_id, reason, paused_at FROM sending_pauses ORDER BY rep_id")
            .fetch_all(self.pool())
            .await
            .map_err(db("list paused mailboxes"))?;
        rows.iter()
            .map(|row| {
                Ok(SendingPause {
                    rep_id: row.get(0),
                    reason: row.get(1),
                    paused_at: parse_ts(row.get(2))?,
                })
            })
            .collect()
    }

    async fn sending_resumed_at(&self, rep: RepId) -> StoreResult<Option<DateTime<Utc>>> {
        let at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar("SELECT sending_resumed_at FROM reps WHERE id = $1")
            .bind(rep)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read when sending resumed"))?;
        at.flatten().map(parse_ts).transpose()
    }

    async fn unsubscribe_enrolment(&self, enrolment: i64, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT p.id, p.name, p.email, p.rep_id FROM enrolments e JOIN prospects p ON p.id = e.prospect_id WHERE e.id = $1",
        )
        .bind(enrolment)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("find an enrolment"))?;
        let Some(row) = row else { return Ok(None) };
        let (prospect, name, email, rep): (ProspectId, String, Option<String>, RepId) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let unsubscribed = OneClickUnsubscribe {
            via: "one-click".into(),
            enrolment,
        };
        let event = NewEvent::with(
            prospect,
            now,
            keys::unsubscribed(enrolment),
            Actor::System("one-click unsubscribe".into()),
            &unsubscribed,
        );
        let effect = MailEffect {
            event,
            sent_id: None,
            suppress: email.map(|e| (e, "unsubscribed".to_string())).into_iter().collect(),
            away_until: None,
            task: None,
        };
        append_event_on(&mut tx, &effect.event, now).await?;
        apply_side_effects(&mut tx, rep, &effect, now).await?;
        sqlx::query(
            "UPDATE enrolments SET state = 'stopped', stop_reason = 'unsubscribed', next_due_at = NULL, updated_at = $1 \
             WHERE id = $2 AND state IN ('active', 'snoozed', 'paused')",
        )
        .bind(ts(now))
        .bind(enrolment)
        .execute(&mut *tx)
        .await
        .map_err(db("stop an enrolment"))?;
        sqlx::query("DELETE FROM tasks WHERE enrolment_id = $1 AND done_at IS NULL")
            .bind(enrolment)
            .execute(&mut *tx)
            .await
            .map_err(db("cancel a prospect's tasks"))?;
        tx.commit().await.map_err(db("unsubscribe a prospect"))?;
        Ok(Some(name))
    }

    async fn local_key(&self, name: &str, fresh: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO local_keys (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(self.pool())
            .await
            .map_err(db("store a key"))?;
        sqlx::query_scalar("SELECT value FROM local_keys WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .map_err(db("read a key"))
    }
}

/// A rep's sends started in [from, to) and the latest start. Refused
/// attempts delivered nothing, so they do not count against the cap.
async fn load_on(
    conn: &mut PgConnection,
    rep: RepId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<SendingLoad> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE rep_id = $1 AND started_at >= $2 AND started_at < $3 \
         AND state != 'refused'), (SELECT MAX(started_at) FROM outbox WHERE rep_id = $1)",
    )
    .bind(rep)
    .bind(ts(from))
    .bind(ts(to))
    .fetch_one(&mut *conn)
    .await
    .map_err(db("count a rep's sends"))?;
    Ok(SendingLoad {
        sent_in_range: u32::try_from(row.get::<i64, _>(0)).unwrap_or(u32::MAX),
        last_started: row.get::<Option<DateTime<Utc>>, _>(1).map(parse_ts).transpose()?,
    })
}

async fn rep_of_outbox(conn: &mut PgConnection, outbox_id: i64) -> StoreResult<RepId> {
    sqlx::query_scalar("SELECT rep_id FROM outbox WHERE id = $1")
        .bind(outbox_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db("read an outbox row"))
}

/// Writes an enrolment's next state; one that stopped or finished meanwhile
/// (an unsubscribe, another worker) stays so, and one that moved past the
/// step the update expects is left alone.
async fn write_enrolment(
    conn: &mut PgConnection,
    enrolment: i64,
    update: &EnrolmentUpdate,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE enrolments SET step = $1, state = $2, next_due_at = $3, stop_reason = $4, snoozed_until = $5, updated_at = $6 \
         WHERE id = $7 AND state IN ('active', 'snoozed', 'paused') AND ($8::BIGINT IS NULL OR step = $8) \
         AND ($9::BIGINT IS NULL OR fence = $9)",
    )
    .bind(i64::from(update.step))
    .bind(update.state)
    .bind(update.next_due_at.map(ts))
    .bind(&update.stop_reason)
    .bind(update.snoozed_until.map(ts))
    .bind(ts(now))
    .bind(enrolment)
    .bind(update.expect_step.map(i64::from))
    .bind(update.expect_fence)
    .execute(&mut *conn)
    .await
    .map_err(db("update an enrolment"))?;
    Ok(())
}

fn count(row: &PgRow, name: &str) -> StoreResult<u32> {
    u32::try_from(row.get::<i64, _>(name)).map_err(|_| StoreError::Corrupt(format!("outbox {name}")))
}

fn outbox_from_row(row: &PgRow) -> StoreResult<OutboxEntry> {
    Ok(OutboxEntry {
        id: row.get("id"),
        enrolment_id: row.get("enrolment_id"),
        prospect_id: row.get("prospect_id"),
        rep_id: row.get("rep_id"),
        sequence: row.get("sequence"),
        step: count(row, "step")?,
        attempt: count(row, "attempt")?,
        message_id: row.get("message_id"),
        to_email: row.get("to_email"),
        subject: row.get("subject"),
        transport: row.get("transport"),
        state: row.get("state"),
        started_at: parse_ts(row.get("started_at"))?,
        sent_at: row
            .get::<Option<DateTime<Utc>>, _>("sent_at")
            .map(parse_ts)
            .transpose()?,
        error: row.get("error"),
    })
}
