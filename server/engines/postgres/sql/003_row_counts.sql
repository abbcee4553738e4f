-- Row counts per site without counting rows. `count(*)` over a site's users reads the whole
-- index (0.35 s per million users measured), and every listing page and /stats reports totals.
-- Instead each INSERT and DELETE statement on a counted table appends its net change per site
-- to `row_counts` (statement-level triggers: one row per statement, not per row, so COPY and
-- INSERT ... SELECT cost one row; an upsert that updated instead of inserting appends
-- nothing). Appending never waits on another transaction, unlike one hot counter row per site
-- would with several collectors. A site's count is the sum of its rows; collectors fold the
-- rows into one per (site, table) every few seconds (PostgresStore.compactCounts).
CREATE TABLE row_counts (
  id   bigserial PRIMARY KEY,
  site text COLLATE "C" NOT NULL,
  tbl  text COLLATE "C" NOT NULL,
  n    bigint NOT NULL
);
CREATE INDEX row_counts_site ON row_counts (site, tbl) INCLUDE (n);

CREATE FUNCTION parley_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO row_counts (site, tbl, n) SELECT site, TG_TABLE_NAME, count(*) FROM new_rows GROUP BY site;
  RETURN NULL;
END $$;

CREATE FUNCTION parley_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO row_counts (site, tbl, n) SELECT site, TG_TABLE_NAME, -count(*) FROM old_rows GROUP BY site;
  RETURN NULL;
END $$;

-- TRUNCATE (an operator's reset, the tests' too) empties the table's counts with it.
CREATE FUNCTION parley_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM row_counts WHERE tbl = TG_TABLE_NAME;
  RETURN NULL;
END $$;

-- A trigger with transition tables takes one event, hence two per table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'external_users', 'accounts', 'pending', 'feedback'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parley_count_inserted()', t || '_counted_in', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION parley_count_deleted()', t || '_counted_out', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION parley_count_truncated()', t || '_counted_reset', t);
    EXECUTE format('INSERT INTO row_counts (site, tbl, n) SELECT site, %L, count(*) FROM %I GROUP BY site', t, t);
  END LOOP;
END $$;
