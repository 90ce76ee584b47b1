-- Idempotency keys of the JSON API's creating requests: a retry with the
-- same key gets the first response again instead of creating twice; the
-- same key with another body is refused. Kept a day.
CREATE TABLE idempotency_keys (
    rep_id         INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    -- NULL while the first request is being answered.
    status         INTEGER,
    body           TEXT,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (rep_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
