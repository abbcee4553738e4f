-- A person may belong to several accounts (docs/API.md#the-identity-object): each link is a
-- profile field `account:<key>` of the external user's doc, beside `account`, the one they act
-- in. An account's users count and the account filters match every linked external user, so
-- the keys are an indexed expression of the doc: no new column, and the write path stays as it
-- is. `account` is included because rows written before links existed carry only that.
CREATE FUNCTION parley_account_keys(doc jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT ARRAY(
    SELECT substr(k, 9) FROM jsonb_object_keys(doc->'profile'->'f') AS k WHERE starts_with(k, 'account:')
    UNION
    SELECT doc->'profile'->'f'->>'account' WHERE jsonb_typeof(doc->'profile'->'f'->'account') = 'string'
  )
$$;
CREATE INDEX external_users_account_keys ON external_users USING gin (parley_account_keys(doc));
