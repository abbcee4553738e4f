/**
 * Cuts the outbox into requests (docs/API.md#how-the-widget-delivers): feedback goes one item per request; identities
 * go oldest first, at most 20 per request and never more than 64 KB of body — the collector's
 * limit and a page's whole keepalive/sendBeacon budget. Pure: items in, one request out.
 */
import { PUBLIC_BODY_MAX_BYTES, WIDGET_BATCH_MAX_ITEMS } from '../shared/limits.ts';
import { byteLength, stringify } from './json.ts';
import type { Item } from './outbox.ts';

/** One request's worth of items, with its serialized body. */
export interface Unit {
  path: 'identify' | 'feedback';
  items: Item[];
  body: string;
}

const wire = (i: Item) => ({ ...i.data, message_id: i.id, observed_at: i.at });

/**
 * The next request to make from `items`, or undefined when there is none. An identity too big
 * to fit any request is returned in `oversized`, for the caller to drop.
 */
export function nextUnit(items: readonly Item[], now: number): { unit?: Unit; oversized?: Item } {
  const feedback = items.find((i) => i.kind === 'feedback');
  if (feedback)
    return {
      unit: { path: 'feedback', items: [feedback], body: stringify({ ...feedback.data, message_id: feedback.id }) },
    };
  const batch: Item[] = [];
  let body = '';
  for (const item of items) {
    if (item.kind !== 'identify') continue;
    if (batch.length === WIDGET_BATCH_MAX_ITEMS) break;
    const candidate = stringify({ sent_at: now, identities: [...batch, item].map(wire) });
    if (byteLength(candidate) <= PUBLIC_BODY_MAX_BYTES) {
      batch.push(item);
      body = candidate;
    } else if (!batch.length) return { oversized: item };
    else break;
  }
  return batch.length ? { unit: { path: 'identify', items: batch, body } } : {};
}
