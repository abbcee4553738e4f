/**
 * Admin writes that answer only once they are durable and visible (docs/API.md#http-api): the
 * transactional imports, custom field definitions and erasure. Mounted by admin.ts behind its
 * bearer auth. Validation happens here, whole, before anything is logged: a batch with one bad
 * record writes nothing and gets 422 naming every bad record and field.
 */
import { Router } from 'express';
import { z } from 'zod';
import {
  customFieldsBody,
  importAccountSchema,
  importAccountsBody,
  importUserSchema,
  importUsersBody,
  type ImportAccount,
  type ImportUser,
} from '../../shared/imports.ts';
import { ADMIN_BODY_MAX_BYTES, IMPORT_MAX_RECORDS } from '../../shared/limits.ts';
import { issueDetails } from '../../shared/wire.ts';
import { coerceTraits, fieldDefs, type FieldDefs, type FieldWarning } from '../core/custom-fields.ts';
import { planAccountsImport, planUsersImport } from '../core/dry-run.ts';
import type { AccountRecord, UsersImported } from '../core/imports.ts';
import type { Erased } from '../core/erase.ts';
import type { Account, Site } from '../core/records.ts';
import { RANK } from '../core/merge.ts';
import { jsonBody } from '../http/body.ts';
import { rankFor } from '../trust/ranks.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import { presentAccount, presentExternalUser, presentUser } from '../http/present.ts';
import type { Deps } from './deps.ts';

const body = jsonBody({ maxBytes: ADMIN_BODY_MAX_BYTES, types: ['application/json'] });

/**
 * Validates every record; throws 422 with all failures, or returns the parsed records.
 * An envelope that is not 1-1000 records is a 400: there is nothing per record to report.
 */
function parseAll<T>(
  raw: unknown,
  envelope: z.ZodType<Record<string, unknown[]>>,
  key: string,
  schema: z.ZodType<T>,
): T[] {
  const env = envelope.safeParse(raw);
  if (!env.success) {
    throw invalid(`send {"${key}": [...]} with 1-${IMPORT_MAX_RECORDS} records`, issueDetails(env.error.issues));
  }
  const records: T[] = [];
  const details: Detail[] = [];
  env.data[key].forEach((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) records.push(parsed.data);
    else details.push(...issueDetails(parsed.error.issues, index));
  });
  if (details.length > 0) {
    const bad = new Set(details.map((d) => d.index)).size;
    throw new HttpError(
      422,
      'invalid_request',
      `${bad} of ${env.data[key].length} records are invalid; nothing was imported`,
      details,
    );
  }
  return records;
}

/** An account's traits checked against the definitions; warnings carry the record index. */
function checkAccount<A extends ImportAccount>(
  defs: FieldDefs,
  a: A,
  index: number,
  path: string,
  warnings: FieldWarning[],
): A {
  const c = coerceTraits(defs, 'account', a.traits, path);
  warnings.push(...c.warnings.map((w) => ({ index, ...w })));
  return { ...a, traits: c.traits };
}

function checkUser(defs: FieldDefs, u: ImportUser, index: number, warnings: FieldWarning[]): ImportUser {
  const c = coerceTraits(defs, 'user', u.traits);
  warnings.push(...c.warnings.map((w) => ({ index, ...w })));
  return {
    ...u,
    traits: c.traits,
    ...(u.account ? { account: checkAccount(defs, u.account, index, 'account.', warnings) } : {}),
  };
}

const dryRunParam = z.enum(['true', 'false'], { error: 'must be true or false' }).optional();

/**
 * `?dry_run=true`: validate as an import does, count what it would create and update, and
 * write nothing — not even the intake log (core/dry-run.ts).
 */
function isDryRun(query: Record<string, unknown>): boolean {
  const p = dryRunParam.safeParse(query.dry_run);
  if (!p.success) throw invalid('invalid dry_run', [{ field: 'dry_run', message: p.error.issues[0].message }]);
  return p.data === 'true';
}

export function importRoutes(deps: Deps, adminNow: () => number): Router {
  const { store, intake } = deps;
  const r = Router();
  const siteOf = (res: { locals: Record<string, unknown> }) => (res.locals.site as Site).key;

  r.post('/external_users/import', body, async (req, res) => {
    const site = siteOf(res);
    const dryRun = isDryRun(req.query);
    const parsed = parseAll(req.body, importUsersBody, 'users', importUserSchema);
    const defs = fieldDefs(await store.customFields(site));
    const warnings: FieldWarning[] = [];
    const records = parsed.map((u, i) => checkUser(defs, u, i, warnings));
    const rank = rankFor(res.locals.site as Site, RANK.admin);
    if (dryRun) {
      // In the serial section, so the store is read between two applied entries, not during one.
      const plan = await intake.write(() => planUsersImport(store, site, records, adminNow(), rank));
      res.json({ dry_run: true, ...plan, warnings });
      return;
    }
    const done = await intake.transact<UsersImported>({ op: 'import_users', site, at: adminNow(), rank, records });
    const accounts = new Map(done.accounts.map((a) => [a.key, a]));
    const accountOf = (key: unknown): Account | undefined => (typeof key === 'string' ? accounts.get(key) : undefined);
    const users = await Promise.all(
      done.users.map(async (u) =>
        presentUser(
          u,
          (await store.externalUsersOf(site, u.id)).map((e) => e.external_id),
        ),
      ),
    );
    res.json({
      external_users: done.externalUsers.map((eu) => presentExternalUser(eu, accountOf(eu.profile.f.account))),
      users,
      external_accounts: done.accounts.map((a) => presentAccount(a)),
      warnings,
    });
  });

  r.post('/external_accounts/import', body, async (req, res) => {
    const site = siteOf(res);
    const dryRun = isDryRun(req.query);
    const parsed = parseAll(req.body, importAccountsBody, 'accounts', importAccountSchema) as AccountRecord[];
    const defs = fieldDefs(await store.customFields(site));
    const warnings: FieldWarning[] = [];
    const records = parsed.map((a, i) => checkAccount(defs, a, i, '', warnings));
    const rank = rankFor(res.locals.site as Site, RANK.admin);
    if (dryRun) {
      const plan = await intake.write(() => planAccountsImport(store, site, records, adminNow(), rank));
      res.json({ dry_run: true, ...plan, warnings });
      return;
    }
    const accounts = await intake.transact<Account[]>({ op: 'import_accounts', site, at: adminNow(), rank, records });
    res.json({ external_accounts: accounts.map((a) => presentAccount(a)), warnings });
  });

  r.get('/custom_fields', async (_req, res) => {
    res.json({ custom_fields: await store.customFields(siteOf(res)) });
  });

  r.put('/custom_fields', body, async (req, res) => {
    const parsed = customFieldsBody.safeParse(req.body);
    if (!parsed.success) throw invalid('invalid custom field definitions', issueDetails(parsed.error.issues));
    const defs = await intake.transact({ op: 'custom_fields', site: siteOf(res), defs: parsed.data.custom_fields });
    res.json({ custom_fields: defs });
  });

  r.delete('/users/:id', async (req, res) => {
    const site = siteOf(res);
    const user = await store.getUser(site, String(req.params.id));
    if (!user) throw new HttpError(404, 'not_found', 'no such user');
    const erased = await intake.transact<Erased>({ op: 'erase_user', site, user_id: user.id });
    res.json({ deleted: erased });
  });

  return r;
}
