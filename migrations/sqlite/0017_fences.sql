-- Claimed work carries who holds it and a fencing number: each claim adds
-- one, and every write that completes the work names the number it got, so
-- a worker paused past its lease cannot write over the one that took over.
ALTER TABLE sources ADD COLUMN lease_owner TEXT;
ALTER TABLE sources ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrolments ADD COLUMN lease_owner TEXT;
ALTER TABLE enrolments ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
