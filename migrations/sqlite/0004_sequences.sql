-- Prospects enrolled in cold email sequences.
CREATE TABLE enrolments (
    id           INTEGER PRIMARY KEY,
    prospect_id  INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    sequence     TEXT NOT NULL,
    -- The A/B variant of every email step.
    variant      INTEGER NOT NULL DEFAULT 0,
    -- Index of the next step to run.
    step         INTEGER NOT NULL DEFAULT 0,
    -- active, snoozed, paused, stopped, finished
    state        TEXT NOT NULL,
    -- When the next step is due; the sender picks active rows by it.
    next_due_at  TEXT,
    stop_reason  TEXT,
    enrolled_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
-- A prospect is in at most one running sequence.
CREATE UNIQUE INDEX enrolments_running ON enrolments(prospect_id) WHERE state IN ('active', 'snoozed', 'paused');
CREATE INDEX enrolments_due ON enrolments(next_due_at) WHERE state = 'active';
CREATE INDEX enrolments_sequence ON enrolments(sequence);
