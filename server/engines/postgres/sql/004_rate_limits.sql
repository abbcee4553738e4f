-- Rate limits shared by every collector on this database (server/engines/postgres/rate-counts.ts).
-- One row per limit, key and one-minute window: the hits all collectors counted. Collectors
-- add their local hits about once a second and read the totals back; windows older than two
-- minutes are deleted as they go. The primary key leads with the window, so that deletion is
-- a range scan of it.
-- Keys are never stored in clear (client addresses are personal data, admin keys secrets):
-- `key` is an HMAC-SHA256 of the limit's name and key under `rate_limit_salt.salt`, a random
-- value made here, once per database, so that digests cannot be looked up in a table computed
-- elsewhere.
CREATE TABLE rate_limits (
  window_start bigint NOT NULL,            -- ms since the epoch, a multiple of 60000
  name         text COLLATE "C" NOT NULL,  -- which limit: 'public.address', 'admin.key', ...
  key          bytea NOT NULL,
  hits         bigint NOT NULL,
  PRIMARY KEY (window_start, name, key)
);

CREATE TABLE rate_limit_salt (
  one  boolean PRIMARY KEY DEFAULT true CHECK (one),
  salt bytea NOT NULL
);
-- gen_random_uuid() draws from PostgreSQL's strong random source; two give 244 random bits.
INSERT INTO rate_limit_salt (salt)
  VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
