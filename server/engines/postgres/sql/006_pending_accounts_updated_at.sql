-- When a pending account was last written, as a column: the hourly prune deletes pending accounts
-- not updated since the pending TTL's cutoff (as the embedded store does), through this index,
-- instead of keeping them, with their MRR, forever. Existing rows take the time from their doc.
ALTER TABLE pending_accounts ADD COLUMN updated_at double precision;
UPDATE pending_accounts SET updated_at = COALESCE((doc->>'updated_at')::double precision, 0);
ALTER TABLE pending_accounts ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX pending_accounts_updated ON pending_accounts (updated_at);
