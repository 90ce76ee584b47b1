-- One IDLE watcher per mailbox across daemons: the daemon holding a
-- mailbox's row (renewed while it watches) keeps its IDLE connection; the
-- others stand by and take over when the lease runs out.
CREATE TABLE mailbox_watchers (
    mailbox     TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL
);
