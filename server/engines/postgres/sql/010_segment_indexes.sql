-- Segments (issue 17, docs/API.md#segments). A segment filters feedback by its kind more than by
-- any other field of its own: NPS reads only `nps` answers, an idea ranking only `idea` and
-- `support`, and a page of one kind walks that kind newest first. The kind lives only in
-- `doc`, hence an expression. Person and account filters need no index of their own: they
-- read the external user and the account of each row through their primary keys.
CREATE INDEX feedback_site_kind_pos ON feedback (site, (doc->>'kind'), pos);
