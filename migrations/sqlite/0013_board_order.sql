-- The board's columns: the largest deals of a stage first, read by index
-- for the whole team (the per-rep index leads with rep_id).
CREATE INDEX prospects_board ON prospects (pipeline, stage, value_cents DESC, id);
CREATE INDEX prospects_rep_board ON prospects (rep_id, pipeline, stage, value_cents DESC, id);
