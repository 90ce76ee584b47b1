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

-- A rep's calendar feed (/ical/TOKEN.ics): the token's SHA-256 only; a new
-- token replaces the old one, which then opens nothing.
CREATE TABLE calendar_tokens (
    rep_id       INTEGER PRIMARY KEY REFERENCES reps(id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);
