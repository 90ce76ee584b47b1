-- Politeness shared by every daemon on the database: the next start each
-- host may get (milliseconds since 1970, the database's clock), a hold a
-- host asked for (Retry-After), and robots.txt answers read by any of them.
CREATE TABLE host_pace (
    host          TEXT PRIMARY KEY,
    next_start_ms BIGINT NOT NULL DEFAULT 0,
    held_until_ms BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE robots_answers (
    origin     TEXT PRIMARY KEY,
    read_at_ms BIGINT NOT NULL,
    -- allow_all, unreadable (body: why) or listed (body: the file)
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT ''
);
