/**
 * Request bodies of the HTTP API (docs/API.md#http-api). Envelopes are validated whole; the items in a
 * batch are validated one by one so that one bad identity never costs the others.
 */
import { z } from 'zod';
import { identitySchema } from './identity.ts';
import {
  BULK_BATCH_MAX_ITEMS,
  EMAIL_MAX_CHARS,
  FEEDBACK_BATCH_MAX_ITEMS,
  FEEDBACK_BODY_MAX_CHARS,
  FEEDBACK_KINDS,
  FEEDBACK_TITLE_MAX_CHARS,
  ID_MAX_CHARS,
  MESSAGE_ID_MAX_CHARS,
  PAGE_URL_MAX_CHARS,
  WIDGET_BATCH_MAX_ITEMS,
} from './limits.ts';
import { externalId, line, normalizeEmail, text, timestamp } from './text.ts';

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

/** What feedback says, whoever sends it: the widget, or a backend through the admin API. */
const feedbackContent = {
  kind: z.enum(FEEDBACK_KINDS),
  title: line(FEEDBACK_TITLE_MAX_CHARS).optional(),
  body: text(FEEDBACK_BODY_MAX_CHARS).optional(),
  idea_id: line(64, 1).optional(),
  score: z.number().int().min(0).max(10).optional(),
  // http(s) only: the console shows it as a link, and `javascript:` is a valid URL too.
  page_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(PAGE_URL_MAX_CHARS)
    .optional(),
};

const email = z.string().max(EMAIL_MAX_CHARS).transform(normalizeEmail).pipe(z.email('must be a valid email address'));

type Content = { kind: string; title?: string; body?: string; idea_id?: string; score?: number };

/** What each kind needs. */
function kindRules(f: Content, ctx: z.RefinementCtx) {
  if (f.kind === 'idea' && !f.title?.trim())
    ctx.addIssue({ code: 'custom', path: ['title'], message: 'an idea needs a title' });
  if (f.kind === 'support' && !f.idea_id)
    ctx.addIssue({ code: 'custom', path: ['idea_id'], message: 'support needs the idea_id it supports' });
  if (f.kind === 'nps' && f.score === undefined)
    ctx.addIssue({ code: 'custom', path: ['score'], message: 'an NPS answer needs a score from 0 to 10' });
  if (f.kind === 'comment' && !f.body?.trim())
    ctx.addIssue({ code: 'custom', path: ['body'], message: 'a comment needs a body' });
}

export const feedbackBody = z
  .object({
    message_id: messageId,
    ...feedbackContent,
    identity: identitySchema.optional(),
    email: email.optional(),
  })
  .superRefine(kindRules);

/** A feedback `source` label (`support`, `sales-call`, `import`), stored lower case. */
export const feedbackSource = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, 'must be 1-64 characters of a-z 0-9 _ . : -, starting with a letter or digit');

/** The ways an admin feedback item names its author; exactly one is sent. */
const AUTHOR_FIELDS = ['user_id', 'external_id', 'email', 'identity'] as const;

/**
 * One item of `POST /api/v2/admin/feedback` (docs/API.md#http-api): feedback content, its
 * author named once, and what only a backend may say: when it happened (`created_at`, for
 * history) and where it came from (`source`).
 */
export const adminFeedbackItem = z
  .object({
    message_id: messageId.optional(),
    ...feedbackContent,
    user_id: line(ID_MAX_CHARS, 1).optional(),
    external_id: externalId(ID_MAX_CHARS).optional(),
    email: email.optional(),
    identity: identitySchema.optional(),
    created_at: timestamp.optional(),
    source: feedbackSource.optional(),
  })
  .superRefine((f, ctx) => {
    kindRules(f, ctx);
    const named = AUTHOR_FIELDS.filter((k) => f[k] !== undefined);
    if (named.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['user_id'],
        message: 'name the author with one of user_id, external_id, email or identity',
      });
    for (const extra of named.slice(1))
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: `name the author once: ${named[0]} is already sent`,
      });
  });

export type AdminFeedbackInput = z.output<typeof adminFeedbackItem>;

/** `{"feedback": [...]}`: a batch of admin feedback items, all or nothing. */
export const adminFeedbackBatch = z.object({
  feedback: z.array(z.unknown()).min(1).max(FEEDBACK_BATCH_MAX_ITEMS),
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
