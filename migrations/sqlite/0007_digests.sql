-- Daily digests: one row per rep and local date, written before the digest
-- is sent, so a restart or a second worker never sends that day's twice.
CREATE TABLE digest_runs (
    rep_id         INTEGER NOT NULL REFERENCES reps(id),
    local_date     TEXT NOT NULL,
    -- sending, sent, skipped (a quiet day with send_empty off), failed
    state          TEXT NOT NULL,
    message_id     TEXT,
    -- The weighted pipeline in this digest: the next one shows the change.
    weighted_cents INTEGER,
    currency       TEXT,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    error          TEXT,
    PRIMARY KEY (rep_id, local_date)
) WITHOUT ROWID;
