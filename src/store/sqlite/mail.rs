//! The SQLite side of mailbox sync: folder cursors with leases, contact
//! lookups scoped to one rep, and each batch's effects in one transaction.

use super::{day, db, insert_events_returning_new, parse_ts, ts};
use crate::domain::mail::verify::SentEvidence;
use crate::domain::mail::{MailContacts, MailEffect};
use crate::domain::prospect::{ProspectId, RepId};
use crate::store::email_hash;
use crate::store::{FolderCursor, MailBatch, MailFolderState, MailStore, SqliteStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::HashMap;

/// Values per `IN (...)` list, well under SQLite's limit on bound variables.
const LOOKUP_CHUNK: usize = 500;

impl SqliteStore {
    /// When mail went to each of these addresses (of the rep's prospects).
    async fn sends_to(&self, rep: RepId, emails: &[String]) -> StoreResult<HashMap<String, Vec<DateTime<Utc>>>> {
        let rows = self
            .rep_rows(
                "SELECT p.email, s.sent_at FROM sent_messages s JOIN prospects p ON p.id = s.prospect_id \
                 WHERE p.rep_id = ",
                "p.email",
                rep,
                emails,
                |row| Ok((row.get::<String, _>(0), parse_ts(&row.get::<String, _>(1))?)),
            )
            .await?;
        let mut found: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        for (email, at) in rows {
            found.entry(email).or_default().push(at);
        }
        Ok(found)
    }

    /// Every (key, prospect) pair `select` finds for `keys`; see `rep_rows`.
    async fn rep_pairs(
        &self,
        select: &'static str,
        key_column: &'static str,
        rep: RepId,
        keys: &[String],
    ) -> StoreResult<Vec<(String, ProspectId)>> {
        self.rep_rows(select, key_column, rep, keys, |row| Ok((row.get(0), row.get(1))))
            .await
    }

    /// `select` (which ends at `rep_id = `) for `keys` in its `key_column`,
    /// in chunks under SQLite's limit on bound values, each row read by `read`.
    async fn rep_rows<T>(
        &self,
        select: &'static str,
        key_column: &'static str,
        rep: RepId,
        keys: &[String],
        read: impl Fn(&sqlx::sqlite::SqliteRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new(select);
            query.push_bind(rep).push(format!(" AND {key_column} IN ("));
            let mut list = query.separated(", ");
            for key in chunk {
                list.push_bind(key);
            }
            query.push(")");
            let rows = query
                .build()
                .fetch_all(self.pool())
                .await
                .map_err(db("match mail to prospects"))?;
            for row in &rows {
                found.push(read(row)?);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl MailStore for SqliteStore {
    async fn hold_mailbox_watch(
        &self,
        mailbox: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let held = sqlx::query(
            "INSERT INTO mailbox_watchers (mailbox, owner, lease_until) VALUES (?, ?, ?) \
             ON CONFLICT (mailbox) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE mailbox_watchers.owner = excluded.owner OR mailbox_watchers.lease_until <= ?",
        )
        .bind(mailbox)
        .bind(owner)
        .bind(ts(lease_until))
        .bind(ts(now))
        .execute(self.pool())
        .await
        .map_err(db("hold a mailbox's watch"))?;
        Ok(held.rows_affected() > 0)
    }
    async fn release_mailbox_watch(&self, mailbox: &str, owner: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM mailbox_watchers WHERE mailbox = ? AND owner = ?")
            .bind(mailbox)
            .bind(owner)
            .execute(self.pool())
            .await
            .map_err(db("give up a mailbox's watch"))?;
        Ok(())
    }
    async fn claim_mail_folder(
        &self,
        mailbox: &str,
        folder: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<FolderCursor>> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO mail_folders (mailbox, folder) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(mailbox)
            .bind(folder)
            .execute(&mut *tx)
            .await
            .map_err(db("register a mail folder"))?;
        let claimed = sqlx::query(
            "UPDATE mail_folders SET lease_owner = ?, lease_until = ? WHERE mailbox = ? AND folder = ? \
             AND (lease_until IS NULL OR lease_until <= ?) RETURNING uid_validity, last_uid",
        )
        .bind(owner)
        .bind(ts(lease_until))
        .bind(mailbox)
        .bind(folder)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("claim a mail folder"))?;
        tx.commit().await.map_err(db("claim a mail folder"))?;
        claimed
            .map(|row| cursor_from(row.get("uid_validity"), row.get("last_uid")))
            .transpose()
    }
    async fn release_mail_folder(
        &self,
        mailbox: &str,
        folder: &str,
        owner: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE mail_folders SET lease_owner = NULL, lease_until = NULL, last_sync_at = ?, last_error = ? \
             WHERE mailbox = ? AND folder = ? AND lease_owner = ?",
        )
        .bind(ts(now))
        .bind(error)
        .bind(mailbox)
        .bind(folder)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db("release a mail folder"))?;
        tx.commit().await.map_err(db("release a mail folder"))
    }
    async fn list_mail_folders(&self) -> StoreResult<Vec<MailFolderState>> {
        let rows = sqlx::query(
            "SELECT mailbox, folder, uid_validity, last_uid, last_sync_at, last_error, lease_until FROM mail_folders \
             ORDER BY mailbox, folder",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db("list mail folders"))?;
        rows.iter()
            .map(|row| {
                let cursor = cursor_from(row.get("uid_validity"), row.get("last_uid"))?;
                let time = |name: &str| row.get::<Option<String>, _>(name).as_deref().map(parse_ts).transpose();
                Ok(MailFolderState {
                    mailbox: row.get("mailbox"),
                    folder: row.get("folder"),
                    uid_validity: cursor.uid_validity,
                    last_uid: cursor.last_uid,
                    last_sync_at: time("last_sync_at")?,
                    last_error: row.get("last_error"),
                    lease_until: time("lease_until")?,
                })
            })
            .collect()
    }
    async fn mail_contacts(&self, rep: RepId, emails: &[String], sent_ids: &[String]) -> StoreResult<MailContacts> {
        let sent = self
            .rep_pairs(
                // The prospect's rep now, not the one who sent: a reassigned prospect moves with their mail.
                "SELECT s.message_id, s.prospect_id FROM sent_messages s JOIN prospects p ON p.id = s.prospect_id \
                 WHERE p.rep_id = ",
                "s.message_id",
                rep,
                sent_ids,
            )
            .await?;
        let by_sent_id: HashMap<String, ProspectId> = sent.iter().cloned().collect();
        let mut by_email: HashMap<String, ProspectId> = self
            .rep_pairs("SELECT email, id FROM prospects WHERE rep_id = ", "email", rep, emails)
            .await?
            .into_iter()
            .collect();
        // The addresses of prospects found by a sent id too, so an unsubscribe
        // written by a colleague on their thread suppresses the prospect as well.
        // (SQLite compares the integer id column with these texts as numbers.)
        let ids: Vec<String> = by_sent_id.values().map(ToString::to_string).collect();
        by_email.extend(
            self.rep_pairs(
                "SELECT email, id FROM prospects WHERE email IS NOT NULL AND rep_id = ",
                "id",
                rep,
                &ids,
            )
            .await?,
        );
        let outbox = self
            .rep_pairs(
                "SELECT message_id, prospect_id FROM outbox WHERE rep_id = ",
                "message_id",
                rep,
                sent_ids,
            )
            .await?;
        let mut addresses: Vec<String> = emails.to_vec();
        addresses.extend(by_email.keys().cloned());
        addresses.sort();
        addresses.dedup();
        Ok(MailContacts {
            by_email,
            by_sent_id,
            evidence: SentEvidence {
                sent: sent.into_iter().collect(),
                outbox: outbox.into_iter().collect(),
                sends_to: self.sends_to(rep, &addresses).await?,
            },
        })
    }
    async fn record_mail(
        &self,
        mailbox: &str,
        folder: &str,
        batch: &MailBatch,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let new_keys = insert_events_returning_new(&mut tx, batch.effects.iter().map(|e| &e.event), now).await?;
        for effect in &batch.effects {
            apply_side_effects(&mut tx, batch.rep_id, effect, now).await?;
        }
        // Within one UIDVALIDITY the cursor only moves forward.
        let updated = sqlx::query(
            "UPDATE mail_folders SET last_uid = CASE WHEN uid_validity IS ?1 THEN MAX(last_uid, ?2) ELSE ?2 END, \
             uid_validity = ?1, lease_until = ?3, last_sync_at = ?4, last_error = NULL \
             WHERE mailbox = ?5 AND folder = ?6 AND lease_owner = ?7",
        )
        .bind(batch.cursor.uid_validity.map(i64::from))
        .bind(i64::from(batch.cursor.last_uid))
        .bind(ts(batch.lease_until))
        .bind(ts(now))
        .bind(mailbox)
        .bind(folder)
        .bind(&batch.owner)
        .execute(&mut *tx)
        .await
        .map_err(db("advance a mail folder"))?;
        if updated.rows_affected() == 0 {
            // Dropping the transaction stores nothing; the worker holding the folder will.
            return Err(StoreError::Conflict(format!(
                "mail folder {mailbox}/{folder} is now read by another worker (this one's lease ran out)"
            )));
        }
        tx.commit().await.map_err(db("record mail"))?;
        Ok(new_keys.len() as u64)
    }
}

/// A sent id to match replies by, an address to suppress, an away date:
/// each idempotent, so a batch stored twice changes nothing.
pub(super) async fn apply_side_effects(
    conn: &mut SqliteConnection,
    rep: RepId,
    effect: &MailEffect,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if let Some((message_id, prospect)) = &effect.sent_id {
        sqlx::query(
            "INSERT INTO sent_messages (message_id, prospect_id, rep_id, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(message_id)
        .bind(prospect)
        .bind(rep)
        .bind(ts(effect.event.occurred_at))
        .execute(&mut *conn)
        .await
        .map_err(db("remember a sent message"))?;
    }
    for (address, reason) in &effect.suppress {
        sqlx::query(
            "INSERT INTO suppressions (email_sha256, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(email_hash(address))
        .bind(reason)
        .bind(ts(now))
        .execute(&mut *conn)
        .await
        .map_err(db("suppress an address"))?;
    }
    if let Some((prospect, date)) = &effect.away_until {
        // Dates are YYYY-MM-DD, so text order is date order: keep the later one.
        sqlx::query(
            "UPDATE prospects SET away_until = ?1 WHERE id = ?2 AND rep_id = ?3 AND (away_until IS NULL OR away_until < ?1)",
        )
        .bind(day(*date))
        .bind(prospect)
        .bind(rep)
        .execute(&mut *conn)
        .await
        .map_err(db("note a prospect's absence"))?;
    }
    if let Some(task) = &effect.task {
        // Keyed by the message: reading it again makes no second task.
        sqlx::query(
            "INSERT INTO tasks (prospect_id, rep_id, instruction, link, logs, due_at, key, reason) \
             SELECT id, rep_id, ?1, ?2, ?3, ?4, ?5, 'a challenge/response filter holds your mail' \
             FROM prospects WHERE id = ?6 AND rep_id = ?7 ON CONFLICT DO NOTHING",
        )
        .bind(&task.instruction)
        .bind(&task.link)
        .bind(&task.logs)
        .bind(ts(effect.event.occurred_at))
        .bind(&task.key)
        .bind(task.prospect)
        .bind(rep)
        .execute(&mut *conn)
        .await
        .map_err(db("add the task a message asks for"))?;
    }
    Ok(())
}

fn cursor_from(uid_validity: Option<i64>, last_uid: i64) -> StoreResult<FolderCursor> {
    let as_u32 = |v: i64| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("mail folder UID {v}")));
    Ok(FolderCursor {
        uid_validity: uid_validity.map(as_u32).transpose()?,
        last_uid: as_u32(last_uid)?,
    })
}
