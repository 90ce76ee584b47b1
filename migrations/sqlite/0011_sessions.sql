-- Signed-in sessions of the web board, kept server-side: the browser holds
-- only a random id, stored here as its SHA-256. A session ends when idle
-- too long, at its absolute end, at logout, and when the rep's password
-- changes or the rep is disabled.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    rep_id       INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    idle_until   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_of_rep ON sessions (rep_id);
