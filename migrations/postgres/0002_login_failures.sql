-- Failed sign-ins per key (an account, a client address), shared by every
-- daemon on the database; keys stored as SHA-256.
CREATE TABLE login_failures (
    kind         TEXT NOT NULL,
    key_sha256   TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    window_start TIMESTAMPTZ,
    locked_until TIMESTAMPTZ,
    locks        BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, key_sha256)
);
CREATE INDEX login_failures_age ON login_failures (updated_at);
