-- How many identities each intake row holds, so that the shared queue's depth
-- (`/stats`.queue.depth, every collector's unapplied identities) is a sum over a column rather
-- than over each queued row's JSON (~80 ms with 100k rows queued, measured).
ALTER TABLE intake ADD COLUMN identities integer NOT NULL DEFAULT 0;
UPDATE intake SET identities = jsonb_array_length(entry->'items') WHERE entry->>'op' = 'identify';
