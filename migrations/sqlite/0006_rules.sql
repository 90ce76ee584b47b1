-- Stage rules acting on the event log: how far they have read it, the stage
-- suggestions waiting for reps, and reminders (tasks made by rules or reps).

-- The last event id the rules have seen.
CREATE TABLE rule_cursor (
    name          TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE suggestions (
    id          INTEGER PRIMARY KEY,
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    rule        TEXT NOT NULL,
    from_stage  TEXT NOT NULL,
    to_stage    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    -- The firing's key: a replay never suggests twice.
    key         TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    -- approved or rejected, by whom and when; NULL while it waits.
    decision    TEXT,
    decided_by  TEXT,
    decided_at  TEXT
);
CREATE INDEX suggestions_open ON suggestions(prospect_id) WHERE decision IS NULL;

-- A reminder made by a rule carries the firing's key, so it is made once.
ALTER TABLE tasks ADD COLUMN key TEXT;
CREATE UNIQUE INDEX tasks_key ON tasks(key) WHERE key IS NOT NULL;
-- Why a rule raised a reminder.
ALTER TABLE tasks ADD COLUMN reason TEXT;
