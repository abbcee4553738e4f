-- The intake holds each acknowledged entry until it is applied, then deletes it: it is written
-- once and read only when a collector that died is adopted. As jsonb, every entry was parsed
-- into PostgreSQL's binary form and then compressed with pglz on the way in (a 250-identity
-- entry is ~75 KB), which cost the database about as much CPU per identity as applying it
-- (docs/PERFORMANCE.md#postgresql). As json it is only checked; lz4 compresses it several
-- times faster than pglz.
ALTER TABLE intake ALTER COLUMN entry TYPE json USING entry::json;
ALTER TABLE intake ALTER COLUMN entry SET COMPRESSION lz4;
