-- The board's columns: each stage's deals summed, and its largest deals
-- first, read from the index alone for the whole team (the per-rep index
-- leads with rep_id).
CREATE INDEX prospects_board ON prospects (pipeline, stage, value_cents DESC, id, currency, probability_override);
CREATE INDEX prospects_rep_board ON prospects (rep_id, pipeline, stage, value_cents DESC, id, currency, probability_override);
