-- Outgoing webhooks. Each receiver (by a digest of its URL) has a cursor
-- over the events: a new receiver starts at the latest event (no backlog).
CREATE TABLE webhook_endpoints (
    endpoint TEXT PRIMARY KEY,
    cursor   INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per event per receiver, kept until delivered or given up (24 h
-- of retries), so a restart loses nothing and a success is never repeated.
-- lease_until: a worker is sending it until then.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint        TEXT NOT NULL,
    event_id        INTEGER NOT NULL,
    message_id      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    -- pending, delivered, gave_up
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    UNIQUE (endpoint, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
