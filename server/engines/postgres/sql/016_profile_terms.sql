-- Segments at scale (docs/PERFORMANCE.md#segments): the people and the accounts that pass a
-- segment's text filters, found through an index instead of reading every profile document.
-- Profile fields live in `doc` and custom fields are named by each site, so no column or
-- expression index can serve them all. Instead each external user's and account's filterable
-- values are kept as "terms", `<field>=<value>` with the value as the filters compare it (a
-- scalar's text; each string of `tags`; `location.country` as `country`), in a narrow table
-- whose primary key answers "who has this value" by an index-only scan. Statement-level
-- triggers keep them (the write path is unchanged; an update writes only the terms that changed,
-- none when the filterable values stayed the same). Values longer than a filter value may be (255 characters) are never matched, so
-- they are not kept. The terms narrow the candidates; filter-sql.ts still applies the exact
-- condition on the document to those that remain.
CREATE FUNCTION parley_person_terms(doc jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}') FROM (
    SELECT f.key || '=' || (f.value #>> '{}') AS t, f.value #>> '{}' AS v
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc->'profile'->'f') = 'object' THEN doc->'profile'->'f' END) f
    WHERE (f.key IN ('type', 'app_version') OR f.key ~ '^cf_[a-z0-9_]{1,64}$')
      AND jsonb_typeof(f.value) IN ('string', 'number', 'boolean')
    UNION ALL
    SELECT 'tags=' || (x #>> '{}'), x #>> '{}'
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc->'profile'->'f'->'tags') = 'array' THEN doc->'profile'->'f'->'tags' END) x
    WHERE jsonb_typeof(x) = 'string'
    UNION ALL
    SELECT 'country=' || (doc->'profile'->'f'->'location'->>'country'), doc->'profile'->'f'->'location'->>'country'
    WHERE jsonb_typeof(doc->'profile'->'f'->'location'->'country') = 'string'
  ) q WHERE length(v) <= 255
$$;

CREATE FUNCTION parley_account_terms(doc jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}') FROM (
    SELECT f.key || '=' || (f.value #>> '{}') AS t, f.value #>> '{}' AS v
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc->'profile'->'f') = 'object' THEN doc->'profile'->'f' END) f
    WHERE (f.key = 'plan' OR f.key ~ '^cf_[a-z0-9_]{1,64}$')
      AND jsonb_typeof(f.value) IN ('string', 'number', 'boolean')
  ) q WHERE length(v) <= 255
$$;

CREATE TABLE person_terms (
  site        text COLLATE "C" NOT NULL,
  term        text COLLATE "C" NOT NULL,
  external_id text COLLATE "C" NOT NULL
);
INSERT INTO person_terms SELECT site, unnest(parley_person_terms(doc)), external_id FROM external_users;
ALTER TABLE person_terms ADD PRIMARY KEY (site, term, external_id);

CREATE TABLE account_terms (
  site text COLLATE "C" NOT NULL,
  term text COLLATE "C" NOT NULL,
  key  text COLLATE "C" NOT NULL
);
INSERT INTO account_terms SELECT site, unnest(parley_account_terms(doc)), key FROM accounts;
ALTER TABLE account_terms ADD PRIMARY KEY (site, term, key);

