-- Webhook deliveries that named nobody rapport knows, kept for review (make
-- the prospect, or attach the delivery to one) until [hooks]
-- keep_unmatched_days. A redelivery of the same fact adds no second row.
-- rep_id is the rep who organised or sent it, when that is a rep: theirs to
-- review; without one, a manager's or an admin's.
CREATE TABLE unmatched_deliveries (
    id          INTEGER PRIMARY KEY,
    provider    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    email       TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    summary     TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    starts_at   TEXT,
    rep_id      INTEGER REFERENCES reps(id) ON DELETE SET NULL,
    received_at TEXT NOT NULL,
    UNIQUE (source_key, email)
);
CREATE INDEX unmatched_deliveries_age ON unmatched_deliveries (received_at);

-- A rep's calendar feed (/ical/TOKEN.ics): the token's SHA-256 only. The
-- token is derived from rapport's own key, the rep and the generation, so
-- `rapport rep ical` can print it again; a rotation raises the generation
-- (the old token then opens nothing), revoking deletes the row.
CREATE TABLE calendar_tokens (
    rep_id       INTEGER PRIMARY KEY REFERENCES reps(id) ON DELETE CASCADE,
    generation   INTEGER NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);

-- A task's revision and when it last changed (snoozed): a calendar raises
-- its SEQUENCE and LAST-MODIFIED, so subscribed calendars update the entry.
ALTER TABLE tasks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN modified_at TEXT;
