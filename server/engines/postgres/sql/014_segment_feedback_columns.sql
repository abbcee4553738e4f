-- Segments at scale (docs/PERFORMANCE.md#segments). A filtered page answers with exact totals
-- (the segment's feedback count, its distinct accounts and their MRR), and an idea ranking counts
-- supporters: both read every matching feedback, so what they read is kept narrow. The fields
-- they need from `doc` become stored generated columns (PostgreSQL computes them on every
-- INSERT and UPDATE, so the write path is unchanged), and covering indexes let them read the
-- feedback of the accounts, or of the people, that pass a segment by index-only scans instead
-- of fetching each row's document.
ALTER TABLE feedback
  ADD COLUMN kind text COLLATE "C" GENERATED ALWAYS AS (doc->>'kind') STORED,
  ADD COLUMN external_user_id text COLLATE "C" GENERATED ALWAYS AS (doc->>'external_user_id') STORED,
  ADD COLUMN mrr_at double precision GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(doc->'mrr_cents_at') = 'number' THEN (doc->>'mrr_cents_at')::float8 END) STORED,
  ADD COLUMN score double precision GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(doc->'score') = 'number' THEN (doc->>'score')::float8 END) STORED,
  ADD COLUMN created_at double precision GENERATED ALWAYS AS ((doc->>'created_at')::float8) STORED;
-- A segment's feedback through the accounts that pass its account filters ...
CREATE INDEX feedback_site_account_pos ON feedback (site, account_key, pos)
  INCLUDE (external_user_id, mrr_at, kind, idea_id, user_id, score, created_at);
-- ... or through the people who pass its person filters.
CREATE INDEX feedback_site_external_user ON feedback (site, external_user_id, pos)
  INCLUDE (account_key, mrr_at, kind, idea_id, user_id, score, created_at);
-- Superseded: the first by feedback_site_account_pos (same leading columns), the second (010) by
-- the same index on the column instead of the expression.
DROP INDEX feedback_account;
DROP INDEX feedback_site_kind_pos;
-- A kind's feedback (NPS, the support of ideas) with what its aggregates read.
CREATE INDEX feedback_site_kind_pos ON feedback (site, kind, pos)
  INCLUDE (account_key, external_user_id, mrr_at, idea_id, user_id, score, created_at);
