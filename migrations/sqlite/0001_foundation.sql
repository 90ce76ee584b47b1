-- Reps, prospects, profiles, tags, the event log, suppressions and the job schedule.
-- Times are RFC 3339 UTC text; amounts are integer hundredths of the currency unit.

CREATE TABLE reps (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    time_zone   TEXT NOT NULL,
    digest_hour INTEGER NOT NULL CHECK (digest_hour BETWEEN 0 AND 23),
    language    TEXT NOT NULL DEFAULT 'en',
    created_at  TEXT NOT NULL
);

CREATE TABLE prospects (
    id                   INTEGER PRIMARY KEY,
    rep_id               INTEGER NOT NULL REFERENCES reps(id),
    name                 TEXT NOT NULL,
    email                TEXT,
    company              TEXT,
    title                TEXT,
    time_zone            TEXT,
    pipeline             TEXT NOT NULL,
    stage                TEXT NOT NULL,
    value_cents          INTEGER NOT NULL DEFAULT 0,
    currency             TEXT NOT NULL,
    probability_override INTEGER CHECK (probability_override BETWEEN 0 AND 100),
    expected_close       TEXT,
    notes                TEXT,
    custom_fields        TEXT NOT NULL DEFAULT '{}',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
-- One person, one prospect: addresses are stored lower-cased.
CREATE UNIQUE INDEX prospects_email ON prospects(email) WHERE email IS NOT NULL;
CREATE INDEX prospects_rep_pipeline ON prospects(rep_id, pipeline, stage);

CREATE TABLE prospect_tags (
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (prospect_id, tag)
) WITHOUT ROWID;
CREATE INDEX prospect_tags_tag ON prospect_tags(tag);

CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY,
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    url         TEXT NOT NULL UNIQUE,
    platform    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX profiles_prospect ON profiles(prospect_id);

-- Append-only. source_key makes every append idempotent.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
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
CREATE INDEX events_prospect_time ON events(prospect_id, occurred_at);
CREATE INDEX events_rep_time ON events(rep_id, occurred_at);

-- Addresses that must never be mailed, kept only as SHA-256 of the lower-cased address.
CREATE TABLE suppressions (
    email_sha256 TEXT PRIMARY KEY,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL
) WITHOUT ROWID;

-- Each daemon job's next run, in UTC. A worker claims a run by moving
-- next_run_at forward with a compare-and-set, so only one worker runs it.
CREATE TABLE job_schedule (
    name        TEXT PRIMARY KEY,
    schedule    TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    next_run_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    outcome       TEXT NOT NULL DEFAULT 'running',
    error         TEXT
);
CREATE INDEX job_runs_name_time ON job_runs(name, scheduled_for);
