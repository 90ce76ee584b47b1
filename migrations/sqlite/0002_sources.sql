-- Feeds of prospects' public activity, one per fetchable profile.
CREATE TABLE sources (
    id                   INTEGER PRIMARY KEY,
    prospect_id          INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    profile_id           INTEGER NOT NULL UNIQUE REFERENCES profiles(id) ON DELETE CASCADE,
    platform             TEXT NOT NULL,
    page_url             TEXT NOT NULL,
    -- NULL until discovery has found the feed on page_url.
    feed_url             TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    interval_secs        INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    broken               INTEGER NOT NULL DEFAULT 0,
    last_status          TEXT,
    last_error           TEXT,
    last_polled_at       TEXT,
    -- Claiming a poll moves this forward first, so one worker polls a feed at a time.
    next_poll_at         TEXT NOT NULL,
    -- The first successful poll takes only recent items.
    first_poll_done      INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);
CREATE INDEX sources_due ON sources(next_poll_at);
CREATE INDEX sources_prospect ON sources(prospect_id);
