-- Accounts: every rep can sign in (web board, API) once they have a
-- password; a role says what they may see and change; a disabled rep
-- signs in no more. API tokens are stored as SHA-256 of the token, never
-- the token itself.
ALTER TABLE reps ADD COLUMN role TEXT NOT NULL DEFAULT 'rep' CHECK (role IN ('rep', 'manager', 'admin'));
ALTER TABLE reps ADD COLUMN password_hash TEXT;
ALTER TABLE reps ADD COLUMN password_changed_at TEXT;
ALTER TABLE reps ADD COLUMN disabled_at TEXT;

-- The first rep of an existing install administers it.
UPDATE reps SET role = 'admin' WHERE id = (SELECT MIN(id) FROM reps);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    rep_id       INTEGER NOT NULL REFERENCES reps(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    UNIQUE (rep_id, name)
);
