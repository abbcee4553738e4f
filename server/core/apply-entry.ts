/**
 * What applying one durable intake entry to a store means (docs/DESIGN.md): an identify batch
 * item by item, feedback, or an admin op. The intake applies entries with it on the request
 * thread (memory, PostgreSQL) and the embedded engine's store worker applies them with it off
 * the request thread (README, Limits of the embedded store), so both read the same rules.
 */
import { applyAdminOp, isAdminOp, type AdminOp } from './admin-ops.ts';
import { coerceIdentity, fieldDefs, type FieldWarning } from './custom-fields.ts';
import { recordFeedback, type FeedbackItem } from './feedback.ts';
import { applyIdentity, type IdentifyItem } from './identify.ts';
import type { LogEntry } from './intake-log.ts';
import type { Store } from './store.ts';

export type IdentifyEntry = LogEntry & { op: 'identify'; site: string; items: IdentifyItem[] };
export type FeedbackEntry = LogEntry & { op: 'feedback'; site: string; item: FeedbackItem };
export type AdminEntry = LogEntry & AdminOp;
export type Entry = IdentifyEntry | FeedbackEntry | AdminEntry;

/** Custom field values of an identity that did not fit their definition and were dropped. */
export type OnWarning = (w: { site: string; message_id: string; warnings: FieldWarning[] }) => void;

/**
 * Applies `entry` to `store` as of `now`; resolves with what the caller answers with (the
 * feedback recorded, an admin op's result) or undefined. Idempotent: applying an entry twice
 * (a replay after a crash) ends in the same state.
 */
export async function applyEntry(store: Store, entry: Entry, now: number, onWarning?: OnWarning): Promise<unknown> {
  if (entry.op === 'identify') {
    const defs = fieldDefs(await store.customFields(entry.site));
    for (const item of entry.items) {
      const { identity, warnings } = coerceIdentity(defs, item.identity);
      if (warnings.length) onWarning?.({ site: entry.site, message_id: item.message_id, warnings });
      await applyIdentity(store, entry.site, { ...item, identity }, now);
    }
    return undefined;
  }
  if (entry.op === 'feedback') return recordFeedback(store, entry.site, entry.item);
  if (isAdminOp(entry)) return applyAdminOp(store, entry);
  return undefined;
}
