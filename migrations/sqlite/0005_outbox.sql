-- Sending sequence mail: the outbox, paused sending mailboxes, manual tasks,
-- and the key that signs unsubscribe links.

-- One row per email rapport means to send, written (with its Message-ID)
-- before the SMTP transaction begins: one per (enrolment, step, attempt), an
-- enrolment being one run of a prospect through a sequence. A soft-bounce
-- retry of a step is a new attempt with a new Message-ID.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES enrolments(id) ON DELETE CASCADE,
    prospect_id  INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    rep_id       INTEGER NOT NULL REFERENCES reps(id),
    sequence     TEXT NOT NULL,
    step         INTEGER NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    message_id   TEXT NOT NULL UNIQUE,
    to_email     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    -- smtp or file (the .eml outbox folder): how a crash mid-send is settled.
    transport    TEXT NOT NULL,
    -- sending: committed, the SMTP transaction may be under way;
    -- sent; refused (the server said no: nothing was delivered);
    -- unknown: a send was cut off and could not be confirmed; the rep decides.
    state        TEXT NOT NULL,
    -- While `sending`: the worker may still be talking to the server until then.
    lease_until  TEXT,
    started_at   TEXT NOT NULL,
    sent_at      TEXT,
    error        TEXT,
    UNIQUE (enrolment_id, step, attempt)
);
CREATE INDEX outbox_rep_started ON outbox(rep_id, started_at);
CREATE INDEX outbox_in_flight ON outbox(lease_until) WHERE state = 'sending';

-- A rep's sending mailbox, paused after a policy refusal (5.7.x) until the rep resumes it.
CREATE TABLE sending_pauses (
    rep_id     INTEGER PRIMARY KEY REFERENCES reps(id),
    reason     TEXT NOT NULL,
    paused_at  TEXT NOT NULL
);
-- When each rep last resumed: refusals before it do not pause again.
ALTER TABLE reps ADD COLUMN sending_resumed_at TEXT;

-- An enrolment waiting for an out-of-office prospect to return.
ALTER TABLE enrolments ADD COLUMN snoozed_until TEXT;

-- Manual steps of a sequence (and, later, reminders) for the rep to do.
CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    prospect_id  INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    rep_id       INTEGER NOT NULL REFERENCES reps(id),
    enrolment_id INTEGER REFERENCES enrolments(id) ON DELETE CASCADE,
    step         INTEGER,
    instruction  TEXT NOT NULL,
    link         TEXT,
    -- The event kind `rapport tasks done` logs.
    logs         TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    done_at      TEXT,
    UNIQUE (enrolment_id, step)
);
CREATE INDEX tasks_open ON tasks(rep_id, due_at) WHERE done_at IS NULL;

-- Keys rapport makes for itself (the unsubscribe-link signing key), so a
-- fresh install needs no secret configured and links survive restarts.
CREATE TABLE local_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
