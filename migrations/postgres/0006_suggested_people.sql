-- A rule may suggest a person to add as a new prospect: the one a reply
-- refers the rep to ("talk to Maria, maria@acme.example"), prefilled.
-- Approving it adds them; the row then links the prospect who referred
-- them (prospect_id) to the one added (created_prospect_id).
ALTER TABLE suggestions ADD COLUMN person TEXT; -- JSON {name, email, company}; NULL for a stage change
ALTER TABLE suggestions ADD COLUMN created_prospect_id BIGINT REFERENCES prospects(id) ON DELETE SET NULL;
CREATE INDEX suggestions_created_prospect ON suggestions (created_prospect_id) WHERE created_prospect_id IS NOT NULL;
