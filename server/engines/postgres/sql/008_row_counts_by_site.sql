-- Every per-site table's keys lead with the site, so the schema can be distributed by site
-- (docs/POSTGRES.md#past-one-database-server): row_counts has a site column but was keyed
-- by its id alone. Its key becomes (site, id); nothing looks rows up by id.
ALTER TABLE row_counts DROP CONSTRAINT row_counts_pkey;
ALTER TABLE row_counts ADD PRIMARY KEY (site, id);
