-- Parley's PostgreSQL schema, version 1. Every record is kept whole as `doc` (jsonb, the
-- record exactly as the core wrote it); the other columns are keys, sort keys and links
-- extracted from it on write, so that lookups, filters and orders run on indexes.
-- `pos` is the creation order (listings without a sort key show records in it). Text compares
-- by code point (COLLATE "C"), as JavaScript compares strings, so both engines order alike and
-- the sort indexes serve the listings' ORDER BY.

CREATE TABLE sites (
  key            text COLLATE "C" PRIMARY KEY,
  admin_key_hash text COLLATE "C" NOT NULL,
  pos            bigserial NOT NULL,
  doc            jsonb NOT NULL
);
CREATE INDEX sites_admin_key_hash ON sites (admin_key_hash);

CREATE TABLE users (
  site       text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  email      text COLLATE "C" NOT NULL,
  email_lc   text COLLATE "C" NOT NULL,
  name_key   text COLLATE "C" NOT NULL,
  created_at double precision NOT NULL,
  updated_at double precision NOT NULL,
  pos        bigserial NOT NULL,
  doc        jsonb NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE UNIQUE INDEX users_site_email ON users (site, email);
CREATE INDEX users_site_pos ON users (site, pos);
CREATE INDEX users_site_created ON users (site, created_at, id);
CREATE INDEX users_site_updated ON users (site, updated_at, id);
CREATE INDEX users_site_name ON users (site, name_key COLLATE "C", id);

CREATE TABLE external_users (
  site        text COLLATE "C" NOT NULL,
  external_id text COLLATE "C" NOT NULL,
  user_id     text COLLATE "C" NOT NULL,
  account_key text COLLATE "C",
  type        text COLLATE "C",
  name_lc     text COLLATE "C" NOT NULL,
  updated_at  double precision NOT NULL,
  pos         bigserial NOT NULL,
  doc         jsonb NOT NULL,
  PRIMARY KEY (site, external_id)
);
CREATE INDEX external_users_user ON external_users (site, user_id, pos);
CREATE INDEX external_users_account ON external_users (site, account_key);

CREATE TABLE accounts (
  site       text COLLATE "C" NOT NULL,
  key        text COLLATE "C" NOT NULL,
  name_key   text COLLATE "C" NOT NULL,
  mrr_cents  double precision NOT NULL,
  ltv_cents  double precision NOT NULL,
  created_at double precision NOT NULL,
  pos        bigserial NOT NULL,
  doc        jsonb NOT NULL,
  PRIMARY KEY (site, key)
);
CREATE INDEX accounts_site_pos ON accounts (site, pos);
CREATE INDEX accounts_site_mrr ON accounts (site, mrr_cents, key);

CREATE TABLE pending (
  site        text COLLATE "C" NOT NULL,
  external_id text COLLATE "C" NOT NULL,
  email       text COLLATE "C",
  received_at double precision NOT NULL,
  pos         bigserial NOT NULL,
  doc         jsonb NOT NULL,
  PRIMARY KEY (site, external_id)
);
CREATE INDEX pending_site_email ON pending (site, email);
CREATE INDEX pending_received ON pending (site, received_at, pos);

CREATE TABLE pending_accounts (
  site text COLLATE "C" NOT NULL,
  key  text COLLATE "C" NOT NULL,
  doc  jsonb NOT NULL,
  PRIMARY KEY (site, key)
);

-- Applied message ids: a duplicate is applied once (docs/API.md#identify-semantics).
CREATE TABLE messages (
  site       text COLLATE "C" NOT NULL,
  message_id text COLLATE "C" NOT NULL,
  at         double precision NOT NULL,
  PRIMARY KEY (site, message_id)
);
CREATE INDEX messages_at ON messages (at);

CREATE TABLE ideas (
  site text COLLATE "C" NOT NULL,
  id   text COLLATE "C" NOT NULL,
  pos  bigserial NOT NULL,
  doc  jsonb NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX ideas_site_pos ON ideas (site, pos);

-- The same message id is one feedback, however often it is sent or applied.
CREATE TABLE feedback (
  site        text COLLATE "C" NOT NULL,
  message_id  text COLLATE "C" NOT NULL,
  id          text COLLATE "C" NOT NULL,
  user_id     text COLLATE "C",
  account_key text COLLATE "C",
  idea_id     text COLLATE "C",
  pos         bigserial NOT NULL,
  doc         jsonb NOT NULL,
  PRIMARY KEY (site, message_id)
);
CREATE INDEX feedback_site_pos ON feedback (site, pos);
CREATE INDEX feedback_user ON feedback (site, user_id);
CREATE INDEX feedback_account ON feedback (site, account_key);
CREATE INDEX feedback_idea ON feedback (site, idea_id, pos);

-- The durable intake: a row per acknowledged batch, deleted in the transaction that applies
-- it. `owner` is the collector process that wrote it; it holds an advisory lock on that
-- number while alive, so rows of a process that died are found and adopted by another.
CREATE TABLE intake (
  id         bigserial PRIMARY KEY,
  owner      integer NOT NULL,
  entry      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Entries whose application failed for a reason a retry cannot fix; kept for the operator.
CREATE TABLE intake_failed (
  id        bigint PRIMARY KEY,
  entry     jsonb NOT NULL,
  error     text COLLATE "C" NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
