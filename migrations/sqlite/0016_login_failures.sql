-- Failed sign-ins per key (an account, a client address), kept in the
-- database so every daemon on it counts the same failures and honours the
-- same lock. Keys are stored as SHA-256; a row goes a day after it matters.
CREATE TABLE login_failures (
    kind         TEXT NOT NULL,
    key_sha256   TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    window_start TEXT,
    locked_until TEXT,
    locks        INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (kind, key_sha256)
) WITHOUT ROWID;
CREATE INDEX login_failures_age ON login_failures (updated_at);
