/**
 * Request bodies of the HTTP API (docs/API.md#http-api). Envelopes are validated whole; the items in a
 * batch are validated one by one so that one bad identity never costs the others.
 */
import { z } from 'zod';
import { identitySchema } from './identity.ts';
import {
  BULK_BATCH_MAX_ITEMS,
  EMAIL_MAX_CHARS,
  FEEDBACK_BODY_MAX_CHARS,
  FEEDBACK_KINDS,
  FEEDBACK_TITLE_MAX_CHARS,
  MESSAGE_ID_MAX_CHARS,
  PAGE_URL_MAX_CHARS,
  WIDGET_BATCH_MAX_ITEMS,
} from './limits.ts';
import { line, normalizeEmail, text } from './text.ts';

export const messageId = z
  .string()
  .min(1)
  .max(MESSAGE_ID_MAX_CHARS)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');

/** Milliseconds since the epoch, as a browser's Date.now() gives. */
const epochMs = z.number().int().nonnegative().max(8.64e15);

export const widgetIdentifyBody = z.object({
  sent_at: epochMs,
  identities: z.array(z.unknown()).min(1).max(WIDGET_BATCH_MAX_ITEMS),
});

/** Delivery metadata of one widget batch item; the rest of the item is an identity. */
export const widgetItemMeta = z.looseObject({ message_id: messageId, observed_at: epochMs });

export const bulkIdentifyBody = z.object({
  identities: z.array(z.unknown()).min(1).max(BULK_BATCH_MAX_ITEMS),
});

export const feedbackBody = z
  .object({
    message_id: messageId,
    kind: z.enum(FEEDBACK_KINDS),
    title: line(FEEDBACK_TITLE_MAX_CHARS).optional(),
    body: text(FEEDBACK_BODY_MAX_CHARS).optional(),
    idea_id: line(64, 1).optional(),
    score: z.number().int().min(0).max(10).optional(),
    identity: identitySchema.optional(),
    email: z.string().max(EMAIL_MAX_CHARS).transform(normalizeEmail).pipe(z.email()).optional(),
    // http(s) only: the console shows it as a link, and `javascript:` is a valid URL too.
    page_url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(PAGE_URL_MAX_CHARS)
      .optional(),
  })
  .superRefine((f, ctx) => {
    if (f.kind === 'idea' && !f.title?.trim())
      ctx.addIssue({ code: 'custom', path: ['title'], message: 'an idea needs a title' });
    if (f.kind === 'support' && !f.idea_id)
      ctx.addIssue({ code: 'custom', path: ['idea_id'], message: 'support needs the idea_id it supports' });
    if (f.kind === 'nps' && f.score === undefined)
      ctx.addIssue({ code: 'custom', path: ['score'], message: 'an NPS answer needs a score from 0 to 10' });
    if (f.kind === 'comment' && !f.body?.trim())
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'a comment needs a body' });
  });

export type FeedbackInput = z.output<typeof feedbackBody>;

/** Turns zod issues into the error envelope's `details` rows (docs/API.md#http-api). */
export function issueDetails(issues: readonly z.core.$ZodIssue[], index?: number) {
  return issues.map((i) => ({
    ...(index === undefined ? {} : { index }),
    field: i.path.map(String).join('.') || '(body)',
    message: i.message,
  }));
}