-- One trigger per event (transition tables allow no more). An upsert fires the INSERT trigger
-- for the rows it inserted and the UPDATE trigger for those it updated.
CREATE FUNCTION parley_person_terms_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO person_terms SELECT site, unnest(parley_person_terms(doc)), external_id FROM new_rows
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_person_terms_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM person_terms p USING (SELECT site, external_id, unnest(parley_person_terms(doc)) AS term FROM old_rows) o
  WHERE p.site = o.site AND p.term = o.term AND p.external_id = o.external_id;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_person_terms_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only rows whose profile values changed are looked at (most updates change versions and
  -- times only, and computing terms costs more than comparing), and of those only the terms
  -- that changed are written: the ones gone deleted, the new ones inserted. (Deleting all the old
  -- and inserting all the new in one statement would lose the terms in both: the INSERT's
  -- conflict check still sees the rows its sibling DELETE removes.) Rows are matched by key; the
  -- store never changes a key, and if it did it would read as a delete and an insert.
  WITH oc AS (SELECT r.* FROM old_rows r WHERE NOT EXISTS (SELECT 1 FROM new_rows x
        WHERE x.site = r.site AND x.external_id = r.external_id AND x.doc->'profile'->'f' = r.doc->'profile'->'f')),
    nc AS (SELECT r.* FROM new_rows r WHERE NOT EXISTS (SELECT 1 FROM old_rows x
        WHERE x.site = r.site AND x.external_id = r.external_id AND x.doc->'profile'->'f' = r.doc->'profile'->'f')),
    o AS (SELECT site, unnest(parley_person_terms(doc)) AS term, external_id FROM oc),
    n AS (SELECT site, unnest(parley_person_terms(doc)) AS term, external_id FROM nc),
    del AS (DELETE FROM person_terms p USING (SELECT * FROM o EXCEPT SELECT * FROM n) g
      WHERE p.site = g.site AND p.term = g.term AND p.external_id = g.external_id)
  INSERT INTO person_terms SELECT * FROM n EXCEPT SELECT * FROM o ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_person_terms_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE person_terms;
  RETURN NULL;
END $$;
CREATE TRIGGER external_users_terms_in AFTER INSERT ON external_users REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_person_terms_in();
CREATE TRIGGER external_users_terms_up AFTER UPDATE ON external_users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_person_terms_up();
CREATE TRIGGER external_users_terms_out AFTER DELETE ON external_users REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_person_terms_out();
CREATE TRIGGER external_users_terms_reset AFTER TRUNCATE ON external_users
  FOR EACH STATEMENT EXECUTE FUNCTION parley_person_terms_reset();

CREATE FUNCTION parley_account_terms_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_terms SELECT site, unnest(parley_account_terms(doc)), key FROM new_rows
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_account_terms_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM account_terms p USING (SELECT site, key, unnest(parley_account_terms(doc)) AS term FROM old_rows) o
  WHERE p.site = o.site AND p.term = o.term AND p.key = o.key;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_account_terms_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- As parley_person_terms_up.
  WITH oc AS (SELECT r.* FROM old_rows r WHERE NOT EXISTS (SELECT 1 FROM new_rows x
        WHERE x.site = r.site AND x.key = r.key AND x.doc->'profile'->'f' = r.doc->'profile'->'f')),
    nc AS (SELECT r.* FROM new_rows r WHERE NOT EXISTS (SELECT 1 FROM old_rows x
        WHERE x.site = r.site AND x.key = r.key AND x.doc->'profile'->'f' = r.doc->'profile'->'f')),
    o AS (SELECT site, unnest(parley_account_terms(doc)) AS term, key FROM oc),
    n AS (SELECT site, unnest(parley_account_terms(doc)) AS term, key FROM nc),
    del AS (DELETE FROM account_terms p USING (SELECT * FROM o EXCEPT SELECT * FROM n) g
      WHERE p.site = g.site AND p.term = g.term AND p.key = g.key)
  INSERT INTO account_terms SELECT * FROM n EXCEPT SELECT * FROM o ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION parley_account_terms_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE account_terms;
  RETURN NULL;
END $$;
CREATE TRIGGER accounts_terms_in AFTER INSERT ON accounts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_account_terms_in();
CREATE TRIGGER accounts_terms_up AFTER UPDATE ON accounts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_account_terms_up();
CREATE TRIGGER accounts_terms_out AFTER DELETE ON accounts REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parley_account_terms_out();
CREATE TRIGGER accounts_terms_reset AFTER TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION parley_account_terms_reset();
