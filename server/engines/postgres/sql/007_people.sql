-- A person's page and the external user listing (issue 15). External users page in creation
-- order for a site, a user or an account; one user's feedback pages newest first by the time
-- it was given, which lives only in `doc` (an admin may back-date it), hence an expression.
CREATE INDEX external_users_site_pos ON external_users (site, pos) INCLUDE (external_id);
CREATE INDEX external_users_account_pos ON external_users (site, account_key, pos) INCLUDE (external_id);
CREATE INDEX feedback_user_created ON feedback (site, user_id, ((doc->>'created_at')::double precision), message_id);
