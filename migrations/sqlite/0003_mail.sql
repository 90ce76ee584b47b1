-- Reading reps' mailboxes over IMAP.

-- Per watched folder: how far it has been read (UIDs are only comparable
-- within one UIDVALIDITY), and which worker holds it.
CREATE TABLE mail_folders (
    mailbox      TEXT NOT NULL,
    folder       TEXT NOT NULL,
    uid_validity INTEGER,
    last_uid     INTEGER NOT NULL DEFAULT 0,
    -- The worker holding the folder (a token of its own) and until when.
    lease_owner  TEXT,
    lease_until  TEXT,
    last_sync_at TEXT,
    last_error   TEXT,
    PRIMARY KEY (mailbox, folder)
) WITHOUT ROWID;

-- Message-IDs of mail sent to a prospect: a message answering one is theirs.
CREATE TABLE sent_messages (
    message_id  TEXT NOT NULL,
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    rep_id      INTEGER NOT NULL REFERENCES reps(id),
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (message_id, prospect_id)
) WITHOUT ROWID;

-- Out of office until this date (from an auto-reply); sequences wait for it.
ALTER TABLE prospects ADD COLUMN away_until TEXT;
