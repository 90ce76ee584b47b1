-- Stage rules acting on the event log: how far they have read it, the stage
-- suggestions waiting for reps, and reminders (tasks made by rules or reps).

-- The rules read the event log by id, so ids must only grow: without
-- AUTOINCREMENT, erasing the prospect who owns the newest events would let
-- their ids be handed out again, below the rules' place. Rebuilt with it.
CREATE TABLE events_by_growing_id (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    rep_id      INTEGER NOT NULL REFERENCES reps(id),
    kind        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source_key  TEXT NOT NULL UNIQUE,
    actor_kind  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO events_by_growing_id (id, prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data)
    SELECT id, prospect_id, rep_id, kind, occurred_at, recorded_at, source_key, actor_kind, actor, data FROM events;
DROP TABLE events;
ALTER TABLE events_by_growing_id RENAME TO events;
CREATE INDEX events_prospect_time ON events(prospect_id, occurred_at);
CREATE INDEX events_rep_time ON events(rep_id, occurred_at);

-- The last event id the rules have seen. Rules act on what happens from now
-- on; `rapport rules test` replays the history before.
CREATE TABLE rule_cursor (
    name          TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO rule_cursor (name, last_event_id) SELECT 'rules', COALESCE(MAX(id), 0) FROM events;

-- Every firing carried out, by its key: none is carried out twice, and each
-- keeps its reason.
CREATE TABLE rule_firings (
    key         TEXT PRIMARY KEY,
    rule        TEXT NOT NULL,
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    fired_at    TEXT NOT NULL
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
