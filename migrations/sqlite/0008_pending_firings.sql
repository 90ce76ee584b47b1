-- A rule's firing is recorded before its action and marked done after it:
-- one whose action was lost (a locked or full database) stays pending and is
-- carried out on the next pass, once (every action is keyed by the firing).
ALTER TABLE rule_firings ADD COLUMN done_at TEXT;
-- Passes that tried it: one that keeps failing is given up (and reported).
ALTER TABLE rule_firings ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
-- Firings recorded before this were carried out, or given up, then.
UPDATE rule_firings SET done_at = fired_at;
