-- No query reads the events by (rep_id, occurred_at): a rep's events are
-- found through their prospects (prospects_rep_board, then
-- events_prospect_time). The index cost every event written a random
-- insertion (posts arrive in any order of time), which made each first
-- poll's commit rewrite pages all over it: dropped.
DROP INDEX IF EXISTS events_rep_time;
