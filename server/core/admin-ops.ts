/**
 * Admin writes that go through the intake log (docs/API.md#http-api): transactional imports, erasures,
 * custom field definitions, feedback recorded by a backend and re-links of external users. Each is logged durably before it is applied, and applied in
 * log order with the identities around it, so a 200 survives kill -9 and a replay of the log
 * after a restart ends in the same state as the live run. Every op is idempotent.
 */
import type { CustomFieldDef, ImportUser } from '../../shared/imports.ts';
import { recordAdminFeedback } from './admin-feedback.ts';
import { upsertDefs } from './custom-fields.ts';
import type { FeedbackItem } from './feedback.ts';
import { eraseExternal, eraseUser } from './erase.ts';
import { importAccounts, importUsers, type AccountRecord } from './imports.ts';
import { relinkExternalUser } from './relink.ts';
import type { Store } from './store.ts';

export type AdminOp =
  /** `rank`: as the site's mode decided it on acceptance; entries logged before it existed were admin-ranked. */
  | { op: 'import_users'; site: string; at: number; rank?: number; records: ImportUser[] }
  | { op: 'import_accounts'; site: string; at: number; rank?: number; records: AccountRecord[] }
  | { op: 'erase_user'; site: string; user_id: string }
  /** By the integrator's id (a Segment `delete`): resolved when applied. */
  | { op: 'erase_external'; site: string; external_id: string }
  | { op: 'custom_fields'; site: string; defs: CustomFieldDef[] }
  | { op: 'admin_feedback'; site: string; items: FeedbackItem[] }
  | { op: 'relink'; site: string; at: number; external_id: string; user_id: string }
  /** Saves a segment, or deletes it (`filters: null`); answers whether one was there before. */
  | { op: 'segment'; site: string; name: string; filters: Record<string, string[]> | null };

export const ADMIN_OPS: ReadonlySet<string> = new Set([
  'import_users',
  'import_accounts',
  'erase_user',
  'erase_external',
  'custom_fields',
  'admin_feedback',
  'relink',
  'segment',
]);

export function isAdminOp(entry: { op: string }): entry is AdminOp {
  return ADMIN_OPS.has(entry.op);
}

/** Applies one admin op; the result is what the route answers with. */
export async function applyAdminOp(store: Store, op: AdminOp): Promise<unknown> {
  switch (op.op) {
    case 'import_users':
      return importUsers(store, op.site, op.records, op.at, op.rank);
    case 'import_accounts':
      return importAccounts(store, op.site, op.records, op.at, op.rank);
    case 'erase_user':
      return eraseUser(store, op.site, op.user_id);
    case 'erase_external':
      return eraseExternal(store, op.site, op.external_id);
    case 'custom_fields': {
      const defs = upsertDefs(await store.customFields(op.site), op.defs);
      await store.putCustomFields(op.site, defs);
      return defs;
    }
    case 'admin_feedback':
      return recordAdminFeedback(store, op.site, op.items);
    case 'relink':
      return relinkExternalUser(store, op.site, op.external_id, op.user_id, op.at);
    case 'segment': {
      const existed = op.name in (await store.segments(op.site));
      await store.putSegment(op.site, op.name, op.filters);
      return { existed };
    }
  }
}
